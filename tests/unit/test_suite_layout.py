"""The suite's own layout: pytest imports test modules by basename (no packages here), so two
files with one name in tests/unit and tests/e2e stop the whole run at collection."""

from __future__ import annotations

from collections import Counter

from helpers.paths import ROOT


def test_test_module_names_are_unique_across_folders():
    names = Counter(p.name for p in (ROOT / "tests").rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
