"""In-process publish/subscribe between layers (core publishes, the bot subscribes).

Used where a change must reach a live conversation, e.g. the gov callback with family data
continues the parent's wizard. Publish after the transaction commits.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]

FAMILY_RESULT = "family.result"  # payload: {"request_id", "applicant_id", "consent"}


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, kind: str, handler: Handler) -> None:
        self._handlers[kind].append(handler)

    async def publish(self, kind: str, payload: dict[str, Any]) -> None:
        for handler in self._handlers.get(kind, []):
            try:
                await handler(payload)
            except Exception:  # one failing subscriber must not hide the event from others
                log.exception("subscriber of %s failed", kind)
