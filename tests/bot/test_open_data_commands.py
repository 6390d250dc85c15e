"""A parent who types /stats or /protocol (the staff's figures and protocols) is not refused as
"staff only": those are open data, and the answer says so with the link to the public page, in
the parent's language. Staff still get their tools."""

from __future__ import annotations

from typing import Any

import pytest

from core.platform.settings import Settings
from tests.bot.test_staff import Staff
from tests.fixtures.worker import make_staff

OPEN = {
    "ru": "открытый журнал доступны всем без входа: https://indigo.example.kz/public?lang=ru",
    "kk": "ашық журнал барлығына кірусіз қолжетімді: https://indigo.example.kz/public?lang=kk",
}
STAFF_ONLY = ("только для сотрудников", "тек білім бөлімдері")


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_a_parent_asking_for_stats_or_the_protocol_gets_the_public_page(
    bot_app: Any, settings: Settings, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "public_url", "https://indigo.example.kz/")
    parent = Staff(bot_app, 4243, language)
    for command in ("/stats", "/protocol", "/protocol seats"):
        said = await parent.send(command)
        assert OPEN[language] in said, (command, said)
        assert not any(refusal in said for refusal in STAFF_ONLY), said
    # The staff tools stay refused.
    refused = await parent.send("/release")
    assert any(refusal in refused for refusal in STAFF_ONLY), refused


async def test_without_a_public_address_the_page_is_that_of_the_webhook_listener(
    bot_app: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "public_url", None)
    monkeypatch.setattr(settings, "telegram_webhook_url", "https://bot.example.kz/telegram/webhook")
    said = await Staff(bot_app, 4244, "ru").send("/stats")
    assert "https://bot.example.kz/public?lang=ru" in said


async def test_staff_still_get_their_figures(
    bot_app: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "public_url", "https://indigo.example.kz")
    await make_staff(4245)
    said = await Staff(bot_app, 4245, "ru").send("/stats")
    assert "https://indigo.example.kz/public" not in said
    assert "Открытые данные" in said, said


@pytest.mark.parametrize(
    ("language", "answer"),
    [
        ("ru", "доступны всем без входа на открытой странице сервиса"),
        ("kk", "сервистің ашық бетінде барлығына кірусіз қолжетімді"),
    ],
)
async def test_without_any_public_address_the_answer_names_the_public_page(
    bot_app: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch, language: str, answer: str
) -> None:
    monkeypatch.setattr(settings, "public_url", None)
    monkeypatch.setattr(settings, "telegram_webhook_url", None)
    said = await Staff(bot_app, 4246, language).send("/protocol")
    assert answer in said, said
