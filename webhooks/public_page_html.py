"""The public page's HTML: small functions returning escaped fragments, one layout around them.

No JavaScript: filters and the receipt form are plain HTML forms, paging is links. Every value
from the database or the request passes through `h`; every word through the page's gettext.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from string import Template
from urllib.parse import urlencode

from core.views import registers
from core.views.stats import OpenData
from webhooks.public_page_text import Page, h

PATH = "/public"
SEATS_PATH = "/public/seats"
REFERRALS_PATH = "/public/referrals"
VERIFY_PATH = "/public/verify"

_LAYOUT = Template("""<!doctype html>
<html lang="$lang">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#2b4c7e;color:#fff;padding:.6em 1em;display:flex;flex-wrap:wrap;gap:1em}
header a{color:#fff}
main{padding:1em;max-width:72em}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
form.filters{display:flex;flex-wrap:wrap;gap:.6em;align-items:end;margin:.6em 0}
form.filters label{display:flex;flex-direction:column;font-size:.9em}
.figures td{font-size:1.3em;font-weight:bold}
.error{background:#fde2e1;border:1px solid #c0392b;padding:.6em}
.ok{background:#e3f6e5;border:1px solid #2e7d32;padding:.6em}
pre{white-space:pre-wrap;word-break:break-all;background:#fff;border:1px solid #ccc;padding:.5em}
textarea{width:100%;min-height:14em;font-family:monospace}
nav.paging{margin:.8em 0;display:flex;gap:1.5em}
</style>
</head>
<body>
<header>
<strong>$service</strong>
<a href="$home_href">$home</a>
<a href="$seats_href">$seats</a>
<a href="$referrals_href">$referrals</a>
<a href="$verify_href">$verify</a>
<a id="language-switch" href="$switch_href" hreflang="$other" lang="$other">$switch</a>
</header>
<main>
<h1>$title</h1>
$body
</main>
</body>
</html>
""")


def layout(page: Page, title: str, body: str, path: str, query: Mapping[str, str]) -> str:
    """The whole document; `body` is already escaped HTML. The switch keeps the filters."""
    _ = page.gettext
    switch_query = {**query, "lang": page.other}
    return _LAYOUT.substitute(
        lang=h(page.language),
        other=h(page.other),
        title=h(title),
        service=h(_("Indigo: kindergarten queue")),
        home=h(_("Open data")),
        seats=h(_("Seat release protocol")),
        referrals=h(_("Referral protocol")),
        verify=h(_("Check a receipt")),
        home_href=h(link(page, PATH)),
        seats_href=h(link(page, SEATS_PATH)),
        referrals_href=h(link(page, REFERRALS_PATH)),
        verify_href=h(link(page, VERIFY_PATH)),
        switch_href=h(path + "?" + urlencode(switch_query)),
        # the link's words are in the language it leads to
        switch=h(Page.for_language(page.other, page.tz).gettext("In this language")),
        body=body,
    )


def link(page: Page, path: str, **query: str | int) -> str:
    return path + "?" + urlencode({"lang": page.language, **query})


# --- open data ----------------------------------------------------------------------------------


def open_data(page: Page, figures: OpenData) -> str:
    """The portal's "Открытые данные" line: the same five figures under the same labels."""
    _ = page.gettext
    labels = (
        _("Pre-school organisations"),
        _("Free seats"),
        _("Queue of applications"),
        _("Enrolled in 5 days"),
        _("Dismissed in 5 days"),
    )
    values = (
        figures.kindergartens,
        figures.free_seats,
        figures.queued_applications,
        figures.enrolled_5_days,
        figures.dismissed_5_days,
    )
    head = "".join(f"<th>{h(label)}</th>" for label in labels)
    cells = "".join(f"<td>{h(page.number(value))}</td>" for value in values)
    seats, referrals = _("Seat release protocol"), _("Referral protocol")
    return (
        '<section id="open-data">'
        f'<table class="figures"><tr>{head}</tr><tr>{cells}</tr></table>'
        f'<ul><li><a href="{h(link(page, SEATS_PATH))}">{h(seats)}</a>'
        f'</li><li><a href="{h(link(page, REFERRALS_PATH))}">{h(referrals)}</a>'
        "</li></ul></section>"
    )


# --- protocols ----------------------------------------------------------------------------------


def seat_filters(page: Page, query: Mapping[str, str]) -> str:
    _ = page.gettext
    fields = [
        _date_field(page, query),
        _text_field(_("Kindergarten"), "q", query),
        _select(
            _("Kind of group"),
            "kind",
            query,
            [
                ("general", _("General group")),
                ("correctional", _("Correctional group")),
                ("sanatorium", _("Sanatorium group")),
            ],
            _("Any"),
        ),
        _select(
            _("Ownership"),
            "ownership",
            query,
            [("state", _("State")), ("private", _("Private"))],
            _("Any"),
        ),
        *_group_fields(page, query),
    ]
    return _filter_form(page, SEATS_PATH, fields)


def referral_filters(page: Page, query: Mapping[str, str]) -> str:
    _ = page.gettext
    statuses = [(status, referral_status(page, status)) for status in REFERRAL_STATUSES]
    fields = [
        _date_field(page, query),
        _text_field(_("Kindergarten"), "q", query),
        *_group_fields(page, query),
        _select(_("Status"), "status", query, statuses, _("Any")),
    ]
    return _filter_form(page, REFERRALS_PATH, fields)


def seat_table(page: Page, rows: Sequence[registers.SeatRow]) -> str:
    _ = page.gettext
    head = (
        _("Released"),
        _("Kindergarten"),
        _("Group"),
        _("Seats released"),
        _("Priority ends"),
    )
    body = []
    for row in rows:
        kindergarten = row.kindergarten_kk if page.language == "kk" else row.kindergarten_ru
        address = row.address_kk if page.language == "kk" else row.address_ru
        priority = (
            page.moment(row.priority_end_at)
            if row.has_priority_window
            else _("open to everyone at once")
        )
        body.append(
            "<tr>"
            f"<td>{h(page.moment(row.released_at))}</td>"
            f"<td>{h(kindergarten)}<br><small>{h(address)}</small></td>"
            f"<td>{_group_cell(page, row.group, row.group_kind, row)}</td>"
            f"<td>{h(page.number(row.seats))}{_undone_note(page, row)}</td>"
            f"<td>{h(priority)}</td>"
            "</tr>"
        )
    return _table("seats", head, body)


def _undone_note(page: Page, row: registers.SeatRow) -> str:
    """Under the seats of a release staff undid: when, and how many seats were withdrawn."""
    _ = page.gettext
    lines = []
    if row.undone_at is not None:
        lines.append(_("Undone by staff: {when}").format(when=page.moment(row.undone_at)))
    if row.withdrawn:
        lines.append(_("Seats withdrawn: {count}").format(count=page.number(row.withdrawn)))
    return "".join(f"<br><small>{h(line)}</small>" for line in lines)


def referral_table(page: Page, rows: Sequence[registers.ReferralRow]) -> str:
    _ = page.gettext
    head = (
        _("Referral number"),
        _("Issued"),
        _("Child"),
        _("Kindergarten"),
        _("Group"),
        _("Status"),
    )
    body = []
    for row in rows:
        kindergarten = row.kindergarten_kk if page.language == "kk" else row.kindergarten_ru
        body.append(
            "<tr>"
            f"<td>{h(row.number)}</td>"
            f"<td>{h(page.moment(row.issued_at))}</td>"
            f"<td>{h(row.child)}</td>"
            f"<td>{h(kindergarten)}</td>"
            f"<td>{_group_cell(page, row.group, None, row)}</td>"
            f"<td>{h(referral_status(page, row.status))}</td>"
            "</tr>"
        )
    return _table("referrals", head, body)


def paging(
    page: Page, path: str, query: Mapping[str, str], total: int, limit: int, offset: int
) -> str:
    """ "Всего найдено: N", the rows shown, and links to the previous and next pages."""
    _ = page.gettext
    found = _("Found: {total}").format(total=page.number(total))
    parts = [f'<p id="total">{h(found)}</p>']
    if total:
        first, last = min(offset + 1, total), min(offset + limit, total)
        shown = _("Shown: {first}–{last}").format(first=page.number(first), last=page.number(last))
        parts.append(f"<p>{h(shown)}</p>")
    links = []
    if offset > 0:
        previous = {**query, "offset": str(max(0, offset - limit)), "limit": str(limit)}
        back = _("← Previous")
        links.append(f'<a rel="prev" href="{h(_href(path, previous))}">{h(back)}</a>')
    if offset + limit < total:
        following = {**query, "offset": str(offset + limit), "limit": str(limit)}
        forward = _("Next →")
        links.append(f'<a rel="next" href="{h(_href(path, following))}">{h(forward)}</a>')
    if links:
        parts.append(f'<nav class="paging">{"".join(links)}</nav>')
    return "".join(parts)


def error(page: Page, message: str) -> str:
    return f'<p class="error" role="alert">{h(message)}</p>'


REFERRAL_STATUSES = (
    "awaiting_benefit_confirmation",
    "awaiting_enrollment",
    "enrolled",
    "expired",
    "declined",
    "revoked",
    "annulled",
    "departed",
)


def referral_status(page: Page, status: str) -> str:
    """The same words as the bot's referral card (bot/texts/labels.py)."""
    _ = page.gettext
    return {
        "awaiting_benefit_confirmation": _("Awaiting benefit confirmation"),
        "awaiting_enrollment": _("Awaiting enrollment in the kindergarten"),
        "enrolled": _("Enrolled"),
        "expired": _("Expired"),
        "declined": _("Declined"),
        "revoked": _("Revoked"),
        "annulled": _("Annulled"),
        "departed": _("Left the kindergarten"),
    }.get(status, status)


# --- helpers ------------------------------------------------------------------------------------


def _group_cell(
    page: Page,
    name: str,
    kind: str | None,
    row: registers.SeatRow | registers.ReferralRow,
) -> str:
    _ = page.gettext
    kinds = {
        "general": _("General group"),
        "correctional": _("Correctional group"),
        "sanatorium": _("Sanatorium group"),
    }
    languages = {"kk": _("Kazakh"), "ru": _("Russian")}
    ages = _("from {start} to {end} years").format(start=row.age_from, end=row.age_to)
    parts = [h(name)]
    if kind is not None:
        parts.append(h(kinds.get(kind, kind)))
    parts.append(h(f"{ages} | {languages.get(row.language, row.language)}"))
    return "<br>".join(parts)


def _table(name: str, head: Sequence[str], body: Sequence[str]) -> str:
    header = "".join(f"<th>{h(title)}</th>" for title in head)
    rows = "".join(body)
    return f'<table id="{h(name)}"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>'


def _filter_form(page: Page, path: str, fields: Sequence[str]) -> str:
    _ = page.gettext
    find, reset = _("Find"), _("Reset filters")
    return (
        f'<form class="filters" method="get" action="{h(path)}">'
        f'<input type="hidden" name="lang" value="{h(page.language)}">'
        + "".join(fields)
        + f'<button type="submit">{h(find)}</button>'
        f'<a href="{h(link(page, path))}">{h(reset)}</a></form>'
    )


def _date_field(page: Page, query: Mapping[str, str]) -> str:
    label = page.gettext("Date")
    return (
        f"<label>{h(label)}"
        f'<input type="date" name="date" value="{h(query.get("date", ""))}"></label>'
    )


def _text_field(label: str, name: str, query: Mapping[str, str]) -> str:
    return (
        f'<label>{h(label)}<input type="search" name="{h(name)}" maxlength="100"'
        f' value="{h(query.get(name, ""))}"></label>'
    )


def _number_field(label: str, name: str, query: Mapping[str, str], low: int, high: int) -> str:
    return (
        f'<label>{h(label)}<input type="number" name="{h(name)}" min="{low}" max="{high}"'
        f' value="{h(query.get(name, ""))}"></label>'
    )


def _group_fields(page: Page, query: Mapping[str, str]) -> list[str]:
    _ = page.gettext
    return [
        _select(
            _("Language of the group"),
            "language",
            query,
            [("kk", _("Kazakh")), ("ru", _("Russian"))],
            _("Any"),
        ),
        _number_field(_("Age from"), "age_from", query, 0, 18),
        _number_field(_("Age to"), "age_to", query, 0, 18),
    ]


def _select(
    label: str,
    name: str,
    query: Mapping[str, str],
    options: Sequence[tuple[str, str]],
    anything: str,
) -> str:
    chosen = query.get(name, "")
    items = [f'<option value="">{h(anything)}</option>']
    for value, text in options:
        selected = " selected" if value == chosen else ""
        items.append(f'<option value="{h(value)}"{selected}>{h(text)}</option>')
    return f'<label>{h(label)}<select name="{h(name)}">{"".join(items)}</select></label>'


def _href(path: str, query: Mapping[str, str]) -> str:
    return path + "?" + urlencode({k: v for k, v in query.items() if v != ""})
