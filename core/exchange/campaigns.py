"""Exchange campaigns: staff open one per city with its dates; requests are taken between them."""

from __future__ import annotations

from datetime import date

from core import audit
from core.models import CampaignStatus, City, ExchangeCampaign, StaffMember
from core.people.staff import city_of
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


async def close_campaign(campaign: ExchangeCampaign, *, actor: str) -> None:
    campaign.status = CampaignStatus.closed
    await campaign.save(update_fields=["status"])
    await audit.record(
        "exchange.campaign_closed", "exchange_campaign", campaign.id, actor=actor, after={}
    )


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
