"""Exchange of places in the chat: a parent asks with buttons, staff open the campaign, find
the exchanges and send the offers, each parent confirms; refusals keep what was chosen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.exchange.campaigns import current_campaign
from core.models import (
    CycleStatus,
    ExchangeCycle,
    ExchangeRequest,
    Referral,
    ReferralStatus,
    StaffRole,
)
from core.platform.dates import local_today
from tests.bot.test_staff import Staff
from tests.bot.test_staff_actions import said
from tests.fixtures.bot import Parent
from tests.fixtures.exchange import holder
from tests.fixtures.queue import make_parent
from tests.fixtures.seats import make_city, make_group, make_kindergarten
from tests.fixtures.worker import make_staff


async def _family(city: Any, group: Any, user_id: int) -> Any:
    parent = await make_parent(telegram_user_id=user_id, verified_phones=1)
    parent.chat_id = user_id
    await parent.save()
    return await holder(city, group, applicant=parent)


async def test_two_parents_swap_places_by_buttons_after_staff_run_the_campaign(
    bot_app: Any, settings: Any
) -> None:
    city = await make_city()
    first_kg, second_kg = await make_kindergarten(city, 1), await make_kindergarten(city, 2)
    _app1, old1 = await _family(city, await make_group(first_kg), 7101)
    _app2, old2 = await _family(city, await make_group(second_kg), 7102)
    await make_staff(7100, StaffRole.operator, city=city)
    staff = Staff(bot_app, 7100)
    one, two = Parent(bot_app, 7101, "ru"), Parent(bot_app, 7102, "ru")

    # Before any campaign: the request is refused with the reason; the choice stays on screen.
    await one.send("/exchange")
    await one.press(said("Request an exchange"))
    await one.press(second_kg.name_ru)
    await one.press(said("Next"))
    refused = await one.press(said("Send the request"))
    no_campaign = (
        "Exchange requests are accepted only during an exchange campaign, and none is open "
        "now. The dates are announced by the education department."
    )
    assert said(no_campaign) in refused
    assert said("Send the request") in " ".join(one.buttons())
    assert not await ExchangeRequest.exists()

    # Staff open the campaign with its dates.
    assert said("No exchange campaign is open.") in await staff.send("/exchanges")
    await staff.press(said("Open a campaign"))
    today = local_today(settings)
    dates = f"{today:%d.%m.%Y} {today + timedelta(days=14):%d.%m.%Y}"
    opened = said("The exchange campaign is open; parents may send requests.")
    assert opened in await staff.send(dates)
    assert await current_campaign(city.id) is not None

    # The same screen, pressed again, now files the request.
    await one.press(said("Send the request"))
    await two.send("/exchange")
    await two.press(said("Request an exchange"))
    await two.press(first_kg.name_ru)
    await two.press(said("Next"))
    await two.press(said("Send the request"))
    assert await ExchangeRequest.all().count() == 2

    # Staff find the cycle and see it before anyone is asked.
    await staff.send("/exchanges")
    await staff.press(said("Find exchanges"))
    shown = await staff.send("/exchanges")
    assert first_kg.name_ru in shown and second_kg.name_ru in shown
    await staff.press(said("Send the offers"))
    await staff.press(said("Send"))
    [cycle] = await ExchangeCycle.all()
    assert cycle.status == CycleStatus.offered

    # Each parent sees the offered place and confirms.
    seen = await one.send("/exchange")
    assert second_kg.name_ru in seen
    await one.press(said("Confirm the exchange"))
    await two.send("/exchange")
    await two.press(said("Confirm the exchange"))
    await cycle.refresh_from_db()
    assert cycle.status == CycleStatus.carried_out
    for old, kg in ((old1, second_kg), (old2, first_kg)):
        await old.refresh_from_db()
        assert old.status == ReferralStatus.exchanged
        new = await Referral.get(
            application_id=old.application_id, status=ReferralStatus.awaiting_enrollment
        )
        assert new.kindergarten_id == kg.id
    assert second_kg.name_ru in await one.send("/exchange")  # the new place


async def test_a_kindergarten_admin_is_told_campaigns_are_for_the_department(
    bot_app: Any,
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await make_staff(7200, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    answer = await Staff(bot_app, 7200).send("/exchanges")
    assert said("Exchange campaigns are run by the education department.") in answer
