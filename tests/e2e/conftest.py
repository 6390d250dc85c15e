"""`stack` here is the whole service against the sandbox with the default city's kindergartens
(a module that needs other data defines its own `stack`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.platform.settings import Settings
from devtools.stack import Stack, run_stack
from tests.fixtures.e2e_submission import add_kindergartens


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    await add_kindergartens(settings)
    # A quick scripted parent presses faster than a person: no per-chat throttling here.
    async with run_stack(settings=settings, telegram={"per_chat_burst": 1000}) as running:
        yield running
