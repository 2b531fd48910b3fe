"""The shipped presets: one documented policy file per name, read from the package.

Each file is itself a valid policy (``preset: none`` plus its rules), so that
``mb-ci policy show-preset NAME`` prints something a user can save and extend.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

SUFFIX = ".yaml"


@lru_cache(maxsize=1)
def names() -> tuple[str, ...]:
    """Every shipped preset, sorted."""
    folder = resources.files(__name__)
    return tuple(
        sorted(p.name.removesuffix(SUFFIX) for p in folder.iterdir() if p.name.endswith(SUFFIX))
    )


def text(name: str) -> str:
    """The preset file ``name`` as shipped; ``KeyError`` for a name that is not one."""
    if name not in names():
        raise KeyError(name)
    return resources.files(__name__).joinpath(name + SUFFIX).read_text("utf-8")


@lru_cache(maxsize=32)
def data(name: str) -> dict[str, Any]:
    """The preset ``name`` parsed as a policy is (YAML 1.2 booleans, dates kept as text)."""
    import yaml

    from mb_ci.policy import _loader

    loaded: dict[str, Any] = yaml.load(text(name), Loader=_loader())  # noqa: S506 - a SafeLoader
    return loaded
