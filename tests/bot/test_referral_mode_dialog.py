"""Changing the referral date mode from the cabinet, through the production Dispatcher, in
Russian and in Kazakh: the calendar, the saved mode on the card, the parent's notice."""

from __future__ import annotations

import itertools
from typing import Any

import aiogram_dialog.api.entities.stack
import pytest

from core.models import Application, AuditEntry, Notification, ReferralMode
from tests.fixtures.bot import Parent
from tests.fixtures.cabinet import make_family

CAPTIONS = {
    "ru": {
        "cabinet": ("Личный кабинет", "Мои заявления"),
        "mode": "Дата направления",
        "now": "Сразу, при появлении места",
        "date": "С определенной даты",
        "saved": "Сохранено",
        "wanted": "Направление нужно с:",
        "done": "Готово",
    },
    "kk": {
        "cabinet": ("Жеке кабинет", "Менің өтініштерім"),
        "mode": "Жолдама күні",
        "now": "Орын пайда болған кезде бірден",
        "date": "Белгілі бір күннен бастап",
        "saved": "Сақталды",
        "wanted": "Жолдама қажет болатын күн:",
        "done": "Дайын",
    },
}


@pytest.mark.parametrize(("user_id", "language"), [(531, "ru"), (532, "kk")])
async def test_a_parent_moves_the_referral_to_a_date_and_back_and_is_told_each_time(
    bot_app: Any, user_id: int, language: str
) -> None:
    t = CAPTIONS[language]
    family = await make_family(user_id, language)
    parent = Parent(bot_app, user_id, language)
    await parent.send(t["cabinet"][0])
    await parent.press(t["cabinet"][1])
    await parent.press(f"№{family.application.number}")

    shown = await parent.press(t["mode"])
    assert t["now"] in shown  # the current mode
    await parent.press(t["date"])
    await parent.press(">>")  # next month
    shown = await parent.press("15")
    assert t["saved"] in shown
    app = await Application.get(id=family.application.id)
    assert app.referral_mode == ReferralMode.from_date and app.referral_from is not None
    assert app.referral_from.day == 15

    shown = await parent.press(t["done"])  # back to the application card
    assert t["wanted"] in shown

    await parent.press(t["mode"])
    shown = await parent.press(t["now"])
    assert t["saved"] in shown
    app = await Application.get(id=family.application.id)
    assert (app.referral_mode, app.referral_from) == (ReferralMode.immediately, None)

    told = await Notification.filter(
        applicant_id=family.parent.id, kind="referral_mode_changed"
    ).count()
    assert told == 2
    assert await AuditEntry.filter(action="application.referral_mode_changed").count() == 2


async def test_done_returns_to_the_card_even_when_the_dialog_drew_the_cabinets_intent_id(
    bot_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiogram-dialog draws an intent id from the current second and 100 random numbers: the
    referral-date dialog opened within the cabinet's second gets the cabinet's id once in 100.
    Here every id is drawn twice in a row, so that coincidence happens each time."""
    draws = (n // 2 for n in itertools.count(2))  # 1, 1, 2, 2, 3, 3 ...
    monkeypatch.setattr(aiogram_dialog.api.entities.stack, "new_int_id", lambda: next(draws))
    t = CAPTIONS["ru"]
    family = await make_family(533, "ru")
    parent = Parent(bot_app, 533, "ru")
    await parent.send(t["cabinet"][0])
    await parent.press(t["cabinet"][1])
    await parent.press(f"№{family.application.number}")
    await parent.press(t["mode"])
    await parent.press(t["date"])
    await parent.press(">>")
    assert t["saved"] in await parent.press("15")

    shown = await parent.press(t["done"])
    assert t["wanted"] in shown  # the application card, not "this button is outdated"
