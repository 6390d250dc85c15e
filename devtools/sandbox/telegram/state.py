"""What the emulator remembers: users and their private chats with the bot, files, rate buckets."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """A Bot API refusal, answered as `{"ok": false, "error_code", "description"}`."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


CHAT_NOT_FOUND = "chat not found"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_TOO_OLD = "query is too old and response timeout expired or query id is invalid"


class Signal:
    """Wakes every waiter once per change (an Event replaced after each set)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 (wakes on notify too)
        if timeout <= 0:
            return False
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
            async with asyncio.timeout(timeout):
                await self._event.wait()
        except TimeoutError:
            return False
        return True


@dataclass
class ChatMessage:
    """One message of a private chat, as it stands now (edits applied)."""

    message_id: int
    from_bot: bool
    date: int
    body: dict[str, Any]  # the Telegram Message object (without reply keyboards)
    source_text: str | None = None  # text or caption exactly as the bot sent it
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None  # whatever markup the bot sent, any kind
    edited: int = 0
    deleted: bool = False
    seq: int = 0


@dataclass
class SandboxUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    phone: str | None = None
    blocked: bool = False
    contacted: bool = False  # wrote to the bot at least once (the chat exists)
    next_message_id: int = 1
    seq: int = 0
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None  # the keyboard the user's client shows now
    chat_actions: list[str] = field(default_factory=list)
    changed: Signal = field(default_factory=Signal)

    def user_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            body["last_name"] = self.last_name
        if self.username:
            body["username"] = self.username
        if self.language_code:
            body["language_code"] = self.language_code
        return body

    def chat_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            body["last_name"] = self.last_name
        if self.username:
            body["username"] = self.username
        return body

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def new_message_id(self) -> int:
        value = self.next_message_id
        self.next_message_id += 1
        return value


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def file_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


class TokenBucket:
    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = max(capacity, 1.0)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0: available now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


def retry_after_seconds(wait: float) -> int:
    return max(1, math.ceil(wait))
