"""Exchange of places: campaign, requests, cycles found by top trading cycles, confirmation,
referrals swapped through the referral lifecycle, the audit and the public log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.notifications.render import render
from core import audit
from core.exchange.campaigns import close_campaign, current_campaign
from core.exchange.cycles import answer, find_cycles, lapse_due, legs_of, send_offers
from core.exchange.requests import file_request
from core.ledger.imports import log_imported
from core.models import (
    Answer,
    CycleStatus,
    ExchangeRequest,
    Language,
    LedgerLeaf,
    Notification,
    Referral,
    ReferralStatus,
    RequestStatus,
    Seat,
    SeatStatus,
)
from core.notifications.kinds import load
from core.platform import clock
from core.platform.errors import DomainError
from core.referrals.lifecycle import enroll
from devtools.seed import SeedSize, seed, seed_exchange_cases
from tests.fixtures.exchange import holder, running_campaign
from tests.fixtures.seats import cohort_year, make_city, make_group, make_kindergarten
from verifier.replay import replay


@pytest.fixture
async def town(db):
    city = await make_city()
    kgs = [await make_kindergarten(city, n) for n in (1, 2, 3, 4)]
    groups = [await make_group(kg) for kg in kgs]
    return city, kgs, groups


def _news(rows: list[Notification], applicant_id: int) -> list[str]:
    return [str(n.params["step"]) for n in rows if n.applicant_id == applicant_id]


async def test_three_families_swap_places_in_a_cycle_once_all_confirm(town, settings):
    city, kgs, groups = town
    campaign = await running_campaign(city, settings)
    a, ra = await holder(city, groups[0])  # attends kindergarten 1, wants 2
    b, rb = await holder(city, groups[1], status=ReferralStatus.awaiting_enrollment)
    c, rc = await holder(city, groups[2])  # attends 3, wants 1
    await log_imported("fixture")  # the three places enter the public log
    await file_request(a.applicant_id, ra.id, [kgs[1].id], settings=settings)
    await file_request(b.applicant_id, rb.id, [kgs[3].id, kgs[2].id], settings=settings)
    await file_request(c.applicant_id, rc.id, [kgs[0].id], settings=settings)

    [cycle] = await find_cycles(campaign, actor="staff:1")
    legs = await legs_of(cycle.id)
    assert [leg.kindergarten_id for leg in legs] == [kgs[1].id, kgs[2].id, kgs[0].id]
    # Staff see the cycle first: nobody is asked yet.
    assert not await Notification.filter(kind="exchange_news", params__contains={"step": "offered"})

    assert await send_offers(campaign, actor="staff:1", settings=settings) == 1
    for leg, app in zip(legs, (a, b, c), strict=True):
        await answer(app.applicant_id, leg.id, confirm=True, settings=settings)

    await cycle.refresh_from_db()
    assert cycle.status == CycleStatus.carried_out
    for app, old, kg in ((a, ra, kgs[1]), (b, rb, kgs[2]), (c, rc, kgs[0])):
        await old.refresh_from_db()
        assert old.status == ReferralStatus.exchanged
        assert (await Seat.get(id=old.seat_id)).status == SeatStatus.withdrawn
        new = await Referral.get(application_id=app.id, status=ReferralStatus.awaiting_enrollment)
        assert new.kindergarten_id == kg.id
        rows = await Notification.filter(kind="exchange_news").order_by("id")
        steps = _news(rows, app.applicant_id)
        assert steps[0] == "requested" and "offered" in steps and steps[-1] == "carried_out"
        done = [n for n in rows if n.applicant_id == app.applicant_id][-1]
        assert done.params["number"] == new.number
    # Every step reads right in both languages.
    for row in await Notification.filter(kind="exchange_news"):
        for language in ("kk", "ru"):
            text = render(load(row.kind, row.params), language, tz=settings.tz).text
            assert text and "{" not in text, (row.params, text)
    # The new referral lives through the lifecycle: the kindergarten enrols the child.
    moved = await Referral.get(application_id=a.id, status=ReferralStatus.awaiting_enrollment)
    await enroll(moved.id, actor="staff:2")
    assert (await audit.verify_chain()).ok
    leaves = [json.loads(leaf.data) for leaf in await LedgerLeaf.all().order_by("seq")]
    assert [x["action"] for x in leaves].count("referral.exchanged") == 3
    [done_leaf] = [x for x in leaves if x["action"] == "exchange.carried_out"]
    assert done_leaf["size"] == 3
    issued = [x for x in leaves if x["action"] == "referral.issued" and "exchange" in x]
    assert [x["exchange"] for x in issued] == [cycle.id] * 3
    assert not any("number" in x or "name" in json.dumps(x) for x in leaves)
    # An outside replay finds the exchange a true swap: the places taken are those given up.
    report = replay(leaves)
    assert report.ok and report.exchanges_checked == 1, report.lines()


async def test_a_refusal_drops_only_its_cycle_and_the_others_wait_again(town, settings):
    city, kgs, groups = town
    campaign = await running_campaign(city, settings)
    a, ra = await holder(city, groups[0])
    b, rb = await holder(city, groups[1])
    c, rc = await holder(city, groups[2])
    d, rd = await holder(city, groups[3])
    ea = await file_request(a.applicant_id, ra.id, [kgs[1].id], settings=settings)
    eb = await file_request(b.applicant_id, rb.id, [kgs[0].id], settings=settings)
    await file_request(c.applicant_id, rc.id, [kgs[3].id], settings=settings)
    await file_request(d.applicant_id, rd.id, [kgs[2].id], settings=settings)
    first, second = await find_cycles(campaign, actor="staff:1")
    await send_offers(campaign, actor="staff:1", settings=settings)
    leg_a, leg_b = await legs_of(first.id)

    await answer(a.applicant_id, leg_a.id, confirm=True, settings=settings)
    await answer(b.applicant_id, leg_b.id, confirm=False, settings=settings)

    await first.refresh_from_db()
    assert first.status == CycleStatus.dropped
    assert (await ExchangeRequest.get(id=ea.id)).status == RequestStatus.waiting
    assert (await ExchangeRequest.get(id=eb.id)).status == RequestStatus.dropped
    await ra.refresh_from_db()
    assert ra.status == ReferralStatus.enrolled  # nobody moved
    rows = await Notification.filter(kind="exchange_news").order_by("id")
    assert _news(rows, a.applicant_id)[-1] == "dropped"
    assert _news(rows, b.applicant_id)[-1] == "dropped_out"
    # The other cycle goes on.
    for leg, app in zip(await legs_of(second.id), (c, d), strict=True):
        await answer(app.applicant_id, leg.id, confirm=True, settings=settings)
    await second.refresh_from_db()
    assert second.status == CycleStatus.carried_out
    # A late answer to the dropped cycle is refused.
    with pytest.raises(DomainError) as late:
        await answer(a.applicant_id, leg_a.id, confirm=True, settings=settings)
    assert late.value.reason == "exchange_not_offered"


async def test_families_with_no_exchange_are_told_when_the_campaign_closes_and_may_ask_again(
    town, settings
):
    city, kgs, groups = town
    campaign = await running_campaign(city, settings)
    a, ra = await holder(city, groups[0])
    b, rb = await holder(city, groups[1])
    c, rc = await holder(city, groups[2])
    swap_a = await file_request(a.applicant_id, ra.id, [kgs[1].id], settings=settings)
    swap_b = await file_request(b.applicant_id, rb.id, [kgs[0].id], settings=settings)
    alone = await file_request(c.applicant_id, rc.id, [kgs[3].id], settings=settings)
    [proposed] = await find_cycles(campaign, actor="staff:1")  # a and b; c matches nobody

    told = await close_campaign(campaign, actor="staff:1")

    # Staff closed before sending the offers: nobody moves, all three are told so.
    assert told == 3
    await proposed.refresh_from_db()
    assert proposed.status == CycleStatus.dropped
    for request in (swap_a, swap_b, alone):
        assert (await ExchangeRequest.get(id=request.id)).status == RequestStatus.unmatched
    rows = await Notification.filter(kind="exchange_news").order_by("id")
    for app in (a, b, c):
        assert _news(rows, app.applicant_id)[-1] == "unmatched"
    last = [n for n in rows if n.applicant_id == c.applicant_id][-1]
    for lang, words in (("ru", "обмен по вашей заявке не найден"), ("kk", "алмасу табылмай")):
        assert words in render(load(last.kind, last.params), lang, tz=settings.tz).text
    await ra.refresh_from_db()
    assert ra.status == ReferralStatus.enrolled
    # The next campaign takes a new request for the same place.
    await running_campaign(city, settings)
    again = await file_request(c.applicant_id, rc.id, [kgs[3].id], settings=settings)
    assert again.status == RequestStatus.waiting


async def test_an_answer_missing_at_the_deadline_drops_the_cycle(town, settings):
    city, kgs, groups = town
    campaign = await running_campaign(city, settings)
    a, ra = await holder(city, groups[0])
    b, rb = await holder(city, groups[1])
    await file_request(a.applicant_id, ra.id, [kgs[1].id], settings=settings)
    eb = await file_request(b.applicant_id, rb.id, [kgs[0].id], settings=settings)
    [cycle] = await find_cycles(campaign, actor="staff:1")
    await send_offers(campaign, actor="staff:1", settings=settings)
    leg_a, leg_b = await legs_of(cycle.id)
    await answer(a.applicant_id, leg_a.id, confirm=True, settings=settings)

    with clock.travel(timedelta(days=10)):
        assert await lapse_due(settings) == 1
        with pytest.raises(DomainError):
            await answer(b.applicant_id, leg_b.id, confirm=True, settings=settings)

    await cycle.refresh_from_db()
    assert cycle.status == CycleStatus.dropped
    await leg_b.refresh_from_db()
    assert leg_b.answer == Answer.lapsed
    assert (await ExchangeRequest.get(id=eb.id)).status == RequestStatus.dropped
    await rb.refresh_from_db()
    assert rb.status == ReferralStatus.enrolled


async def test_a_place_revoked_before_the_last_confirmation_stops_the_exchange(town, settings):
    city, kgs, groups = town
    campaign = await running_campaign(city, settings)
    a, ra = await holder(city, groups[0], status=ReferralStatus.awaiting_enrollment)
    b, rb = await holder(city, groups[1])
    await file_request(a.applicant_id, ra.id, [kgs[1].id], settings=settings)
    await file_request(b.applicant_id, rb.id, [kgs[0].id], settings=settings)
    [cycle] = await find_cycles(campaign, actor="staff:1")
    await send_offers(campaign, actor="staff:1", settings=settings)
    leg_a, leg_b = await legs_of(cycle.id)
    await answer(a.applicant_id, leg_a.id, confirm=True, settings=settings)
    await Referral.filter(id=ra.id).update(status=ReferralStatus.revoked)

    await answer(b.applicant_id, leg_b.id, confirm=True, settings=settings)

    await cycle.refresh_from_db()
    assert cycle.status == CycleStatus.dropped
    await rb.refresh_from_db()
    assert rb.status == ReferralStatus.enrolled


async def test_bad_requests_are_refused_with_a_reason_and_nothing_is_stored(town, settings):
    city, kgs, groups = town
    a, ra = await holder(city, groups[0])
    with pytest.raises(DomainError) as closed:
        await file_request(a.applicant_id, ra.id, [kgs[1].id], settings=settings)
    assert closed.value.reason == "exchange_no_campaign"

    campaign = await running_campaign(city, settings)
    pending, rp = await holder(city, groups[1], status=ReferralStatus.awaiting_benefit_confirmation)
    with pytest.raises(DomainError) as no_place:
        await file_request(pending.applicant_id, rp.id, [kgs[0].id], settings=settings)
    assert no_place.value.reason == "exchange_no_place"
    with pytest.raises(DomainError) as not_theirs:
        await file_request(pending.applicant_id, ra.id, [kgs[1].id], settings=settings)
    assert not_theirs.value.reason == "exchange_no_place"

    young = await make_kindergarten(city, 5)
    await make_group(young, birth_year=cohort_year(1))
    kazakh = await make_kindergarten(city, 6)
    await make_group(kazakh, language=Language.kk)
    for kg in (young, kazakh):
        with pytest.raises(DomainError) as no_group:
            await file_request(a.applicant_id, ra.id, [kgs[1].id, kg.id], settings=settings)
        assert no_group.value.reason == "exchange_no_matching_group"
    with pytest.raises(DomainError) as empty:
        await file_request(a.applicant_id, ra.id, [], settings=settings)
    assert empty.value.reason == "exchange_no_preferences"
    assert await ExchangeRequest.all().count() == 0

    await file_request(a.applicant_id, ra.id, [kgs[1].id], settings=settings)
    with pytest.raises(DomainError) as twice:
        await file_request(a.applicant_id, ra.id, [kgs[2].id], settings=settings)
    assert twice.value.reason == "exchange_already_requested"
    await close_campaign(campaign, actor="staff:1")
    with pytest.raises(DomainError) as after:
        await file_request(a.applicant_id, ra.id, [kgs[2].id], settings=settings)
    assert after.value.reason == "exchange_no_campaign"


async def test_the_demo_city_has_an_open_campaign_whose_requests_form_a_3_way_cycle(db, settings):
    report = await seed(settings, SeedSize(kindergartens=6, applications=300, random_seed=7))
    await seed_exchange_cases(settings, report.city_id)  # as `indigo demo` does
    campaign = await current_campaign(report.city_id)
    assert campaign is not None
    [cycle] = await find_cycles(campaign, actor="staff:demo")
    assert len(await legs_of(cycle.id)) == 3
