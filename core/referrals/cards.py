"""What staff see before they act on a referral or a benefit: the child's masked name, the
numbers, the kindergarten and group (the preview of /enroll, /revoke and a benefit decision)."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Application, Referral
from core.notifications.kinds import Place
from core.platform.pii import mask_name


@dataclass(frozen=True)
class ReferralCard:
    referral_id: int
    number: str
    status: str
    application_id: int
    application_number: int
    child: str  # masked: "А***А А***"
    place: Place


@dataclass(frozen=True)
class ApplicationCard:
    application_id: int
    number: int
    child: str  # masked
    benefit_category: int | None
    benefit_status: str


async def referral_card(referral_id: int) -> ReferralCard:
    referral = await Referral.get(id=referral_id).select_related(
        "group", "kindergarten", "application__child__person"
    )
    app = referral.application
    return ReferralCard(
        referral_id=referral.id,
        number=referral.number,
        status=str(referral.status),
        application_id=app.id,
        application_number=app.number,
        child=_masked(app),
        place=Place.of(referral.kindergarten, referral.group),
    )


async def application_card(application_id: int) -> ApplicationCard:
    app = await Application.get(id=application_id).select_related("child__person")
    return ApplicationCard(
        application_id=app.id,
        number=app.number,
        child=_masked(app),
        benefit_category=app.benefit_category,
        benefit_status=str(app.benefit_status),
    )


def _masked(app: Application) -> str:
    person = app.child.person
    if person is None:
        return ""
    return mask_name(person.last_name, person.first_name, person.middle_name)
