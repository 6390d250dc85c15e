"""Test tooling: a real PostgreSQL and a real Redis, started here on free ports.

The database is migrated once per session with the committed migrations; each test that asks for
`db` starts from empty tables. Set INDIGO_TEST_DATABASE_URL / INDIGO_TEST_REDIS_URL to reuse
servers you already run.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from tortoise import Tortoise
from tortoise.connection import get_connection

from core.platform.db import close_db, init_db, migrate
from core.platform.settings import Settings
from scripts.services import postgres_server, redis_server


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    if url := os.environ.get("INDIGO_TEST_DATABASE_URL"):
        yield url
        return
    with postgres_server() as pg:
        pg.psql("CREATE DATABASE indigo_test")
        yield pg.url("indigo_test")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if url := os.environ.get("INDIGO_TEST_REDIS_URL"):
        yield url
        return
    with redis_server() as server:
        yield server.url


@pytest.fixture(scope="session")
def settings(pg_url: str, redis_url: str) -> Settings:
    return Settings(
        database_url=pg_url,
        redis_url=redis_url,
        bot_token="123456:TEST-TOKEN",
        gov_callback_secret=["gov-secret"],
        sms_callback_secret=["sms-secret"],
        telegram_webhook_secret=["tg-secret"],
        otp_secret="test-otp-secret",
        _env_file=None,
    )


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[None]:
    await migrate(settings)
    await init_db(settings)
    yield
    await close_db()


async def truncate_all() -> None:
    conn = get_connection("default")
    tables = [model._meta.db_table for model in Tortoise.apps.get_models_iterable()]
    await conn.execute_script(
        "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
    )


@pytest.fixture
async def db(database: None) -> AsyncIterator[None]:
    await truncate_all()
    yield


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    with contextlib.suppress(Exception):
        await client.aclose()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end conversations run a whole stack of processes on 2 shared cores; one that
    times out waiting for a message gets one more try. A real bug fails both times, and
    pytest reports every rerun, so a flaky test stays visible."""
    for item in items:
        if item.path.name.startswith("test_e2e"):
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=1))
