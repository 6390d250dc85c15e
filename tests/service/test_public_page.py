"""The public web page: open data, both protocols with filters and paging, the latest checkpoint
and the receipt check, in Kazakh and Russian, with bad parameters answered 400 in the reader's
language and nothing a visitor typed ever becoming markup."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.ledger import log as ledger
from core.platform.settings import Settings
from core.referrals.take import take_seat
from core.seats import releases
from tests.fixtures.seats import make_city, make_group, make_kindergarten, make_queue
from webhooks.bounds import body_middleware
from webhooks.public_page import add_public_page_routes

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(settings: Settings, db: None) -> AsyncIterator[Client]:
    limit = settings.max_body_bytes
    web_app = web.Application(middlewares=[body_middleware(5, lambda _request: limit)])
    add_public_page_routes(web_app, settings.model_copy(update={"protocols_cache_seconds": 0}))
    async with TestClient(TestServer(web_app)) as running:
        yield running


async def page(client: Client, path: str, query: str = "") -> tuple[int, str]:
    response = await client.get(path + ("?" + query if query else ""))
    return response.status, await response.text()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("ru", ["Открытые данные", "Свободных мест", "Очередь заявлений", "Зачислено за 5 дней"]),
        ("kk", ["Ашық деректер", "Бос орындар", "Өтініштер кезегі", "5 күнде қабылданды"]),
    ],
)
async def test_the_open_data_figures_carry_the_portals_labels_in_both_languages(
    client: Client, settings: Settings, language: str, words: list[str]
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    await make_queue(city, kindergarten, 3)
    status, text = await page(client, "/public", f"lang={language}")
    assert status == 200
    for word in words:
        assert word in text
    assert f'<html lang="{language}">' in text
    other = "kk" if language == "ru" else "ru"
    assert f"lang={other}" in text  # the switch to the other language
    assert group.name not in text  # figures only, no rows


async def test_the_seat_protocol_shows_releases_newest_first_with_paging(
    client: Client, settings: Settings
) -> None:
    city = await make_city()
    group = await make_group(await make_kindergarten(city))
    for seats in range(1, 6):
        await releases.release_seats(group.id, seats, actor="staff:t", settings=settings)
    status, text = await page(client, "/public/seats", "lang=ru&limit=2")
    assert status == 200
    assert "Всего найдено: 5" in text and "Показаны: 1–2" in text
    assert text.index("<td>5</td>") < text.index("<td>4</td>") and "<td>3</td>" not in text
    assert 'rel="next"' in text and 'rel="prev"' not in text
    status, text = await page(client, "/public/seats", "lang=kk&limit=2&offset=4")
    assert status == 200
    assert "Барлығы табылды: 5" in text and "<td>1</td>" in text and 'rel="prev"' in text
    assert "№1 бөбекжай-бақша" in text and 'rel="next"' not in text


async def test_the_seat_protocol_filters_by_kindergarten_group_and_date(
    client: Client, settings: Settings
) -> None:
    city = await make_city()
    first, second = await make_kindergarten(city, 1), await make_kindergarten(city, 2)
    await releases.release_seats((await make_group(first)).id, 7, actor="s", settings=settings)
    special = await make_group(second, kind="correctional", name="Логопедическая")
    await releases.release_seats(special.id, 9, actor="s", settings=settings)
    _, text = await page(client, "/public/seats", f"lang=ru&kindergarten={first.id}")
    assert "<td>7</td>" in text and "<td>9</td>" not in text
    _, text = await page(client, "/public/seats", "lang=ru&kind=correctional")
    assert "<td>9</td>" in text and "Коррекционная группа" in text and "<td>7</td>" not in text
    _, text = await page(client, "/public/seats", "lang=ru&q=%E2%84%962")  # "№2"
    assert "<td>9</td>" in text and "<td>7</td>" not in text
    _, text = await page(client, "/public/seats", "lang=ru&date=2001-01-01")
    assert "Ничего не найдено" in text and 'id="seats"' not in text


async def test_the_referral_protocol_shows_masked_children_and_statuses(
    client: Client, settings: Settings
) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    first, second = await make_queue(city, kindergarten, 2)
    await releases.release_seats(group.id, 2, actor="staff:t", settings=settings)
    one = await take_seat(first.id, group.id, actor="parent", settings=settings)
    await take_seat(second.id, group.id, actor="parent", settings=settings)
    status, text = await page(client, "/public/referrals", "lang=ru")
    assert status == 200 and one.number in text and "Всего найдено: 2" in text
    assert "А***А" in text and "Ахметова" not in text
    status, text = await page(client, "/public/referrals", f"lang=kk&status={one.status}&limit=1")
    assert status == 200 and 'rel="next"' in text and "Барлығы табылды: 2" in text
    _, text = await page(client, "/public/referrals", "lang=ru&status=enrolled")
    assert "Ничего не найдено" in text


@pytest.mark.parametrize(
    ("language", "query", "words"),
    [
        ("ru", "limit=abc", ["«limit»", "целое число от 1 до 200"]),
        ("kk", "limit=abc", ["«limit»", "Ең азы: 1, ең көбі: 200"]),
        ("ru", "date=2026-13-45", ["«date»", "ГГГГ-ММ-ДД"]),
        ("kk", "date=2026-13-45", ["«date»", "ЖЖЖЖ-АА-КК"]),
        ("ru", "colour=red", ["нет фильтра «colour»"]),
        ("kk", "colour=red", ["«colour» сүзгісі жоқ"]),
        ("ru", "kind=secret", ["«kind»"]),
        ("ru", "limit=1&limit=2", ["«limit»", "несколько раз"]),
    ],
)
async def test_a_bad_parameter_is_a_400_page_in_the_readers_language(
    client: Client, language: str, query: str, words: list[str]
) -> None:
    status, text = await page(client, "/public/seats", f"lang={language}&{query}")
    assert status == 400
    assert f'<html lang="{language}">' in text and 'role="alert"' in text
    for word in words:
        assert word in text
    assert "secret" not in text and "red" not in text.split("<main>")[1]


async def test_an_unknown_language_is_a_400_in_russian(client: Client) -> None:
    status, text = await page(client, "/public", "lang=en")
    assert status == 400 and "«lang»" in text and "kk" in text


async def test_nothing_a_visitor_types_becomes_markup(client: Client, settings: Settings) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    kindergarten.name_ru = '<script>alert(1)</script>"><img src=x>'
    await kindergarten.save()
    await releases.release_seats(
        (await make_group(kindergarten)).id, 1, actor="s", settings=settings
    )
    status, text = await page(
        client, "/public/seats", "lang=ru&q=%22%3E%3Cscript%3Ex%3C%2Fscript%3E"
    )
    assert status == 200
    assert "<script>" not in text and "<img" not in text
    assert "&quot;&gt;&lt;script&gt;x&lt;/script&gt;" in text  # the query, kept in its field
    _, text = await page(client, "/public/seats", "lang=ru")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x&gt;" in text
    assert "<script>" not in text
    status, text = await page(client, "/public/seats", "lang=ru&%3Cb%3E=1")
    assert status == 400 and "<b>" not in text and "&lt;b&gt;" in text


async def test_the_home_page_shows_the_latest_signed_checkpoint_and_the_key(
    client: Client, settings: Settings
) -> None:
    await make_queue(await make_city(), await make_kindergarten(await make_city("almaty")), 1)
    checkpoint = await ledger.latest_checkpoint()
    _, text = await page(client, "/public", "lang=kk")
    assert checkpoint.splitlines()[2] in text  # the root, as signed
    assert ledger.verifier_key().split("+")[0] in text


async def _receipt(settings: Settings) -> dict[str, object]:
    """The receipt of a parent whose child got a referral, then the log grows further."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    (application,) = await make_queue(city, kindergarten, 1)
    await releases.release_seats(group.id, 1, actor="staff:t", settings=settings)
    await take_seat(application.id, group.id, actor="parent", settings=settings)
    receipts = await ledger.receipts_for(application.id, settings)
    assert receipts, "the referral should be a leaf of the log"
    text = await ledger.receipt_text(receipts[-1], await ledger.latest_checkpoint(settings))
    await releases.release_seats(group.id, 2, actor="staff:t", settings=settings)
    return dict(json.loads(text))


@pytest.mark.parametrize(
    ("language", "verified"),
    [("ru", "Квитанция подтверждена"), ("kk", "Түбіртек расталды")],
)
async def test_a_valid_receipt_verifies(
    client: Client, settings: Settings, language: str, verified: str
) -> None:
    receipt = await _receipt(settings)
    response = await client.post(
        f"/public/verify?lang={language}", data={"receipt": json.dumps(receipt)}
    )
    text = await response.text()
    assert response.status == 200 and verified in text and 'class="ok"' in text


async def test_a_tampered_receipt_is_refused_naming_the_failed_check(
    client: Client, settings: Settings
) -> None:
    receipt = await _receipt(settings)
    leaf = json.loads(str(receipt["leaf"]))
    leaf["tier"] = "extraordinary" if leaf.get("tier") != "extraordinary" else "none"
    tampered = {**receipt, "leaf": json.dumps(leaf, sort_keys=True, separators=(",", ":"))}
    response = await client.post("/public/verify?lang=ru", data={"receipt": json.dumps(tampered)})
    text = await response.text()
    assert response.status == 200 and "Квитанция не подтверждается" in text
    assert "доказательство включения" in text.lower()
    lines = str(receipt["checkpoint"]).split("\n")
    lines[1] = str(int(lines[1]) + 1)  # a bigger log than the service signed
    forged = {**receipt, "checkpoint": "\n".join(lines)}
    response = await client.post("/public/verify?lang=kk", data={"receipt": json.dumps(forged)})
    assert "қолтаңба" in (await response.text()).lower()


async def test_text_that_is_not_a_receipt_is_a_400_that_says_so(client: Client) -> None:
    response = await client.post("/public/verify?lang=ru", data={"receipt": "<b>hello</b>"})
    text = await response.text()
    assert response.status == 400 and "Это не квитанция" in text and "<b>hello" not in text
    assert "&lt;b&gt;hello&lt;/b&gt;" in text  # kept in the form to correct, as text
