"""The cycles of a campaign: found by top trading cycles, reviewed by staff, offered to the
participants, carried out when everyone confirmed.

A refusal or a lapsed deadline drops only that cycle: the participant who refused (or did not
answer) leaves the campaign, the others go back to the pool and the next "find exchanges" of
the campaign may match them again. Other cycles go on unchanged (a cycle's places are its
participants' own, so cycles never share a place).

Carrying out is one transaction: applications, then referrals locked in id order; each old
referral is closed as `exchanged` (its seat withdrawn, not released to the queue: the partner
takes the place), a seat in the partner's group is created taken and a new referral issued on
it, audited as `referral.issued` with the cycle's id and logged publicly (`exchange.carried_out`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core import audit
from core.applications.lifecycle import lock_application
from core.calendar.working_days import add_working_days
from core.exchange.matching import Participant, top_trading_cycles
from core.exchange.places import PLACE_STATUSES, Holding, fits, holding_of
from core.models import (
    Answer,
    Applicant,
    Application,
    CampaignStatus,
    CycleStatus,
    ExchangeCampaign,
    ExchangeCycle,
    ExchangeLeg,
    ExchangeRequest,
    Group,
    Kindergarten,
    Referral,
    ReferralStatus,
    RequestStatus,
    Seat,
    SeatRelease,
    SeatStatus,
)
from core.notifications import outbox
from core.notifications.kinds import ExchangeNews, Place
from core.platform import clock
from core.platform.counters import next_number, prepare_counter
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.referrals.records import close, snapshot
from core.referrals.take import NUMBER_PREFIX


@dataclass(frozen=True)
class Wish:
    """What the matching reads of one request."""

    request_id: int
    holding: Holding
    language: str
    preferences: tuple[int, ...]


def acceptable(wish: Wish, others: list[Wish]) -> tuple[int, ...]:
    """The places (referral ids) `wish` would take, best first: a kindergarten it named, a
    group that takes the child; places in one kindergarten by referral number (a fact of the
    place, not of the order of requests), so the ranking is strict."""
    rank = {kg: i for i, kg in enumerate(wish.preferences)}
    fitting = [
        other.holding
        for other in others
        if other.request_id != wish.request_id
        and other.holding.kindergarten.id in rank
        and fits(wish.holding.application, wish.language, other.holding.group)
    ]
    fitting.sort(key=lambda h: (rank[h.kindergarten.id], h.referral.number))
    return tuple(h.referral.id for h in fitting)


def match(wishes: list[Wish]) -> list[list[tuple[Wish, Holding]]]:
    """Top trading cycles over the wishes: each cycle as (participant, place received)."""
    by_request = {w.request_id: w for w in wishes}
    by_place = {w.holding.referral.id: w.holding for w in wishes}
    participants = [
        Participant(w.request_id, w.holding.referral.id, acceptable(w, wishes)) for w in wishes
    ]
    return [
        [(by_request[t.key], by_place[t.place]) for t in cycle]
        for cycle in top_trading_cycles(participants)
    ]


async def find_cycles(campaign: ExchangeCampaign, *, actor: str) -> list[ExchangeCycle]:
    """Staff: match the campaign's waiting requests. Cycles proposed earlier and not offered
    are matched again with the rest. The cycles wait for staff to send the offers."""
    if campaign.status == CampaignStatus.closed:
        raise DomainError(Reason.exchange_wrong_step)
    for old in await ExchangeCycle.filter(campaign_id=campaign.id, status=CycleStatus.proposed):
        ids = await ExchangeLeg.filter(cycle_id=old.id).values_list("request_id", flat=True)
        await ExchangeRequest.filter(id__in=list(ids)).update(status=RequestStatus.waiting)
        await ExchangeLeg.filter(cycle_id=old.id).delete()
        await old.delete()
    wishes: list[Wish] = []
    for request in await ExchangeRequest.filter(
        campaign_id=campaign.id, status=RequestStatus.waiting
    ).order_by("id"):
        holding = await holding_of(request.referral_id)
        if holding is None:  # the place was revoked or expired since: nothing to give
            request.status = RequestStatus.dropped
            await request.save(update_fields=["status"])
            continue
        wishes.append(Wish(request.id, holding, str(request.language), tuple(request.preferences)))
    found: list[ExchangeCycle] = []
    async with in_transaction() as conn:
        for cycle in match(wishes):
            row = await ExchangeCycle.create(campaign_id=campaign.id, using_db=conn)
            for position, (wish, place) in enumerate(cycle):
                await ExchangeLeg.create(
                    cycle_id=row.id,
                    request_id=wish.request_id,
                    target_id=place.referral.id,
                    group_id=place.group.id,
                    kindergarten_id=place.kindergarten.id,
                    position=position,
                    using_db=conn,
                )
                await (
                    ExchangeRequest.filter(id=wish.request_id)
                    .using_db(conn)
                    .update(status=RequestStatus.in_cycle)
                )
            found.append(row)
        campaign.status = CampaignStatus.matched
        await campaign.save(update_fields=["status"], using_db=conn)
        await audit.record(
            "exchange.cycles_found",
            "exchange_campaign",
            campaign.id,
            actor=actor,
            after={"cycles": [c.id for c in found], "requests": len(wishes)},
            conn=conn,
        )
    return found


async def send_offers(campaign: ExchangeCampaign, *, actor: str, settings: Settings) -> int:
    """Staff: the proposed cycles are offered; each participant is asked to confirm within
    `exchange_confirm_working_days` working days. Returns the number of cycles offered."""
    cycles = await ExchangeCycle.filter(campaign_id=campaign.id, status=CycleStatus.proposed)
    if not cycles:
        raise DomainError(Reason.exchange_wrong_step)
    now = clock.now()
    deadline = add_working_days(now, settings.exchange_confirm_working_days, settings.tz)
    async with in_transaction() as conn:
        for cycle in cycles:
            cycle.status = CycleStatus.offered
            cycle.deadline = deadline
            await cycle.save(update_fields=["status", "deadline"], using_db=conn)
            for leg in await ExchangeLeg.filter(cycle_id=cycle.id).using_db(conn):
                await _tell(conn, leg, "offered", deadline=deadline, place=await _place(conn, leg))
            await audit.record(
                "exchange.offered",
                "exchange_cycle",
                cycle.id,
                actor=actor,
                after={"deadline": deadline.isoformat()},
                conn=conn,
            )
        campaign.status = CampaignStatus.offered
        await campaign.save(update_fields=["status"], using_db=conn)
    return len(cycles)


async def answer(
    applicant_id: int, leg_id: int, *, confirm: bool, settings: Settings
) -> ExchangeCycle:
    """The parent confirms or refuses their part of an offered cycle before its deadline."""
    await prepare_counter("referral", 1)
    async with in_transaction() as conn:
        leg = await ExchangeLeg.get_or_none(id=leg_id, using_db=conn)
        if leg is None:
            raise DomainError(Reason.exchange_not_offered)
        cycle = await ExchangeCycle.filter(id=leg.cycle_id).select_for_update().using_db(conn).get()
        leg = await ExchangeLeg.get(id=leg_id, using_db=conn)
        request = await ExchangeRequest.get(id=leg.request_id, using_db=conn)
        if (
            request.applicant_id != applicant_id
            or cycle.status != CycleStatus.offered
            or leg.answer != Answer.pending
            or (cycle.deadline is not None and cycle.deadline <= clock.now())
        ):
            raise DomainError(Reason.exchange_not_offered)
        leg.answer = Answer.confirmed if confirm else Answer.refused
        leg.answered_at = clock.now()
        await leg.save(update_fields=["answer", "answered_at"], using_db=conn)
        await audit.record(
            f"exchange.{leg.answer}",
            "exchange_leg",
            leg.id,
            actor=f"applicant:{applicant_id}",
            after={"cycle_id": cycle.id},
            conn=conn,
        )
        if not confirm:
            await _drop(conn, cycle, actor=f"applicant:{applicant_id}")
            return cycle
        legs = await ExchangeLeg.filter(cycle_id=cycle.id).using_db(conn)
        if all(other.answer == Answer.confirmed for other in legs):
            await _carry_out(conn, cycle, legs, settings=settings)
        else:
            await _tell(conn, leg, "waiting_others")
        return cycle


async def lapse_due(settings: Settings) -> int:
    """Timer: offered cycles past their deadline with an answer missing are dropped."""
    due = await ExchangeCycle.filter(status=CycleStatus.offered, deadline__lte=clock.now())
    for stale in due:
        async with in_transaction() as conn:
            cycle = await ExchangeCycle.filter(id=stale.id).select_for_update().using_db(conn).get()
            if cycle.status != CycleStatus.offered:
                continue
            await (
                ExchangeLeg.filter(cycle_id=cycle.id, answer=Answer.pending)
                .using_db(conn)
                .update(answer=Answer.lapsed, answered_at=clock.now())
            )
            await _drop(conn, cycle, actor="system")
    return len(due)


async def legs_of(cycle_id: int) -> list[ExchangeLeg]:
    return await ExchangeLeg.filter(cycle_id=cycle_id).order_by("position")


async def pending_leg_of(request_id: int) -> ExchangeLeg | None:
    """The request's part in an offered cycle it has not answered yet."""
    return await ExchangeLeg.filter(
        request_id=request_id, answer=Answer.pending, cycle__status=CycleStatus.offered
    ).first()


# --- helpers ------------------------------------------------------------------------------


async def _drop(conn: BaseDBAsyncClient, cycle: ExchangeCycle, *, actor: str) -> None:
    """The cycle is off: who refused or lapsed leaves the campaign, the rest wait again."""
    cycle.status = CycleStatus.dropped
    cycle.closed_at = clock.now()
    await cycle.save(update_fields=["status", "closed_at"], using_db=conn)
    for leg in await ExchangeLeg.filter(cycle_id=cycle.id).using_db(conn):
        out = leg.answer in (Answer.refused, Answer.lapsed)
        status = RequestStatus.dropped if out else RequestStatus.waiting
        await ExchangeRequest.filter(id=leg.request_id).using_db(conn).update(status=status)
        await _tell(conn, leg, "dropped_out" if out else "dropped")
    await audit.record(
        "exchange.dropped", "exchange_cycle", cycle.id, actor=actor, after={}, conn=conn
    )


async def _carry_out(
    conn: BaseDBAsyncClient,
    cycle: ExchangeCycle,
    legs: list[ExchangeLeg],
    *,
    settings: Settings,
) -> None:
    actor = f"exchange:{cycle.id}"
    requests = {
        r.id: r
        for r in await ExchangeRequest.filter(id__in=[leg.request_id for leg in legs]).using_db(
            conn
        )
    }
    apps: dict[int, Application] = {}
    for app_id in sorted({r.application_id for r in requests.values()}):
        apps[app_id] = await lock_application(conn, app_id)
    olds: dict[int, Referral] = {}
    for referral_id in sorted(r.referral_id for r in requests.values()):
        olds[referral_id] = (
            await Referral.filter(id=referral_id).select_for_update().using_db(conn).get()
        )
    if any(old.status not in PLACE_STATUSES for old in olds.values()):
        for leg in legs:  # whose place is gone leaves; the others wait again
            gone = olds[requests[leg.request_id].referral_id].status not in PLACE_STATUSES
            if gone:
                await ExchangeLeg.filter(id=leg.id).using_db(conn).update(answer=Answer.lapsed)
                leg.answer = Answer.lapsed
        await _drop(conn, cycle, actor=actor)
        return
    now = clock.now()
    for leg in legs:
        request = requests[leg.request_id]
        app = apps[request.application_id]
        old = olds[request.referral_id]
        await close(conn, old, ReferralStatus.exchanged, f"exchange {cycle.id}", actor)
        await Seat.filter(id=old.seat_id).using_db(conn).update(status=SeatStatus.withdrawn)
        group = await Group.get(id=leg.group_id, using_db=conn)
        kindergarten = await Kindergarten.get(id=leg.kindergarten_id, using_db=conn)
        release = await SeatRelease.create(
            group_id=group.id,
            kindergarten_id=kindergarten.id,
            seats=1,
            priority_end_at=now,
            released_by=actor,
            general_announced_at=now,  # never announced: the seat is taken at once
            using_db=conn,
        )
        seat = await Seat.create(
            release_id=release.id,
            group_id=group.id,
            status=SeatStatus.taken,
            priority_end_at=now,
            taken_at=now,
            using_db=conn,
        )
        serial = await next_number("referral", 1, conn=conn)
        expires_at = add_working_days(now, settings.referral_valid_working_days, settings.tz)
        new = await Referral.create(
            number=f"{NUMBER_PREFIX}-{now.astimezone(settings.tz).year}-{serial:06d}",
            application_id=app.id,
            seat_id=seat.id,
            group_id=group.id,
            kindergarten_id=kindergarten.id,
            status=ReferralStatus.awaiting_enrollment,
            issued_at=now,
            expires_at=expires_at,
            using_db=conn,
        )
        await audit.record(
            "referral.issued",
            "referral",
            new.id,
            actor=actor,
            # public facts of the log's leaf: no release (the place came from the partner)
            after=snapshot(new)
            | {
                "application_number": app.number,
                "kindergarten_id": kindergarten.id,
                "exchange_id": cycle.id,
                "gave": old.id,
            },
            conn=conn,
        )
        await ExchangeLeg.filter(id=leg.id).using_db(conn).update(new_referral_id=new.id)
        await (
            ExchangeRequest.filter(id=request.id)
            .using_db(conn)
            .update(status=RequestStatus.exchanged)
        )
        await _tell(
            conn,
            leg,
            "carried_out",
            place=Place.of(kindergarten, group),
            deadline=expires_at,
            number=new.number,
        )
    cycle.status = CycleStatus.carried_out
    cycle.closed_at = now
    await cycle.save(update_fields=["status", "closed_at"], using_db=conn)
    await audit.record(
        "exchange.carried_out",
        "exchange_cycle",
        cycle.id,
        actor=actor,
        after={
            "size": len(legs),
            "moves": [[leg.kindergarten_id, leg.group_id] for leg in legs],
        },
        conn=conn,
    )


async def _place(conn: BaseDBAsyncClient, leg: ExchangeLeg) -> Place:
    return Place.of(
        await Kindergarten.get(id=leg.kindergarten_id, using_db=conn),
        await Group.get(id=leg.group_id, using_db=conn),
    )


async def _tell(
    conn: BaseDBAsyncClient,
    leg: ExchangeLeg,
    step: str,
    *,
    place: Place | None = None,
    deadline: datetime | None = None,
    number: str = "",
) -> None:
    request = await ExchangeRequest.get(id=leg.request_id, using_db=conn)
    applicant = await Applicant.get(id=request.applicant_id, using_db=conn)
    await outbox.notify(
        applicant,
        ExchangeNews(
            step=step, request_id=request.id, place=place, deadline=deadline, number=number
        ),
        key=f"exchange_{step}:{leg.cycle_id}:{leg.id}",
        conn=conn,
    )
