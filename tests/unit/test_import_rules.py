"""The house rules, read from the import graph (docs/architecture.md).

- Only ``sources/`` and the build wing talk to the engine or the network (``docker``,
  ``requests``); only the facts wing runs git (``git``, GitPython).
- Checks and reporters are pure: nothing under ``checks/`` or ``report/`` imports a source,
  the git facts, the build wing or a command.
- Nothing below ``commands/`` and ``cli.py`` sees ``argparse``; nothing imports a command but the
  command line itself.
- The package root holds at most 15 modules, and module-level imports have no cycle.

Every ``import`` counts, the lazy ones inside functions too: laziness decides when a module
loads, not who may load it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.paths import ROOT

PACKAGE = ROOT / "mb_ci"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _imports(path: Path, top_level_only: bool = False) -> Iterator[str]:
    """Every module ``path`` imports, resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield module
            for alias in node.names:  # `from mb_ci import sources` imports mb_ci.sources
                if f"{module}.{alias.name}" in MODULES:
                    yield f"{module}.{alias.name}"


def _under(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _offenders(importers: tuple[str, ...], imported: tuple[str, ...]) -> list[str]:
    found = []
    for name, path in MODULES.items():
        if _under(name, *importers):
            continue
        for target in _imports(path):
            if _under(target, *imported):
                found.append(f"{name} imports {target}")
    return found


def test_the_graph_is_read():
    """A rule over an empty graph proves nothing: the reader must see real imports."""
    assert len(MODULES) > 40
    assert "mb_ci.sources.options" in set(_imports(MODULES["mb_ci.sources.registry.client"]))
    assert "docker" in {t.split(".")[0] for t in _imports(MODULES["mb_ci.sources.daemon"])}


def test_only_sources_and_build_reach_the_engine_and_the_network():
    assert _offenders(("mb_ci.sources", "mb_ci.build"), ("docker", "requests", "urllib3")) == []


def test_only_the_facts_wing_runs_git():
    assert _offenders(("mb_ci.facts",), ("git",)) == []


@pytest.mark.parametrize("wing", ["mb_ci.checks", "mb_ci.report"])
def test_checks_and_reporters_import_no_source(wing):
    impure = (
        "mb_ci.sources",
        "mb_ci.facts.git",
        "mb_ci.facts.ci",
        "mb_ci.build",
        "mb_ci.commands",
        "mb_ci.cli",
        "mb_ci.action",
        "mb_ci.output",
        "mb_ci.pipeline",
        "docker",
        "requests",
        "git",
        "argparse",
        "subprocess",
    )
    found = []
    for name, path in MODULES.items():
        if _under(name, wing):
            found += [f"{name} imports {t}" for t in _imports(path) if _under(t, *impure)]
    assert found == []


def test_argparse_stays_in_the_command_line():
    assert _offenders(("mb_ci.commands", "mb_ci.cli"), ("argparse",)) == []


def test_only_the_command_line_imports_commands():
    assert _offenders(("mb_ci.commands", "mb_ci.cli"), ("mb_ci.commands",)) == []


def test_the_package_root_holds_at_most_15_modules():
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= 15, root


def test_module_level_imports_have_no_cycle():
    graph = {
        name: {t for t in _imports(path, top_level_only=True) if t in MODULES and t != name}
        for name, path in MODULES.items()
    }
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []
