"""What the tests share: real git repos, images, registries, goldens, a clock and in-memory facts.

Tests import these modules directly (``from helpers.git import new_repo``); ``conftest.py`` only
turns some of them into fixtures.
"""
