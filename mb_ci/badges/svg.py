"""Self-hosted badge images: a flat shields-style SVG with escaped text and estimated widths."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

# Advance widths of Verdana at 11 px in tenths of a pixel (hmtx / 2048 * 110), for " " to "~".
# Only an estimate: the text is drawn with textLength, so a wrong guess spaces letters a little
# differently but never overflows the badge.
_WIDTHS = (
    "39 44 58 101 77 130 88 32 56 56 77 101 39 56 39 56 "  # space ! " # $ % & ' ( ) * + , - . /
    "77 77 77 77 77 77 77 77 77 77 56 56 101 101 101 66 121 "  # 0-9 : ; < = > ? @
    "75 75 77 85 70 63 85 83 46 56 77 62 92 83 87 68 87 78 75 67 80 75 109 75 67 75 "  # A-Z
    "56 56 56 101 77 77 "  # [ \\ ] ^ _ `
    "66 68 58 68 65 39 68 69 30 37 64 30 107 69 65 68 68 47 57 43 69 64 89 64 64 58 "  # a-z
    "70 56 70 101"  # { | } ~
)
WIDTHS = {chr(32 + i): int(w) for i, w in enumerate(_WIDTHS.split())}
WIDE = 110  # anything outside ASCII: err on the wide side
HEIGHT = 20
PAD = 10  # 5 px either side, as shields does


# Characters XML 1.0 does not allow, and line breaks and tabs, which a badge has no room for.
_NOT_TEXT = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML cannot carry, and every line break, made a space."""
    return _NOT_TEXT.sub(" ", text)


def text_width(text: str) -> int:
    """Estimated width in tenths of a pixel."""
    return sum(WIDTHS.get(ch, WIDE) for ch in text)


def _dark_text(color: str) -> bool:
    """Whether ``color`` (``rrggbb``) is light enough to need dark text (YIQ brightness)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (0, 2, 4))
    return (r * 299 + g * 587 + b * 114) / 1000 > 180


def _expand(color: str) -> str:
    color = color.lstrip("#").lower()
    return "".join(c * 2 for c in color) if len(color) == 3 else color


def _text(x: int, length: int, text: str, dark: bool) -> list[str]:
    fill, shadow = ("#333", "#ccc") if dark else ("#fff", "#010101")
    body = escape(text)
    return [
        f'    <text aria-hidden="true" x="{x}" y="150" fill="{shadow}" fill-opacity=".3" '
        f'transform="scale(.1)" textLength="{length}">{body}</text>',
        f'    <text x="{x}" y="140" transform="scale(.1)" fill="{fill}" '
        f'textLength="{length}">{body}</text>',
    ]


def render(label: str, message: str, color: str, label_color: str = "555555") -> str:
    """A well-formed SVG document; ``label`` and ``message`` are escaped for XML text."""
    color, label_color = _expand(color), _expand(label_color)
    label, message = xml_text(label), xml_text(message)
    label_len, message_len = text_width(label), text_width(message)
    left = (label_len + 5) // 10 + PAD
    right = (message_len + 5) // 10 + PAD
    width = left + right
    title = f"{label}: {message}"
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
        f'role="img" aria-label={quoteattr(title)}>',
        f"  <title>{escape(title)}</title>",
        '  <linearGradient id="s" x2="0" y2="100%">',
        '    <stop offset="0" stop-color="#bbb" stop-opacity=".1"/>',
        '    <stop offset="1" stop-opacity=".1"/>',
        "  </linearGradient>",
        '  <clipPath id="r">',
        f'    <rect width="{width}" height="{HEIGHT}" rx="3" fill="#fff"/>',
        "  </clipPath>",
        '  <g clip-path="url(#r)">',
        f'    <rect width="{left}" height="{HEIGHT}" fill="#{label_color}"/>',
        f'    <rect x="{left}" width="{right}" height="{HEIGHT}" fill="#{color}"/>',
        f'    <rect width="{width}" height="{HEIGHT}" fill="url(#s)"/>',
        "  </g>",
        '  <g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif"'
        ' text-rendering="geometricPrecision" font-size="110">',
        *_text(left * 5, label_len, label, _dark_text(label_color)),
        *_text(left * 10 + right * 5, message_len, message, _dark_text(color)),
        "  </g>",
        "</svg>",
    ]
    return "\n".join(lines) + "\n"
