"""The Redis client for every process: a real server, or an in-process one for a single process."""

from __future__ import annotations

from redis.asyncio import Redis

from core.platform.settings import Settings


def make_redis(settings: Settings) -> Redis:
    """`settings.redis_url` when set; otherwise fakeredis (with Lua, so FSM isolation works)."""
    if settings.redis_url:
        return Redis.from_url(settings.redis_url)
    import fakeredis  # the embedded default only; production and tests use a real Redis

    return fakeredis.FakeAsyncRedis()
