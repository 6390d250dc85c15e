"""Exchange campaigns: staff open one per city with its dates; requests are taken between them."""

from __future__ import annotations

from datetime import date

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core import audit
from core.models import (
    Applicant,
    CampaignStatus,
    City,
    CycleStatus,
    ExchangeCampaign,
    ExchangeCycle,
    ExchangeLeg,
    ExchangeRequest,
    RequestStatus,
    StaffMember,
)
from core.notifications import outbox
from core.notifications.kinds import ExchangeNews
from core.people.staff import city_of
from core.platform import clock
from core.platform.dates import local_today
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings


async def open_campaign(
    staff: StaffMember, starts_on: date, ends_on: date, *, actor: str, settings: Settings
) -> ExchangeCampaign:
    """A new campaign in the staff member's city (a superadmin's: the first city)."""
    if ends_on < starts_on or ends_on < local_today(settings):
        raise DomainError(Reason.exchange_bad_dates)
    city_id = await staff_city(staff)
    if await current_campaign(city_id) is not None:
        raise DomainError(Reason.exchange_campaign_open)
    campaign = await ExchangeCampaign.create(
        city_id=city_id, starts_on=starts_on, ends_on=ends_on, created_by=actor
    )
    await audit.record(
        "exchange.campaign_opened",
        "exchange_campaign",
        campaign.id,
        actor=actor,
        after={"city_id": city_id, "starts_on": str(starts_on), "ends_on": str(ends_on)},
    )
    return campaign


async def close_campaign(campaign: ExchangeCampaign, *, actor: str) -> int:
    """Close the campaign. Requests still waiting, or only in a cycle staff never offered, found
    no exchange: they become `unmatched` and their families are told (the child keeps the
    place; a later campaign takes a new request). Cycles already offered run to their end.
    Returns the requests so closed."""
    async with in_transaction() as conn:
        campaign.status = CampaignStatus.closed
        await campaign.save(update_fields=["status"], using_db=conn)
        proposed = await ExchangeCycle.filter(
            campaign_id=campaign.id, status=CycleStatus.proposed
        ).using_db(conn)
        for cycle in proposed:
            cycle.status = CycleStatus.dropped
            cycle.closed_at = clock.now()
            await cycle.save(update_fields=["status", "closed_at"], using_db=conn)
        in_proposed = (
            await ExchangeLeg.filter(cycle_id__in=[c.id for c in proposed])
            .using_db(conn)
            .values_list("request_id", flat=True)
        )
        unmatched = (
            await ExchangeRequest.filter(campaign_id=campaign.id)
            .filter(
                Q(status=RequestStatus.waiting)
                | Q(status=RequestStatus.in_cycle, id__in=list(in_proposed))
            )
            .using_db(conn)
            .order_by("id")
        )
        await (
            ExchangeRequest.filter(id__in=[r.id for r in unmatched])
            .using_db(conn)
            .update(status=RequestStatus.unmatched)
        )
        applicants = {
            a.id: a
            for a in await Applicant.filter(id__in={r.applicant_id for r in unmatched}).using_db(
                conn
            )
        }
        for request in unmatched:
            await outbox.notify(
                applicants[request.applicant_id],
                ExchangeNews(step="unmatched", request_id=request.id),
                key=f"exchange_unmatched:{request.id}",
                conn=conn,
            )
        await audit.record(
            "exchange.campaign_closed",
            "exchange_campaign",
            campaign.id,
            actor=actor,
            after={"unmatched": [r.id for r in unmatched]},
            conn=conn,
        )
    return len(unmatched)


async def current_campaign(city_id: int) -> ExchangeCampaign | None:
    """The city's campaign that is not closed yet."""
    return (
        await ExchangeCampaign.filter(city_id=city_id)
        .exclude(status=CampaignStatus.closed)
        .order_by("-id")
        .first()
    )


async def taking_requests(city_id: int, settings: Settings) -> ExchangeCampaign | None:
    """The campaign that takes requests today, if any."""
    campaign = await current_campaign(city_id)
    today = local_today(settings)
    if campaign is None or not campaign.starts_on <= today <= campaign.ends_on:
        return None
    return campaign


async def staff_city(staff: StaffMember) -> int:
    city_id = await city_of(staff)
    if city_id is None:  # a superadmin: the (first) city
        city = await City.all().order_by("id").first()
        if city is None:
            raise DomainError(Reason.city_not_found)
        city_id = city.id
    return city_id
