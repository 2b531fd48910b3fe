"""The repository's licence: its LICENSE/COPYING files at the checkout root, as SPDX ids.

The detector is licenseclassifier (a pure-Python port of Google's licenseclassifier, matching the
SPDX license-list texts; it reports nothing rather than a guess). Each file is read up to
``MAX_LICENCE_BYTES``; a larger or binary file is a note, never a guess or a hang.
"""

from __future__ import annotations

import re
from pathlib import Path

from mb_ci.models import LicenceFacts

MAX_LICENCE_BYTES = 512 * 1024  # the GPL-3.0 text is 35 KB; bundles of several stay far below
MAX_FILES = 10
# LICENSE, LICENCE, COPYING, with an extension or a suffix (LICENSE-MIT, COPYING.LESSER, …)
_NAMES = re.compile(r"^(?:LICEN[CS]E|COPYING|UNLICENSE)(?:[.-][A-Za-z0-9.+-]{1,40})?$", re.I)


def candidates(root: Path) -> list[Path]:
    try:
        names = sorted(p for p in root.iterdir() if _NAMES.match(p.name) and p.is_file())
    except OSError:
        return []
    return names[:MAX_FILES]


def read(root: str | Path) -> LicenceFacts:
    folder = Path(root)
    files: dict[str, tuple[str, ...]] = {}
    notes: list[str] = []
    for path in candidates(folder):
        text, note = _text(path)
        if note is not None:
            notes.append(f"{path.name} {note}")
            continue
        files[path.name] = detect(text or "")
    return LicenceFacts(files, tuple(notes))


def _text(path: Path) -> tuple[str | None, str | None]:
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_LICENCE_BYTES + 1)
    except OSError as e:
        return None, f"cannot be read ({e.strerror or e})"
    if len(data) > MAX_LICENCE_BYTES:
        return None, f"is larger than {MAX_LICENCE_BYTES // 1024} KiB; not read"
    if b"\0" in data:
        return None, "is binary; not read"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return data.decode("latin-1"), None  # old licence files are Latin-1; the words survive


def detect(text: str) -> tuple[str, ...]:
    """The SPDX ids licenseclassifier finds in ``text``, each once, in order."""
    from licenseclassifier import identify_license

    return tuple(dict.fromkeys(match.id for match in identify_license(text)))
