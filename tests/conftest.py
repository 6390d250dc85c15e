"""Test tooling: the fixture modules loaded as plugins, and the rerun policy of end-to-end tests.

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
    """End-to-end conversations run a whole stack of processes on 2 shared cores; one that
    times out waiting for a message gets one more try. A real bug fails both times, and
    pytest reports every rerun, so a flaky test stays visible. Everything in tests/e2e is
    marked `e2e`, so `-m "not e2e"` runs the fast part."""
    for item in items:
        if item.path.parent.name == "e2e":
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=1))
