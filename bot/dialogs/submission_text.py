"""Texts of the submission wizard built at render time: benefit names, queue labels, the
statement for review (as in the source documents), and a calendar in the reader's language."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Calendar, CalendarUserConfig
from aiogram_dialog.widgets.kbd.calendar_kbd import (
    CalendarDaysView,
    CalendarMonthView,
    CalendarScope,
    CalendarScopeView,
    CalendarYearsView,
)
from aiogram_dialog.widgets.text import Format, Text
from babel.dates import format_date

from bot.texts import phone_text
from core.platform.catalogs import babel_locale

EXTRAORDINARY = (1, 2, 3, 4)
FIRST_PRIORITY = (5, 6, 7, 8, 9, 10, 11)

# Lambdas: gettext runs when the text is shown, in the reader's language.
BENEFIT_NAMES: dict[int, Callable[[], str]] = {
    1: lambda: _("Children of military servicemen"),
    2: lambda: _("Children of employees of special state bodies"),
    3: lambda: _(
        "Children of law-enforcement employees (including those who died, perished or went "
        "missing in service)"
    ),
    4: lambda: _("Children of employees of the state courier service"),
    5: lambda: _("Children of parents with disabilities"),
    6: lambda: _("Children without parental care"),
    7: lambda: _("Orphans"),
    8: lambda: _("Children from large families"),
    9: lambda: _("Children with special educational needs (for inclusive and sanatorium groups)"),
    10: lambda: _("Children from families raising a child with a disability"),
    11: lambda: _("Children whose legal representatives are teachers"),
}


def current_locale(manager: DialogManager | None = None) -> str:
    """kk or ru: the language this update is answered in."""
    try:
        locale = get_i18n().current_locale
    except LookupError:
        locale = None
    if locale not in ("kk", "ru") and manager is not None:
        locale = manager.middleware_data.get("locale")
    return locale if locale in ("kk", "ru") else "ru"


def benefit_name(category: int | None) -> str:
    if category is None:
        return _("None")
    return BENEFIT_NAMES[int(category)]()


def language_name(code: str) -> str:
    return _("Kazakh") if code == "kk" else _("Russian")


def queue_label(birth_year: int, language: str) -> str:
    """The specific queue of a kindergarten, e.g. "2022 ГР, русский"."""
    return _("{year} birth year, {language}").format(
        year=birth_year, language=language_name(language).lower()
    )


def queue_type_name(queue_type: str) -> str:
    return _("correctional queue") if queue_type == "correctional" else _("general queue")


def referral_mode_text(mode: str, from_date: str | None, locale: str) -> str:
    if mode == "from_date" and from_date:
        return _("From {date}").format(date=fmt_date(date.fromisoformat(from_date), locale))
    return _("Immediately, when a seat appears")


def fmt_date(day: date, locale: str) -> str:
    return format_date(day, "d MMMM y", locale=babel_locale(locale))


def esc(value: Any) -> str:
    return html.escape(str(value), quote=False)


def statement_text(data: dict[str, Any], locale: str) -> str:
    """The application as the parent signs it (the source walkthrough's "ЗАЯВЛЕНИЕ")."""
    title = _("APPLICATION")
    lines = [
        f"<i>{esc(data['today'])}</i>",
        "",
        esc(
            _("To the head of the education department of {city}").format(city=data["city"])
            if data.get("city")
            else _("To the head of the education department")
        ),
        esc(_("from {name}").format(name=data["parent_name"])),
        esc(_("IIN: {iin}").format(iin=data["parent_iin"])),
        esc(
            _("Phone: {phones}").format(
                phones=", ".join(phone_text(p) for p in data["phones"]) or "—"
            )
        ),
        "",
        f"<b>{esc(title)}</b>",
        "",
        esc(
            _(
                "As a legal representative, I ask to put my child in the {queue} for a "
                "referral to a kindergarten:"
            ).format(queue=queue_type_name(data["queue_type"]))
        ),
        "",
        esc(
            _("Child's IIN: none (birth certificate attached)")
            if data.get("child_no_iin")
            else _("Child's IIN: {iin}").format(iin=data["child_iin"])
        ),
        esc(_("Child's full name: {name}").format(name=data["child_name"])),
        esc(_("Date of birth: {date}").format(date=data["child_birth"])),
        *(
            [esc(_("Legal representation: by my declaration (not in the state registry)"))]
            if data.get("child_no_iin")
            else []
        ),
        "",
        esc(_("Kindergartens to queue for:")),
    ]
    for rank, choice in enumerate(data["choices"], start=1):
        lines += [
            "",
            f"{rank}. <b>{esc(choice['name'])}</b>",
            esc(_("Address: {address}").format(address=choice["address"])),
            esc(_("Queue: {queue}").format(queue=choice["queue"])),
        ]
    lines += [
        "",
        esc(_("Issue the referral: {mode}").format(mode=data["referral_mode"])),
        esc(_("Benefit: {benefit}").format(benefit=data["benefit"])),
    ]
    if data.get("pmpk"):
        lines.append(esc(_("PMPK conclusion: attached")))
    lines += [
        esc(
            _("Notifications: {channel}, in {language}").format(
                channel=data["channel"], language=data["language"]
            )
        ),
        "",
        esc(_("I confirm that I know the main principles of the kindergarten queue:")),
        "• " + esc(_("the position of an application in the queue may change up or down;")),
        "• "
        + esc(
            _(
                "applications are ordered by the child's birth year, taking into account the "
                "date and time of submission;"
            )
        ),
        "• " + esc(_("applications of citizens with a benefit have priority in the queue.")),
        "",
        esc(
            _(
                "I consent to the use of my contact details for receiving information, alerts "
                "and notifications while applying and afterwards, on events related to "
                "enrolment in and attendance of a kindergarten."
            )
        ),
        esc(
            _(
                "I have read, agree to and accept the terms of the offer agreement of this "
                "portal, including the use, processing and storage of personal data."
            )
        ),
    ]
    return "\n".join(lines)


class BabelDate(Text):
    """Renders `data["date"]` with a Babel pattern in the reader's language (calendar parts)."""

    def __init__(self, pattern: str, template: str = "{}") -> None:
        super().__init__()
        self.pattern = pattern
        self.template = template

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        value = format_date(
            data["date"], self.pattern, locale=babel_locale(current_locale(manager))
        )
        return self.template.format(value)


class LocalCalendar(Calendar):
    """aiogram-dialog's Calendar with month and weekday names in kk/ru, dates from tomorrow."""

    def __init__(self, *args: Any, tz_of: Callable[[DialogManager], Any], **kwargs: Any) -> None:
        self.tz_of = tz_of
        super().__init__(*args, **kwargs)

    def _init_views(self) -> dict[CalendarScope, CalendarScopeView]:
        return {
            CalendarScope.DAYS: CalendarDaysView(
                self._item_callback_data,
                date_text=Format("{date:%d}"),
                today_text=Format("[{date:%d}]"),
                weekday_text=BabelDate("EEEEEE"),
                header_text=BabelDate("LLLL y", "🗓 {}"),
                next_month_text=BabelDate("LLL y", "{} >>"),
                prev_month_text=BabelDate("LLL y", "<< {}"),
            ),
            CalendarScope.MONTHS: CalendarMonthView(
                self._item_callback_data,
                month_text=BabelDate("LLL"),
                this_month_text=BabelDate("LLL", "[{}]"),
            ),
            CalendarScope.YEARS: CalendarYearsView(self._item_callback_data),
        }

    async def _get_user_config(self, data: dict, manager: DialogManager) -> CalendarUserConfig:
        tz = self.tz_of(manager)
        today = datetime.now(tz).date()
        return CalendarUserConfig(
            firstweekday=0,
            timezone=tz,
            min_date=today + timedelta(days=1),
            max_date=today + timedelta(days=3 * 365),
        )
