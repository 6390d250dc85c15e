"""Exchange of places through the sandbox with the worker running: three families ask in the
chat, the department opens the campaign, finds a 3-way cycle, sees it and sends the offers;
each family is told, confirms, and gets the new referral by push (kk and ru)."""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.models import CycleStatus, ExchangeCycle, Referral, ReferralStatus, StaffRole
from core.people.staff import add_staff
from core.platform.dates import local_today
from core.platform.settings import Settings
from devtools.client import E2EClient
from devtools.stack import Stack, run_stack
from tests.fixtures.e2e_cabinet import LOCALES, applicant_of, press_containing
from tests.fixtures.e2e_cabinet import head as prefix_head
from tests.fixtures.exchange import holder
from tests.fixtures.seats import make_city, make_group, make_kindergarten

pytestmark = pytest.mark.e2e

STAFF_ID = 746000


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    async with run_stack(settings=settings, worker=True) as running:
        yield running


def said(msgid: str, lang: str) -> str:
    """The text in `lang` (the msgid itself until the catalogs carry it)."""
    return gettext_module.translation("messages", LOCALES, languages=[lang]).gettext(msgid)


def head(prefix: str, lang: str) -> str:
    """The longest fixed part of the text whose msgid starts with `prefix`."""
    return prefix_head(prefix, lang)


async def test_three_families_swap_places_in_a_cycle_through_the_chat(
    stack: Stack, settings: Settings
) -> None:
    city = await make_city()
    kgs = [await make_kindergarten(city, n) for n in (1, 2, 3)]
    groups = [await make_group(kg) for kg in kgs]
    families: list[tuple[E2EClient, str, Referral]] = []
    for n, lang in enumerate(("ru", "kk", "ru")):
        client = stack.client(746101 + n, language_code=lang)
        await client.send("/start")
        await client.expect()
        applicant = await applicant_of(746101 + n)
        _app, referral = await holder(city, groups[n], applicant=applicant)
        families.append((client, lang, referral))

    await add_staff(STAFF_ID, StaffRole.superadmin, by="test")
    staff = stack.client(STAFF_ID, language_code="ru")
    await staff.send("/exchanges")
    await staff.expect(said("No exchange campaign is open.", "ru"))
    await press_containing(staff, said("Open a campaign", "ru"))
    await staff.expect(head("Type the first and the last day of the campaign", "ru")[:30])
    today = local_today(settings)
    await staff.send(f"{today:%d.%m.%Y} {today + timedelta(days=7):%d.%m.%Y}")
    await staff.expect(said("The exchange campaign is open; parents may send requests.", "ru"))

    # Each family wants the next family's kindergarten: 1 → 2 → 3 → 1.
    for n, (client, lang, _referral) in enumerate(families):
        await client.send("/exchange")
        await client.expect(said("No exchange request.", lang))
        await press_containing(client, said("Request an exchange", lang))
        await client.expect(head("Choose the kindergartens you would move to", lang)[:25])
        wanted = kgs[(n + 1) % 3]
        await press_containing(client, wanted.name_kk if lang == "kk" else wanted.name_ru)
        await client.expect(said("Chosen:", lang))
        await press_containing(client, said("Next", lang))
        await client.expect(said("Check the exchange request.", lang))
        await press_containing(client, said("Send the request", lang))
        await client.expect(head("Your exchange request is registered.", lang)[:25])

    await staff.send("/exchanges")
    requests = said("Requests: {total} (waiting {waiting}, in cycles {in_cycle})", "ru")
    await staff.expect(requests.split("{")[0] + "3")
    await press_containing(staff, said("Find exchanges", "ru"))
    await staff.expect(head("Cycles found: {count}.", "ru"))
    # The screen shows the cycle before anyone is asked.
    review = await staff.expect(said("proposed, not offered yet", "ru"))
    assert all(kg.name_ru in review.text for kg in kgs)  # the whole cycle before the offers
    await press_containing(staff, said("Send the offers", "ru"))
    await staff.expect(head("Send the offers of all proposed cycles?", "ru")[:25])
    await press_containing(staff, said("Send", "ru"))
    await staff.expect(head("Offers sent for {count} cycles", "ru")[:20])

    for n, (client, lang, _referral) in enumerate(families):
        await client.expect(head("An exchange of places is found for your child.", lang)[:30])
        await client.send("/exchange")
        await client.expect(said("Offered place:", lang))
        await press_containing(client, said("Confirm the exchange", lang))
        if n < 2:  # the last confirmation carries the cycle out
            waiting = "Your confirmation of the exchange is recorded."
            await client.expect(head(waiting, lang)[:25], timeout=20)

    for n, (client, lang, old) in enumerate(families):
        done = await client.expect(head("The exchange of places is done", lang)[:20], timeout=20)
        await old.refresh_from_db()
        assert old.status == ReferralStatus.exchanged
        new = await Referral.get(
            application_id=old.application_id, status=ReferralStatus.awaiting_enrollment
        )
        assert new.kindergarten_id == kgs[(n + 1) % 3].id
        assert new.number in done.text
    [cycle] = await ExchangeCycle.all()
    assert cycle.status == CycleStatus.carried_out
