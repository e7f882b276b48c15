"""Shared fixtures live in tests/fixtures/, one module per concern."""

pytest_plugins = [
    "tests.fixtures.ct",
    "tests.fixtures.storage",
    "tests.fixtures.discord",
]
