"""The same typed searches find the same kindergartens on PostgreSQL and on SQLite (the embedded
default, whose LIKE folds only ASCII): the key is normalised in Python and stored with the row."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from core.models import City, Kindergarten, Ownership, StaffMember, StaffRole
from core.people import staff as staff_service
from core.platform.db import close_db, init_db, migrate
from core.platform.settings import Settings
from core.views import directory

ROOT = Path(__file__).resolve().parents[2]

# (ru, kk) as in the demo city (devtools/seed.py)
NAMES = [
    ("Ясли-сад №3 «Самал»", "№3 «Самал» бөбекжай-бақшасы"),
    ("Ясли-сад №11 «Солнышко»", "№11 «Күнсәуле» бөбекжай-бақшасы"),
    ("Детский сад №14 «Аленушка»", "№14 «Ақбөбек» балабақшасы"),
    ("Детский сад №16 «Акку»", "№16 «Аққу» балабақшасы"),
    ("Ясли-сад №27 «Самал»", "№27 «Самал» бөбекжай-бақшасы"),
    ("Ясли-сад №30 «Балдырған»", "№30 «Балдырған» бөбекжай-бақшасы"),
    ("Ясли-сад №40 «Аққу»", "№40 «Аққу» бөбекжай-бақшасы"),
    ("Ясли-сад №5 «Құлыншақ»", "№5 «Құлыншақ» бөбекжай-бақшасы"),
]
QUERIES = {
    "солнышко": ["Ясли-сад №11 «Солнышко»"],
    "Солнышко": ["Ясли-сад №11 «Солнышко»"],
    "Алёнушка": ["Детский сад №14 «Аленушка»"],
    "акку": ["Детский сад №16 «Акку»", "Ясли-сад №40 «Аққу»"],
    "Аққу": ["Детский сад №16 «Акку»", "Ясли-сад №40 «Аққу»"],
    "Балдырган": ["Ясли-сад №30 «Балдырған»"],
    "құлыншақ": ["Ясли-сад №5 «Құлыншақ»"],
    "самал": ["Ясли-сад №3 «Самал»", "Ясли-сад №27 «Самал»"],
    "Самал 27": ["Ясли-сад №27 «Самал»"],
    "27 Самал": ["Ясли-сад №27 «Самал»"],
    "№27": ["Ясли-сад №27 «Самал»"],
    "3": ["Ясли-сад №3 «Самал»"],
    "Салнышко": ["Ясли-сад №11 «Солнышко»"],
    "кунсауле": ["Ясли-сад №11 «Солнышко»"],
    "нет такого": [],
    "": [name for name, _ in sorted(NAMES, key=lambda n: int(n[0].split("№")[1].split()[0]))],
}


async def _city_of_kindergartens() -> int:
    city = await City.create(code="astana", name_ru="Астана", name_kk="Астана")
    for name_ru, name_kk in NAMES:
        await Kindergarten.create(
            city=city,
            name_ru=name_ru,
            name_kk=name_kk,
            ownership=Ownership.state,
            address_ru="ул. Абая, 1",
            address_kk="Абай к-сі, 1",
            latitude=51.13,
            longitude=71.43,
        )
    return city.id


async def _results(city_id: int) -> dict[str, list[str]]:
    found = {}
    for text in QUERIES:
        page = await directory.search(city_id, text, page_size=20)
        found[text] = [kg.name_ru for kg in page.items]
    return found


def _on_sqlite(tmp_path: Path) -> dict[str, Any]:
    """The parents' and the staff searches on a fresh, migrated SQLite database, in a process
    of its own (Tortoise holds one database per process)."""
    url = f"sqlite://{tmp_path}/search.sqlite3"
    code = "import asyncio, json; from tests.service import test_search as t; "
    code += f"print(json.dumps(asyncio.run(t.sqlite_results({url!r}))))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def sqlite_results(url: str) -> dict[str, Any]:
    settings = Settings(database_url=url, _env_file=None)
    await migrate(settings)
    await init_db(settings)
    try:
        city_id = await _city_of_kindergartens()
        return {"parents": await _results(city_id), "staff": await _staff_results(city_id)}
    finally:
        await close_db()


async def test_parents_and_staff_searches_find_the_same_kindergartens_on_postgresql_and_sqlite(
    db: None, tmp_path: Path
) -> None:
    city_id = await _city_of_kindergartens()
    on_postgres = {"parents": await _results(city_id), "staff": await _staff_results(city_id)}
    on_sqlite = await asyncio.to_thread(_on_sqlite, tmp_path)
    assert on_postgres["parents"] == QUERIES
    assert on_postgres["staff"] == STAFF_QUERIES
    assert on_sqlite == on_postgres


async def test_a_kindergarten_written_around_save_is_still_found(db: None) -> None:
    city_id = await _city_of_kindergartens()
    await Kindergarten.filter(name_ru="Ясли-сад №27 «Самал»").update(search_key="")
    found = await directory.search(city_id, "самал 27")
    assert [kg.name_ru for kg in found.items] == ["Ясли-сад №27 «Самал»"]


async def test_a_renamed_kindergarten_is_found_by_its_new_name(db: None) -> None:
    city_id = await _city_of_kindergartens()
    kindergarten = await Kindergarten.get(name_ru="Ясли-сад №3 «Самал»")
    kindergarten.name_ru, kindergarten.name_kk = "Ясли-сад №3 «Ақбота»", "№3 «Ақбота»"
    await kindergarten.save(update_fields=["name_ru", "name_kk"])
    assert [kg.name_ru for kg in (await directory.search(city_id, "акбота")).items] == [
        "Ясли-сад №3 «Ақбота»"
    ]
    assert [kg.name_ru for kg in (await directory.search(city_id, "самал")).items] == [
        "Ясли-сад №27 «Самал»"
    ]


STAFF_QUERIES = {
    "самал": ["Ясли-сад №3 «Самал»", "Ясли-сад №27 «Самал»"],
    "Самал 27": ["Ясли-сад №27 «Самал»"],
    "құлыншақ": ["Ясли-сад №5 «Құлыншақ»"],
    "акку": ["Детский сад №16 «Акку»", "Ясли-сад №40 «Аққу»"],
    "нет такого": [],
}


async def _staff_results(city_id: int) -> dict[str, list[str]]:
    operator = await StaffMember.create(
        telegram_user_id=5001, role=StaffRole.operator, city_id=city_id, name="Оператор"
    )
    found = {}
    for text in STAFF_QUERIES:
        rows = await staff_service.kindergartens_in_scope(operator, search=text)
        found[text] = [kg.name_ru for kg in rows]
    return found


async def test_a_staff_search_outside_the_scope_is_told_apart_from_nothing_found(
    db: None,
) -> None:
    city_id = await _city_of_kindergartens()
    other = await City.create(code="almaty", name_ru="Алматы", name_kk="Алматы")
    await Kindergarten.create(
        city=other,
        name_ru="Ясли-сад №1 «Береке»",
        name_kk="№1 «Береке» бөбекжай-бақшасы",
        ownership=Ownership.state,
        address_ru="-",
        address_kk="-",
        latitude=43.2,
        longitude=76.9,
    )
    operator = await StaffMember.create(
        telegram_user_id=5002, role=StaffRole.operator, city_id=city_id, name="Оператор"
    )
    assert await staff_service.kindergartens_in_scope(operator, search="береке") == []
    assert await staff_service.matches_outside_scope(operator, "береке")
    assert not await staff_service.matches_outside_scope(operator, "нет такого")
