"""A populated city for the conversation benchmarks: kindergartens, parents, children with IINs,
applications with their choices, loaded with COPY (bench.load)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tortoise.connection import get_connection

from bench.load import copy_rows
from core.models import (
    Applicant,
    Application,
    ApplicationChoice,
    Child,
    City,
    Kindergarten,
    Person,
    Phone,
)
from core.people.iin import make_iin
from core.platform import clock

KINDERGARTENS = 120


@dataclass
class City1:
    city_id: int
    kindergarten_ids: list[int]
    child_iins: list[str] = field(default_factory=list)  # children with an application
    free_children: list[tuple[int, int]] = field(default_factory=list)  # (applicant, child) ids


def iin_for(born: date, male: bool, serial: int, taken: set[str]) -> str:
    """A valid IIN not in `taken` (added to it)."""
    for step in range(10_000):
        value = make_iin(born, male, (serial + step) % 10_000)
        if value and value not in taken:
            taken.add(value)
            return value
    raise ValueError("no IIN left for this birth date")


async def populate_city(
    applications: int,
    *,
    free_parents: int = 0,
    rng: random.Random | None = None,
    code: str = "astana",
) -> City1:
    """`applications` active applications in one city (6 birth years, 3 streams), each with a
    parent (2 verified phones) and a child with a unique IIN; plus `free_parents` parents with a
    child of 3 who has no application yet (for submissions)."""
    rng = rng or random.Random(7)
    city = await City.create(code=code, name_ru="Астана", name_kk="Астана")
    kgs = [
        {
            "id": k,
            "city_id": city.id,
            "name_ru": f"Ясли-сад №{k}",
            "name_kk": f"№{k} бөбекжай-бақша",
            "ownership": "state",
            "languages": "kk,ru",
            "address_ru": "ул. Абая, 1",
            "address_kk": "Абай к-сі, 1",
            "latitude": 51.1 + k / 1000,
            "longitude": 71.4 + k / 1000,
        }
        for k in range(1, KINDERGARTENS + 1)
    ]
    await copy_rows(Kindergarten, kgs)
    year = clock.now().year
    total = applications + free_parents
    persons, applicants, phones, children, apps, choices = [], [], [], [], [], []
    iins: set[str] = set()
    result = City1(city.id, list(range(1, KINDERGARTENS + 1)))  # the ids of `kgs`
    start = datetime(year - 3, 1, 1, tzinfo=UTC)
    verified = clock.now()
    for i in range(1, total + 1):
        has_app = i <= applications
        parent_born = date(1985 + i % 15, 1 + i % 12, 1 + i % 28)
        child_born = (
            date(year - 1 - i % 5, 1 + i % 12, 1 + (i // 12) % 28)
            if has_app
            else date(year - 3, 1 + i % 12, 1 + (i // 12) % 28)
        )
        child_iin = iin_for(child_born, i % 2 == 0, i // 1680, iins)
        parent_iin = iin_for(parent_born, True, i // 180, iins)
        persons.append(
            {
                "id": 2 * i - 1,
                "iin": parent_iin,
                "last_name": "Ахметов",
                "first_name": "Ерлан",
                "middle_name": "Серикович",
                "birth_date": parent_born,
            }
        )
        persons.append(
            {
                "id": 2 * i,
                "iin": child_iin,
                "last_name": "Ахметова",
                "first_name": "Айгерим",
                "middle_name": "Ерлановна",
                "birth_date": child_born,
            }
        )
        applicants.append(
            {
                "id": i,
                "person_id": 2 * i - 1,
                "telegram_user_id": 10_000_000 + i,
                "chat_id": 10_000_000 + i,
                "language": "ru" if i % 3 else "kk",
            }
        )
        phones.append({"applicant_id": i, "number": f"+7701{i:07d}", "verified_at": verified})
        phones.append({"applicant_id": i, "number": f"+7702{i:07d}", "verified_at": verified})
        children.append({"id": i, "person_id": 2 * i, "representative_id": i})
        if not has_app:
            result.free_children.append((i, i))
            continue
        result.child_iins.append(child_iin)
        roll = rng.random()
        stream = 0 if roll < 0.01 else 1 if roll < 0.09 else 2
        submitted = start + timedelta(
            seconds=rng.randrange(0, 2 * 365 * 86400), microseconds=rng.randrange(1_000_000)
        )
        number = 1_000_000 + i
        apps.append(
            {
                "id": i,
                "number": number,
                "applicant_id": i,
                "child_id": i,
                "city_id": city.id,
                "queue_type": "general",
                "birth_year": child_born.year,
                "stream": stream,
                "submitted_at": submitted,
                "status": "active",
                "valid_until": date(year + 1, 9, 1),
            }
        )
        for rank, kg in enumerate(rng.sample(result.kindergarten_ids, 2), start=1):
            choices.append(
                {
                    "application_id": i,
                    "kindergarten_id": kg,
                    "rank": rank,
                    "language": rng.choice(("kk", "ru")),
                    "queue_type": "general",
                    "birth_year": child_born.year,
                    "stream": stream,
                    "submitted_at": submitted,
                    "number": number,
                    "active": True,
                }
            )
    await copy_rows(Person, persons)
    await copy_rows(Applicant, applicants)
    await copy_rows(Phone, phones)
    await copy_rows(Child, children)
    if apps:
        await copy_rows(Application, apps)
        await copy_rows(ApplicationChoice, choices)
    conn = get_connection("default")
    await conn.execute_script(
        "INSERT INTO counter (name, value) VALUES ('application', 2000000) "
        "ON CONFLICT (name) DO UPDATE SET value = 2000000; ANALYZE"
    )
    return result
