"""The sender's global pace: virtual scheduling (GCRA) plus a global pause for `retry_after`."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """Global pacing (virtual scheduling, GCRA) plus a global pause for `retry_after`."""

    # A late wake-up (sleep overshoot on a busy machine) may be caught up within this window, so
    # the average rate is the configured one; the largest burst is rate × CATCH_UP messages.
    CATCH_UP = 0.05

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    @property
    def paused_for(self) -> float:
        return max(0.0, self._paused_until - time.monotonic())

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                earliest = max(self._next, now - self.CATCH_UP)
                start = max(earliest, self._paused_until)
                if start <= now:
                    self._next = max(earliest, self._paused_until) + self.interval
                    return
                await asyncio.sleep(start - now)
