"""Builders for seat, referral and extension tests: rows inserted directly through the models."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from core.models import (
    Applicant,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    BenefitStatus,
    Child,
    City,
    Group,
    GroupKind,
    Kindergarten,
    Language,
    Ownership,
    Person,
    QueueType,
    ReferralMode,
    Stream,
)
from core.platform import clock

_numbers = itertools.count(5_000_000)
_serial = itertools.count(1)


def this_year() -> int:
    return clock.now().year


def cohort_year(age_by_year: int = 3) -> int:
    """A birth year whose children are `age_by_year` by calendar year now."""
    return this_year() - age_by_year


async def make_city(code: str = "astana") -> City:
    return await City.create(code=code, name_ru="Астана", name_kk="Астана")


async def make_kindergarten(city: City, n: int = 1) -> Kindergarten:
    return await Kindergarten.create(
        city=city,
        name_ru=f"Ясли-сад №{n}",
        name_kk=f"№{n} бөбекжай-бақша",
        ownership=Ownership.state,
        address_ru="ул. Абая, 1",
        address_kk="Абай к-сі, 1",
        latitude=51.13,
        longitude=71.43,
    )


async def make_group(
    kindergarten: Kindergarten,
    *,
    birth_year: int | None = None,
    language: Language = Language.ru,
    kind: GroupKind = GroupKind.general,
    name: str = "Средняя группа",
) -> Group:
    birth_year = birth_year or cohort_year()
    return await Group.create(
        kindergarten=kindergarten,
        name=name,
        birth_year=birth_year,
        age_from=this_year() - birth_year,
        age_to=this_year() - birth_year + 1,
        language=language,
        kind=kind,
        capacity=25,
    )


async def make_parent(language: Language = Language.ru) -> Applicant:
    n = next(_serial)
    person = await Person.create(
        last_name="Ахметов", first_name=f"Ерлан{n}", birth_date=date(1990, 5, 17)
    )
    return await Applicant.create(person=person, language=language, telegram_user_id=10_000 + n)


async def make_child(parent: Applicant, born: date | None = None) -> Child:
    born = born or date(cohort_year(), 6, 1)
    person = await Person.create(last_name="Ахметова", first_name="Айгерим", birth_date=born)
    return await Child.create(person=person, representative=parent)


async def make_application(
    *,
    city: City,
    choices: list[tuple[Kindergarten, Language]],
    applicant: Applicant | None = None,
    child: Child | None = None,
    born: date | None = None,
    stream: Stream = Stream.general,
    benefit_status: BenefitStatus = BenefitStatus.none,
    submitted_at: datetime | None = None,
    queue_type: QueueType = QueueType.general,
    status: ApplicationStatus = ApplicationStatus.active,
    referral_mode: ReferralMode = ReferralMode.immediately,
    referral_from: date | None = None,
    valid_until: date | None = None,
) -> Application:
    """An application with its choices; the choices' ordering columns match the application."""
    applicant = applicant or await make_parent()
    child = child or await make_child(applicant, born)
    await child.fetch_related("person")
    submitted_at = submitted_at or clock.now() - timedelta(days=400) + timedelta(
        seconds=next(_serial)
    )
    app = await Application.create(
        number=next(_numbers),
        applicant=applicant,
        child=child,
        city=city,
        queue_type=queue_type,
        birth_year=child.person.birth_date.year,
        stream=stream,
        benefit_category=1 if stream == Stream.extraordinary else None,
        benefit_status=benefit_status,
        referral_mode=referral_mode,
        referral_from=referral_from,
        submitted_at=submitted_at,
        status=status,
        valid_until=valid_until or (submitted_at + timedelta(days=365)).date(),
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
            active=app.status == ApplicationStatus.active,
        )
    return app


async def make_queue(
    city: City, kindergarten: Kindergarten, n: int, language: Language = Language.ru, **kw
) -> list[Application]:
    """`n` general applications for one kindergarten, oldest first."""
    start = clock.now() - timedelta(days=500)
    return [
        await make_application(
            city=city,
            choices=[(kindergarten, language)],
            submitted_at=start + timedelta(minutes=i),
            **kw,
        )
        for i in range(n)
    ]


# --- A separate OS process firing claims (the multi-process concurrency test) ----------------


async def _claim_many(
    database_url: str, group_id: int, application_ids: list[int], start_at: float
) -> list[str]:
    """At wall-clock `start_at`, fire one concurrent `take_seat` per application; return "ok"
    or the reason code for each."""
    import asyncio
    import time

    from tortoise import Tortoise

    from core.platform.db import tortoise_config
    from core.platform.errors import DomainError
    from core.platform.settings import Settings
    from core.referrals.take import take_seat

    separator = "&" if "?" in database_url else "?"
    await Tortoise.init(config=tortoise_config(f"{database_url}{separator}maxsize=20"))
    settings = Settings(database_url=database_url, _env_file=None)

    async def claim(application_id: int) -> str:
        try:
            await take_seat(application_id, group_id, actor="test", settings=settings)
        except DomainError as exc:
            return exc.reason
        return "ok"

    await Application.all().count()  # connect before the start signal
    await asyncio.sleep(max(0.0, start_at - time.time()))
    try:
        return list(await asyncio.gather(*(claim(i) for i in application_ids)))
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    import asyncio
    import json
    import sys

    url, group, ids = sys.argv[1], int(sys.argv[2]), [int(i) for i in sys.argv[3].split(",")]
    print(json.dumps(asyncio.run(_claim_many(url, group, ids, float(sys.argv[4])))))
