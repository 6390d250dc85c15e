"""Regressions found by the second walkthrough of the demo (cabinet, submission, referral and
staff flows), as a parent and as staff, in Kazakh and Russian."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.utils.i18n import I18n

from bot.dialogs.submission_text import referral_mode_text
from core.models import BenefitStatus, Language, Stream
from core.people import applicants
from core.platform.settings import Settings
from core.seats import releases as seats
from tests.fixtures.bot import Chatter, inline_buttons, texts
from tests.fixtures.e2e_cabinet import applicant_of, t
from tests.fixtures.seats import make_application, make_city, make_group, make_kindergarten
from tests.fixtures.worker import make_staff

ROOT = Path(__file__).resolve().parent.parent


class Person:
    """A chat that presses buttons by their caption, as a person would."""

    def __init__(self, bot_app: Any, user_id: int, language: str) -> None:
        app, session = bot_app
        self.chat = Chatter(app, session, user_id, language)
        self.seen: list[Any] = []

    async def send(self, text: str) -> str:
        self.seen = await self.chat.send(text)
        return "\n".join(texts(self.seen))

    async def press(self, caption: str) -> str:
        buttons = inline_buttons(self.seen)
        match = [data for label, data in buttons if caption in label]
        assert match, f"no button {caption!r} in {[label for label, _ in buttons]}"
        self.seen = await self.chat.press(match[0])
        return "\n".join(texts(self.seen))


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_pending_benefits_name_the_category_not_its_number(
    bot_app: Any, settings: Settings, language: str
) -> None:
    """/benefits said "category 4": staff had to know the numbering to judge the document."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    application = await make_application(
        city=city, choices=[(kindergarten, Language.ru)], stream=Stream.extraordinary
    )
    application.benefit_category = 4
    application.benefit_status = BenefitStatus.pending
    await application.save()
    await make_staff(906)

    shown = await Person(bot_app, 906, language).send("/benefits")

    name = t("Children of employees of the state courier service", language)
    assert f"№{application.number}" in shown and name in shown
    assert "категория 4" not in shown and "санаты 4" not in shown


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_a_release_without_priority_window_does_not_promise_one(
    bot_app: Any, settings: Settings, language: str
) -> None:
    """Choosing "None: open to general access at once" still said only the first parents may
    take the seats until now, and the result said "priority until" the release moment."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    await make_staff(907)
    staff = Person(bot_app, 907, language)
    await staff.send("/release")
    await staff.press(kindergarten.name_ru if language == "ru" else kindergarten.name_kk)
    await staff.press(group.name)
    await staff.press("1")
    asked = await staff.press(t("None: open to general access at once", language))
    only_first = {"ru": "занять места могут только они", "kk": "орындарды тек солар ала алады"}
    assert only_first[language] not in asked
    assert {"ru": "любой родитель", "kk": "кез келген ата-ана"}[language] in asked
    done = await staff.press(t("Release", language))
    assert {"ru": "Приоритет до", "kk": "Басымдық мерзімінің соңы"}[language] not in done
    assert {"ru": "без приоритетного срока", "kk": "Басымдық мерзімінсіз"}[language] in done


async def test_the_seat_protocol_says_a_release_had_no_priority_window(
    bot_app: Any, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    await seats.release_seats(
        group.id, 1, actor="staff:test", settings=settings, window=timedelta(0)
    )
    await make_staff(908)
    shown = await Person(bot_app, 908, "ru").send("/protocol seats")
    assert "освободилось мест: 1, сразу в общем доступе" in shown
    assert "приоритет до" not in shown


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_recovery_with_a_child_iin_without_application_says_so(
    bot_app: Any, settings: Settings, language: str
) -> None:
    """The recovery asks for the child's IIN; when nothing was filed for it the parent read
    "No application with this number was found", about a number they never typed."""
    user_id = 741001 if language == "ru" else 741002
    parent = Person(bot_app, user_id, language)
    await parent.send("/start")
    await applicants.verify_phone(await applicant_of(user_id), "+77033330001")
    await parent.send(t("Personal cabinet", language))
    await parent.press(t("Restore access to an application", language))
    await parent.press(t("Continue", language))
    await parent.send("920127433104")
    said = await parent.send("221006506598")
    assert {"ru": "ребенка с таким ИИН", "kk": "ЖСН-і бар балаға"}[language] in said
    assert t("No application with this number was found.", language) not in said


def test_kazakh_dates_take_a_word_with_the_case_ending() -> None:
    """Kazakh postpositions need a case ending on the word before them: "25 қараша 2026
    бастап" and "22 қараша 2027 дейін" are wrong; the date now stands before a word that
    takes the ending (or after a colon)."""
    i18n = I18n(path=ROOT / "locales", default_locale="ru", domain="messages")
    with i18n.context(), i18n.use_locale("kk"):
        from_date = referral_mode_text("from_date", "2026-11-25", "kk")
    assert from_date == "25 қараша 2026 күнінен бастап"
    for msgid in (
        "Valid until: {date}",
        "Valid until: {when}",
        "Valid until {when}.",
        "Released {seats} seat(s). Parents notified: {addressees}. Priority until {deadline}.",
    ):
        text = i18n.gettext(msgid, locale="kk")
        assert text != msgid
        assert "} дейін" not in text, text
