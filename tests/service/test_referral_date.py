"""The "from a date" referral mode accepts only a date a referral can come on (security review
finding #6; issue 11 "referral dates within the allowed range"): after today, and no later than
the last day before the year the child turns 6 (referrals stop on 1 January of that year)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from core.applications.submission import SubmissionInput, submit
from core.models import Application, Language, QueueType, ReferralMode
from core.platform import clock
from core.platform.errors import DomainError
from tests.fixtures.queue import make_child, make_city, make_kindergarten, make_parent


@pytest.fixture
async def statement(db: None, settings) -> SubmissionInput:
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1, languages="kk,ru")
    parent = await make_parent(telegram_user_id=701)
    year = clock.now().astimezone(settings.tz).year
    child = await make_child(parent, date(year - 4, 6, 1))  # referrals until 31 Dec next year
    return SubmissionInput(
        applicant_id=parent.id,
        child_id=child.id,
        city_id=city.id,
        queue_type=QueueType.general,
        choices=[(kindergarten.id, Language.ru)],
        referral_mode=ReferralMode.from_date,
        legal_representative=True,
    )


async def test_a_referral_date_in_the_past_or_after_the_child_is_too_old_is_refused(
    statement, settings
):
    today = clock.now().astimezone(settings.tz).date()
    last_day = date(today.year + 1, 12, 31)
    for forged in (today - timedelta(days=30), today, last_day + timedelta(days=1)):
        with pytest.raises(DomainError) as refused:
            await submit(replace(statement, referral_from=forged), settings=settings, actor="p")
        assert refused.value.reason == "referral_date_out_of_range", forged
        assert refused.value.params["latest"] == last_day.isoformat()
    with pytest.raises(DomainError) as refused:
        await submit(replace(statement, referral_from=None), settings=settings, actor="p")
    assert refused.value.reason == "referral_date_required"
    assert not await Application.exists()

    last = replace(statement, referral_from=last_day)
    accepted = await submit(last, settings=settings, actor="p")
    assert accepted.referral_from == last_day
