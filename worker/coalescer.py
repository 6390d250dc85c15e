"""Group commit for the sender: in-flight marks, `sent` records and chat releases in batches."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    """Group commit: items submitted while a batch is being handled go together in the next.

    `handle(items)` returns one result per item. With `delay` a batch also waits that long
    for company (used for outcomes, which nothing waits for except the request slot).
    """

    def __init__(
        self, handle: Callable[[list[T]], Awaitable[Sequence[R]]], *, delay: float = 0.0
    ) -> None:
        self._handle = handle
        self._delay = delay
        self._items: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    def submit(self, item: T) -> asyncio.Future[R]:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._items.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return future

    async def drain(self) -> None:
        while self._task is not None and not self._task.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(self._task)

    async def _run(self) -> None:
        if self._delay:
            await asyncio.sleep(self._delay)
        while self._items:
            batch, self._items = self._items, []
            try:
                results = await self._handle([item for item, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
