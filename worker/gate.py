"""The per-chat gate: one message per chat per interval, in memory or across workers in Redis.

Before a request the chat is locked (SET NX, one Lua call for a coalesced group); when the answer
arrives the lock is shortened to the interval, so the next message to that chat, from any
worker, leaves at least the interval after the previous one was answered.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid

from redis.asyncio import Redis

from core.platform.redis import make_redis
from core.platform.settings import Settings

log = logging.getLogger(__name__)

PER_CHAT_HISTORY = 50_000  # chats remembered by the in-memory gate before pruning
CHAT_KEY = "outbox:chat:{}"
HOLD_MARGIN_SECONDS = 1.0  # a chat stays locked this much longer than a request may take

# KEYS: chats; ARGV[1] = hold in ms, ARGV[2] = this worker's token.
# Returns per key 0 (locked for us) or the milliseconds until the chat is free.
_ACQUIRE_LUA = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[2], 'NX', 'PX', ARGV[1]) then
    out[i] = 0
  else
    local left = redis.call('PTTL', key)
    if left < 1 then left = 1 end
    out[i] = left
  end
end
return out
"""
# KEYS: chats; ARGV[1] = ms the chat stays closed from now (0: open it now), ARGV[2] = token.
_RELEASE_LUA = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[2] then
    if tonumber(ARGV[1]) > 0 then
      redis.call('PEXPIRE', key, ARGV[1])
    else
      redis.call('DEL', key)
    end
  end
end
return 0
"""


def make_gate(settings: Settings, redis: Redis | None) -> ChatGate:
    """Across processes on `redis` (or on `settings.redis_url`); in memory for one process."""
    interval = settings.send_per_chat_interval
    hold = settings.send_timeout_seconds + interval + HOLD_MARGIN_SECONDS
    if redis is not None:
        return RedisChatGate(redis, interval, hold, owned=False)
    if settings.redis_url:
        return RedisChatGate(make_redis(settings), interval, hold, owned=True)
    return ChatGate(interval, hold)


class ChatGate:
    """One message per chat per interval, in this process; `RedisChatGate` across processes.

    `acquire` locks chats for the length of a request (`hold`); `release` keeps a chat closed
    for `interval` from the answer (or opens it at once when nothing was sent).
    """

    def __init__(self, interval: float, hold: float) -> None:
        self.interval = interval
        self.hold = hold
        self._until: dict[int, float] = {}

    def busy(self, chat: int) -> bool:
        until = self._until.get(chat)
        return until is not None and until > time.monotonic()

    async def acquire(self, chats: list[int]) -> list[float]:
        """Seconds to wait per chat; 0 means locked for this worker."""
        now = time.monotonic()
        waits: list[float] = []
        for chat in chats:
            until = self._until.get(chat, 0.0)
            if until > now:
                waits.append(until - now)
            else:
                self._until[chat] = now + self.hold
                waits.append(0.0)
        if len(self._until) > PER_CHAT_HISTORY:
            self._until = {k: v for k, v in self._until.items() if v > now}
        return waits

    async def release(self, chats: list[tuple[int, bool]]) -> list[None]:
        """(chat, sent): a sent chat stays closed for the interval, an unsent one opens."""
        now = time.monotonic()
        for chat, sent in chats:
            if sent:
                self._until[chat] = now + self.interval
            else:
                self._until.pop(chat, None)
        return [None] * len(chats)

    async def close(self) -> None:
        return None


class RedisChatGate(ChatGate):
    def __init__(self, redis: Redis, interval: float, hold: float, *, owned: bool) -> None:
        super().__init__(interval, hold)
        self.redis = redis
        self.token = uuid.uuid4().hex
        self._owned = owned
        self._acquire = redis.register_script(_ACQUIRE_LUA)
        self._release = redis.register_script(_RELEASE_LUA)

    async def acquire(self, chats: list[int]) -> list[float]:
        # The local view first: a chat this worker just used needs no round trip.
        waits = await super().acquire(chats)
        ask = [i for i, wait in enumerate(waits) if wait == 0]
        if ask:
            answers = await self._acquire(
                keys=[CHAT_KEY.format(chats[i]) for i in ask],
                args=[max(1, int(self.hold * 1000)), self.token],
            )
            refused = []
            for i, left in zip(ask, answers, strict=True):
                if int(left) > 0:
                    waits[i] = int(left) / 1000
                    refused.append((chats[i], False))
            if refused:
                await super().release(refused)
        return waits

    async def release(self, chats: list[tuple[int, bool]]) -> list[None]:
        await super().release(chats)
        try:
            for sent in (True, False):
                keys = [CHAT_KEY.format(chat) for chat, s in chats if s is sent]
                if keys:
                    ms = max(1, int(self.interval * 1000)) if sent else 0
                    await self._release(keys=keys, args=[ms, self.token])
        except Exception as exc:  # the locks expire by themselves after `hold`
            log.warning("cannot release chat locks: %r", exc)
        return [None] * len(chats)

    async def close(self) -> None:
        if self._owned:
            with contextlib.suppress(Exception):
                await self.redis.aclose()
