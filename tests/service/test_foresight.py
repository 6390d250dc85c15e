"""Foresight over the demo city's past seasons (issue 17): the explanation of a moved place adds
up to the cabinet's own position, a withdrawal ahead is told as one, the busiest kindergarten
has a forecast, and both charts are PNG pictures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.applications.lifecycle import withdraw
from core.foresight import chart
from core.foresight.explain import Left
from core.foresight.history import why_moved
from core.foresight.seasons import kindergarten_seasons, outlook
from core.models import Application, ApplicationChoice, ApplicationStatus, City, Referral, Stream
from core.platform import clock
from core.platform.settings import Settings
from core.queue.order import city_position
from devtools.seed import SeedSize, seed

CITY = SeedSize(kindergartens=3, applications=900, random_seed=5)
TODAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LABELS = chart.Labels("title", "place", "queued", "referrals", "registered")


async def _a_general_application_far_in_its_queue() -> Application:
    apps = await Application.filter(status=ApplicationStatus.active, stream=Stream.general)
    return max(apps, key=lambda a: (a.birth_year == TODAY.year - 3, a.submitted_at.timestamp()))


async def test_the_seeded_past_seasons_explain_a_place_forecast_it_and_draw_it(
    db: None, settings: Settings
) -> None:
    with clock.travel(TODAY - clock.now()):
        await seed(settings, CITY)
        enrolled = await Referral.all().count()
        assert 900 * 0.1 < enrolled < 900 * 0.3  # a quarter of the city over three seasons
        app = await _a_general_application_far_in_its_queue()

        # since 1 September two seasons ago: referrals ahead moved the place forward
        since = datetime(TODAY.year - 2, 9, 1, tzinfo=UTC)
        moved = await why_moved(app, since, settings)
        assert moved.after == (await city_position(app, settings)).place
        assert moved.after - moved.before == moved.entered_total - moved.left_total

        # someone ahead withdraws now: told as one withdrawal ahead
        before_now = clock.now()
        ahead = (
            await Application.filter(
                city_id=app.city_id,
                queue_type=app.queue_type,
                birth_year=app.birth_year,
                status=ApplicationStatus.active,
                stream=Stream.general,
                submitted_at__lt=app.submitted_at,
            )
            .order_by("submitted_at")
            .first()
        )
        assert ahead is not None
        with clock.travel(timedelta(minutes=1)):
            await withdraw(ahead.id, ahead.applicant_id, actor="test")
            now_moved = await why_moved(app, before_now, settings)
        assert now_moved.left == {Left.withdrawn: 1}
        assert now_moved.after == now_moved.before - 1

        # the busiest kindergarten queue has a forecast backed by its past seasons
        busiest = await _busiest_choice()
        assert busiest is not None
        view = await outlook(busiest, settings)
        assert any(c.forecast is not None for c in view.choices), view

        # the charts are pictures
        points = await chart.position_history(app, settings)
        assert len(points) >= 2 and sum(p.referrals for p in points) > 0
        assert chart.position_png(points, LABELS).startswith(b"\x89PNG")
        city = await City.get(id=app.city_id)
        monthly = await chart.city_history(city.id)
        assert sum(p.referrals for p in monthly) > 0
        assert chart.city_png(monthly, LABELS).startswith(b"\x89PNG")


async def _busiest_choice() -> Application | None:
    """An active application choosing the kindergarten queue with the most past referrals."""
    today = TODAY.date()
    best: tuple[int, Application] | None = None
    for choice in await ApplicationChoice.filter(active=True).order_by("id").limit(300):
        seasons = await kindergarten_seasons(
            choice.kindergarten_id,
            str(choice.queue_type),
            choice.birth_year,
            str(choice.language),
            today,
        )
        backed = sum(sum(s.referrals) for s in seasons)
        if best is None or backed > best[0]:
            best = (backed, await Application.get(id=choice.application_id))
    return None if best is None else best[1]
