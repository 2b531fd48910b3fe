"""The one road: inspect → check → locate → ``Report``, for every command, audit row and the Action.

Inputs are typed (``CheckOptions``, ``SourceOptions``, a ``Policy``); nothing here sees argv.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mb_ci.models import BaseImage, CiFacts, GitFacts, ImageFacts, LicenceFacts, Report
from mb_ci.sources.options import SourceOptions

if TYPE_CHECKING:
    from mb_ci.checks import CheckResult
    from mb_ci.dockerfile.parse import FinalStage
    from mb_ci.policy import Policy


@dataclass(frozen=True)
class CheckOptions:
    """What ``check`` (and the Action) needs to judge one image."""

    image: str
    repo: str = "."
    policy: str | None = None  # the policy file; None: .mb-ci.yml at the checkout root, if any
    dockerfile: str | None = None  # where report locations point; None: the checkout's
    target: str | None = None  # the Dockerfile stage the image was built from; None: the last
    base: str | None = None  # --base REF: the image this one was built FROM
    no_base_lookup: bool = False  # --no-base-lookup: never read a base image
    no_git: bool = False
    source: SourceOptions = field(default_factory=SourceOptions)
    date: dt.date | None = None  # judge the policy as of this day (`--date`); None: today


def checkout_root(repo: str) -> Path:
    """The checkout root if there is one, else ``repo`` (a missing checkout is found later)."""
    from mb_ci.errors import CheckoutError
    from mb_ci.facts.git import find_root

    try:
        return find_root(repo)
    except CheckoutError:
        return Path(repo)


def load_policy(repo: str, policy: str | None, as_of: dt.date | None = None) -> Policy:
    """``policy``, else the checkout's ``.mb-ci.yml``, else the defaults, judged as of the day
    ``as_of`` (``--date``), else today (UTC): the day ``effective_on`` is compared with."""
    import dataclasses

    from mb_ci.policy import find_policy, load

    day = as_of or dt.datetime.now(dt.timezone.utc).date()
    return dataclasses.replace(load(find_policy(checkout_root(repo), policy)), as_of=day)


def read_checkout(
    repo: str, policy: Policy, env: Mapping[str, str] | None = None
) -> tuple[GitFacts, CiFacts]:
    """The git checkout and the CI facts, each completing the other."""
    from mb_ci.facts import ci as ci_env
    from mb_ci.facts import git as gitfacts

    ci = ci_env.read(os.environ if env is None else env)
    git = gitfacts.read(repo, policy.git.remote, ci)
    return git, ci_env.resolve(ci, git)


def read_context(
    repo: str,
    policy: Policy,
    no_git: bool = False,
    env: Mapping[str, str] | None = None,
    optional: bool = False,
) -> tuple[GitFacts | None, CiFacts]:
    """As :func:`read_checkout`, with no checkout (None) under ``no_git``; ``optional``: a
    folder that is not a checkout judges the policy only (the audit's way)."""
    from mb_ci.errors import CheckoutError
    from mb_ci.facts import ci as ci_env

    if not no_git:
        try:
            return read_checkout(repo, policy, env)
        except CheckoutError:
            if not optional:
                raise
    return None, ci_env.resolve(ci_env.read(os.environ if env is None else env), None)


def inspect(reference: str, options: SourceOptions) -> ImageFacts:
    """The image's facts, from the transport its reference names."""
    from mb_ci import sources

    return sources.inspect(reference, options)


def check(
    image: ImageFacts,
    git: GitFacts | None,
    ci: CiFacts,
    policy: Policy,
    now: dt.datetime | None = None,
    declared: FinalStage | None = None,
    bases: Mapping[str | None, BaseImage] | None = None,
    licence: LicenceFacts | None = None,
) -> CheckResult:
    """The findings on one image (an audit row stops here: it has no Dockerfile)."""
    from mb_ci.checks import check_image

    return check_image(image, git, ci, policy, now, declared, bases, licence)


def read_licence(git: GitFacts | None, policy: Policy) -> LicenceFacts | None:
    """The checkout's licence files, for ``licence-matches-repo``; None without a checkout or
    with the check ``off``."""
    from mb_ci.models import Severity

    if git is None or policy.severity("licence-matches-repo") is Severity.OFF:
        return None
    from mb_ci.facts import licence

    return licence.read(git.root)


def find_bases(
    image: ImageFacts,
    policy: Policy,
    options: CheckOptions,
    declared: FinalStage | None,
) -> dict[str | None, BaseImage] | None:
    """The base image of each platform, for ``label-inherited``; None when lookups are off
    (``--no-base-lookup``, ``inherited.lookup: false``, the check ``off``)."""
    if options.no_base_lookup:
        return None
    dockerfile_base = declared.base if declared is not None else None
    return bases_of(image, policy, options.source, dockerfile_base, options.base)


def bases_of(
    image: ImageFacts,
    policy: Policy,
    source: SourceOptions,
    dockerfile_base: str | None = None,
    option_base: str | None = None,
) -> dict[str | None, BaseImage] | None:
    """``find_bases`` for one image of any command (``check``, an ``audit`` row): the base
    from the annotations, the judged provenance's materials, the Dockerfile or ``--base``.
    Bases are read once per reference and platform in a run, so an audit of many images on
    one base reads it once."""
    from mb_ci.models import Severity

    if not policy.inherited.lookup or policy.severity("label-inherited") is Severity.OFF:
        return None
    from mb_ci.sources import base

    from_provenance = {
        p.platform: base.from_provenance(
            tuple(i for d in p.provenance.documents if d.usable for i in d.images)
        )
        for p in image.platforms
        if p.provenance is not None
    }
    return base.find(image, source, dockerfile_base, option_base, from_provenance)


def declared_stage(dockerfile: str | None, target: str | None) -> FinalStage | None:
    """The final stage (or ``target``) of the Dockerfile named with ``--dockerfile``, whose
    ``LABEL`` values the image is compared with; None without one. A Dockerfile that cannot be
    read stops the check (exit 3), as a bad ``--target`` does (exit 2)."""
    if dockerfile is None:
        return None
    from mb_ci.dockerfile.parse import evaluate, read

    return evaluate(read(dockerfile), target)


def report(
    command: str,
    subject: str,
    image: ImageFacts,
    git: GitFacts | None,
    ci: CiFacts,
    policy: Policy,
    dockerfile: str | None = None,
    target: str | None = None,
    declared: FinalStage | None = None,
    bases: Mapping[str | None, BaseImage] | None = None,
    licence: LicenceFacts | None = None,
) -> Report:
    """Check the image, then point each finding at its ``LABEL`` line or policy rule."""
    from mb_ci.report.locations import locate

    image = with_provenance(image, policy)
    result = check(image, git, ci, policy, declared=declared, bases=bases, licence=licence)
    found = Report(
        command=command,
        subject=subject,
        findings=result.findings,
        image=image,
        git=git,
        ci=ci,
        matched_commit=result.matched_commit,
        checked=result.checked,
    )
    return locate(found, dockerfile, policy.path, target)


def with_provenance(image: ImageFacts, policy: Policy) -> ImageFacts:
    """``image`` with each platform's attestations judged (``provenance: off`` leaves it); once:
    an image already judged (for its base image's candidates) is returned as it is."""
    from dataclasses import replace

    if policy.provenance.mode == "off" or any(p.provenance is not None for p in image.platforms):
        return image
    from mb_ci.checks import effective_labels
    from mb_ci.provenance.evaluate import evaluate
    from mb_ci.provenance.verify import load_keys

    keys = load_keys(_read_keys(policy))
    platforms = tuple(
        replace(
            p,
            provenance=evaluate(
                p,
                effective_labels(image, p, policy.annotations),
                image.transport,
                policy.provenance.predicate_types,
                keys,
                policy.git.clock_skew,
            ),
        )
        for p in image.platforms
    )
    return replace(image, platforms=platforms)


def lookups(source: SourceOptions, policy: Policy) -> SourceOptions:
    """Whether a registry is asked for provenance beyond the index: always when the policy wants
    signatures (``provenance_keys``), when the index has none under ``provenance: required``,
    and never otherwise, so an image without attestations costs no extra request by default."""
    from dataclasses import replace

    mode = policy.provenance.mode
    wanted = "always" if policy.provenance.keys and mode != "off" else "off"
    if wanted == "off" and mode == "required":
        wanted = "missing"
    return replace(source, attestation_lookups=wanted)


def _read_keys(policy: Policy) -> list[tuple[str, bytes]]:
    """The policy's ``provenance_keys``, read relative to the policy file (64 KiB each)."""
    from mb_ci.errors import PolicyError
    from mb_ci.fsutil import read_bounded

    base = Path(policy.path).parent if policy.path else Path(".")
    return [
        (name, read_bounded(base / name, 64 * 1024, PolicyError, label=f"provenance_keys: {name}"))
        for name in policy.provenance.keys
    ]


def check_image(options: CheckOptions, command: str = "check") -> Report:
    """The whole road for one image reference: policy, git and CI, inspect, check, locate."""
    policy = load_policy(options.repo, options.policy, options.date)
    git, ci = read_context(options.repo, policy, options.no_git)
    declared = declared_stage(options.dockerfile, options.target)
    # judged before the base is looked for: the provenance's materials name it
    image = with_provenance(inspect(options.image, lookups(options.source, policy)), policy)
    return report(
        command,
        options.image,
        image,
        git,
        ci,
        policy,
        options.dockerfile,
        options.target,
        declared,
        find_bases(image, policy, options, declared),
        read_licence(git, policy),
    )


def lint(path: str, policy: Policy, target: str | None = None) -> Report:
    """The road for a Dockerfile before any build: reading it is the inspection."""
    from mb_ci.checks.dockerfile import check_dockerfile
    from mb_ci.dockerfile.parse import evaluate, read
    from mb_ci.models import PlatformFacts
    from mb_ci.report.locations import relative_to_checkout

    final = evaluate(read(path), target)
    findings, checked = check_dockerfile(final, policy)
    labels = {k: f.value for k, f in final.labels.items()}
    # the final stage's labels, shown by every reporter the way an image's are
    facts = ImageFacts(
        reference=path, transport="dockerfile", platforms=(PlatformFacts(None, labels),)
    )
    return Report(
        command="lint-dockerfile",
        subject=path,
        findings=findings,
        image=facts,
        checked=checked,
        # reports name the file from the checkout's root, as `check` does: run from a
        # subfolder, `Dockerfile` is `svc/api/Dockerfile` to GitHub and GitLab
        dockerfile=relative_to_checkout(path),
        extra={"stage": final.stage, "base": final.base or "scratch"},
    )
