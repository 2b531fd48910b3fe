"""Plain frozen facts and findings: from the sources, through the checks, to the reporters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mb_ci.provenance.model import Provenance


class Severity(str, Enum):
    """How much a finding matters. ``off`` findings are never produced."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    OFF = "off"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1, "off": 0}[self.value]


def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Layer:
    """One layer as a manifest describes it (never its bytes)."""

    digest: str
    size: int
    media_type: str = ""


@dataclass(frozen=True)
class Attestation:
    """One attestation blob found for a platform, as its manifest names it.

    ``body`` holds the blob (digest-verified, size-capped) when it was fetched; ``problem`` says
    why it was not (too large, missing). ``origin`` is where it was found: ``in-index``.
    """

    digest: str
    predicate_type: str
    media_type: str
    manifest: str
    origin: str = "in-index"
    body: bytes | None = None
    problem: str | None = None


@dataclass(frozen=True)
class PlatformFacts:
    """What one platform of an image says about itself: config labels and manifest annotations."""

    platform: str | None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    digest: str | None = None
    config_digest: str | None = None
    layers: tuple[Layer, ...] | None = None
    layer_count: int | None = None
    os: str | None = None
    architecture: str | None = None
    variant: str | None = None
    config_size: int | None = None  # bytes of the image config blob, where the source knows it
    # provenance: the attestations a source found (None: this source cannot carry them) and,
    # after the pipeline judged them, what they prove (mb_ci/provenance/)
    attestations: tuple[Attestation, ...] | None = None
    provenance: Provenance | None = None
    # the config's rootfs.diff_ids, and its history's created_by texts (oldest first; each cut
    # to MAX_HISTORY_TEXT); None where the source does not say or the history is too long
    diff_ids: tuple[str, ...] | None = None
    history: tuple[str, ...] | None = None
    history_length: int | None = None  # the config history's length, also when too long to keep

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", _frozen(self.labels))
        if self.layer_count is None and self.layers is not None:
            object.__setattr__(self, "layer_count", len(self.layers))
        object.__setattr__(self, "annotations", _frozen(self.annotations))

    @property
    def name(self) -> str:
        return self.platform or "default"

    @property
    def compressed_size(self) -> int | None:
        return None if self.layers is None else sum(layer.size for layer in self.layers)


MAX_HISTORY = 10_000  # history entries kept; a longer history is counted, not kept
MAX_HISTORY_TEXT = 8 * 1024  # characters kept of one entry's created_by


@dataclass(frozen=True)
class BaseImage:
    """The image a platform was built ``FROM``, as far as it could be read.

    ``how`` says where it was found: ``annotation`` (``org.opencontainers.image.base.name`` and
    ``.base.digest``), ``dockerfile`` (the final stage's ``FROM``), ``option`` (``--base``).
    ``note`` says why no base could be read (then ``labels`` is empty); the check goes on.
    """

    reference: str
    how: str
    labels: Mapping[str, str] = field(default_factory=dict)
    history_length: int | None = None
    digest: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", _frozen(self.labels))


@dataclass(frozen=True)
class ImageFacts:
    """An image as read from one transport: one entry per platform that was inspected."""

    reference: str
    transport: str
    platforms: tuple[PlatformFacts, ...]
    image_id: str | None = None
    digest: str | None = None
    index_annotations: Mapping[str, str] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    repo_tags: tuple[str, ...] = ()
    size: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "index_annotations", _frozen(self.index_annotations))

    @property
    def multi_platform(self) -> bool:
        return len(self.platforms) > 1


@dataclass(frozen=True)
class Commit:
    """One commit the checkout holds: its committer time and the parents its object names.

    ``parents`` come from the commit object itself, so they are known in a shallow clone too,
    where the parent objects are absent. ``fetched`` says whether a ref some fetch wrote
    (``refs/remotes``, ``refs/pull``, ``refs/merge-requests``, ``refs/pipelines``, ``refs/tags``)
    contains it; ``None`` when nobody asked (only merge commits are asked about). ``tags`` are
    the tags pointing at it, ``None`` when nobody asked (only the commits CI names are asked).
    """

    sha: str
    time: dt.datetime
    parents: tuple[str, ...] = ()
    fetched: bool | None = None
    tags: tuple[str, ...] | None = None

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


@dataclass(frozen=True)
class GitFacts:
    """What the checkout says about itself. ``remote_url`` never holds credentials.

    ``commits`` holds HEAD and every commit CI names (and the parents of those that are merges)
    that exist in the checkout, by full SHA; a commit missing there is not in the checkout.
    """

    root: str
    head: str
    commit_time: dt.datetime
    remote_name: str | None = None
    remote_url: str | None = None
    remote_normalized: str | None = None
    tags: tuple[str, ...] = ()
    dirty: bool = False
    shallow: bool = False
    detached: bool = False
    branch: str | None = None
    commits: Mapping[str, Commit] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "commits", MappingProxyType(dict(self.commits)))

    def commit(self, sha: str) -> Commit | None:
        """The commit ``sha`` names (full, or abbreviated to 7+ digits) if the checkout has it."""
        sha = sha.lower()
        if sha in self.commits:
            return self.commits[sha]
        if len(sha) < 7:
            return None
        found = [c for full, c in self.commits.items() if full.startswith(sha)]
        return found[0] if len(found) == 1 else None

    def tags_at(self, sha: str) -> tuple[str, ...] | None:
        """The tags at the commit ``sha`` names; ``None`` when the checkout cannot tell."""
        if sha.lower() == self.head or (len(sha) >= 7 and self.head.startswith(sha.lower())):
            return self.tags
        commit = self.commit(sha)
        return None if commit is None else commit.tags


@dataclass(frozen=True)
class CiFacts:
    """The commit(s) the CI system says it built, validated to look like SHAs.

    ``head_parent`` is set where CI names a merge commit but not the head it merged (Azure
    without ``SYSTEM_PULLREQUEST_SOURCECOMMITID``, Jenkins' merge strategy): the head is that
    parent (1-based) of the merge commit, found in the checkout by ``ci_env.resolve``.
    ``problems`` are what could not be read (a pull request's event payload), said in findings.
    """

    provider: str | None = None
    sha: str | None = None
    pr_head_sha: str | None = None
    pr_merge_sha: str | None = None
    event: str | None = None
    ref_name: str | None = None
    repository_url: str | None = None  # the repository CI says it built, without credentials
    pull_request: bool = False
    head_parent: int | None = None
    problems: tuple[str, ...] = ()

    @property
    def is_pull_request(self) -> bool:
        return self.pull_request or self.pr_head_sha is not None or self.pr_merge_sha is not None

    @property
    def named(self) -> tuple[str, ...]:
        """Every commit CI names, for the checkout to look up."""
        shas = (self.sha, self.pr_head_sha, self.pr_merge_sha)
        return tuple(dict.fromkeys(s for s in shas if s))


@dataclass(frozen=True)
class LicenceFacts:
    """The repository's licence as its LICENSE/COPYING files say: the SPDX ids found in each
    file (by name, relative to the checkout), and the files that could not be read."""

    files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i for found in self.files.values() for i in found))


@dataclass(frozen=True)
class Finding:
    """One thing a check has to say about an image."""

    check: str
    severity: Severity
    message: str
    label: str | None = None
    expected: str | None = None
    actual: str | None = None
    platform: str | None = None
    line: int | None = None
    detail: Mapping[str, str] = field(default_factory=dict)
    # the file ``line`` is in (the Dockerfile, or the policy for a rule's line), relative to the
    # checkout; None: the report's Dockerfile
    file: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "detail", _frozen(self.detail))

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity.value,
            "message": self.message,
            "label": self.label,
            "expected": self.expected,
            "actual": self.actual,
            "platform": self.platform,
            "line": self.line,
            "file": self.file,
            "detail": dict(self.detail),
        }

    def redacted_dict(self) -> dict[str, Any]:
        """``as_dict`` with credentials redacted from every text, as the JSON documents show it."""
        from mb_ci.safety import redact

        data = self.as_dict()
        for key in ("message", "expected", "actual"):
            if data[key] is not None:
                data[key] = redact(data[key])
        data["detail"] = {k: redact(v) for k, v in sorted(self.detail.items())}
        return data


@dataclass(frozen=True)
class Report:
    """Everything a reporter needs: the subject, the facts and the findings."""

    command: str
    subject: str
    findings: tuple[Finding, ...]
    image: ImageFacts | None = None
    git: GitFacts | None = None
    ci: CiFacts | None = None
    matched_commit: str | None = None
    checked: tuple[str, ...] = ()
    dockerfile: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def errors(self) -> int:
        return self.count(Severity.ERROR)

    @property
    def warnings(self) -> int:
        return self.count(Severity.WARNING)

    def passed(self, strict: bool = False) -> bool:
        return self.errors == 0 and not (strict and self.warnings)
