"""Helpers for the cabinet, referral, extension and recovery conversations through the sandbox:
translated captions, a parent's application filed through core, and the phone confirmation
with the code read from the sandbox SMS inbox."""

from __future__ import annotations

import asyncio
import gettext as gettext_module
import re
import time
from datetime import date
from functools import cache
from pathlib import Path

from aiogram.utils.i18n import I18n

from bot.texts.labels import group_label
from core.applications import submission as applications
from core.models import Applicant, Application, Child, City, Group, Kindergarten, Language
from core.platform import clock
from core.platform.settings import Settings
from devtools.client import BotMessage, E2EClient
from devtools.stack import Stack
from tests.fixtures_queue import make_child, make_kindergarten

LOCALES = Path(__file__).resolve().parent.parent / "locales"
CODE = re.compile(r"\b(\d{6})\b")


@cache
def _catalog(language: str) -> gettext_module.NullTranslations:
    return gettext_module.translation("messages", LOCALES, languages=[language])


def t(msgid: str, language: str, **params: object) -> str:
    """The caption a parent reading `language` sees; fails when the catalog lacks it."""
    text = _catalog(language).gettext(msgid)
    assert text != msgid or language == "en", f"no {language} translation for {msgid!r}"
    return text.format(**params) if params else text


def group_text(group: Group, language: str) -> str:
    """A group as the bot shows it (bot.texts.labels.group_label) to a parent reading `language`."""
    i18n = I18n(path=LOCALES, default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale(language):
        return group_label(group.name, group.birth_year, str(group.language), str(group.kind))


def head(prefix: str, language: str) -> str:
    """The longest fixed part of the translation of the msgid starting with `prefix` (for
    texts with values in them, or long ones)."""
    found = [m for m in _catalog(language)._catalog if isinstance(m, str) and m.startswith(prefix)]
    if prefix in found:
        found = [prefix]
    assert len(found) == 1, f"{len(found)} msgids start with {prefix!r}"
    parts = re.split(r"\{[^}]*\}", t(found[0], language))
    return max((part.strip() for part in parts), key=len)


async def press_containing(client: E2EClient, fragment: str) -> None:
    """Tap the newest inline button whose caption contains `fragment`."""
    for message in reversed(await client.messages()):
        for row in message.inline_keyboard:
            for button in row:
                if fragment in button["text"]:
                    await client.press(
                        callback_data=button["callback_data"], message_id=message.message_id
                    )
                    return
    raise AssertionError(f"no button containing {fragment!r}: {await client.buttons()}")


def captions(message: BotMessage) -> str:
    return " | ".join(message.buttons)


async def applicant_of(user_id: int) -> Applicant:
    """The applicant the bot's middleware created for this Telegram user."""
    return await Applicant.get(telegram_user_id=user_id)


async def city_and_kindergarten() -> tuple[City, Kindergarten]:
    city = await City.get_or_none(code="astana") or await City.create(
        code="astana", name_ru="Астана", name_kk="Астана"
    )
    kindergarten = await Kindergarten.filter(city=city).order_by("id").first()
    if kindergarten is None:
        kindergarten = await make_kindergarten(city)
    return city, kindergarten


async def file_application(
    applicant: Applicant,
    settings: Settings,
    *,
    child: Child | None = None,
    born: date | None = None,
    language: Language = Language.ru,
) -> Application:
    """An application registered through `core.applications.submit` (the wizard's service),
    for a child of this applicant (the registry's word on representation is assumed)."""
    city, kindergarten = await city_and_kindergarten()
    if child is None:
        child = await make_child(applicant, born or date(clock.now().year - 3, 3, 1))
    data = applications.SubmissionInput(
        applicant_id=applicant.id,
        child_id=child.id,
        city_id=city.id,
        queue_type="general",
        choices=[(kindergarten.id, language)],
        legal_representative=True,
    )
    # The phones are confirmed in the conversation under test, not before the filing.
    relaxed = settings.model_copy(update={"min_verified_phones": 0})
    return await applications.submit(data, settings=relaxed, actor=f"applicant:{applicant.id}")


async def sms_code(stack: Stack, phone: str, *, seen: int = 0, timeout: float = 10) -> str:  # noqa: ASYNC109
    """The code of the newest SMS to `phone` once more than `seen` messages arrived."""
    deadline = time.monotonic() + timeout
    while True:
        inbox = await stack.sms_inbox(phone)
        if len(inbox) > seen:
            match = CODE.search(inbox[-1]["text"])
            assert match, f"no code in the SMS {inbox[-1]['text']!r}"
            return match[1]
        assert time.monotonic() < deadline, f"no SMS to {phone} within {timeout} s"
        await asyncio.sleep(0.05)


def other_code(code: str) -> str:
    return "111111" if code != "111111" else "222222"
