"""A calendar in the reader's language for the referral date (step 2): month and weekday
names in kk/ru, dates from tomorrow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Calendar, CalendarUserConfig
from aiogram_dialog.widgets.kbd.calendar_kbd import (
    CalendarDaysView,
    CalendarMonthView,
    CalendarScope,
    CalendarScopeView,
    CalendarYearsView,
    OnDateSelected,
)
from aiogram_dialog.widgets.text import Format, Text
from babel.dates import format_date

from bot.dialogs.common import locale_of
from core.platform.catalogs import babel_locale


class LocalCalendar(Calendar):
    """aiogram-dialog's Calendar with month and weekday names in kk/ru, dates from tomorrow.

    aiogram-dialog 2.6 has no public parameter for either: its documented way to customise the
    views and the per-user limits is to override `_init_views` and `_get_user_config` in a
    subclass, so the two overrides live here and nowhere else.
    """

    def __init__(
        self,
        id: str,
        on_click: OnDateSelected,
        tz_of: Callable[[DialogManager], ZoneInfo],
    ) -> None:
        self.tz_of = tz_of
        super().__init__(id=id, on_click=on_click)

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

    async def _get_user_config(
        self, data: dict[str, Any], manager: DialogManager
    ) -> CalendarUserConfig:
        tz = self.tz_of(manager)
        today = datetime.now(tz).date()
        return CalendarUserConfig(
            firstweekday=0,
            # CalendarUserConfig wants a datetime.timezone; any tzinfo (a ZoneInfo) works.
            timezone=tz,  # type: ignore[arg-type]
            min_date=today + timedelta(days=1),
            max_date=today + timedelta(days=3 * 365),
        )


class BabelDate(Text):
    """Renders `data["date"]` with a Babel pattern in the reader's language (calendar parts)."""

    def __init__(self, pattern: str, template: str = "{}") -> None:
        super().__init__()
        self.pattern = pattern
        self.template = template

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        value = format_date(data["date"], self.pattern, locale=babel_locale(locale_of(manager)))
        return self.template.format(value)
