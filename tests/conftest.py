"""Test tooling: the fixture modules loaded as plugins, and the `e2e` mark.

tests/unit needs neither database nor Redis; tests/service runs core services on PostgreSQL and
Redis; tests/bot feeds updates to the production Dispatcher with a recording session; tests/e2e
runs the whole stack against the sandbox emulator or as processes. Plain helpers (make_parent,
Chatter ...) are imported from tests.fixtures.<module>; pytest fixtures come from the plugins.
"""

from __future__ import annotations

import pytest

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.bot",
    "tests.fixtures.worker",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything in tests/e2e is marked `e2e`, so `-m "not e2e"` runs the fast part. No test is
    rerun: a test that passes only on a second try is a bug to find (waits end on the awaited
    event; their budgets only bound a failure)."""
    for item in items:
        if item.path.parent.name == "e2e":
            item.add_marker(pytest.mark.e2e)
