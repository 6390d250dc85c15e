"""Builders for queue tests: a city, kindergartens, families and applications inserted directly."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from core.models import (
    Applicant,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    Child,
    City,
    Kindergarten,
    Language,
    Ownership,
    Person,
    Phone,
    QueueType,
    Stream,
)
from core.people.iin import make_iin
from core.queue.order import sync_choices

_serial = itertools.count(1)
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def valid_iin(born: date, male: bool = True) -> str:
    while True:
        iin = make_iin(born, male, next(_serial))
        if iin:
            return iin


async def make_city(code: str = "astana") -> City:
    return await City.create(code=code, name_ru="Астана", name_kk="Астана")


async def make_kindergarten(city: City, n: int = 1, languages: str = "kk,ru") -> Kindergarten:
    return await Kindergarten.create(
        city=city,
        name_ru=f"Ясли-сад №{n}",
        name_kk=f"№{n} бөбекжай-бақша",
        ownership=Ownership.state,
        languages=languages,
        address_ru="ул. Абая, 1",
        address_kk="Абай к-сі, 1",
        latitude=51.13,
        longitude=71.43,
    )


async def make_parent(
    *, telegram_user_id: int | None = None, verified_phones: int = 2, last_name: str = "Ахметов"
) -> Applicant:
    person = await Person.create(
        iin=valid_iin(date(1990, 5, 17)),
        last_name=last_name,
        first_name="Ерлан",
        middle_name="Серикович",
        birth_date=date(1990, 5, 17),
    )
    applicant = await Applicant.create(person=person, telegram_user_id=telegram_user_id)
    for n in range(verified_phones):
        await Phone.create(
            applicant=applicant, number=f"+7701{applicant.id:04d}{n:03d}", verified_at=T0
        )
    return applicant


async def make_child(
    parent: Applicant | None, born: date = date(2021, 6, 1), *, iin: bool = True
) -> Child:
    person = await Person.create(
        iin=valid_iin(born, male=False) if iin else None,
        last_name="Ахметова",
        first_name="Айгерим",
        middle_name="Ерлановна",
        birth_date=born,
    )
    return await Child.create(person=person, representative=parent)


_numbers = itertools.count(1_000_000)


async def make_application(
    *,
    applicant: Applicant,
    child: Child,
    city: City,
    stream: Stream = Stream.general,
    submitted_at: datetime = T0,
    number: int | None = None,
    status: ApplicationStatus = ApplicationStatus.active,
    queue_type: QueueType = QueueType.general,
    choices: list[tuple[Kindergarten, Language]] = (),
) -> Application:
    await child.fetch_related("person")
    app = await Application.create(
        number=number if number is not None else next(_numbers),
        applicant=applicant,
        child=child,
        city=city,
        queue_type=queue_type,
        birth_year=child.person.birth_date.year,
        stream=stream,
        submitted_at=submitted_at,
        status=status,
        valid_until=(submitted_at + timedelta(days=365)).date(),
    )
    for rank, (kindergarten, language) in enumerate(choices, start=1):
        await ApplicationChoice.create(
            application=app,
            kindergarten=kindergarten,
            rank=rank,
            language=language,
            queue_type=app.queue_type,
            birth_year=app.birth_year,
            stream=app.stream,
            submitted_at=app.submitted_at,
            number=app.number,
        )
    await sync_choices(app)
    return app
