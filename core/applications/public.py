"""Public status of applications, no login: by a child's or a parent's IIN (/check), or by
the application's number (the /start deep link). What is shown and why: docs/public-data.md.

Shown: the number, status, submission time, birth year, benefit class, masked names and the
place in the city queue. Never the IIN, phones, the benefit category, the chosen kindergartens
(where the child will go) or the queue type (a correctional queue discloses special needs).
Look-ups are counted per Telegram user (`public_check_per_hour`), so the sequential numbers
cannot be walked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis
from tortoise.expressions import Q

from core.applications.lifecycle import PositionSource
from core.models import Application, ApplicationStatus, Person, Stream
from core.people.iin import InvalidIin, parse_iin
from core.platform.errors import DomainError
from core.platform.pii import mask_name
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.queue.order import city_position
from core.queue.places import Position

MAX_NUMBER_DIGITS = 10  # numbers are 7 digits today; anything longer is not a number of ours
MAX_NUMBER = 2**31 - 1  # the column's range
LOOKUP_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class PublicApplication:
    """What anyone may see: never the IIN, phones, benefit category, kindergartens or queue."""

    number: int
    status: str  # ApplicationStatus value
    submitted_at: datetime
    benefit_class: str  # none | first_priority | extraordinary
    applicant_name: str  # masked
    child_name: str  # masked
    birth_year: int
    position: Position | None  # city cohort; None when archived


def parse_application_number(text: str) -> int | None:
    """An application number as a parent types or links it ("1289012", "#1289012", "№ 1289012"):
    ASCII digits only (not Arabic-Indic or fullwidth ones) and bounded; None otherwise."""
    value = text.strip().lstrip("#№").strip()
    if not value or len(value) > MAX_NUMBER_DIGITS or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number > 0 else None


async def count_lookup(redis: Redis, user_id: int, settings: Settings) -> None:
    """Count one public look-up by Telegram user `user_id`; refuse above the hourly limit with
    the wait (`public_check_limit`). INCR is atomic: concurrent look-ups cannot pass it together."""
    key = f"public:check:{user_id}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, LOOKUP_WINDOW_SECONDS, nx=True)
        pipe.ttl(key)
        count, _, left = await pipe.execute()
    if int(count) > settings.public_check_per_hour:
        raise DomainError(Reason.public_check_limit, seconds_left=max(int(left), 1))


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
        .prefetch_related("child__person", "applicant__person")
    )
    result = []
    for application in applications:
        archived = application.status == ApplicationStatus.archived
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
                position=None
                if archived
                else await city_position(application, settings, index=index),
            )
        )
    return result


async def lookup_number(
    number: int, settings: Settings, *, index: PositionSource = None
) -> PublicApplication | None:
    """The public view of application `number`, or None when there is no such application."""
    if not 0 < number <= MAX_NUMBER:
        return None
    application = await Application.get_or_none(number=number).prefetch_related("child__person")
    if application is None:
        return None
    iin = application.child.person.iin
    if not iin:  # a child without an IIN: the number alone is not enough to show it publicly
        return None
    for found in await public_lookup(iin, settings, index=index):
        if found.number == number:
            return found
    return None


def benefit_class(stream: Stream) -> str:
    return "none" if stream is Stream.general else stream.name
