"""The labels a checkout should carry, derived from git facts, ready for any builder."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING

from mb_ci.errors import UsageError
from mb_ci.facts import urls
from mb_ci.models import CiFacts, GitFacts
from mb_ci.values import parse_rfc3339
from mb_ci.vocab import CONCEPTS, LS

if TYPE_CHECKING:
    from mb_ci.policy import GitPolicy

_SEMVER_TAG = re.compile(r"^[vV](\d+\.\d+\.\d+.*)$")
_VERSION_TAG = re.compile(r"^[vV]?\d+\.\d+\.\d+")
# the label-schema convention's build arguments, by concept
BUILD_ARGS = {
    "created": "BUILD_DATE",
    "revision": "VCS_REF",
    "source": "VCS_URL",
    "version": "VERSION",
}


def revision(git: GitFacts, ci: CiFacts, accept: str) -> tuple[str, dt.datetime]:
    """The commit to label, and the time ``created`` takes from it, so that ``check`` passes.

    The checkout when ``git.revision.accept`` takes it (always outside a pull request, and with
    ``either``); else the commit the policy asks for, e.g. the PR head with ``accept: head``.
    A merge Jenkins or Bitbucket made in the checkout is never labelled unless ``accept: merge``
    asks for it: nobody can fetch it later, so the pull request's head is labelled instead.
    A commit the checkout does not hold (a shallow clone) lends HEAD's time, which ``check``
    then says it cannot compare.
    """
    from mb_ci.checks.git import candidates, local_merge, same_commit

    cands = [sha for _, sha in candidates(git, ci, accept)]
    head_ok = not cands or any(same_commit(git.head, sha) for sha in cands)
    if head_ok and accept != "merge" and ci.pr_head_sha and local_merge(git.head, git, ci):
        # a merge Jenkins or Bitbucket made in the checkout exists in no remote: label the
        # pull request's head, which check accepts without a warning
        cands = [ci.pr_head_sha]
    elif head_ok:
        return git.head, git.commit_time
    commit = git.commit(cands[0])
    return (commit.sha, commit.time) if commit else (cands[0], git.commit_time)


def created_time(
    spec: str | None,
    git: GitFacts,
    env: Mapping[str, str],
    now: dt.datetime | None = None,
    commit_time: dt.datetime | None = None,
) -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible builds), else the commit time; or ``now``.

    ``commit_time`` is that of the commit labelled (see :func:`revision`), HEAD's by default.
    """
    if spec == "now":
        return (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    if spec and spec != "commit":
        parsed = parse_rfc3339(spec)
        if parsed is None:
            raise UsageError(f"--created {spec}: not 'now', 'commit' or an RFC 3339 time")
        return parsed
    epoch = env.get("SOURCE_DATE_EPOCH")
    if epoch and spec is None:
        if not epoch.strip().isdigit():
            raise UsageError(
                f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds",
                "see https://reproducible-builds.org/specs/source-date-epoch/",
            )
        try:
            fixed = dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
        except (OverflowError, OSError, ValueError) as e:
            raise UsageError(f"SOURCE_DATE_EPOCH={epoch}: out of range ({e})") from e
        if fixed < (commit_time or git.commit_time):
            # kept (a policy may turn created-after-commit off for epoch-0 images), but said
            import sys

            sys.stderr.write(
                f"mb-ci: warning: SOURCE_DATE_EPOCH={epoch.strip()} is before the commit's time; "
                "check reports created-after-commit (use --created commit, or set it from "
                "`git log -1 --format=%ct`)\n"
            )
        return fixed
    when = commit_time or git.commit_time
    current = now or dt.datetime.now(dt.timezone.utc)
    if when > current:
        # the committer's clock was ahead (a drifted VM or WSL clock): no image is built in the
        # future, and `check` compares created with the current time then (created-not-future)
        import sys

        sys.stderr.write(
            f"mb-ci: warning: the commit's time {when.isoformat()} is in the future; created "
            "takes the current time instead\n"
        )
        return current.replace(microsecond=0)
    return when


def version_of(
    git: GitFacts,
    revision: str | None = None,
    allow_v_prefix: bool = True,
    ref_name: str | None = None,
) -> str | None:
    """The tag at the commit labelled (HEAD by default), as ``check`` accepts it.

    The tag the CI job was started for (``ref_name``) comes first, then one that names a
    version (``v1.2.3``, not ``latest`` or a floating ``v1``). A leading ``v`` is dropped only
    when the policy lets ``1.2.3`` match ``v1.2.3`` (``git.version.allow-v-prefix``).
    """
    tags = git.tags_at(revision) if revision else git.tags
    if not tags:
        return None

    def rank(tag: str) -> tuple[bool, bool, bool, str]:
        return (tag != ref_name, not _VERSION_TAG.match(tag), tag[:1] not in "vV", tag)

    tag = min(tags, key=rank)
    m = _SEMVER_TAG.match(tag)
    return m.group(1) if m and allow_v_prefix else tag


def concepts(
    git: GitFacts,
    created: dt.datetime,
    ci_repository: str | None = None,
    revision: str | None = None,
    *,
    allow_v_prefix: bool = True,
    ref_name: str | None = None,
) -> dict[str, str]:
    """The four facts; ``source`` falls back to the CI's repository URL when there is no remote.

    ``revision`` is the commit to label (see :func:`revision`), HEAD by default; ``version`` is
    a tag at that commit (see :func:`version_of`).
    """
    values = {
        "revision": revision or git.head,
        "created": created.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
    }
    if git.remote_normalized:
        values["source"] = git.remote_normalized
    elif ci_repository:
        values["source"] = urls.normalize(ci_repository)
    version = version_of(git, revision, allow_v_prefix, ref_name)
    if version:
        values["version"] = version
    return values


def labels(values: Mapping[str, str], preset: str) -> dict[str, str]:
    """Label keys and values for ``preset`` (``none`` and ``oci`` give OCI keys)."""
    out: dict[str, str] = {}
    for concept, value in values.items():
        oci_key, ls_key = CONCEPTS[concept]
        if preset in ("oci", "both", "none"):
            out[oci_key] = value
        if preset in ("label-schema", "both"):
            out[ls_key] = value
    if preset in ("label-schema", "both"):
        out[LS + "schema-version"] = "1.0"
    return out


def as_build_args(lbls: Mapping[str, str]) -> str:
    return "".join(f"--label {k}={v}\n" for k, v in lbls.items())


def as_env(values: Mapping[str, str]) -> str:
    return "".join(f"{BUILD_ARGS[c]}={shlex.quote(v)}\n" for c, v in values.items())


def as_github_output(values: Mapping[str, str], lbls: Mapping[str, str]) -> str:
    """Lines for ``$GITHUB_OUTPUT``; the multi-line ``labels`` value uses a random delimiter."""
    delimiter = f"mb-ci-{secrets.token_hex(16)}"
    body = "".join(f"{k}={v}\n" for k, v in lbls.items())
    simple = "".join(f"{c}={v}\n" for c, v in values.items() if "\n" not in v)
    return f"{simple}labels<<{delimiter}\n{body}{delimiter}\n"


def warn_no_source(values: Mapping[str, str], remote: str) -> None:
    """Say so on stderr when no source label can be derived, instead of leaving it out silently."""
    import sys

    if "source" not in values:
        sys.stderr.write(
            f"mb-ci: warning: the checkout has no remote '{remote}' and CI names no repository: "
            "no source label (add the remote, or set git.remote in the policy)\n"
        )


def values_for(
    git: GitFacts, ci: CiFacts, policy: GitPolicy, created: str | None, env: Mapping[str, str]
) -> dict[str, str]:
    """Every concept git and CI give: the commit ``check`` accepts in this CI context, and
    ``created`` (``--created``) from that commit's time; a warning when there is no source."""
    rev, commit_time = revision(git, ci, policy.accept)
    when = created_time(created, git, env, commit_time=commit_time)
    values = concepts(
        git,
        when,
        ci.repository_url,
        rev,
        allow_v_prefix=policy.allow_v_prefix,
        ref_name=ci.ref_name,
    )
    warn_no_source(values, policy.remote)
    return values
