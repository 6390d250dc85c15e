"""The Bot API emulator behaves like Telegram where the bot and its users would notice.

The real aiogram `Bot` talks to it over HTTP; people act through the sandbox's user side.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiohttp import web

from devtools.client import E2EClient
from devtools.sandbox.server import start_sandbox
from devtools.sandbox.telegram.spec import method_returns, validate

TOKEN = "123456:TEST-TOKEN"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class Sandbox:
    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url = url
        self.http = http
        self.bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))

    def person(self, user_id: int, **profile: Any) -> E2EClient:
        return E2EClient(self.url, user_id, session=self.http, **profile)

    async def configure(self, **changes: Any) -> None:
        async with self.http.post(f"{self.url}/sandbox/telegram/config", json=changes) as resp:
            assert resp.status == 200, await resp.text()

    async def stats(self) -> dict[str, Any]:
        async with self.http.get(f"{self.url}/sandbox/telegram/stats") as resp:
            return await resp.json()

    async def raw(self, method: str, **params: Any) -> dict[str, Any]:
        """The reply exactly as the emulator sends it (JSON body, as aiogram's tests do)."""
        async with self.http.post(f"{self.url}/bot{TOKEN}/{method}", json=params) as resp:
            return await resp.json()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    runner, url = await start_sandbox(telegram={"token": TOKEN, "webhook_retry_base": 0.05})
    async with aiohttp.ClientSession() as http:
        box = Sandbox(url, http)
        try:
            yield box
        finally:
            await box.bot.session.close()
            await runner.cleanup()


async def next_update(bot: Bot, offset: int | None = None, timeout: int = 5) -> Any:  # noqa: ASYNC109
    updates = await bot.get_updates(offset=offset, timeout=timeout)
    assert updates, "no update arrived"
    return updates[-1]


async def test_the_bot_sees_what_a_person_writes_through_long_polling(sandbox: Sandbox) -> None:
    me = await sandbox.bot.get_me()
    assert me.is_bot
    person = sandbox.person(700001, language_code="kk", first_name="Айгерім")

    waiting = asyncio.create_task(sandbox.bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    assert not waiting.done()  # the long poll holds until something happens
    await person.send("/start")
    updates = await asyncio.wait_for(waiting, 5)

    message = updates[0].message
    assert message.text == "/start"
    assert message.from_user.language_code == "kk"
    assert message.from_user.first_name == "Айгерім"
    assert message.entities[0].type == "bot_command"

    # Confirming with offset forgets the update; the next poll waits for new ones only.
    assert await sandbox.bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []
    await person.send("hello")
    later = await next_update(sandbox.bot)
    assert later.update_id == updates[0].update_id + 1
    assert later.message.text == "hello"


async def test_a_second_poller_ends_the_first_with_a_conflict(sandbox: Sandbox) -> None:
    first = asyncio.create_task(sandbox.bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(sandbox.bot.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    assert await second == []


async def test_allowed_updates_leave_out_other_kinds(sandbox: Sandbox) -> None:
    person = sandbox.person(700002)
    await person.send("/start")
    await sandbox.bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    assert await sandbox.bot.get_updates(timeout=0) == []


async def test_unknown_chat_and_blocked_user_are_refused(sandbox: Sandbox) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await sandbox.bot.send_message(424242, "hi")

    person = sandbox.person(700003)
    await person.send("/start")
    await sandbox.bot.send_message(700003, "welcome")
    await person.block()
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await sandbox.bot.send_message(700003, "are you there?")
    blocked = await next_update(sandbox.bot, timeout=0)
    assert blocked.my_chat_member.new_chat_member.status == "kicked"

    await person.send("/start")  # writing again unblocks
    await sandbox.bot.send_message(700003, "welcome back")
    assert [m.text for m in await person.messages()] == ["welcome", "welcome back"]


async def test_message_length_limit_is_4096(sandbox: Sandbox) -> None:
    await sandbox.person(700004).send("/start")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await sandbox.bot.send_message(700004, "я" * 4097)
    sent = await sandbox.bot.send_message(700004, "я" * 4096)
    assert len(sent.text) == 4096
    # Markup does not count: the limit applies to the text a person sees.
    sent = await sandbox.bot.send_message(700004, "<b>" + "a" * 4090 + "</b>", parse_mode="HTML")
    assert sent.entities[0].type == "bold"


async def test_callback_data_over_64_bytes_is_refused(sandbox: Sandbox) -> None:
    await sandbox.person(700005).send("/start")

    def markup(data: str) -> InlineKeyboardMarkup:
        button = InlineKeyboardButton(text="Go", callback_data=data)
        return InlineKeyboardMarkup(inline_keyboard=[[button]])

    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await sandbox.bot.send_message(700005, "pick", reply_markup=markup("ж" * 33))  # 66 bytes
    sent = await sandbox.bot.send_message(700005, "pick", reply_markup=markup("ж" * 32))
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "ж" * 32


async def test_an_edit_without_changes_is_not_modified(sandbox: Sandbox) -> None:
    person = sandbox.person(700006)
    await person.send("/start")
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Next", callback_data="next")]]
    )
    sent = await sandbox.bot.send_message(700006, "<b>Step 1</b>", reply_markup=keyboard)
    with pytest.raises(TelegramBadRequest) as refused:
        await sandbox.bot.edit_message_text(
            "<b>Step 1</b>", chat_id=700006, message_id=sent.message_id, reply_markup=keyboard
        )
    assert refused.value.message == NOT_MODIFIED
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await sandbox.bot.edit_message_reply_markup(
            chat_id=700006, message_id=sent.message_id, reply_markup=keyboard
        )

    await sandbox.bot.edit_message_text(
        "Step 2", chat_id=700006, message_id=sent.message_id, reply_markup=keyboard
    )
    await sandbox.bot.edit_message_reply_markup(chat_id=700006, message_id=sent.message_id)
    shown = await person.last()
    assert (shown.text, shown.edited, shown.buttons) == ("Step 2", 2, [])

    await sandbox.bot.delete_message(700006, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await sandbox.bot.edit_message_text("Step 3", chat_id=700006, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await sandbox.bot.delete_message(700006, sent.message_id)
    assert [m.deleted for m in await person.messages(include_deleted=True)] == [True]


async def test_per_chat_rate_limit_answers_429_with_retry_after(sandbox: Sandbox) -> None:
    await sandbox.configure(per_chat_burst=2, per_chat_per_second=0.5)
    await sandbox.person(700007).send("/start")
    await sandbox.bot.send_message(700007, "one")
    await sandbox.bot.send_message(700007, "two")
    with pytest.raises(TelegramRetryAfter) as limited:
        await sandbox.bot.send_message(700007, "three")
    assert limited.value.retry_after == 2
    assert "Too Many Requests: retry after 2" in limited.value.message
    stats = await sandbox.stats()
    assert (stats["sent_messages"], stats["too_many_requests"]) == (2, 1)

    # Benchmarks raise the limits at run time.
    await sandbox.configure(per_chat_burst=100, per_chat_per_second=100)
    await sandbox.bot.send_message(700007, "three")


async def test_global_rate_limit_counts_every_chat(sandbox: Sandbox) -> None:
    await sandbox.configure(global_per_second=3)
    for user_id in range(700010, 700014):
        await sandbox.person(user_id).send("/start")
    for user_id in range(700010, 700013):
        await sandbox.bot.send_message(user_id, "news")
    with pytest.raises(TelegramRetryAfter) as limited:
        await sandbox.bot.send_message(700013, "news")
    assert limited.value.retry_after >= 1


async def test_pressing_buttons_and_answers_to_presses(sandbox: Sandbox) -> None:
    person = sandbox.person(700020, phone="+77011234567")
    await person.send("/start")
    update = await next_update(sandbox.bot, timeout=0)
    menu = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Русский", callback_data="lang:ru")],
            [InlineKeyboardButton(text="Сайт", url="https://example.org")],
        ]
    )
    sent = await sandbox.bot.send_message(700020, "Тілді таңдаңыз", reply_markup=menu)

    await person.press("Русский")
    update = await next_update(sandbox.bot, offset=update.update_id + 1, timeout=0)
    query = update.callback_query
    assert (query.data, query.message.message_id) == ("lang:ru", sent.message_id)
    await sandbox.bot.answer_callback_query(query.id, text="Готово", show_alert=True)
    alert = await person.expect_alert("Готово")
    assert alert["show_alert"] is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await sandbox.bot.answer_callback_query(query.id)

    # A reply keyboard: its buttons send their text; a contact button shares the phone.
    keyboard = ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="Главное меню")],
            [KeyboardButton(text="Отправить номер", request_contact=True)],
        ],
        resize_keyboard=True,
    )
    await sandbox.bot.send_message(700020, "Меню", reply_markup=keyboard)
    assert await person.buttons() == ["Главное меню", "Отправить номер"]
    await person.press("Главное меню")
    update = await next_update(sandbox.bot, offset=update.update_id + 1, timeout=0)
    assert update.message.text == "Главное меню"
    await person.press("Отправить номер")
    update = await next_update(sandbox.bot, offset=update.update_id + 1, timeout=0)
    assert update.message.contact.phone_number == "+77011234567"
    assert update.message.contact.user_id == 700020

    await sandbox.bot.send_message(700020, "ok", reply_markup=ReplyKeyboardRemove())
    assert await person.buttons() == []
    with pytest.raises(AssertionError, match="no button"):
        await person.press("Главное меню")


async def test_documents_and_photos_travel_both_ways(sandbox: Sandbox) -> None:
    person = sandbox.person(700030)
    await person.send_document(b"%PDF-1.4 certificate", "certificate.pdf")
    update = await next_update(sandbox.bot, timeout=0)
    document = update.message.document
    assert (document.file_name, document.mime_type) == ("certificate.pdf", "application/pdf")
    downloaded = await sandbox.bot.download(document.file_id)
    assert downloaded.read() == b"%PDF-1.4 certificate"

    sent = await sandbox.bot.send_document(
        700030, BufferedInputFile(b"referral", filename="referral.pdf"), caption="Направление"
    )
    file = await sandbox.bot.get_file(sent.document.file_id)
    assert (await sandbox.bot.download_file(file.file_path)).read() == b"referral"
    photo = await sandbox.bot.send_photo(700030, BufferedInputFile(b"\x89PNG", filename="p.png"))
    assert photo.photo[-1].file_id
    shown = await person.messages()
    assert shown[0].text == "Направление"
    assert shown[0].document["file_name"] == "referral.pdf"
    assert shown[1].photo is not None

    await person.send(sticker=True)
    update = await next_update(sandbox.bot, offset=update.update_id + 1, timeout=0)
    assert update.message.sticker is not None


async def test_commands_are_kept_per_language(sandbox: Sandbox) -> None:
    await sandbox.bot.set_my_commands(
        [BotCommand(command="start", description="Бастау")], language_code="kk"
    )
    await sandbox.bot.set_my_commands(
        [BotCommand(command="start", description="Начать")], language_code="ru"
    )
    kk = await sandbox.bot.get_my_commands(language_code="kk")
    ru = await sandbox.bot.get_my_commands(language_code="ru")
    assert (kk[0].description, ru[0].description) == ("Бастау", "Начать")
    assert await sandbox.bot.get_my_commands() == []


async def test_html_is_parsed_into_entities_and_bad_markup_refused(sandbox: Sandbox) -> None:
    person = sandbox.person(700040)
    await person.send("/start")
    sent = await sandbox.bot.send_message(
        700040, "Номер: <b>№ 12</b>, <a href='https://x.kz'>сайт</a>", parse_mode="HTML"
    )
    assert sent.text == "Номер: № 12, сайт"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 7, 4),
        ("text_link", 13, 4),
    ]
    shown = await person.last()
    assert shown.html == "Номер: <b>№ 12</b>, <a href='https://x.kz'>сайт</a>"
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await sandbox.bot.send_message(700040, "<div>x</div>", parse_mode="HTML")


async def test_webhook_delivery_carries_the_secret_and_retries(sandbox: Sandbox) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    failures = [500, 502]

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        if failures:
            return web.Response(status=failures.pop(0))
        return web.Response(status=200)

    receiver = web.Application()
    receiver.router.add_post("/telegram/webhook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await sandbox.bot.set_webhook(
            f"http://127.0.0.1:{port}/telegram/webhook", secret_token="tg-secret"
        )
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await sandbox.bot.get_updates()
        await sandbox.person(700050).send("/start")
        for _ in range(100):
            if len(received) >= 3:
                break
            await asyncio.sleep(0.05)
        assert [secret for secret, _ in received] == ["tg-secret"] * 3
        assert len({body["update_id"] for _, body in received}) == 1  # the same update again
        assert received[0][1]["message"]["text"] == "/start"
        info = await sandbox.bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"
        await sandbox.bot.delete_webhook()
        assert (await sandbox.bot.get_webhook_info()).url == ""
    finally:
        await runner.cleanup()


async def test_replies_fit_the_bot_api_specification(sandbox: Sandbox) -> None:
    """Every reply of the methods the bot uses carries Telegram's required fields, nothing else."""
    person = sandbox.person(700060, language_code="ru", first_name="Асель", last_name="Нурланова")
    await person.send("/start")
    await person.send(contact={"phone_number": "+77011234567"})
    await person.send(location={"latitude": 51.1, "longitude": 71.4})
    await person.send(photo=True)
    await person.send(
        document={"file_name": "a.pdf", "content_base64": base64.b64encode(b"x").decode()}
    )
    markup = {"inline_keyboard": [[{"text": "Далее", "callback_data": "next"}]]}
    replies: dict[str, Any] = {}

    async def call(method: str, **params: Any) -> Any:
        reply = await sandbox.raw(method, **params)
        assert reply["ok"], reply
        problems = validate(reply["result"], method_returns(method))
        assert not problems, (method, problems)
        replies[method] = reply["result"]
        return reply["result"]

    await call("getMe")
    sent = await call(
        "sendMessage",
        chat_id=700060,
        text="<b>Шаг 1 из 4</b>",
        parse_mode="HTML",
        reply_markup=markup,
    )
    await call(
        "sendMessage",
        chat_id=700060,
        text="Поделитесь номером",
        reply_markup={"keyboard": [[{"text": "Номер", "request_contact": True}]]},
    )
    await call("editMessageText", chat_id=700060, message_id=sent["message_id"], text="Шаг 2")
    await call(
        "editMessageReplyMarkup",
        chat_id=700060,
        message_id=sent["message_id"],
        reply_markup=markup,
    )
    await person.press("Далее")
    await person.block()
    await person.block(False)
    updates = await call("getUpdates", timeout=0)
    kinds = {next(k for k in u if k != "update_id") for u in updates}
    assert kinds == {"message", "callback_query", "my_chat_member"}
    query = next(u["callback_query"] for u in updates if "callback_query" in u)
    await call("answerCallbackQuery", callback_query_id=query["id"], text="ok")
    document = next(u["message"]["document"] for u in updates if "document" in u.get("message", {}))
    await call("getFile", file_id=document["file_id"])
    await call("sendChatAction", chat_id=700060, action="typing")
    await call("setMyCommands", commands=[{"command": "start", "description": "Начать"}])
    await call("getMyCommands")
    await call("setChatMenuButton", menu_button={"type": "commands"})
    await call("getChat", chat_id=700060)
    await call("getChatMember", chat_id=700060, user_id=700060)
    await call("getWebhookInfo")
    await call("deleteMessage", chat_id=700060, message_id=sent["message_id"])
    await call("deleteWebhook")

    # Errors have Telegram's shape too.
    refused = await sandbox.raw("sendMessage", chat_id=1, text="x")
    assert refused == {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    async with sandbox.http.post(f"{sandbox.url}/bot1:wrong/getMe") as resp:
        assert resp.status == 401
        assert json.loads(await resp.text())["description"] == "Unauthorized"
