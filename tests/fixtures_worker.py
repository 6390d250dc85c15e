"""Helpers for the worker and staff tests: a counting Bot API stub and bulk recipients.

The stub speaks the few Bot API methods the worker uses (sendMessage, editMessageText, getMe),
enforces a global limit over a sliding second (429 with retry_after, like Telegram) and answers
403 for users who blocked the bot. It counts what every chat received.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from core.models import Applicant, Language, StaffMember, StaffRole


@dataclass
class BotApiStub:
    global_per_second: int = 300
    blocked: set[int] = field(default_factory=set)
    received: Counter[int] = field(default_factory=Counter)
    texts: dict[int, list[str]] = field(default_factory=dict)
    markups: dict[int, list[Any]] = field(default_factory=dict)
    edits: list[dict[str, Any]] = field(default_factory=list)
    too_many: int = 0
    forbidden: int = 0
    url: str = ""
    _window: deque[float] = field(default_factory=deque)
    _next_id: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        data: dict[str, Any] = dict(await request.post())
        if not data and request.can_read_body:
            data = await request.json()
        if method == "getMe":
            return _ok({"id": 1, "is_bot": True, "first_name": "Indigo", "username": "indigo_bot"})
        if method == "sendMessage":
            now = time.monotonic()
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if len(self._window) >= self.global_per_second:
                self.too_many += 1
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1},
                    },
                    status=429,
                )
            self._window.append(now)
            chat_id = int(data["chat_id"])
            if chat_id in self.blocked:
                self.forbidden += 1
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 403,
                        "description": "Forbidden: bot was blocked by the user",
                    },
                    status=403,
                )
            self.received[chat_id] += 1
            self.texts.setdefault(chat_id, []).append(str(data.get("text", "")))
            self.markups.setdefault(chat_id, []).append(data.get("reply_markup"))
            return _ok(self._message(chat_id, str(data.get("text", ""))))
        if method == "editMessageText":
            self.edits.append(data)
            return _ok(self._message(int(data.get("chat_id", 0)), str(data.get("text", ""))))
        return _ok(True)

    def _message(self, chat_id: int, text: str) -> dict[str, Any]:
        self._next_id += 1
        return {
            "message_id": self._next_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "text": text,
        }


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def bot_api() -> AsyncIterator[BotApiStub]:
    stub = BotApiStub()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", stub.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    stub.url = f"http://127.0.0.1:{port}"
    yield stub
    await runner.cleanup()


async def make_recipients(count: int, *, first_user_id: int = 5_000_000) -> list[Applicant]:
    """`count` parents reachable in Telegram, half Kazakh- and half Russian-speaking."""
    await Applicant.bulk_create(
        [
            Applicant(
                telegram_user_id=first_user_id + i,
                chat_id=first_user_id + i,
                language=Language.kk if i % 2 else Language.ru,
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
    return await Applicant.filter(telegram_user_id__gte=first_user_id).order_by("id")


async def make_staff(
    telegram_user_id: int = 777,
    role: StaffRole = StaffRole.superadmin,
    **scope: Any,
) -> StaffMember:
    return await StaffMember.create(telegram_user_id=telegram_user_id, role=role, **scope)


class SandboxTelegram:
    """The sandbox Bot API emulator (sandbox-telegram), read like BotApiStub: what each chat
    received, 429s answered, 403s for users who blocked the bot."""

    def __init__(self, url: str, emulator: Any) -> None:
        self.url = url
        self.emulator = emulator

    def block(self, chat_ids: set[int]) -> None:
        for chat_id in chat_ids:
            user = self.emulator.user(chat_id)
            user.contacted = True
            user.blocked = True

    def _bot_messages(self) -> dict[int, list[Any]]:
        return {
            user.id: [
                m
                for m in sorted(user.messages.values(), key=lambda m: m.seq)
                if m.from_bot and not m.deleted
            ]
            for user in self.emulator.users.values()
        }

    @property
    def received(self) -> Counter[int]:
        return Counter({chat: len(ms) for chat, ms in self._bot_messages().items() if ms})

    @property
    def delivered(self) -> int:
        return int(self.emulator.stats["sent_messages"])

    @property
    def texts(self) -> dict[int, list[str]]:
        return {
            chat: [m.source_text or "" for m in ms]
            for chat, ms in self._bot_messages().items()
            if ms
        }

    @property
    def markups(self) -> dict[int, list[Any]]:
        return {chat: [m.reply_markup for m in ms] for chat, ms in self._bot_messages().items()}

    @property
    def edits(self) -> list[dict[str, Any]]:
        return [
            {"chat_id": chat, "message_id": m.message_id, "text": m.source_text or ""}
            for chat, ms in self._bot_messages().items()
            for m in ms
            if m.edited
        ]

    @property
    def too_many(self) -> int:
        return int(self.emulator.stats["too_many_requests"])

    @property
    def forbidden(self) -> int:
        return int(self.emulator.stats["error.403"])


@pytest.fixture
async def telegram_sandbox(settings: Any) -> AsyncIterator[SandboxTelegram]:
    """The sandbox server with Telegram's limits (300 messages per second over all chats) and
    any chat id reachable (seeded parents never wrote to the bot in this process)."""
    from devtools.sandbox.server import emulator_of, start_sandbox

    runner, url = await start_sandbox(
        telegram={
            "token": settings.bot_token,
            "global_per_second": 300,
            "known_chats_only": False,
        }
    )
    try:
        yield SandboxTelegram(url, emulator_of(runner.app))
    finally:
        await runner.cleanup()
