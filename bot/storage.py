"""The FSM and dialog storage: Redis, with one update's reads and writes remembered.

aiogram-dialog saves the dialog stack and context after every update, changed or not, and
clears what is empty with a DEL even when nothing is stored; aiogram reads the FSM state once
per update and handlers read it again. Within one update the chat's keys are under its
event-isolation lock (a Redis lock, across processes), so what this update read or wrote is what
Redis holds until the update ends: a read is answered from memory, and a write of the value
Redis already holds is skipped. Nothing is remembered across updates, so several processes
stay consistent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any, cast

from aiogram import BaseMiddleware
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import TelegramObject


class _Memory:
    """What one update read from and wrote to Redis: the stored text, None when absent."""

    __slots__ = ("open", "values")

    def __init__(self) -> None:
        self.open = True
        self.values: dict[str, str | None] = {}


_memory: ContextVar[_Memory | None] = ContextVar("indigo_storage_memory", default=None)


class UpdateMemory(BaseMiddleware):
    """Outer `update` middleware after aiogram's FSM middleware (which holds the chat's lock):
    one memory per update. Closed at the end, so a task started during the update (a
    background dialog update copies the context) never answers from it later."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        memory = _Memory()
        token = _memory.set(memory)
        try:
            return await handler(event, data)
        finally:
            memory.open = False
            _memory.reset(token)


def _current() -> _Memory | None:
    memory = _memory.get()
    return memory if memory is not None and memory.open else None


class UpdateScopedRedisStorage(RedisStorage):
    """aiogram's RedisStorage (same keys and values) that skips repeated reads and unchanged
    writes within one update (`UpdateMemory`). With a TTL configured every write is sent (a
    write also renews the TTL)."""

    async def _read(self, redis_key: str) -> str | None:
        memory = _current()
        if memory is not None and redis_key in memory.values:
            return memory.values[redis_key]
        value = await self.redis.get(redis_key)
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        if memory is not None:
            memory.values[redis_key] = value
        return cast(str | None, value)

    async def _write(self, redis_key: str, value: str | None, ttl: Any) -> None:
        memory = _current()
        if memory is not None and ttl is None and memory.values.get(redis_key, ...) == value:
            return
        if value is None:
            await self.redis.delete(redis_key)
        else:
            await self.redis.set(redis_key, value, ex=ttl)
        if memory is not None:
            memory.values[redis_key] = value

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(self.key_builder.build(key, "state"), value, self.state_ttl)

    async def get_state(self, key: StorageKey) -> str | None:
        return await self._read(self.key_builder.build(key, "state"))

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):  # as RedisStorage: refuses what is not a dict
            await super().set_data(key, data)
            return
        value = self.json_dumps(data) if data else None
        await self._write(self.key_builder.build(key, "data"), value, self.data_ttl)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        value = await self._read(self.key_builder.build(key, "data"))
        return {} if value is None else cast(dict[str, Any], self.json_loads(value))
