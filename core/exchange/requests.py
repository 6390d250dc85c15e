"""A parent's exchange request: the child's place for a place in one of the named kindergartens.

Refusals (nothing is stored, the parent's choices stay in the conversation): no campaign takes
requests today (`exchange_no_campaign`), the child holds no place (`exchange_no_place`), no
kindergarten named (`exchange_no_preferences`), a named kindergarten has no group for the
child's birth year and language (`exchange_no_matching_group`), a request for this place is
already in the campaign (`exchange_already_requested`)."""

from __future__ import annotations

from core import audit
from core.exchange.campaigns import taking_requests
from core.exchange.places import Holding, fits, holding_of
from core.models import (
    Applicant,
    ExchangeRequest,
    Group,
    Kindergarten,
    Language,
    RequestStatus,
)
from core.notifications import outbox
from core.notifications.kinds import ExchangeNews
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings

OPEN_STATUSES = (RequestStatus.waiting, RequestStatus.in_cycle)


async def file_request(
    applicant_id: int,
    referral_id: int,
    preferences: list[int],
    *,
    language: Language | str | None = None,
    settings: Settings,
) -> ExchangeRequest:
    """File the request; `language`: of the group wanted (default: the current group's)."""
    holding = await holding_of(referral_id)
    if holding is None or holding.application.applicant_id != applicant_id:
        raise DomainError(Reason.exchange_no_place)
    campaign = await taking_requests(holding.kindergarten.city_id, settings)
    if campaign is None:
        raise DomainError(Reason.exchange_no_campaign)
    language = Language(str(language or holding.group.language))
    preferences = list(dict.fromkeys(preferences))  # the first mention counts
    if not preferences or len(preferences) > settings.max_kindergartens:
        raise DomainError(Reason.exchange_no_preferences, most=settings.max_kindergartens)
    await check_preferences(holding, language, preferences)
    if await ExchangeRequest.exists(
        campaign_id=campaign.id, referral_id=referral_id, status__in=OPEN_STATUSES
    ):
        raise DomainError(Reason.exchange_already_requested)
    request = await ExchangeRequest.create(
        campaign_id=campaign.id,
        applicant_id=applicant_id,
        application_id=holding.application.id,
        referral_id=referral_id,
        language=language,
        preferences=preferences,
    )
    await audit.record(
        "exchange.requested",
        "exchange_request",
        request.id,
        actor=f"applicant:{applicant_id}",
        after={
            "campaign_id": campaign.id,
            "application_id": holding.application.id,
            "referral_id": referral_id,
            "language": str(language),
            "preferences": preferences,
        },
    )
    applicant = await Applicant.get(id=applicant_id)
    await outbox.notify(
        applicant,
        ExchangeNews(step="requested", request_id=request.id),
        key=f"exchange_requested:{request.id}",
    )
    return request


async def withdraw_request(applicant_id: int, request_id: int) -> ExchangeRequest:
    """The parent takes back a request no cycle holds yet."""
    request = await ExchangeRequest.get_or_none(id=request_id, applicant_id=applicant_id)
    if request is None or request.status != RequestStatus.waiting:
        raise DomainError(Reason.exchange_wrong_step)
    request.status = RequestStatus.withdrawn
    await request.save(update_fields=["status"])
    await audit.record(
        "exchange.withdrawn",
        "exchange_request",
        request.id,
        actor=f"applicant:{applicant_id}",
        after={"status": str(request.status)},
    )
    return request


async def open_request_of(referral_id: int) -> ExchangeRequest | None:
    return (
        await ExchangeRequest.filter(referral_id=referral_id)
        .exclude(status=RequestStatus.withdrawn)
        .order_by("-id")
        .first()
    )


async def check_preferences(holding: Holding, language: Language, preferences: list[int]) -> None:
    """Every named kindergarten is in the child's city, not its own, and has a group for it."""
    for kindergarten_id in preferences:
        kindergarten = await Kindergarten.get_or_none(id=kindergarten_id)
        if (
            kindergarten is None
            or kindergarten.city_id != holding.kindergarten.city_id
            or kindergarten.id == holding.kindergarten.id
        ):
            raise DomainError(Reason.exchange_no_matching_group, kindergarten_id=kindergarten_id)
        groups = await Group.filter(kindergarten_id=kindergarten_id)
        if not any(fits(holding.application, language, group) for group in groups):
            raise DomainError(
                Reason.exchange_no_matching_group,
                kindergarten_id=kindergarten_id,
                name_ru=kindergarten.name_ru,
                name_kk=kindergarten.name_kk,
            )
