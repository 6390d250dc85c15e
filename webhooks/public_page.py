"""The public web page (open data, no login, no JavaScript), in Kazakh and Russian.

GET  /public?lang=kk|ru            the portal's open-data figures and the log's latest checkpoint
GET  /public/seats?lang=..&...     the seat release protocol, filtered and paged
GET  /public/referrals?lang=..&... the referral protocol, filtered and paged
GET  /public/verify?lang=..        a form to paste a receipt into
POST /public/verify?lang=..        the receipt's verdict, naming the check that failed

The protocol pages take the parameters of /protocols/seats and /protocols/referrals (and `lang`),
checked by the same code (`webhooks.registers`), read one page in SQL (`core.views.registers`),
and are cached like them. A bad parameter is a 400 page saying, in the reader's language, which
filter is wrong; the value is never echoed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiMapping

from core.models import GroupKind, Ownership, ReferralStatus
from core.platform import metrics
from core.platform.catalogs import DEFAULT_LANGUAGE, LANGUAGES
from core.platform.settings import Settings
from core.views import registers, stats
from webhooks import public_page_html as html
from webhooks import public_page_log as log
from webhooks.bounds import BODY_KEY, body_of
from webhooks.public_page_text import Page, h
from webhooks.registers import (
    MAX_AGE,
    MAX_ID,
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_QUERY_LENGTH,
    REFERRAL_PARAMETERS,
    SEAT_PARAMETERS,
    BadParameter,
    Cache,
    common_filters,
    normalized_query,
    parse_choice,
    parse_paging,
)

PAGE_LIMIT = 20  # rows per page unless `limit` says otherwise
HTML = "text/html"
MAX_FORM_FIELDS = 4

View = Callable[[web.Request], Awaitable[web.Response]]


def add_public_page_routes(web_app: web.Application, settings: Settings) -> None:
    """The public page's routes on the public listener."""
    tz = settings.tz
    seat_cache, referral_cache = (Cache(settings.protocols_cache_seconds) for _ in range(2))
    web_app.router.add_get(html.PATH, _home(tz))
    web_app.router.add_get(html.SEATS_PATH, _protocol(tz, SEAT_PARAMETERS, seat_cache, _seats))
    web_app.router.add_get(
        html.REFERRALS_PATH, _protocol(tz, REFERRAL_PARAMETERS, referral_cache, _referrals)
    )
    web_app.router.add_get(html.VERIFY_PATH, _verify_form(tz))
    web_app.router.add_post(html.VERIFY_PATH, _verify(tz))


def bad_parameter_text(page: Page, exc: BadParameter) -> str:
    """What is wrong with a parameter, in the reader's words (the value itself is not shown)."""
    _ = page.gettext
    name = exc.parameter[:64]
    if exc.problem == "unknown":
        return _("This page has no filter “{name}”.").format(name=name)
    if exc.problem == "repeated":
        return _("The filter “{name}” is given more than once.").format(name=name)
    hints = {
        "date": _("Enter a date as YYYY-MM-DD, from the year 2000 to 2099."),
        "q": _("Enter at most {n} characters of a kindergarten's name.").format(n=MAX_QUERY_LENGTH),
        "limit": _whole(page, 1, MAX_LIMIT),
        "offset": _whole(page, 0, MAX_OFFSET),
        "city": _whole(page, 1, MAX_ID),
        "kindergarten": _whole(page, 1, MAX_ID),
        "age_from": _whole(page, 0, MAX_AGE),
        "age_to": _whole(page, 0, MAX_AGE),
        "lang": _("Choose Kazakh (kk) or Russian (ru)."),
    }
    hint = hints.get(name, _("Choose one of the values offered in the form."))
    return _("The filter “{name}” has a value the page cannot read. {hint}").format(
        name=name, hint=hint
    )


# --- views --------------------------------------------------------------------------------------


def _home(tz: ZoneInfo) -> View:
    async def view(request: web.Request) -> web.Response:
        try:
            page = _page(request.query, frozenset({"lang"}), tz)
        except _Refused as refused:
            return refused.response
        figures = await stats.open_data()
        body = html.open_data(page, figures) + await log.checkpoint_section(page)
        title = page.gettext("Open data")
        return _html(html.layout(page, title, body, html.PATH, {}))

    return view


async def _seats(page: Page, query: MultiMapping[str]) -> str:
    _ = page.gettext
    flt = registers.SeatFilter(
        ownership=parse_choice(query, "ownership", Ownership),
        group_kind=parse_choice(query, "kind", GroupKind),
        **common_filters(query),
    )
    limit, offset = _limits(query)
    found = await registers.seat_protocol(flt, page.tz, limit=limit, offset=offset)
    shown = _shown(query)
    intro = _("Every seat released in the kindergartens, newest first, with the end of priority.")
    return (
        f"<p>{h(intro)}</p>"
        + html.seat_filters(page, shown)
        + html.paging(page, html.SEATS_PATH, shown, found.total, limit, offset)
        + (html.seat_table(page, found.rows) if found.rows else _nothing(page))
    )


async def _referrals(page: Page, query: MultiMapping[str]) -> str:
    _ = page.gettext
    flt = registers.ReferralFilter(
        status=parse_choice(query, "status", ReferralStatus), **common_filters(query)
    )
    limit, offset = _limits(query)
    found = await registers.referral_protocol(flt, page.tz, limit=limit, offset=offset)
    shown = _shown(query)
    intro = _("Every referral issued to a kindergarten, newest first, with its current status.")
    return (
        f"<p>{h(intro)}</p>"
        + html.referral_filters(page, shown)
        + html.paging(page, html.REFERRALS_PATH, shown, found.total, limit, offset)
        + (html.referral_table(page, found.rows) if found.rows else _nothing(page))
    )


Fill = Callable[[Page, MultiMapping[str]], Awaitable[str]]


def _protocol(tz: ZoneInfo, allowed: frozenset[str], cache: Cache, fill: Fill) -> View:
    titles = {
        SEAT_PARAMETERS: ("Seat release protocol", html.SEATS_PATH),
        REFERRAL_PARAMETERS: ("Referral protocol", html.REFERRALS_PATH),
    }
    title_msgid, path = titles[allowed]

    async def view(request: web.Request) -> web.Response:
        query = request.query
        try:
            page = _page(query, allowed | {"lang"}, tz)
        except _Refused as refused:
            return refused.response
        title = page.gettext(title_msgid)
        key = (*normalized_query(query, allowed | {"lang"}), ("lang", page.language))
        cached = cache.get(key)
        if cached is not None:
            return _html(str(cached["html"]))
        try:
            body = await fill(page, query)
        except BadParameter as exc:
            return _refusal(page, exc, path, _shown(query))
        document = html.layout(page, title, body, path, _shown(query))
        cache.put(key, {"html": document})
        return _html(document)

    return view


def _verify_form(tz: ZoneInfo) -> View:
    async def view(request: web.Request) -> web.Response:
        try:
            page = _page(request.query, frozenset({"lang"}), tz)
        except _Refused as refused:
            return refused.response
        body = log.receipt_form(page, "")
        return _html(html.layout(page, page.gettext("Check a receipt"), body, html.VERIFY_PATH, {}))

    return view


def _verify(tz: ZoneInfo) -> View:
    async def view(request: web.Request) -> web.Response:
        try:
            page = _page(request.query, frozenset({"lang"}), tz)
        except _Refused as refused:
            return refused.response
        text = _pasted_receipt(await _body(request))
        verdict = await log.verdict(page, text)
        body = verdict.html + log.receipt_form(page, text)
        document = html.layout(page, page.gettext("Check a receipt"), body, html.VERIFY_PATH, {})
        return _html(document, status=200 if verdict.readable else 400)

    return view


# --- helpers ------------------------------------------------------------------------------------


async def _body(request: web.Request) -> bytes:
    """The form's bytes: as `body_middleware` read them (bounded) on the public listener."""
    return body_of(request) if BODY_KEY in request else await request.read()


def _pasted_receipt(body: bytes) -> str:
    """The `receipt` field of an urlencoded form; "" for anything else."""
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return ""
    return (fields.get("receipt") or [""])[0]


class _Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__("refused")
        self.response = response


def _page(query: MultiMapping[str], allowed: frozenset[str], tz: ZoneInfo) -> Page:
    """The reader's page, or a 400 page (in the asked language when it is ours)."""
    asked = query.get("lang", DEFAULT_LANGUAGE)
    page = Page.for_language(asked if asked in LANGUAGES else DEFAULT_LANGUAGE, tz)
    try:
        normalized_query(query, allowed)
        if asked not in LANGUAGES:
            raise BadParameter("lang", "must be kk or ru")
    except BadParameter as exc:
        raise _Refused(_refusal(page, exc, html.PATH, {})) from None
    return page


def _refusal(page: Page, exc: BadParameter, path: str, query: dict[str, str]) -> web.Response:
    metrics.WEBHOOK_REJECTS.labels("public_page", "bad_parameter").inc()
    message = bad_parameter_text(page, exc)
    title = page.gettext("The filters cannot be read")
    reset = page.gettext("Reset filters")
    body = html.error(page, message) + (
        f'<p><a href="{h(html.link(page, path))}">{h(reset)}</a></p>'
    )
    clean = {k: v for k, v in query.items() if k == "lang"}
    return _html(html.layout(page, title, body, path, clean), status=400)


def _limits(query: MultiMapping[str]) -> tuple[int, int]:
    limit, offset = parse_paging(query)
    return (limit if "limit" in query else PAGE_LIMIT), offset


def _shown(query: MultiMapping[str]) -> dict[str, str]:
    """The filters as given (one value each; `normalized_query` refused repeats), for links."""
    return {name: value for name, value in query.items() if value != ""}


def _nothing(page: Page) -> str:
    nothing = page.gettext("Nothing was found for these filters.")
    return f'<p id="nothing">{h(nothing)}</p>'


def _whole(page: Page, low: int, high: int) -> str:
    return page.gettext("Enter a whole number from {low} to {high}.").format(
        low=page.number(low), high=page.number(high)
    )


def _html(document: str, *, status: int = 200) -> web.Response:
    return web.Response(
        text=document,
        status=status,
        content_type=HTML,
        charset="utf-8",
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "form-action 'self'; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
        },
    )
