"""Signed callback delivery, as the real providers do it: HMAC headers, retries on non-2xx."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Coroutine
from typing import Any

import aiohttp

from core.platform.signing import signed_headers

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)


def new_event_id() -> str:
    return uuid.uuid4().hex


async def post_signed(
    session: aiohttp.ClientSession, url: str, secret: str, payload: dict[str, Any]
) -> int:
    """One signed POST; returns the HTTP status (0 when the receiver was unreachable)."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    try:
        async with session.post(
            url,
            data=body,
            headers=signed_headers(secret, body),
            timeout=aiohttp.ClientTimeout(total=5),
        ) as resp:
            await resp.read()
            return resp.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.info("callback to %s failed: %s", url, type(exc).__name__)
        return 0


async def deliver(
    session: aiohttp.ClientSession,
    url: str,
    secret: str,
    payload: dict[str, Any],
    delays: tuple[float, ...] = RETRY_DELAYS,
) -> bool:
    """POST until a 2xx answer, retrying after each delay; False when every attempt failed."""
    for delay in (0.0, *delays):
        if delay:
            await asyncio.sleep(delay)
        status = await post_signed(session, url, secret, payload)
        if 200 <= status < 300:
            return True
        log.info("callback %s answered %s; retrying", payload.get("type"), status)
    return False


async def send_gov_callback(
    url: str, secret: str, payload: dict[str, Any], session: aiohttp.ClientSession | None = None
) -> int:
    """For tests and demos: send one signed gov callback of any type (event_id filled in)."""
    payload = {"event_id": new_event_id(), **payload}
    if session is not None:
        return await post_signed(session, url, secret, payload)
    async with aiohttp.ClientSession() as own:
        return await post_signed(own, url, secret, payload)


class CallbackSender:
    """A fake provider's outgoing side: one session for its callbacks, and the background tasks
    (delayed reports, retries) that must stop with the sandbox."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._session is not None:
            await self._session.close()
