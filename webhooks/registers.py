"""Public JSON endpoints of the registers, the seat and referral protocols (open data, no login).

GET /protocols/seats?date=YYYY-MM-DD&city=<id>&kindergarten=<id>&q=<name>&ownership=state|private
    &kind=general|correctional|sanatorium&language=kk|ru&age_from=3&age_to=4&limit=50&offset=0
GET /protocols/referrals?date=...&city=...&kindergarten=...&q=...&language=...&age_from=...
    &age_to=...&status=awaiting_enrollment|enrolled|...&limit=50&offset=0
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiMapping

from core.platform.settings import Settings
from core.views import registers

DEFAULT_LIMIT = 50
View = Callable[[web.Request], Awaitable[web.Response]]


def add_register_routes(web_app: web.Application, settings: Settings) -> None:
    """GET /protocols/seats and /protocols/referrals (dates in the service's time zone)."""
    tz = settings.tz
    web_app.router.add_get("/protocols/seats", _seats_view(tz))
    web_app.router.add_get("/protocols/referrals", _referrals_view(tz))


def _seats_view(tz: ZoneInfo) -> View:
    async def view(request: web.Request) -> web.Response:
        return await seats(request, tz)

    return view


def _referrals_view(tz: ZoneInfo) -> View:
    async def view(request: web.Request) -> web.Response:
        return await referrals(request, tz)

    return view


async def seats(request: web.Request, tz: ZoneInfo) -> web.Response:
    query = request.query
    try:
        flt = registers.SeatFilter(
            ownership=query.get("ownership") or None,
            group_kind=query.get("kind") or None,
            **_common(query),
        )
        limit, offset = _paging(query)
    except ValueError as exc:
        return web.json_response({"error": "bad_filter", "detail": str(exc)}, status=400)
    page = await registers.seat_protocol(flt, tz, limit=limit, offset=offset)
    return web.json_response({"total": page.total, "items": [r.as_json() for r in page.rows]})


async def referrals(request: web.Request, tz: ZoneInfo) -> web.Response:
    query = request.query
    try:
        flt = registers.ReferralFilter(status=query.get("status") or None, **_common(query))
        limit, offset = _paging(query)
    except ValueError as exc:
        return web.json_response({"error": "bad_filter", "detail": str(exc)}, status=400)
    page = await registers.referral_protocol(flt, tz, limit=limit, offset=offset)
    return web.json_response({"total": page.total, "items": [r.as_json() for r in page.rows]})


def _common(query: MultiMapping[str]) -> dict[str, Any]:
    def number(name: str) -> int | None:
        value = query.get(name)
        return int(value) if value not in (None, "") else None

    day = query.get("date")
    return {
        "day": date.fromisoformat(day) if day else None,
        "city_id": number("city"),
        "kindergarten_id": number("kindergarten"),
        "kindergarten_name": query.get("q") or None,
        "language": query.get("language") or None,
        "age_from": number("age_from"),
        "age_to": number("age_to"),
    }


def _paging(query: MultiMapping[str]) -> tuple[int, int]:
    return int(query.get("limit", DEFAULT_LIMIT)), int(query.get("offset", 0))
