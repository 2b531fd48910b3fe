"""The shape of every JSON document read from an image, checked before any field is used.

An index, a manifest, an image config, a schema 1 ``v1Compatibility`` and ``docker save``'s
``manifest.json`` are hostile input like any label: a string where an object belongs must end in
one line naming the document and the field (``…: `config` is a string, expected an object``,
exit 3), never in a traceback. Only the fields mb-ci reads are checked, and only their types:
unknown fields are the specification's extension point and are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mb_ci.errors import ImageError

_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", bool: "a boolean"}


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return _NAMES.get(type(value), type(value).__name__)


def _fail(what: str, path: str, value: Any, expected: type) -> ImageError:
    return ImageError(f"{what}: `{path}` is {kind(value)}, expected {_NAMES[expected]}")


def field(doc: Mapping[str, Any], key: str, expected: type, what: str, path: str = "") -> Any:
    """``doc[key]`` when it is absent, null or of type ``expected``; else one line naming it."""
    value = doc.get(key)
    if value is None:
        return None
    if expected is int and isinstance(value, bool):
        raise _fail(what, path + key, value, int)
    if not isinstance(value, expected):
        raise _fail(what, path + key, value, expected)
    return value


def string_map(doc: Mapping[str, Any], key: str, what: str, path: str = "") -> None:
    """An object of strings (annotations, labels)."""
    value = field(doc, key, dict, what, path)
    for name, item in (value or {}).items():
        if not isinstance(item, str):
            raise ImageError(
                f"{what}: `{path}{key}.{str(name)[:80]}` is {kind(item)}, expected a string"
            )


def descriptor(raw: Any, what: str, path: str) -> None:
    if not isinstance(raw, dict):
        raise _fail(what, path, raw, dict)
    for key in ("mediaType", "artifactType"):
        field(raw, key, str, what, f"{path}.")
    platform = field(raw, "platform", dict, what, f"{path}.")
    for key in ("os", "architecture", "variant"):
        field(platform or {}, key, str, what, f"{path}.platform.")
    string_map(raw, "annotations", what, f"{path}.")


def index(doc: Mapping[str, Any], what: str) -> None:
    """An image index (or an OCI layout's ``index.json``); ``manifests: null`` reads as empty."""
    field(doc, "schemaVersion", int, what)
    field(doc, "mediaType", str, what)
    for i, entry in enumerate(field(doc, "manifests", list, what) or []):
        descriptor(entry, what, f"manifests[{i}]")
    string_map(doc, "annotations", what)


def manifest(doc: Mapping[str, Any], what: str) -> None:
    """An image manifest (OCI, or Docker schema 2)."""
    field(doc, "schemaVersion", int, what)
    for key in ("mediaType", "artifactType"):
        field(doc, key, str, what)
    if doc.get("config") is None:
        raise ImageError(f"{what}: no `config`; not an image manifest")
    descriptor(doc["config"], what, "config")
    for i, layer in enumerate(field(doc, "layers", list, what) or []):
        descriptor(layer, what, f"layers[{i}]")
    string_map(doc, "annotations", what)


def config(doc: Mapping[str, Any], what: str) -> None:
    """An image config (or a schema 1 ``v1Compatibility``): the fields labels are read from."""
    for key in ("os", "architecture", "variant", "created"):
        field(doc, key, str, what)
    inner = field(doc, "config", dict, what)
    string_map(inner or {}, "Labels", what, "config.")
    rootfs = field(doc, "rootfs", dict, what)
    for i, item in enumerate(field(rootfs or {}, "diff_ids", list, what, "rootfs.") or []):
        if not isinstance(item, str):
            raise _fail(what, f"rootfs.diff_ids[{i}]", item, str)


def schema1(doc: Mapping[str, Any], what: str) -> str:
    """A Docker schema 1 manifest; returns ``history[0].v1Compatibility`` (a JSON string)."""
    for key in ("architecture", "name", "tag"):
        field(doc, key, str, what)
    history = field(doc, "history", list, what)
    if not history:
        raise ImageError(f"{what}: a schema 1 manifest without `history`; nothing to read")
    if not isinstance(history[0], dict):
        raise _fail(what, "history[0]", history[0], dict)
    compat = history[0].get("v1Compatibility")
    if not isinstance(compat, str):
        raise _fail(what, "history[0].v1Compatibility", compat, str)
    return compat


def saved_images(doc: Any, what: str) -> list[dict[str, Any]]:
    """``docker save``'s ``manifest.json``: a list of ``{Config, RepoTags, Layers}``."""
    if not isinstance(doc, list):
        raise ImageError(f"{what}: the document is {kind(doc)}, expected a list of images")
    for i, entry in enumerate(doc):
        if not isinstance(entry, dict):
            raise _fail(what, f"[{i}]", entry, dict)
        if not isinstance(entry.get("Config"), str) or not entry["Config"]:
            raise ImageError(
                f"{what}: `[{i}].Config` is {kind(entry.get('Config'))}, expected a string"
            )
        for key in ("RepoTags", "Layers"):
            for j, item in enumerate(field(entry, key, list, what, f"[{i}].") or []):
                if not isinstance(item, str):
                    raise _fail(what, f"[{i}].{key}[{j}]", item, str)
    return doc
