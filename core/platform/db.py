"""Database wiring: the Tortoise config, start-up and shut-down, and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as migrate_api

from core.platform import postgres
from core.platform.settings import Settings, get_settings

APP = "models"


def tortoise_config(database_url: str) -> dict[str, Any]:
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            APP: {
                "models": ["core.models"],
                "migrations": "core.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection(database_url: str) -> str | dict[str, Any]:
    """PostgreSQL through `core.platform.postgres` (asyncpg without the per-release reset query)."""
    if database_url.startswith("sqlite://"):
        return database_url
    expanded = expand_db_url(database_url)
    if expanded["engine"] == "tortoise.backends.asyncpg":
        expanded["engine"] = postgres.ENGINE
    return expanded


def _default_config() -> dict[str, Any]:
    return tortoise_config(get_settings().database_url)


# Read by `tortoise makemigrations` through [tool.tortoise] in pyproject.toml.
TORTOISE_ORM = _default_config()


async def init_db(settings: Settings) -> None:
    # The global fallback lets tasks started before init (aiohttp, aiogram) see the context.
    await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(settings: Settings) -> None:
    """Apply the committed migrations (a deploy step; workers never run it at start)."""
    await migrate_api(config=tortoise_config(settings.database_url))
    await Tortoise.close_connections()
