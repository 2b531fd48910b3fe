"""What ``mb-ci badges`` would write, computed without writing, and the step that writes it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mb_ci.badges.core import KINDS, Badge, Settings
from mb_ci.errors import MbCiError, ReadmeError, UsageError
from mb_ci.models import ImageFacts, PlatformFacts
from mb_ci.sources.options import SourceOptions


@dataclass(frozen=True)
class BadgeOptions:
    """What to draw and where: the command's ``badges`` options and the Action's inputs.

    None means the policy's ``badges`` section decides, else the built-in default.
    """

    repo: str = "."
    policy: str | None = None
    style: str | None = None
    svg_dir: str | None = None
    markup: str = "markdown"
    only: str | None = None
    size_unit: str | None = None
    readme: str | None = None
    create: bool = False
    source: SourceOptions = field(default_factory=SourceOptions)


@dataclass(frozen=True)
class Plan:
    """What the command would write: the snippet, the SVG files and the README's new bytes."""

    snippet: str
    badges: tuple[Badge, ...]
    files: dict[str, bytes] = field(default_factory=dict)
    readme: tuple[str, bytes | None, bytes] | None = None
    notes: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()  # where each platform's size came from, for --verbose


def settings_for(options: BadgeOptions) -> Settings:
    """Policy ``badges`` section, then command-line overrides."""
    from mb_ci.badges.core import settings_from
    from mb_ci.pipeline import load_policy

    section = dict(load_policy(options.repo, options.policy).badges)
    only = options.only
    order = None
    if only:
        order = tuple(k.strip() for k in str(only).split(",") if k.strip())
        unknown = [k for k in order if k not in KINDS]
        if unknown or not order:
            raise UsageError(f"--only {only}: unknown badge", f"choose from {', '.join(KINDS)}")
    return settings_from(
        section,
        order=order,
        style=options.style,
        svg_dir=options.svg_dir,
        size_unit=options.size_unit,
    )


def select_platforms(facts: ImageFacts, wanted: tuple[str, ...]) -> ImageFacts:
    """Keep the platforms named with ``--platform`` (sources may already have done so)."""
    if not wanted or len(facts.platforms) <= 1:
        return facts
    kept = tuple(p for p in facts.platforms if p.platform in wanted)
    if not kept:
        have = ", ".join(p.name for p in facts.platforms)
        raise UsageError(f"--platform {', '.join(wanted)}: not in the image", f"it has {have}")
    from dataclasses import replace

    return replace(facts, platforms=kept)


def _tags(options: BadgeOptions, facts: ImageFacts) -> tuple[str, ...]:
    """Git tags at HEAD, to spell the version badge's tag as the repository does (v1.2 or 1.2)."""
    from mb_ci.vocab import LS, OCI

    labels = facts.platforms[0].labels if facts.platforms else {}
    if not (labels.get(OCI + "version") or labels.get(LS + "version")):
        return ()
    from mb_ci.facts import git as gitfacts

    try:
        return gitfacts.read(options.repo).tags
    except MbCiError:
        return ()


def plan(image_ref: str, options: BadgeOptions, facts: ImageFacts | None = None) -> Plan:
    """Everything ``badges`` would write, computed and nothing written; ``facts``: an image
    already inspected (the Action's), else ``image_ref`` is."""
    from mb_ci import pipeline
    from mb_ci.badges import readme
    from mb_ci.badges import svg as badge_svg
    from mb_ci.badges.core import build, render, shields_url

    settings = settings_for(options)
    markup = options.markup
    if facts is None:
        facts = pipeline.inspect(image_ref, options.source)
    facts = select_platforms(facts, options.source.platforms)
    if "provenance" in settings.order:
        facts = pipeline.with_provenance(facts, pipeline.load_policy(options.repo, options.policy))
    badges, notes = build(
        facts, settings, _tags(options, facts) if "version" in settings.order else ()
    )
    sizes = tuple(_size_basis(facts.transport, p) for p in facts.platforms)
    readme_path = options.readme
    base = Path(readme_path).parent if readme_path else Path(".")
    files: dict[str, bytes] = {}

    def image_src(badge: Badge) -> str:
        if settings.style == "shields":
            return shields_url(badge, settings)
        return Path(os.path.relpath(Path(settings.svg_dir) / f"{badge.name}.svg", base)).as_posix()

    if settings.style == "svg":
        for badge in badges:
            path = str(Path(settings.svg_dir) / f"{badge.name}.svg")
            files[path] = badge_svg.render(badge.label, badge.message, badge.color).encode()
    snippet = render(badges, image_src, markup)
    if not readme_path:
        return Plan(snippet, badges, files, None, notes, sizes)
    try:
        with open(readme_path, "rb") as fh:  # bounded: readme.update refuses what is larger
            old: bytes | None = fh.read(readme.MAX_README_BYTES + 1)
    except FileNotFoundError:
        if not options.create:
            raise ReadmeError(
                f"{readme_path}: no such file", "pass --create to start one"
            ) from None
        old = None
    except OSError as e:
        raise ReadmeError(f"{readme_path}: cannot read: {e.strerror}") from e
    new = readme.update(old or b"", snippet, name=readme_path, markup=markup, create=options.create)
    return Plan(snippet, badges, files, (readme_path, old, new), notes, sizes)


def _size_basis(transport: str, platform: PlatformFacts) -> str:
    from mb_ci.badges.core import download_size

    if download_size(platform) is not None:
        return f"{platform.name}: size is the sum of the manifest's compressed layer sizes"
    why = (
        "gives no compressed layer sizes"
        if platform.layers is None
        else "holds uncompressed layers"
    )
    return f"{platform.name}: no size shown, {transport} {why}; layer count only"


def render_for(image_ref: str, options: BadgeOptions) -> tuple[str, dict[str, bytes]]:
    """The snippet and the SVG files (path -> bytes) for ``image_ref``; writes nothing."""
    p = plan(image_ref, options)
    return p.snippet, p.files


def stale(p: Plan) -> dict[str, tuple[bytes | None, bytes]]:
    """Files whose content on disk differs from the plan: path -> (old, new)."""
    out: dict[str, tuple[bytes | None, bytes]] = {}
    for path, data in p.files.items():
        try:
            old: bytes | None = Path(path).read_bytes()
        except OSError:
            old = None
        if old != data:
            out[path] = (old, data)
    if p.readme is not None and p.readme[1] != p.readme[2]:
        out[p.readme[0]] = (p.readme[1], p.readme[2])
    return out


def apply(p: Plan) -> list[str]:
    """Write what changed (atomically, modes kept); return the paths written."""
    from mb_ci.fsutil import make_parents, write_atomic

    written = []
    for path, (_, data) in stale(p).items():
        if path in p.files:
            make_parents(path)
        if write_atomic(path, data):
            written.append(path)
    return written
