"""MicroBadger's badges from image facts: badge data, then shields.io URLs and markup strings."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from mb_ci.errors import PolicyError
from mb_ci.facts import urls
from mb_ci.models import ImageFacts, PlatformFacts
from mb_ci.safety import redact
from mb_ci.values import parse_rfc3339
from mb_ci.vocab import LS, OCI

KINDS = ("image", "version", "commit", "license", "created", "provenance")
DEFAULT_ORDER = KINDS[:5]  # the provenance badge is asked for by name
STYLES = ("shields", "svg")
MARKUPS = ("markdown", "html", "rst")
SIZE_UNITS = ("MB", "MiB")
COLORS: Mapping[str, str] = {
    "image": "007ec6",
    "version": "44cc11",
    "commit": "fe7d37",
    "license": "97ca00",
    "created": "9f9f9f",
    "provenance": "8250df",
}
LABEL_COLOR = "555555"
MAX_LENGTH = 40
# Hosts whose commit and tag pages are known; anything else needs badges.commit-url/version-url.
FORGES: Mapping[str, tuple[str, str]] = {
    "github.com": ("{repo}/commit/{revision}", "{repo}/releases/tag/{tag}"),
    "gitlab.com": ("{repo}/-/commit/{revision}", "{repo}/-/tags/{tag}"),
    "bitbucket.org": ("{repo}/commits/{revision}", "{repo}/src/{tag}"),
}
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufeff\ufffe\uffff]"
)
_REPO_PATH = re.compile(r"^[A-Za-z0-9_.~-]+(?:/[A-Za-z0-9_.~-]+)+$")
_SHA = re.compile(r"^[0-9a-f]{7,64}$")
_PLACEHOLDER = re.compile(r"\{([a-z]*)\}")
PLACEHOLDERS = {
    "commit_url": {"repo", "host", "path", "revision", "short"},
    "version_url": {"repo", "host", "path", "version", "tag"},
}
# CommonMark escapes any ASCII punctuation; Python-Markdown only some, so HTML-ish ones use
# entities, which both decode (https://spec.commonmark.org/0.31.2/#backslash-escapes).
_MD_BACKSLASH = set("\\`*_[]()!")
_MD_ENTITY = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;"}


@dataclass(frozen=True)
class Settings:
    """How badges look and link: from the policy's ``badges`` section and the command line."""

    order: tuple[str, ...] = DEFAULT_ORDER
    style: str = "shields"
    svg_dir: str = ".github/badges"
    size_unit: str = "MB"
    commit_url: str | None = None
    version_url: str | None = None
    shields_url: str = "https://img.shields.io"
    shields_style: str | None = None
    colors: Mapping[str, str] = field(default_factory=lambda: dict(COLORS))
    max_length: int = MAX_LENGTH


@dataclass(frozen=True)
class Badge:
    """One badge: what it says and where it links. ``message`` is already cleaned and bounded."""

    kind: str
    name: str  # unique, file-name safe: image, image-linux-amd64, version ...
    label: str
    message: str
    color: str
    link: str | None = None

    @property
    def alt(self) -> str:
        return f"{self.label}: {self.message}"


def settings_from(section: Mapping[str, Any], **overrides: Any) -> Settings:
    """``Settings`` from a validated policy ``badges`` section; ``None`` overrides are ignored."""
    values: dict[str, Any] = {}
    for key in (
        "order",
        "style",
        "svg-dir",
        "size-unit",
        "commit-url",
        "version-url",
        "shields-url",
        "shields-style",
        "max-length",
    ):
        if key in section:
            values[key.replace("-", "_")] = section[key]
    if "order" in values:
        values["order"] = tuple(values["order"])
    colors = dict(COLORS)
    for kind, color in dict(section.get("colors") or {}).items():
        colors[kind] = str(color).lstrip("#").lower()
    values["colors"] = colors
    for key, allowed in PLACEHOLDERS.items():
        unknown = set(_PLACEHOLDER.findall(str(values.get(key) or ""))) - allowed
        if unknown:
            raise PolicyError(
                f"badges.{key.replace('_', '-')}: unknown placeholder {{{min(unknown)}}}",
                f"use {', '.join('{' + a + '}' for a in sorted(allowed))}",
            )
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)


def clean(value: str, limit: int = MAX_LENGTH) -> str:
    """One bounded line of text: secrets redacted, control and bidi characters dropped."""
    text = " ".join(_CONTROL.sub(" ", redact(value)).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def human_size(size: int, unit: str = "MB") -> str:
    """``12.3 MB`` (powers of 1000) or ``11.7 MiB`` (powers of 1024)."""
    binary = unit == "MiB"
    base = 1024 if binary else 1000
    names = ("B", "KiB", "MiB", "GiB", "TiB") if binary else ("B", "kB", "MB", "GB", "TB")
    value = float(size)
    for name in names:
        if value < base or name == names[-1]:
            if name == "B":
                return f"{size} B"
            return f"{value:.1f} {name}" if value < 100 else f"{value:.0f} {name}"
        value /= base
    raise AssertionError("unreachable")


def _lookup(facts: ImageFacts, platform: PlatformFacts, keys: Sequence[str]) -> str | None:
    for source in (platform.labels, platform.annotations, facts.index_annotations):
        for key in keys:
            value = source.get(key)
            if value and value.strip():
                return value.strip()
    return None


def _fill(template: str, values: Mapping[str, str]) -> str | None:
    """``template`` with ``{name}`` replaced; None when it names something unknown or empty."""
    missing = [m for m in _PLACEHOLDER.findall(template) if not values.get(m)]
    if missing:
        return None
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def _repo(source: str | None) -> tuple[str, dict[str, str]]:
    """The forge host and URL parts of a ``source`` label, only when they are plainly a repo."""
    parsed = urls.parse(source) if source else None
    if parsed is None or not parsed.host or not _REPO_PATH.match(parsed.path):
        return "", {}
    host = parsed.host if re.fullmatch(r"[a-z0-9.-]+(?::[0-9]+)?", parsed.host) else ""
    if not host:
        return "", {}
    return host, {"repo": parsed.https, "host": host, "path": parsed.path}


def _link(kind: str, host: str, values: Mapping[str, str], settings: Settings) -> str | None:
    custom = settings.commit_url if kind == "commit" else settings.version_url
    template = custom or (FORGES[host][0 if kind == "commit" else 1] if host in FORGES else None)
    return _fill(template, values) if template else None


def download_size(platform: PlatformFacts) -> int | None:
    """The sum of the manifest's compressed layer sizes: what a pull downloads.

    None when the source lists no layers (the Docker engine keeps only uncompressed sizes) or
    lists uncompressed ``.tar`` layers (``docker save`` tarballs), which are not download sizes.
    """
    if platform.layers is None or any(la.media_type.endswith(".tar") for la in platform.layers):
        return None
    return platform.compressed_size


def _image_badges(facts: ImageFacts, settings: Settings) -> tuple[list[Badge], list[str]]:
    badges, notes = [], []
    many = len(facts.platforms) > 1
    seen: set[str] = set()
    for p in facts.platforms:
        parts = []
        size = download_size(p)
        if size is not None:
            parts.append(human_size(size, settings.size_unit))
        if p.layer_count is not None:
            parts.append(f"{p.layer_count} layer" + ("" if p.layer_count == 1 else "s"))
        if not parts:
            notes.append(f"image: {p.name}: neither size nor layer count is known")
            continue
        plat = clean(p.name, settings.max_length)
        suffix = re.sub(r"[^a-z0-9]+", "-", plat.lower()).strip("-") or "default"
        while suffix in seen:  # names become file names: two platforms must not share one
            suffix += "-x"
        seen.add(suffix)
        badges.append(
            Badge(
                kind="image",
                name=f"image-{suffix}" if many else "image",
                label=f"image {plat}" if many else "image",
                message=", ".join(parts),
                color=settings.colors["image"],
            )
        )
    return badges, notes


def build(
    facts: ImageFacts, settings: Settings, tags: Sequence[str] = ()
) -> tuple[tuple[Badge, ...], tuple[str, ...]]:
    """The badges ``settings.order`` asks for, and a note for each left out for lack of a fact.

    Labels come from the first platform (``platforms-agree`` checks that they agree); the image
    badge has one entry per platform. ``tags`` are git tags that may spell the version's tag.
    """
    if not facts.platforms:
        return (), ("the image has no platform to describe",)
    first = facts.platforms[0]
    revision = _lookup(facts, first, (OCI + "revision", LS + "vcs-ref"))
    version = _lookup(facts, first, (OCI + "version", LS + "version"))
    host, values = _repo(_lookup(facts, first, (OCI + "source", LS + "vcs-url")))
    badges: list[Badge] = []
    notes: list[str] = []
    limit = settings.max_length
    for kind in settings.order:
        color = settings.colors[kind]
        if kind == "image":
            more, why = _image_badges(facts, settings)
            badges += more
            notes += why
        elif kind == "version" and version:
            tag = next((t for t in tags if t in (version, "v" + version)), version)
            link = _link(
                kind,
                host,
                {**values, "version": quote(version, safe=""), "tag": quote(tag, safe="")},
                settings,
            )
            badges.append(Badge(kind, kind, kind, clean(version, limit), color, link))
        elif kind == "commit" and revision:
            sha = revision.lower()
            ok = bool(_SHA.match(sha))
            link = _link(kind, host, {**values, "revision": sha, "short": sha[:7]}, settings)
            message = sha[:7] if ok else clean(revision, limit)
            badges.append(Badge(kind, kind, kind, message, color, link if ok else None))
        elif kind == "license":
            lic = _lookup(facts, first, (OCI + "licenses", LS + "license"))
            if lic:
                spdx = re.fullmatch(r"[A-Za-z0-9.+-]{1,64}", lic)
                link = f"https://spdx.org/licenses/{lic}.html" if spdx else None
                badges.append(Badge(kind, kind, kind, clean(lic, limit), color, link))
            else:
                notes.append("license: no org.opencontainers.image.licenses label")
        elif kind == "created":
            raw = _lookup(facts, first, (OCI + "created", LS + "build-date"))
            when = parse_rfc3339(raw) if raw else None
            if raw:
                text = when.strftime("%Y-%m-%d") if when else clean(raw, limit)
                badges.append(Badge(kind, kind, kind, text, color))
            else:
                notes.append("created: no org.opencontainers.image.created label")
        elif kind == "provenance":
            found = _provenance_badge(first, revision, host, values, settings)
            if isinstance(found, str):
                notes.append(found)
            else:
                badges.append(found)
        elif kind in ("version", "commit"):
            key = "version" if kind == "version" else "revision"
            notes.append(f"{kind}: no org.opencontainers.image.{key} label")
    return tuple(badges), tuple(notes)


def _provenance_badge(
    first: PlatformFacts,
    revision: str | None,
    host: str,
    values: Mapping[str, str],
    settings: Settings,
) -> Badge | str:
    """The revision's trust tier and short commit (``builder-verified a1b2c3d``), or a note."""
    prov = first.provenance
    if prov is None or not prov.present:
        return "provenance: the image carries no provenance attestation this source can read"
    keys = (OCI + "revision", LS + "vcs-ref")
    key = next((k for k in keys if k in first.labels), None)
    tier = prov.tier_of(key) if key else "label-only"
    sha = (revision or "").lower()
    ok = bool(_SHA.match(sha)) and tier != "label-only"
    link = _link("commit", host, {**values, "revision": sha, "short": sha[:7]}, settings)
    message = f"{tier} {sha[:7]}" if ok else tier
    return Badge(
        "provenance",
        "provenance",
        "provenance",
        message,
        settings.colors["provenance"],
        link if ok else None,
    )


def shields_escape(text: str) -> str:
    """A static-badge path part: ``-`` and ``_`` doubled, space as ``_``, the rest %-encoded."""
    return quote(text.replace("-", "--").replace("_", "__").replace(" ", "_"), safe="")


def shields_url(badge: Badge, settings: Settings) -> str:
    """``https://img.shields.io/badge/LABEL-MESSAGE-COLOR``: everything shown is in the URL."""
    base = settings.shields_url.rstrip("/")
    url = (
        f"{base}/badge/{shields_escape(badge.label)}-{shields_escape(badge.message)}-{badge.color}"
    )
    query = [f"labelColor={LABEL_COLOR}"]
    if settings.shields_style:
        query.append(f"style={quote(settings.shields_style, safe='')}")
    return url + "?" + "&".join(query)


def markdown_text(text: str) -> str:
    """Text that Markdown renders literally: no link, image, emphasis or raw HTML can start."""
    out = []
    for ch in text:
        if ch in _MD_ENTITY:
            out.append(_MD_ENTITY[ch])
        elif ch in _MD_BACKSLASH:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def html_text(text: str) -> str:
    """HTML-escaped, with Markdown's link and code characters as references too.

    Raw HTML pasted into a Markdown README then stays inert even to a renderer that looks for
    Markdown inside HTML.
    """
    escaped = html.escape(text, quote=True)
    return escaped.translate({ord(c): f"&#{ord(c)};" for c in "[]()`!*_\\"})


def safe_url(url: str) -> str:
    """A URL with every character outside the unreserved, reserved and ``%`` sets encoded."""
    return quote(url, safe=":/?#@!$&'*+,;=%~-._")


def render(badges: Sequence[Badge], image_src: Callable[[Badge], str], markup: str) -> str:
    """The snippet in ``markup`` (no trailing newline); ``image_src`` gives each badge's image."""
    if markup == "html":
        parts = []
        for b in badges:
            img = f'<img src="{html.escape(safe_url(image_src(b)))}" alt="{html_text(b.alt)}">'
            parts.append(f'<a href="{html.escape(safe_url(b.link))}">{img}</a>' if b.link else img)
        return "\n".join(parts)
    if markup == "rst":
        refs = " ".join(f"|mb-ci-{b.name}|" for b in badges)
        defs = []
        for b in badges:
            lines = [f".. |mb-ci-{b.name}| image:: {safe_url(image_src(b))}", f"   :alt: {b.alt}"]
            if b.link:
                lines.append(f"   :target: {safe_url(b.link)}")
            defs.append("\n".join(lines))
        return refs + "\n\n" + "\n".join(defs) if badges else ""
    if markup != "markdown":
        raise ValueError(markup)
    parts = []
    for b in badges:
        img = f"![{markdown_text(b.alt)}]({safe_url(image_src(b))})"
        parts.append(f"[{img}]({safe_url(b.link)})" if b.link else img)
    return "\n".join(parts)  # one per line: a paragraph in Markdown, a readable diff
