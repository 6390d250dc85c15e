"""The cabinet's event feed shows a seat offer without "press the button below": the feed has
no such button under its entries (the offer itself came with one, in the chat), in kk and ru."""

from __future__ import annotations

from typing import Any

import pytest

from bot.notifications.render import render
from core.models import Notification
from core.notifications.kinds import load
from core.platform.settings import Settings
from core.seats.releases import release_seats
from tests.fixtures.bot import Parent
from tests.fixtures.cabinet import make_family
from tests.fixtures.e2e_cabinet import head, t
from tests.fixtures.seats import make_group

HINT = "Press the button below to get a referral."


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_a_seat_offer_in_the_event_feed_points_to_no_button(
    bot_app: Any, settings: Settings, language: str
) -> None:
    user_id = 611 if language == "ru" else 612
    family = await make_family(user_id, language)
    group = await make_group(family.kindergarten)  # the child's year (make_family)
    await release_seats(group.id, 1, actor="staff:1", settings=settings, window=None)
    offer = await Notification.get(applicant_id=family.parent.id, kind="seat_offered")
    # The chat message has the button and says so.
    message = render(load(offer.kind, offer.params), language, tz=settings.tz)
    assert message.button is not None and t(HINT, language) in message.text

    parent = Parent(bot_app, user_id, language)
    await parent.send(t("Personal cabinet", language))
    feed = await parent.press(head("Event feed ({feed_total})", language))

    assert head("A seat is free for application {number}.", language) in feed
    assert t(HINT, language) not in feed
    assert t("Take the seat", language) not in " ".join(parent.buttons())
