"""Telegram's 429 on the bot's replies, and bursts of identical failures in the log.

The production Dispatcher (build_app) talks to a recording session that answers some requests
the way Telegram does under flood control ("Too Many Requests: retry after N") or fails them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import SendMessage, TelegramMethod

from bot.middlewares.retry import RetryAfterMiddleware
from core.platform import clock
from core.platform.settings import Settings
from indigo.app import App, build_app, close_app
from tests.fixtures.bot import Chatter, RecordingSession, texts

SORRY = "что-то пошло не так"


class FloodedSession(RecordingSession):
    """Answers the next `floods` sendMessage requests with 429 (`retry_after` s), or fails
    them with `failure`; then behaves as the recording session."""

    def __init__(self) -> None:
        super().__init__()
        self.floods = 0
        self.retry_after = 1
        self.failure: Exception | None = None
        self.refused: list[TelegramMethod[Any]] = []

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> Any:
        if isinstance(method, SendMessage):
            if self.failure is not None:
                self.refused.append(method)
                raise self.failure
            if self.floods > 0:
                self.floods -= 1
                self.refused.append(method)
                raise TelegramRetryAfter(
                    method=method,
                    message=f"Too Many Requests: retry after {self.retry_after}",
                    retry_after=self.retry_after,
                )
        return await super().make_request(bot, method, timeout)


class Sleeps:
    def __init__(self) -> None:
        self.waited: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waited.append(seconds)


@pytest.fixture
async def flooded(
    settings: Settings, db: None, redis: Any
) -> AsyncIterator[tuple[App, FloodedSession, Sleeps]]:
    session, sleeps = FloodedSession(), Sleeps()
    # The production middleware with a recorded sleep: make_bot keeps one already registered.
    session.middleware.register(RetryAfterMiddleware(max_wait=30, attempts=3, sleep=sleeps))
    app = await build_app(settings, bot_session=session, init_database=False)
    try:
        yield app, session, sleeps
    finally:
        await close_app(app)


async def test_a_reply_refused_with_429_is_sent_after_the_wait(flooded: Any) -> None:
    app, session, sleeps = flooded
    session.floods, session.retry_after = 2, 3
    shown = texts(await Chatter(app, session, 830001, "ru").send("/start"))
    assert any("Здравствуйте" in text for text in shown), shown
    assert not any(SORRY in text for text in shown)
    assert sleeps.waited == [3, 3]


async def test_a_long_flood_wait_is_not_waited_out_in_the_handler(
    flooded: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app, session, sleeps = flooded
    session.floods, session.retry_after = 1, 600
    caplog.set_level(logging.INFO)
    await Chatter(app, session, 830002, "ru").send("/start")
    assert sleeps.waited == []
    flood = [r for r in caplog.records if "flood control" in r.getMessage()]
    assert len(flood) == 1 and flood[0].levelno == logging.WARNING and flood[0].exc_info is None


@pytest.mark.parametrize(
    ("retry_after", "waited"),
    [(1, [1, 1, 1]), (20, [20])],  # at most 3 retries; at most 30 s of waiting in all
)
async def test_retries_of_a_reply_are_bounded(
    flooded: Any, retry_after: int, waited: list[int]
) -> None:
    app, session, sleeps = flooded
    session.floods, session.retry_after = 10, retry_after
    shown = texts(await Chatter(app, session, 830006 + retry_after, "ru").send("/start"))
    assert sleeps.waited == waited
    assert not any(SORRY in text for text in shown)


async def test_the_worker_keeps_its_own_429_policy(flooded: Any) -> None:
    """A send outside an update (the worker shares the Bot in the demo) is not retried here:
    worker.sender pauses every send and reschedules the row instead."""
    app, session, sleeps = flooded
    session.floods = 1
    with pytest.raises(TelegramRetryAfter):
        await app.bot.send_message(830003, "x")
    assert sleeps.waited == []


async def test_a_flooded_burst_logs_one_warning_without_tracebacks(
    flooded: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app, session, _sleeps = flooded
    session.floods, session.retry_after = 10_000, 600
    caplog.set_level(logging.INFO)
    parent = Chatter(app, session, 830004, "ru")
    for _ in range(35):
        await parent.send("/start")
    assert all(record.exc_info is None for record in caplog.records)
    flood = [r for r in caplog.records if "flood control" in r.getMessage()]
    assert len(flood) == 1, [r.getMessage() for r in flood]

    with clock.travel(timedelta(minutes=2)):
        await parent.send("/start")
    flood = [r for r in caplog.records if "flood control" in r.getMessage()]
    assert len(flood) == 2 and "34 more like it" in flood[1].getMessage()


async def test_a_burst_of_identical_failures_logs_one_traceback_and_then_a_count(
    flooded: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app, session, _sleeps = flooded
    session.failure = TelegramNetworkError(method=SendMessage(chat_id=1, text="x"), message="down")
    caplog.set_level(logging.INFO)
    parent = Chatter(app, session, 830005, "ru")
    for _ in range(35):
        await parent.send("/start")
    assert len(session.refused) >= 35
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 2, [r.getMessage() for r in errors]  # the failure, the lost answer
    assert sum(1 for r in errors if r.exc_info) == 1

    with clock.travel(timedelta(minutes=2)):
        await parent.send("/start")
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failed) == 2
    assert "TelegramNetworkError (34 more like it" in failed[1].getMessage()
