"""A webhook process stopping (SIGTERM in a deploy) finishes the updates it has already answered:
Telegram got 200 for them and will not send them again."""

from __future__ import annotations

import asyncio

from aiogram import Bot, Dispatcher
from aiogram.types import Message
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from core.platform.settings import Settings
from webhooks.bounds import body_middleware
from webhooks.telegram import WEBHOOK_PATH, add_telegram_routes


async def test_an_update_answered_before_shutdown_is_handled_to_the_end(
    settings: Settings, redis: Redis
) -> None:
    started, finished = asyncio.Event(), []
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def slow(message: Message) -> None:
        started.set()
        await asyncio.sleep(0.5)  # a handler still talking to the database
        finished.append(message.text)

    web_app = web.Application(middlewares=[body_middleware(5.0, lambda request: 1 << 16)])
    bot = Bot(token=settings.bot_token or "1:x")
    add_telegram_routes(web_app, dispatcher, bot, redis, settings)
    server = TestServer(web_app)
    await server.start_server()
    update = {
        "update_id": 41,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "A"},
            "text": "сәлем",
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": settings.telegram_webhook_secret[0]}
    async with ClientSession() as http:
        answer = await http.post(server.make_url(WEBHOOK_PATH), json=update, headers=headers)
        assert answer.status == 200
    await started.wait()

    await server.close()  # the runner's cleanup: sites stop, then the app shuts down

    assert finished == ["сәлем"]
    await bot.session.close()
