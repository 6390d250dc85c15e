"""A seat release staff undid (a mistake) is not shown as an ordinary release in the public
register: the JSON protocol and the public page (kk and ru) say it was undone, when, and how
many of its seats were withdrawn; the seat one family already took stays counted as released."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.models import Language, SeatRelease, StaffRole
from core.platform.settings import Settings
from core.referrals.take import take_seat
from core.referrals.undo import undo_release
from core.seats.releases import release_seats
from tests.fixtures.e2e_cabinet import t
from tests.fixtures.seats import make_application, make_city, make_group, make_kindergarten
from tests.fixtures.worker import make_staff
from webhooks.bounds import body_middleware
from webhooks.public_page import add_public_page_routes
from webhooks.registers import add_register_routes

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(settings: Settings, db: None) -> AsyncIterator[Client]:
    fresh = settings.model_copy(update={"protocols_cache_seconds": 0})
    limit = settings.max_body_bytes
    web_app = web.Application(middlewares=[body_middleware(5, lambda _request: limit)])
    add_register_routes(web_app, fresh)
    add_public_page_routes(web_app, fresh)
    async with TestClient(TestServer(web_app)) as running:
        yield running


async def _an_undone_and_a_standing_release(settings: Settings) -> tuple[SeatRelease, SeatRelease]:
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1)
    group = await make_group(kindergarten)
    admin = await make_staff(601, StaffRole.kindergarten_admin, kindergarten=kindergarten)
    first = await make_application(city=city, choices=[(kindergarten, Language.ru)])
    await make_application(city=city, choices=[(kindergarten, Language.ru)])
    mistaken = await release_seats(group.id, 3, actor=f"staff:{admin.id}", settings=settings)
    await take_seat(first.id, group.id, actor="parent", settings=settings)
    await undo_release(mistaken.id, admin, settings=settings)
    standing = await release_seats(group.id, 1, actor=f"staff:{admin.id}", settings=settings)
    return mistaken, standing


async def test_the_json_protocol_marks_an_undone_release_and_its_withdrawn_seats(
    client: Client, settings: Settings
) -> None:
    mistaken, standing = await _an_undone_and_a_standing_release(settings)
    response = await client.get("/protocols/seats")
    assert response.status == 200
    items: dict[int, dict[str, Any]] = {
        item["release_id"]: item for item in (await response.json())["items"]
    }
    undone = items[mistaken.id]
    assert undone["undone_at"] is not None and undone["undone_at"] >= undone["released_at"]
    assert (undone["seats"], undone["withdrawn"]) == (3, 2)  # one seat was taken before
    assert (items[standing.id]["undone_at"], items[standing.id]["withdrawn"]) == (None, 0)


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_the_public_page_says_a_release_was_undone_by_staff(
    client: Client, settings: Settings, language: str
) -> None:
    await _an_undone_and_a_standing_release(settings)
    response = await client.get(f"/public/seats?lang={language}")
    assert response.status == 200
    text = await response.text()
    undone = t("Undone by staff: {when}", language, when="")
    withdrawn = t("Seats withdrawn: {count}", language, count=2)
    assert text.count(undone) == 1 and text.count(withdrawn) == 1
    rows = text.split("<tr>")
    # newest first: the standing release, then the undone one
    marked = [i for i, row in enumerate(rows) if undone in row]
    assert marked and withdrawn in rows[marked[0]]
    assert not any(undone in row for row in rows[: marked[0]])
