"""The outbox's text messages to the Bot API without aiogram's per-message models.

`Bot.send_message` builds a `SendMessage` model, encodes it as a form, and validates the
answer into `Response[Message]` (pydantic models of the message, its chat and sender; the
generic `Response[...]` class is even re-created when the garbage collector has dropped it):
most of the sender's CPU per message, for an answer the sender only needs as "ok". Here the
request is one orjson-encoded JSON body on the bot's own aiohttp session; a successful answer
is read as JSON and checked for `"ok": true`; anything else goes to aiogram's own
`check_response`, so errors raise the same exceptions (`TelegramRetryAfter`,
`TelegramForbiddenError`, ...) as `Bot.send_message` would, and network errors the same
`TelegramNetworkError` (with the aiohttp error as its cause).

Only for a bot whose session is aiogram's `AiohttpSession` with no request middleware other
than `RetryAfterMiddleware` (which passes the worker's requests through unchanged,
`bot.middlewares.retry`); any other bot (a test's mock session) goes through `send_message`.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup
from aiohttp import ClientError, ClientTimeout

from bot.middlewares.retry import RetryAfterMiddleware

_JSON = {"Content-Type": "application/json"}


def fast_path_for(bot: Bot) -> bool:
    """Whether `send_text` may bypass `Bot.send_message` for this bot (see the module)."""
    session = bot.session
    return isinstance(session, AiohttpSession) and all(
        isinstance(m, RetryAfterMiddleware) for m in session.middleware
    )


async def send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    reply_markup: InlineKeyboardMarkup | None,
    request_timeout: int,
) -> None:
    """`bot.send_message(chat_id, text, parse_mode="HTML", reply_markup=...)`, the answer
    checked but not turned into a `Message`."""
    if not fast_path_for(bot):
        await bot.send_message(
            chat_id,
            text,
            parse_mode="HTML",
            reply_markup=reply_markup,
            request_timeout=request_timeout,
        )
        return
    session = bot.session
    assert isinstance(session, AiohttpSession)
    body: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
    if reply_markup is not None:
        body["reply_markup"] = reply_markup.model_dump(exclude_none=True)
    http = await session.create_session()
    url = session.api.api_url(token=bot.token, method="sendMessage")
    try:
        timeout = ClientTimeout(total=request_timeout)
        async with http.post(url, data=orjson.dumps(body), headers=_JSON, timeout=timeout) as resp:
            raw = await resp.read()
            status = resp.status
    except TimeoutError as e:  # as `AiohttpSession.make_request` words them
        raise TelegramNetworkError(
            method=_method(chat_id, text, reply_markup), message="Request timeout error"
        ) from e
    except ClientError as e:
        raise TelegramNetworkError(
            method=_method(chat_id, text, reply_markup), message=f"{type(e).__name__}: {e}"
        ) from e
    if status == 200:
        try:
            if orjson.loads(raw).get("ok") is True:
                return
        except (orjson.JSONDecodeError, AttributeError):
            pass
    # Not a plain success: aiogram's reading of the answer (raises its exception).
    session.check_response(
        bot=bot,
        method=_method(chat_id, text, reply_markup),
        status_code=status,
        content=raw.decode("utf-8", "replace"),
    )


def _method(chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> SendMessage:
    return SendMessage(chat_id=chat_id, text=text, parse_mode="HTML", reply_markup=markup)
