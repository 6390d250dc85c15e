"""Public JSON endpoints of the protocols (open data, no login).

GET /protocols/seats?date=YYYY-MM-DD&city=<id>&kindergarten=<id>&q=<name>&ownership=state|private
    &kind=general|correctional|sanatorium&language=kk|ru&age_from=3&age_to=4&limit=50&offset=0
GET /protocols/referrals?date=...&city=...&kindergarten=...&q=...&language=...&age_from=...
    &age_to=...&status=awaiting_enrollment|enrolled|...&limit=50&offset=0
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from core.platform.settings import Settings, get_settings
from core.views import registers


def add_protocol_routes(app: web.Application) -> None:
    app.router.add_get("/protocols/seats", seats_view)
    app.router.add_get("/protocols/referrals", referrals_view)


async def seats_view(request: web.Request) -> web.Response:
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
    page = await registers.seat_protocol(flt, _settings(request).tz, limit=limit, offset=offset)
    return web.json_response({"total": page.total, "items": [r.as_json() for r in page.rows]})


async def referrals_view(request: web.Request) -> web.Response:
    query = request.query
    try:
        flt = registers.ReferralFilter(status=query.get("status") or None, **_common(query))
        limit, offset = _paging(query)
    except ValueError as exc:
        return web.json_response({"error": "bad_filter", "detail": str(exc)}, status=400)
    page = await registers.referral_protocol(flt, _settings(request).tz, limit=limit, offset=offset)
    return web.json_response({"total": page.total, "items": [r.as_json() for r in page.rows]})


def _common(query: Any) -> dict[str, Any]:
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


def _paging(query: Any) -> tuple[int, int]:
    return int(query.get("limit", 50)), int(query.get("offset", 0))


def _settings(request: web.Request) -> Settings:
    for value in request.app.values() if hasattr(request.app, "values") else []:
        settings = getattr(value, "settings", None)
        if isinstance(settings, Settings):
            return settings
    return get_settings()
