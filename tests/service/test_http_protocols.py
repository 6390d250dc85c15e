"""The public protocols over HTTP: validated parameters, pages and filters in SQL, a short cache,
and no priority window shown for seats opened to everyone at once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.models import GroupKind, Language, Ownership
from core.platform import clock
from core.platform.settings import Settings
from core.referrals.take import take_seat
from core.seats import releases
from tests.fixtures.seats import make_city, make_group, make_kindergarten, make_queue
from webhooks.registers import add_register_routes

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(settings: Settings, db: None) -> AsyncIterator[Client]:
    async with _client(settings.model_copy(update={"protocols_cache_seconds": 0})) as running:
        yield running


def _client(settings: Settings) -> Client:
    web_app = web.Application()
    add_register_routes(web_app, settings)
    return TestClient(TestServer(web_app))


async def get(client: Client, path: str, query: str = "") -> tuple[int, dict[str, Any]]:
    response = await client.get(path + ("?" + query if query else ""))
    return response.status, await response.json()


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("limit=201", "limit"),
        ("limit=0", "limit"),
        ("limit=%D9%A1", "limit"),  # an Arabic-Indic digit
        ("offset=-5", "offset"),
        ("city=99999999999", "city"),
        ("kindergarten=1.5", "kindergarten"),
        ("date=2026-13-45", "date"),
        ("date=20261201", "date"),
        ("date=0001-01-01", "date"),
        ("language=en", "language"),
        ("ownership=public", "ownership"),
        ("kind=secret", "kind"),
        ("q=a%00b", "q"),
        ("q=" + "я" * 101, "q"),
        ("age_from=99", "age_from"),
        ("colour=red", "colour"),
        ("limit=1&limit=2", "limit"),
    ],
)
async def test_a_bad_parameter_is_a_400_that_names_it(
    client: Client, query: str, parameter: str
) -> None:
    status, body = await get(client, "/protocols/seats", query)
    assert status == 400
    assert body["error"] == "bad_parameter" and body["parameter"] == parameter
    assert body["problem"]


async def test_referral_parameters_are_checked_too(client: Client) -> None:
    assert (await get(client, "/protocols/referrals", "status=lost"))[1]["parameter"] == "status"
    assert (await get(client, "/protocols/referrals", "kind=general"))[1]["parameter"] == "kind"


async def test_a_page_is_cut_in_sql_newest_first(
    client: Client, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    city = await make_city()
    group = await make_group(await make_kindergarten(city))
    group.capacity = 28  # 1 + 2 + ... + 7 free seats fit
    await group.save()
    made = [
        (await releases.release_seats(group.id, n, actor="staff:t", settings=settings)).id
        for n in range(1, 8)
    ]
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")
    status, body = await get(client, "/protocols/seats", "limit=3&offset=2")
    assert status == 200
    assert (body["total"], body["limit"], body["offset"]) == (7, 3, 2)
    assert [item["release_id"] for item in body["items"]] == made[::-1][2:5]
    assert [item["seats"] for item in body["items"]] == [5, 4, 3]
    statements = [r.getMessage() for r in caplog.records if r.name == "tortoise.db_client"]
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert reads, "no SQL was seen"
    for sql in reads:  # the rows of one page: a LIMIT, a COUNT, or the page's own ids
        assert "LIMIT" in sql or "COUNT(" in sql or " IN (" in sql, sql


async def test_filters_choose_the_matching_releases(client: Client, settings: Settings) -> None:
    city = await make_city()
    state, private = await make_kindergarten(city, 1), await make_kindergarten(city, 2)
    private.ownership = Ownership.private
    await private.save()
    kk = await make_group(state, language=Language.kk)
    special = await make_group(private, kind=GroupKind.correctional, name="Логопедическая")
    await releases.release_seats(kk.id, 1, actor="staff:t", settings=settings)
    await releases.release_seats(special.id, 2, actor="staff:t", settings=settings)

    async def seats(query: str) -> list[int]:
        status, body = await get(client, "/protocols/seats", query)
        assert status == 200, body
        return [item["seats"] for item in body["items"]]

    assert await seats("") == [2, 1]
    assert await seats("ownership=private") == [2]
    assert await seats("kind=correctional") == [2]
    assert await seats("language=kk") == [1]
    assert await seats(f"kindergarten={state.id}") == [1]
    assert await seats("q=%E2%84%962") == [2]  # "№2", part of the name
    assert await seats(f"city={city.id + 1}") == []
    today = clock.now().astimezone(settings.tz).date()
    assert await seats(f"date={today.isoformat()}") == [2, 1]
    assert await seats(f"date={(today - timedelta(days=1)).isoformat()}") == []


async def test_seats_opened_to_everyone_at_once_show_no_priority_end(
    client: Client, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    at_once = await releases.release_seats(group.id, 1, actor="staff:t", settings=settings)
    await make_queue(city, kindergarten, 1)
    offered = await releases.release_seats(group.id, 1, actor="staff:t", settings=settings)
    zero = await releases.release_seats(
        group.id, 1, actor="staff:t", settings=settings, window=timedelta(0)
    )
    _, body = await get(client, "/protocols/seats")
    ends = {item["release_id"]: item["priority_end_at"] for item in body["items"]}
    assert ends[at_once.id] is None  # nobody was waiting: open to general access at once
    assert ends[zero.id] is None  # no window was given
    assert ends[offered.id] is not None and ends[offered.id] > body["items"][-1]["released_at"]


async def test_referrals_show_the_current_status_and_a_masked_child(
    client: Client, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    first, second = await make_queue(city, kindergarten, 2)
    await releases.release_seats(group.id, 2, actor="staff:t", settings=settings)
    one = await take_seat(first.id, group.id, actor="parent", settings=settings)
    two = await take_seat(second.id, group.id, actor="parent", settings=settings)
    status, body = await get(client, "/protocols/referrals", "limit=1")
    assert status == 200 and body["total"] == 2
    (item,) = body["items"]
    assert item["number"] == two.number and item["status"] == str(two.status)
    assert item["child"].startswith("А***А") and "Ахметова" not in str(body)
    _, body = await get(client, "/protocols/referrals", f"status={one.status}&offset=1")
    assert [i["number"] for i in body["items"]] == [one.number]


async def test_answers_are_cached_for_a_few_seconds(settings: Settings, db: None) -> None:
    city = await make_city()
    group = await make_group(await make_kindergarten(city))
    await releases.release_seats(group.id, 1, actor="staff:t", settings=settings)
    cached = settings.model_copy(update={"protocols_cache_seconds": 60})
    async with _client(cached) as client:
        first = await client.get("/protocols/seats")
        assert first.headers["Cache-Control"] == "public, max-age=60"
        await releases.release_seats(group.id, 1, actor="staff:t", settings=settings)
        assert (await get(client, "/protocols/seats"))[1]["total"] == 1  # the cached answer
        assert (await get(client, "/protocols/seats", "limit=10"))[1]["total"] == 2  # new key
