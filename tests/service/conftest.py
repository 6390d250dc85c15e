"""`stack` here: the webhooks app with the gov and SMS fakes on free ports (fixtures/webhooks)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from core.platform.settings import Settings
from tests.fixtures.webhooks import CallbacksStack, run_callbacks_stack


@pytest.fixture
async def stack(settings: Settings, db: None, redis: Redis) -> AsyncIterator[CallbacksStack]:
    async with run_callbacks_stack(settings, redis) as running:
        yield running
