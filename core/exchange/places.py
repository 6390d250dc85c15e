"""Which places may be exchanged and which groups would take a child: the rules a request,
the matching and the carrying out all read."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from core.models import Application, Group, Kindergarten, Language, Referral, ReferralStatus
from core.seats.eligibility import group_problem

# A place to give: a referral waiting for enrolment, or the enrolment itself (the child
# attends). One waiting for the benefit decision is not a place yet.
PLACE_STATUSES = (ReferralStatus.awaiting_enrollment, ReferralStatus.enrolled)


@dataclass(frozen=True)
class Holding:
    """A child's place: its referral, application, group and kindergarten."""

    referral: Referral
    application: Application
    group: Group
    kindergarten: Kindergarten


def fits(app: Application, language: Language | str, group: Group) -> bool:
    """May this child take a place in this group: birth year, queue type and language."""
    return group_problem(app, group) is None and str(group.language) == str(language)


async def holding_of(referral_id: int, conn: BaseDBAsyncClient | None = None) -> Holding | None:
    referral = await Referral.get_or_none(id=referral_id, using_db=conn)
    if referral is None or referral.status not in PLACE_STATUSES:
        return None
    return Holding(
        referral,
        await Application.get(id=referral.application_id, using_db=conn),
        await Group.get(id=referral.group_id, using_db=conn),
        await Kindergarten.get(id=referral.kindergarten_id, using_db=conn),
    )


async def holdings_of(applicant_id: int) -> list[Holding]:
    """The places the parent's children hold, newest first, one per child."""
    referrals = await Referral.filter(
        application__applicant_id=applicant_id, status__in=PLACE_STATUSES
    ).order_by("-issued_at", "-id")
    seen: set[int] = set()
    found: list[Holding] = []
    for referral in referrals:
        holding = await holding_of(referral.id)
        if holding is None or holding.application.child_id in seen:
            continue
        seen.add(holding.application.child_id)
        found.append(holding)
    return found


async def matching_kindergartens(holding: Holding, language: Language | str) -> list[Kindergarten]:
    """Kindergartens of the child's city, other than its own, with a group that takes it."""
    groups = await Group.filter(
        kindergarten__city_id=holding.kindergarten.city_id, language=str(language)
    ).exclude(kindergarten_id=holding.kindergarten.id)
    ids = sorted({g.kindergarten_id for g in groups if fits(holding.application, language, g)})
    return await Kindergarten.filter(id__in=ids).order_by("name_ru", "id")
