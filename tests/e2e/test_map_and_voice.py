"""Through the sandbox (kk and ru): a parent in "Kindergartens" sends a voice message, is told
kindly that the bot cannot listen, and goes on where they were: types a name, opens the card
and gets the kindergarten on the map (sendVenue)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import aiohttp
import pytest

from core.platform.settings import Settings
from devtools.client import E2EClient
from devtools.sandbox.server import start_sandbox
from devtools.sandbox.telegram.spec import method_returns, validate
from devtools.stack import Stack, run_stack
from tests.fixtures.e2e_cabinet import (
    captions,
    city_and_kindergarten,
    head,
    press_containing,
    t,
)

pytestmark = pytest.mark.e2e

TOKEN = "123456:TEST-TOKEN"
VOICE = "Sorry, I can't listen to voice messages. Please type your answer or use the buttons."


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    async with run_stack(settings=settings, worker=False) as running:
        yield running


@pytest.mark.parametrize(("user_id", "lang"), [(742001, "kk"), (742002, "ru")], ids=["kk", "ru"])
async def test_a_voice_message_is_answered_politely_and_the_map_shows_the_kindergarten(
    stack: Stack, user_id: int, lang: str
) -> None:
    _city, kindergarten = await city_and_kindergarten()
    name = kindergarten.name_kk if lang == "kk" else kindergarten.name_ru
    parent = stack.client(user_id, language_code=lang)
    await parent.send("/start")
    await parent.expect()
    await parent.send(t("Kindergartens", lang))
    await parent.expect(head("Type a part of the kindergarten's name", lang))

    await parent.send(voice={"duration": 4})
    await parent.expect(t(VOICE, lang))

    # The search step was kept: a typed name is searched, not "not understood".
    await parent.send(name)
    found = await parent.expect()
    assert name in captions(found)
    await press_containing(parent, name)
    card = await parent.expect(name)
    assert t("Show on the map", lang) in captions(card)
    await parent.press(t("Show on the map", lang))
    shown = await parent.expect()
    view = await parent.view()
    venue = next(m for m in view["messages"] if m["message_id"] == shown.message_id)["venue"]
    assert venue["title"] == name
    assert venue["address"] == (
        kindergarten.address_kk if lang == "kk" else kindergarten.address_ru
    )
    assert venue["location"] == {"latitude": 51.13, "longitude": 71.43}


async def test_the_sandbox_sends_a_venue_and_delivers_a_voice_as_telegram_does() -> None:
    """sendVenue answers a Message with both `venue` and `location` (the Bot API's shapes) and
    refuses a venue without an address; a person's voice reaches the bot as a Voice."""
    runner, url = await start_sandbox(telegram={"token": TOKEN})
    try:
        async with aiohttp.ClientSession() as http:
            person = E2EClient(url, 742010, session=http, language_code="ru")
            await person.send("/start")

            async def call(method: str, **params: object) -> dict[str, Any]:
                async with http.post(f"{url}/bot{TOKEN}/{method}", json=params) as resp:
                    return cast("dict[str, Any]", await resp.json())

            place = {"chat_id": 742010, "latitude": 51.13, "longitude": 71.43}
            place["title"] = "Ясли-сад №1"
            sent = await call("sendVenue", **place, address="ул. Абая, 1")
            assert sent["ok"], sent
            assert not validate(sent["result"], method_returns("sendVenue"))
            assert sent["result"]["venue"]["address"] == "ул. Абая, 1"
            refused = await call("sendVenue", **place, address="")
            assert refused["error_code"] == 400
            assert not validate((await call("sendLocation", **place))["result"], "Message")

            await person.send(voice={"duration": 5})
            updates = (await call("getUpdates", timeout=0))["result"]
            voice = updates[-1]["message"]["voice"]
            assert voice["duration"] == 5 and voice["mime_type"] == "audio/ogg"
            assert not validate(voice, "Voice")
    finally:
        await runner.cleanup()
