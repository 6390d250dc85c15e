"""Public JSON endpoints of the registers, the seat and referral protocols (open data, no login).

GET /protocols/seats?date=YYYY-MM-DD&city=<id>&kindergarten=<id>&q=<name>&ownership=state|private
    &kind=general|correctional|sanatorium&language=kk|ru&age_from=3&age_to=4&limit=50&offset=0
GET /protocols/referrals?date=...&city=...&kindergarten=...&q=...&language=...&age_from=...
    &age_to=...&status=awaiting_enrollment|enrolled|...&limit=50&offset=0

Every parameter is checked (an unknown, repeated or malformed one is a 400 naming it, never
echoing its value); filtering and paging happen in SQL (`core.views.registers`). Answers are
cached for `settings.protocols_cache_seconds` per normalized query, so a burst of anonymous
requests costs one query per distinct page.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiMapping

from core.models import GroupKind, Language, Ownership, ReferralStatus
from core.platform import metrics
from core.platform.settings import Settings
from core.views import registers

DEFAULT_LIMIT = 50
MAX_LIMIT = registers.MAX_LIMIT
MAX_OFFSET = 1_000_000
MAX_ID = 2**31 - 1  # the database's integer ids
MAX_AGE = 18
MAX_QUERY_LENGTH = 100
CACHE_ENTRIES = 1024
FIRST_YEAR, LAST_YEAR = 2000, 2099  # protocol dates (also keeps day arithmetic in range)
_DIGITS = re.compile(r"[0-9]{1,10}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

COMMON = ("date", "city", "kindergarten", "q", "language", "age_from", "age_to", "limit", "offset")
SEAT_PARAMETERS = frozenset((*COMMON, "ownership", "kind"))
REFERRAL_PARAMETERS = frozenset((*COMMON, "status"))

View = Callable[[web.Request], Awaitable[web.Response]]
Fetch = Callable[[MultiMapping[str]], Awaitable[dict[str, Any]]]


class BadParameter(ValueError):
    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}")
        self.parameter = parameter
        self.problem = problem


def add_register_routes(web_app: web.Application, settings: Settings) -> None:
    """GET /protocols/seats and /protocols/referrals (dates in the service's time zone)."""
    tz = settings.tz
    cache_seconds = settings.protocols_cache_seconds

    async def seats(query: MultiMapping[str]) -> dict[str, Any]:
        return await seat_page(query, tz)

    async def referrals(query: MultiMapping[str]) -> dict[str, Any]:
        return await referral_page(query, tz)

    web_app.router.add_get("/protocols/seats", _view(SEAT_PARAMETERS, seats, cache_seconds))
    web_app.router.add_get(
        "/protocols/referrals", _view(REFERRAL_PARAMETERS, referrals, cache_seconds)
    )


async def seat_page(query: MultiMapping[str], tz: ZoneInfo) -> dict[str, Any]:
    flt = registers.SeatFilter(
        ownership=parse_choice(query, "ownership", Ownership),
        group_kind=parse_choice(query, "kind", GroupKind),
        **common_filters(query),
    )
    limit, offset = parse_paging(query)
    page = await registers.seat_protocol(flt, tz, limit=limit, offset=offset)
    return _answer(page, limit, offset)


async def referral_page(query: MultiMapping[str], tz: ZoneInfo) -> dict[str, Any]:
    status = parse_choice(query, "status", ReferralStatus)
    flt = registers.ReferralFilter(status=status, **common_filters(query))
    limit, offset = parse_paging(query)
    page = await registers.referral_protocol(flt, tz, limit=limit, offset=offset)
    return _answer(page, limit, offset)


def _view(allowed: frozenset[str], fetch: Fetch, cache_seconds: float) -> View:
    cache = Cache(cache_seconds)

    async def view(request: web.Request) -> web.Response:
        query = request.query
        try:
            key = normalized_query(query, allowed)
            body = cache.get(key)
            if body is None:
                body = await fetch(query)
                cache.put(key, body)
        except BadParameter as exc:
            metrics.WEBHOOK_REJECTS.labels("protocols", "bad_parameter").inc()
            return web.json_response(
                {"error": "bad_parameter", "parameter": exc.parameter, "problem": exc.problem},
                status=400,
            )
        headers = {"Cache-Control": f"public, max-age={int(cache_seconds)}"}
        return web.json_response(body, headers=headers)

    return view


def normalized_query(
    query: MultiMapping[str], allowed: frozenset[str]
) -> tuple[tuple[str, str], ...]:
    """The query as a cache key; an unknown or repeated parameter is refused here."""
    seen: dict[str, str] = {}
    for name, value in query.items():
        if name not in allowed:
            raise BadParameter(name[:64], "unknown")
        if name in seen:
            raise BadParameter(name, "repeated")
        seen[name] = value
    return tuple(sorted(seen.items()))


def common_filters(query: MultiMapping[str]) -> dict[str, Any]:
    """The filters both protocols take (the public page reads them the same way)."""
    return {
        "day": _date(query, "date"),
        "city_id": _number(query, "city", 1, MAX_ID),
        "kindergarten_id": _number(query, "kindergarten", 1, MAX_ID),
        "kindergarten_name": _text(query, "q"),
        "language": parse_choice(query, "language", Language),
        "age_from": _number(query, "age_from", 0, MAX_AGE),
        "age_to": _number(query, "age_to", 0, MAX_AGE),
    }


def parse_paging(query: MultiMapping[str]) -> tuple[int, int]:
    limit = _number(query, "limit", 1, MAX_LIMIT)
    offset = _number(query, "offset", 0, MAX_OFFSET)
    return (DEFAULT_LIMIT if limit is None else limit), (offset or 0)


def _number(query: MultiMapping[str], name: str, low: int, high: int) -> int | None:
    value = query.get(name, "")
    if value == "":
        return None
    if not _DIGITS.fullmatch(value):  # ASCII digits only: no sign, spaces or other scripts
        raise BadParameter(name, f"must be a whole number from {low} to {high}")
    number = int(value)
    if not low <= number <= high:
        raise BadParameter(name, f"must be a whole number from {low} to {high}")
    return number


def _date(query: MultiMapping[str], name: str) -> date | None:
    value = query.get(name, "")
    if value == "":
        return None
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, "must be a date YYYY-MM-DD") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadParameter(name, f"must be a date from {FIRST_YEAR} to {LAST_YEAR}")
    return day


def parse_choice(query: MultiMapping[str], name: str, options: type[Any]) -> str | None:
    value = query.get(name, "")
    if value == "":
        return None
    allowed = [str(option) for option in options]
    if value not in allowed:
        raise BadParameter(name, "must be one of " + ", ".join(allowed))
    return value


def _text(query: MultiMapping[str], name: str) -> str | None:
    value = query.get(name, "").strip()
    if not value:
        return None
    if len(value) > MAX_QUERY_LENGTH or _CONTROL.search(value):
        raise BadParameter(name, f"must be text of at most {MAX_QUERY_LENGTH} characters")
    return value


def _answer(page: registers.Page, limit: int, offset: int) -> dict[str, Any]:
    return {
        "total": page.total,
        "limit": limit,
        "offset": offset,
        "items": [row.as_json() for row in page.rows],
    }


@dataclass
class Cache:
    """Answers by normalized query for a few seconds, per process (bounded in entries)."""

    seconds: float
    entries: dict[tuple[tuple[str, str], ...], tuple[float, dict[str, Any]]] | None = None

    def get(self, key: tuple[tuple[str, str], ...]) -> dict[str, Any] | None:
        if self.seconds <= 0 or not self.entries:
            return None
        found = self.entries.get(key)
        if found is None or found[0] < asyncio.get_running_loop().time():
            return None
        return found[1]

    def put(self, key: tuple[tuple[str, str], ...], body: Mapping[str, Any]) -> None:
        if self.seconds <= 0:
            return
        if self.entries is None:
            self.entries = {}
        if len(self.entries) >= CACHE_ENTRIES:  # drop the oldest (insertion order)
            self.entries.pop(next(iter(self.entries)))
        expires = asyncio.get_running_loop().time() + self.seconds
        self.entries[key] = (expires, dict(body))
