"""Seats released straight to general access reach the parents first in the city's queue through
the whole stack with the worker running: a Kazakh parent in Telegram (with "Take the seat"), a
Russian parent who chose SMS by a short SMS (no button mentioned); a parent waiting for a
referral date is not told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from core.models import Applicant, Application, Channel, ReferralMode
from core.people import applicants
from core.platform.settings import Settings
from core.seats.releases import release_seats
from devtools.client import E2EClient
from devtools.stack import Stack, run_stack
from tests.fixtures.e2e_cabinet import applicant_of, city_and_kindergarten, file_application, t
from tests.fixtures.seats import make_group

pytestmark = pytest.mark.e2e


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    async with run_stack(settings=settings, worker=True) as running:
        yield running


async def _parent(
    stack: Stack, settings: Settings, user_id: int, lang: str
) -> tuple[E2EClient, Application]:
    client = stack.client(user_id, language_code=lang)
    await client.send("/start")
    await client.expect()
    applicant = await applicant_of(user_id)
    await applicants.verify_phone(applicant, f"+7707{user_id:07d}")
    return client, await file_application(applicant, settings)


async def _sms(stack: Stack, phone: str, part: str) -> str:
    for _ in range(200):
        for message in await stack.sms_inbox(phone):
            if part in message["text"]:
                return str(message["text"])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no SMS with {part!r} at {phone}")


async def test_seats_open_to_everyone_reach_the_first_in_line_by_telegram_and_by_sms(
    stack: Stack, settings: Settings
) -> None:
    _, kindergarten = await city_and_kindergarten()
    kk, kk_app = await _parent(stack, settings, 746001, "kk")
    later, waiting = await _parent(stack, settings, 746002, "ru")
    ru, ru_app = await _parent(stack, settings, 746003, "ru")
    await Applicant.filter(id=ru_app.applicant_id).update(channel=Channel.sms)
    await Application.filter(id=waiting.id).update(
        referral_mode=ReferralMode.from_date,
        referral_from=date(waiting.birth_year + 5, 9, 1),
    )
    group = await make_group(kindergarten, birth_year=kk_app.birth_year)

    await release_seats(group.id, 1, actor="staff:1", settings=settings, window=timedelta(0))

    push = await kk.expect(
        t("A seat is free for application {number}.", "kk", number=f"№{kk_app.number}"),
        timeout=20,
    )
    assert t("The seat is open to everyone in the queue: the first to take it gets it.", "kk") in (
        push.text
    )
    assert push.buttons == [t("Take the seat", "kk")]

    sms = await _sms(stack, "+77070746003", f"№{ru_app.number}")
    assert sms.startswith(f"Indigo: место для заявления №{ru_app.number}.")
    assert "Открыто всем" in sms and "кнопк" not in sms.lower() and len(sms) <= 134

    def offered(number: int) -> str:
        return t("A seat is free for application {number}.", "ru", number=f"№{number}")

    assert not any(offered(ru_app.number) in m.text for m in await ru.messages())  # SMS only
    assert not any(offered(waiting.number) in m.text for m in await later.messages())
    assert not [m for m in await stack.sms_inbox("+77070746002") if "Indigo" in m["text"]]
