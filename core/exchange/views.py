"""What the parent's and the staff's exchange screens show (read only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.exchange.campaigns import current_campaign
from core.exchange.cycles import pending_leg_of
from core.exchange.places import Holding
from core.exchange.requests import open_request_of
from core.models import (
    ExchangeCampaign,
    ExchangeCycle,
    ExchangeLeg,
    ExchangeRequest,
    Group,
    Kindergarten,
    Referral,
    RequestStatus,
)
from core.notifications.kinds import Place


@dataclass(frozen=True)
class ParentView:
    """One child's place and its exchange request, if any."""

    request: ExchangeRequest | None
    wanted: list[Kindergarten]
    offer: ExchangeLeg | None
    offer_place: Place | None
    deadline: datetime | None


async def parent_view(holding: Holding) -> ParentView:
    request = await open_request_of(holding.referral.id)
    wanted: list[Kindergarten] = []
    offer = offer_place = deadline = None
    if request is not None:
        found = {k.id: k for k in await Kindergarten.filter(id__in=request.preferences)}
        wanted = [found[i] for i in request.preferences if i in found]
        if request.status == RequestStatus.in_cycle:
            offer = await pending_leg_of(request.id)
            if offer is not None:
                offer_place = Place.of(
                    await Kindergarten.get(id=offer.kindergarten_id),
                    await Group.get(id=offer.group_id),
                )
                deadline = (await ExchangeCycle.get(id=offer.cycle_id)).deadline
    return ParentView(request, wanted, offer, offer_place, deadline)


@dataclass(frozen=True)
class Move:
    """A participant of a cycle as staff see it: the application, from, to, the answer."""

    application_number: int
    from_place: Place
    to_place: Place
    answer: str


@dataclass(frozen=True)
class CycleView:
    id: int
    status: str
    moves: list[Move]


@dataclass(frozen=True)
class CampaignView:
    campaign: ExchangeCampaign | None
    requests: dict[str, int] = field(default_factory=dict)
    cycles: list[CycleView] = field(default_factory=list)


async def campaign_view(city_id: int) -> CampaignView:
    campaign = await current_campaign(city_id)
    if campaign is None:
        return CampaignView(None)
    counts: dict[str, int] = {}
    for status in await ExchangeRequest.filter(campaign_id=campaign.id).values_list(
        "status", flat=True
    ):
        counts[str(status)] = counts.get(str(status), 0) + 1
    cycles: list[CycleView] = []
    for cycle in await ExchangeCycle.filter(campaign_id=campaign.id).order_by("id"):
        moves: list[Move] = []
        for leg in await ExchangeLeg.filter(cycle_id=cycle.id).order_by("position"):
            request = await ExchangeRequest.get(id=leg.request_id).prefetch_related("application")
            given = await Referral.get(id=request.referral_id)
            moves.append(
                Move(
                    request.application.number,
                    Place.of(
                        await Kindergarten.get(id=given.kindergarten_id),
                        await Group.get(id=given.group_id),
                    ),
                    Place.of(
                        await Kindergarten.get(id=leg.kindergarten_id),
                        await Group.get(id=leg.group_id),
                    ),
                    str(leg.answer),
                )
            )
        cycles.append(CycleView(cycle.id, str(cycle.status), moves))
    return CampaignView(campaign, counts, cycles)
