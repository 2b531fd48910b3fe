"""Splice a badge block between marker lines of a README, keeping every other byte as it was."""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence

from mb_ci.errors import ReadmeError

START = "<!-- mb-ci:badges:start -->"
END = "<!-- mb-ci:badges:end -->"
RST_START = ".. mb-ci:badges:start"
RST_END = ".. mb-ci:badges:end"
MAX_README_BYTES = 10 * 1024 * 1024

# CommonMark fenced code blocks (https://spec.commonmark.org/0.31.2/#fenced-code-blocks)
_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}(?=[^`]*$)|~{3,})")
_ATX = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_RST_ADORN = re.compile(r"^([=\-~^\"'*+#_:.`])\1{2,}[ \t]*$")


def markers_for(markup: str) -> tuple[str, str]:
    """reStructuredText READMEs take comment markers of their own; the others HTML comments."""
    return (RST_START, RST_END) if markup == "rst" else (START, END)


def decode(data: bytes, name: str) -> tuple[str, str]:
    """``(text, codec)``; a BOM stays in the text, so encoding it back gives the same bytes."""
    if data.startswith(codecs.BOM_UTF16_LE):
        codec = "utf-16-le"
    elif data.startswith(codecs.BOM_UTF16_BE):
        codec = "utf-16-be"
    else:
        codec = "utf-8"
    try:
        return data.decode(codec), codec
    except UnicodeDecodeError as e:
        raise ReadmeError(
            f"{name}: not {codec.upper()} (byte {e.start})", "save the README as UTF-8"
        ) from e


def _lines(text: str) -> list[str]:
    """Lines with their endings (``\\n`` or ``\\r\\n``); joining them gives ``text`` back."""
    return [line for line in re.split(r"(?<=\n)", text) if line]


def _bare(line: str) -> str:
    return line.rstrip("\r\n").lstrip("\ufeff")


def _outside_code(lines: Sequence[str], markup: str) -> list[bool]:
    """For each line, whether it is outside a fenced code block (Markdown and HTML only)."""
    out, fence = [], ""
    for line in lines:
        bare = _bare(line)
        if fence:
            stripped = bare.strip()
            closes = (
                len(bare) - len(bare.lstrip(" ")) <= 3
                and stripped.startswith(fence)
                and set(stripped) == {fence[0]}
            )
            out.append(False)
            if closes:
                fence = ""
            continue
        m = _FENCE_OPEN.match(bare) if markup != "rst" else None
        if m:
            fence = m.group("fence")
            out.append(False)
            continue
        out.append(True)
    return out


def _is_marker(line: str, marker: str, markup: str) -> bool:
    bare = _bare(line)
    if markup == "rst":  # indented, it would be inside a literal block or directive
        return bare.rstrip() == marker
    return bare.strip() == marker and len(bare) - len(bare.lstrip(" ")) <= 3


def find_block(text: str, name: str, markup: str = "markdown") -> tuple[int, int] | None:
    """Line indexes of the start and end markers, None when neither is there."""
    start_marker, end_marker = markers_for(markup)
    lines = _lines(text)
    starts, ends = [], []
    for i, (line, outside) in enumerate(zip(lines, _outside_code(lines, markup), strict=True)):
        if outside and _is_marker(line, start_marker, markup):
            starts.append(i)
        elif outside and _is_marker(line, end_marker, markup):
            ends.append(i)
    for marker, found in ((start_marker, starts), (end_marker, ends)):
        if len(found) > 1:
            raise ReadmeError(
                f"{name}:{found[1] + 1}: a second {marker} (the first is on line {found[0] + 1})",
                "keep one pair of markers",
            )
    if not starts and not ends:
        return None
    if not ends:
        raise ReadmeError(f"{name}:{starts[0] + 1}: {start_marker} without {end_marker}")
    if not starts:
        raise ReadmeError(f"{name}:{ends[0] + 1}: {end_marker} without {start_marker} before it")
    if ends[0] < starts[0]:
        raise ReadmeError(
            f"{name}:{ends[0] + 1}: {end_marker} comes before {start_marker} (line {starts[0] + 1})"
        )
    return starts[0], ends[0]


def _newline(lines: Sequence[str], index: int) -> str:
    if 0 <= index < len(lines) and lines[index].endswith("\n"):
        return "\r\n" if lines[index].endswith("\r\n") else "\n"
    crlf = sum(1 for line in lines if line.endswith("\r\n"))
    return "\r\n" if crlf * 2 > len(lines) else "\n"


def _heading_end(lines: Sequence[str], markup: str) -> int | None:
    """Index of the last line of the first heading outside code, or None when there is none."""
    outside = _outside_code(lines, markup)
    for i, line in enumerate(lines):
        if not outside[i]:
            continue
        bare = _bare(line)
        nxt = _bare(lines[i + 1]) if i + 1 < len(lines) else ""
        if markup == "rst":
            if (
                _RST_ADORN.match(bare)
                and i + 2 < len(lines)
                and _RST_ADORN.match(_bare(lines[i + 2]))
            ):
                return i + 2
            if bare.strip() and not _RST_ADORN.match(bare) and _RST_ADORN.match(nxt):
                return i + 1
            continue
        if _ATX.match(bare):
            return i
        if bare.strip() and _SETEXT.match(nxt) and outside[i + 1] and not _ATX.match(bare):
            return i + 1
    return None


def splice(
    text: str, snippet: str, *, name: str = "README", markup: str = "markdown", create: bool = False
) -> str:
    """``text`` with the marker block holding ``snippet``; ``create`` adds the block if missing."""
    lines = _lines(text)
    found = find_block(text, name, markup)
    start_marker, end_marker = markers_for(markup)
    if found is not None:
        start, end = found
        nl = _newline(lines, start)
        body = [snippet.replace("\n", nl) + nl] if snippet else []
        return "".join([*lines[: start + 1], *body, *lines[end:]])
    if not create:
        raise ReadmeError(
            f"{name}: no {start_marker} / {end_marker} markers",
            "add both lines where the badges go, or pass --create",
        )
    at = _heading_end(lines, markup)
    nl = _newline(lines, at if at is not None else 0)
    block = nl.join(
        [start_marker, *snippet.split("\n"), end_marker] if snippet else [start_marker, end_marker]
    )
    if at is None:
        return block + nl + (nl + text if text else "")
    head, rest = lines[: at + 1], lines[at + 1 :]
    ended = head[-1].endswith("\n")
    if not ended:
        head[-1] += nl
    if not rest:
        return "".join(head) + nl + block + (nl if ended else "")
    tail = nl if _bare(rest[0]).strip() else ""
    return "".join(head) + nl + block + nl + tail + "".join(rest)


def update(
    data: bytes,
    snippet: str,
    *,
    name: str = "README",
    markup: str = "markdown",
    create: bool = False,
) -> bytes:
    """The README's new bytes: same encoding, BOM, line endings and trailing newline."""
    if len(data) > MAX_README_BYTES:
        raise ReadmeError(f"{name}: larger than {MAX_README_BYTES // (1024 * 1024)} MiB")
    text, codec = decode(data, name)
    return splice(text, snippet, name=name, markup=markup, create=create).encode(codec)
