"""Foresight end to end (issue 17) in the demo city with its simulated past seasons: a parent's
place moves when applications ahead are withdrawn, the "position changed" push carries "Why did
it move?", which tells the withdrawals ahead with the arithmetic; the chances per kindergarten
and for the city with the method in one tap; the chart of the place as a picture in chat; and
staff get the city's chart with /stats. kk and ru."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from core.applications import submission as applications
from core.applications.lifecycle import withdraw
from core.foresight.seasons import kindergarten_seasons
from core.models import (
    Application,
    ApplicationChoice,
    ApplicationStatus,
    City,
    Kindergarten,
    Stream,
)
from core.people import applicants
from core.people import staff as staff_service
from core.platform import clock
from core.platform.settings import Settings
from core.queue.watch import notify_position_changes
from devtools.seed import SeedSize, seed
from devtools.stack import Stack, run_stack
from tests.fixtures.e2e_cabinet import applicant_of, head, t
from tests.fixtures.queue import make_child

pytestmark = pytest.mark.e2e

CITY = SeedSize(kindergartens=3, applications=900, random_seed=5)


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    await seed(settings, CITY)
    async with run_stack(settings=settings, worker=True) as running:
        yield running


async def busiest_queue() -> tuple[Kindergarten, str, int]:
    """The kindergarten, language and birth year (ages 1 to 5) whose queue has the most past
    referrals."""
    today = clock.now().date()
    best: tuple[int, int, str, int] | None = None
    for kg in await Kindergarten.all().order_by("id"):
        for language in kg.language_list:
            for year in range(today.year - 5, today.year):
                seasons = await kindergarten_seasons(kg.id, "general", year, str(language), today)
                backed = sum(sum(s.referrals) for s in seasons)
                if best is None or backed > best[0]:
                    best = (backed, kg.id, str(language), year)
    assert best is not None and best[0] >= 10, best
    return await Kindergarten.get(id=best[1]), best[2], best[3]


@pytest.mark.parametrize(("user_id", "lang"), [(770001, "kk"), (770002, "ru")], ids=["kk", "ru"])
async def test_a_parent_sees_why_the_place_moved_the_chances_and_a_chart_and_staff_a_city_chart(
    stack: Stack, settings: Settings, user_id: int, lang: str
) -> None:
    parent = stack.client(user_id, language_code=lang)
    await parent.send("/start")
    await parent.expect()
    applicant = await applicant_of(user_id)
    await applicants.verify_phone(applicant, f"+7707{user_id:07d}")
    kindergarten, language, year = await busiest_queue()
    born = date(year, 3, 1)
    child = await make_child(applicant, born)
    city = await City.get(code=settings.default_city)
    app = await applications.submit(
        applications.SubmissionInput(
            applicant_id=applicant.id,
            child_id=child.id,
            city_id=city.id,
            queue_type="general",
            choices=[(kindergarten.id, language)],
            legal_representative=True,
        ),
        settings=settings.model_copy(update={"min_verified_phones": 0}),
        actor=f"applicant:{applicant.id}",
    )
    await parent.expect(f"№{app.number}", timeout=20)
    await notify_position_changes(settings)  # the place at registration, recorded silently

    # Ten general applications ahead are withdrawn: the push tells the new place.
    ahead = (
        await Application.filter(
            city_id=city.id,
            queue_type="general",
            birth_year=app.birth_year,
            status=ApplicationStatus.active,
            stream=Stream.general,
        )
        .order_by("submitted_at")
        .limit(settings.position_notify_step)
    )
    for gone in ahead:
        await withdraw(gone.id, gone.applicant_id, actor="test")
    await notify_position_changes(settings)
    push = await parent.expect(f"№{app.number}", timeout=20)
    assert t("Why did it move?", lang) in push.buttons

    # 1. Why: ten withdrawals ahead, and the arithmetic
    await parent.press(t("Why did it move?", lang))
    why = await parent.expect(head("Why the place of application №{number} changed", lang))
    assert t("Left ahead: {n}", lang, n=len(ahead)) in why.text
    assert t("withdrawn: {n}", lang, n=len(ahead)) in why.text
    assert head("Check: {before} + {entered} − {left} = {after}", lang) in why.text

    # 2. Chances per kindergarten and for the city, the method in one tap
    await parent.press(t("Chances and typical wait", lang))
    chances = await parent.expect(t("Chances and typical wait (from past seasons)", lang))
    name = kindergarten.name_kk if lang == "kk" else kindergarten.name_ru
    assert name in chances.text
    bands = [
        t(f"{band} chance of a referral by 1 September", lang) for band in ("high", "medium", "low")
    ]
    assert any(band in chances.text for band in bands), chances.text
    await parent.press(t("How is this computed?", lang))
    await parent.expect(head("How it is computed:", lang))
    await parent.press(t("Back", lang))
    await parent.expect(t("Chances and typical wait (from past seasons)", lang))
    await parent.press(t("Back", lang))
    await parent.expect(head("Why the place of application №{number} changed", lang))

    # 3. The chart, a picture in chat
    await parent.press(t("Chart of my place", lang))
    picture = await parent.expect(t("Your place over time and the referrals in your cohort", lang))
    assert picture.photo is not None

    # Staff: /stats ends with the city's chart
    staff_id = user_id + 1000
    await staff_service.add_staff(staff_id, "operator", city_code=city.code)
    staff = stack.client(staff_id, language_code=lang)
    await staff.send("/stats")
    chart = await staff.expect(t("New applications and referrals per month", lang), timeout=20)
    assert chart.photo is not None
    assert await ApplicationChoice.filter(application_id=app.id).count() == 1
