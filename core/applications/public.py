"""Public status of applications, no login: by a child's or a parent's IIN (/check), or by
the application's number (the /start deep link). Never the IIN, phones or benefit category."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tortoise.expressions import Q

from core.applications.lifecycle import PositionSource
from core.models import Application, ApplicationStatus, Person, Stream
from core.people.iin import InvalidIin, parse_iin
from core.platform.errors import DomainError
from core.platform.pii import mask_name
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.queue.order import city_position, kindergarten_positions
from core.queue.places import Position


@dataclass(frozen=True)
class PublicChoice:
    kindergarten_id: int
    name_ru: str
    name_kk: str
    language: str
    position: Position | None


@dataclass(frozen=True)
class PublicApplication:
    """What anyone may see by IIN: never the IIN, phones, or the benefit category."""

    number: int
    status: str  # ApplicationStatus value
    submitted_at: datetime
    benefit_class: str  # none | first_priority | extraordinary
    applicant_name: str  # masked
    child_name: str  # masked
    birth_year: int
    queue_type: str
    position: Position | None  # city cohort; None when archived
    kindergartens: list[PublicChoice] = field(default_factory=list)


async def public_lookup(
    iin: str, settings: Settings, *, index: PositionSource = None
) -> list[PublicApplication]:
    """Applications of a child, or of an applicant, by IIN (no login). `index`: a Redis
    client (or PositionIndex) for the positions, see `core.queue.city_position`."""
    try:
        value = parse_iin(iin).value
    except InvalidIin as exc:
        raise DomainError(Reason.invalid_iin, detail=exc.reason) from None
    person = await Person.get_or_none(iin=value)
    if person is None:
        return []
    applications = (
        await Application.filter(Q(child__person_id=person.id) | Q(applicant__person_id=person.id))
        .order_by("submitted_at", "number")
        .prefetch_related("child__person", "applicant__person", "choices__kindergarten")
    )
    result = []
    for application in applications:
        archived = application.status == ApplicationStatus.archived
        kindergartens = []
        if not archived:
            for choice, position in await kindergarten_positions(
                application, settings, index=index, choices=list(application.choices)
            ):
                kindergartens.append(
                    PublicChoice(
                        kindergarten_id=choice.kindergarten_id,
                        name_ru=choice.kindergarten.name_ru,
                        name_kk=choice.kindergarten.name_kk,
                        language=str(choice.language),
                        position=position,
                    )
                )
        child_person = application.child.person
        parent_person = application.applicant.person
        result.append(
            PublicApplication(
                number=application.number,
                status=str(application.status),
                submitted_at=application.submitted_at,
                benefit_class=benefit_class(Stream(application.stream)),
                applicant_name=mask_name(
                    parent_person.last_name, parent_person.first_name, parent_person.middle_name
                )
                if parent_person
                else "",
                child_name=mask_name(
                    child_person.last_name, child_person.first_name, child_person.middle_name
                ),
                birth_year=application.birth_year,
                queue_type=str(application.queue_type),
                position=None
                if archived
                else await city_position(application, settings, index=index),
                kindergartens=kindergartens,
            )
        )
    return result


async def lookup_number(number: int, settings: Settings) -> PublicApplication | None:
    """The public view of application `number`, or None when there is no such application."""
    application = await Application.get_or_none(number=number).prefetch_related("child__person")
    if application is None:
        return None
    iin = application.child.person.iin
    if not iin:  # a child without an IIN: the number alone is not enough to show it publicly
        return None
    for found in await public_lookup(iin, settings):
        if found.number == number:
            return found
    return None


def benefit_class(stream: Stream) -> str:
    return "none" if stream is Stream.general else stream.name
