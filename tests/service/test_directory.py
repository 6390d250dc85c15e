"""Kindergarten directory: name search, nearest first, paging, and the card a parent sees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.models import (
    City,
    Group,
    GroupKind,
    Kindergarten,
    Language,
    Ownership,
    Seat,
    SeatRelease,
)
from core.platform.errors import DomainError
from core.views import directory
from tests.fixtures.bot import Chatter, inline_buttons, texts
from tests.fixtures.queue import make_application, make_child, make_parent

CENTRE = (51.1280, 71.4300)


async def _city() -> City:
    return await City.create(code="astana", name_ru="Астана", name_kk="Астана")


async def _kg(city: City, name: str, lat: float, lon: float, **extra: object) -> Kindergarten:
    return await Kindergarten.create(
        city=city,
        name_ru=name,
        name_kk=extra.pop("name_kk", name),
        ownership=extra.pop("ownership", Ownership.state),
        address_ru="ул. Абая, 1",
        address_kk="Абай к-сі, 1",
        latitude=lat,
        longitude=lon,
        **extra,
    )


async def test_search_by_part_of_the_name_in_any_case_and_language(db: None) -> None:
    city = await _city()
    await _kg(city, "Ясли-сад «Балапан»", 51.1, 71.4, name_kk="«Балапан» бөбекжай-бақшасы")
    await _kg(city, "Ясли-сад «Айгөлек»", 51.1, 71.4)
    other = await City.create(code="almaty", name_ru="Алматы", name_kk="Алматы")
    await _kg(other, "Балапан (Алматы)", 43.2, 76.9)

    found = await directory.search(city.id, "балапан")
    assert [k.name_ru for k in found.items] == ["Ясли-сад «Балапан»"]
    found = await directory.search(city.id, "бөбекжай")
    assert [k.name_kk for k in found.items] == ["«Балапан» бөбекжай-бақшасы"]
    assert (await directory.search(city.id, "нет такого")).total == 0


async def test_the_list_is_paged_in_name_order(db: None) -> None:
    city = await _city()
    for n in range(12):
        await _kg(city, f"Сад {n:02d}", 51.1, 71.4)
    first = await directory.search(city.id, "", page=0, page_size=5)
    last = await directory.search(city.id, "", page=2, page_size=5)
    assert (first.total, first.pages) == (12, 3)
    assert [k.name_ru for k in first.items] == [f"Сад {n:02d}" for n in range(5)]
    assert [k.name_ru for k in last.items] == ["Сад 10", "Сад 11"]
    beyond = await directory.search(city.id, "", page=9, page_size=5)
    assert beyond.page == 2


async def test_nearest_first_with_distances(db: None) -> None:
    city = await _city()
    lat, lon = CENTRE
    await _kg(city, "Далёкий", lat + 0.2, lon)  # about 22 km
    await _kg(city, "Ближний", lat + 0.001, lon)  # about 111 m
    await _kg(city, "Средний", lat, lon + 0.02)  # about 1.4 km
    found = await directory.nearest(city.id, lat, lon, limit=3)
    assert [k.name_ru for k in found] == ["Ближний", "Средний", "Далёкий"]
    assert found[0].distance_m == pytest.approx(111, rel=0.02)
    assert found[2].distance_m == pytest.approx(22_239, rel=0.02)
    assert [k.name_ru for k in await directory.nearest(city.id, lat, lon, limit=1)] == ["Ближний"]


async def test_card_shows_free_seats_per_group_and_language_and_queue_size(db: None) -> None:
    city = await _city()
    kg = await _kg(
        city,
        "Частный сад",
        51.1,
        71.4,
        ownership=Ownership.private,
        monthly_cost=85000,
        phone="+7 7172 00 00 00",
        languages="kk,ru",
    )
    kk_group = await Group.create(
        kindergarten=kg,
        name="Ботақан",
        birth_year=2021,
        age_from=3,
        age_to=4,
        language=Language.kk,
        capacity=20,
    )
    ru_group = await Group.create(
        kindergarten=kg,
        name="Солнышко",
        birth_year=2022,
        age_from=2,
        age_to=3,
        language=Language.ru,
        capacity=20,
    )
    now = datetime.now(UTC)
    release = await SeatRelease.create(
        group=kk_group, kindergarten=kg, seats=3, priority_end_at=now, released_by="test"
    )
    for status in ("free", "free", "taken"):
        await Seat.create(release=release, group=kk_group, status=status, priority_end_at=now)
    await Seat.create(release=release, group=ru_group, status="free", priority_end_at=now)

    card = await directory.card(kg.id)
    assert card.ownership == "private" and card.monthly_cost == 85000
    assert card.languages == ["kk", "ru"]
    assert [(s.group_name, s.language, s.seats) for s in card.free_seats] == [
        ("Ботақан", "kk", 2),
        ("Солнышко", "ru", 1),
    ]
    assert card.queue_size == 0


async def test_card_counts_active_applications_choosing_the_kindergarten(db: None) -> None:
    city = await _city()
    kg = await _kg(city, "Сад", 51.1, 71.4)
    parent = await make_parent()
    child = await make_child(parent)
    await make_application(applicant=parent, child=child, city=city, choices=[(kg, Language.ru)])
    card = await directory.card(kg.id)
    assert card.queue_size == 1
    assert len(card.queues) == 1


async def test_unknown_kindergarten_is_a_reason_code(db: None) -> None:
    with pytest.raises(DomainError) as refused:
        await directory.card(999)
    assert refused.value.reason == "kindergarten_not_found"


# --- Through the bot ------------------------------------------------------------------------


async def _private_kg_with_seats() -> Kindergarten:
    city = await _city()
    kg = await _kg(
        city,
        "Ясли-сад «Балапан»",
        CENTRE[0] + 0.001,
        CENTRE[1],
        name_kk="«Балапан» бөбекжайы",
        ownership=Ownership.private,
        monthly_cost=85000,
        phone="+7 7172 55 55 55",
    )
    group = await Group.create(
        kindergarten=kg,
        name="Ботақан",
        birth_year=2021,
        age_from=3,
        age_to=4,
        language=Language.kk,
        capacity=20,
    )
    now = datetime.now(UTC)
    release = await SeatRelease.create(
        group=group, kindergarten=kg, seats=2, priority_end_at=now, released_by="test"
    )
    for _ in range(2):
        await Seat.create(release=release, group=group, priority_end_at=now)
    await _kg(city, "Ясли-сад «Айгөлек»", CENTRE[0] + 0.05, CENTRE[1])
    return kg


async def test_a_parent_finds_a_kindergarten_by_name_and_reads_its_card_in_russian(
    bot_app: tuple,
) -> None:
    await _private_kg_with_seats()
    parent = Chatter(*bot_app, 201, "ru")
    sent = await parent.send("Детские сады")
    assert "часть названия" in texts(sent)[-1]
    sent = await parent.send("балапан")
    assert "Найдено детских садов: 1" in texts(sent)[-1]
    ((caption, data),) = inline_buttons(sent)
    assert caption == "Ясли-сад «Балапан» · каз, рус · свободно: 2"  # languages, free seats
    card = texts(await parent.press(data))[-1]
    assert "Форма собственности: частный" in card
    assert "Стоимость: 85\xa0000 т" in card and "в месяц" in card
    assert "группа «Ботақан», 2021 г.р., казахский язык: 2" in card
    assert "+7 7172 55 55 55" in card


async def test_a_parent_shares_a_location_and_sees_the_nearest_first_in_kazakh(
    bot_app: tuple,
) -> None:
    await _private_kg_with_seats()
    parent = Chatter(*bot_app, 202, "kk")
    await parent.send("Балабақшалар")
    sent = await parent.send_location(*CENTRE)
    assert texts(sent)[-1] == "Сізге ең жақын балабақшалар:"
    captions = [caption for caption, _ in inline_buttons(sent)]
    assert captions[0].startswith("«Балапан» бөбекжайы · 110 м")
    assert captions[1].endswith("5,6 км · қаз, орыс")


async def test_the_whole_list_is_paged(bot_app: tuple) -> None:
    city = await _city()
    for n in range(7):
        await _kg(city, f"Сад {n}", 51.1, 71.4)
    parent = Chatter(*bot_app, 203, "ru")
    await parent.send("Детские сады")
    sent = await parent.send("Показать все детские сады")
    assert "Страница 1 из 2" in texts(sent)[-1]
    forward = [data for caption, data in inline_buttons(sent) if caption == "▶️"]
    sent = await parent.press(forward[0])
    assert "Страница 2 из 2" in texts(sent)[-1]
    assert [c.split(" · ")[0] for c, _ in inline_buttons(sent)][:2] == ["Сад 5", "Сад 6"]


async def test_the_correctional_queue_is_offered_only_kindergartens_with_a_correctional_group(
    db: None,
) -> None:
    """Application rules: a correctional application goes to special groups, so the wizard lists
    only kindergartens that have one (elsewhere the core refuses `no_correctional_group`)."""
    city = await _city()
    ordinary = await _kg(city, "Ясли-сад «Балапан»", 51.1, 71.4)
    special = await _kg(city, "Ясли-сад «Айгөлек»", 51.1, 71.4)
    for kindergarten, kind in ((ordinary, GroupKind.general), (special, GroupKind.correctional)):
        await Group.create(
            kindergarten=kindergarten,
            name="Группа",
            birth_year=2022,
            age_from=3,
            age_to=4,
            language=Language.ru,
            kind=kind,
            capacity=10,
        )
    correctional = [GroupKind.correctional]

    found = await directory.search(city.id, "", group_kinds=correctional)
    near = await directory.nearest(city.id, *CENTRE, group_kinds=correctional)

    assert [row.id for row in found.items] == [special.id]
    assert [row.id for row in near] == [special.id]
    everything = await directory.search(city.id, "")
    assert {row.id for row in everything.items} == {ordinary.id, special.id}
