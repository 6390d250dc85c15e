"""What the staff screens say about dates, names and statuses in the staff member's language.

Dates go through `bot.texts.formats`; what is only staff wording (broadcast and filter values,
the referral statuses as the registers print them) is here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from aiogram.types import User
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.texts.formats import fmt_datetime
from core.platform.catalogs import babel_locale
from core.platform.settings import Settings


class Named(Protocol):
    """Anything named in both languages: a kindergarten, a city."""

    name_ru: str
    name_kk: str


def locale(user: User | None) -> str:
    """The Babel locale of this update: the i18n middleware's language, else the user's."""
    try:
        current = get_i18n().current_locale
    except LookupError:
        current = (user.language_code if user else None) or "ru"
    return babel_locale(current)


def when(moment: datetime, user: User | None, settings: Settings) -> str:
    """ "12 сентября 2025, 17:02" in the service time zone, in the staff member's language."""
    return fmt_datetime(moment, settings.tz, "kk" if locale(user) == babel_locale("kk") else "ru")


def pick(ru: str, kk: str, user: User | None) -> str:
    """The Kazakh or the Russian one of a pair of stored names."""
    return kk if locale(user) == babel_locale("kk") else ru


def name(place: Named, user: User | None) -> str:
    return pick(place.name_ru, place.name_kk, user)


def broadcast_status(status: str) -> str:
    return {
        "running": _("sending"),
        "paused": _("paused"),
        "done": _("finished"),
    }.get(status, status)


def referral_status(status: str) -> str:
    return {
        "awaiting_benefit_confirmation": _("awaiting benefit confirmation"),
        "awaiting_enrollment": _("awaiting enrollment"),
        "enrolled": _("enrolled"),
        "expired": _("expired"),
        "declined": _("declined"),
        "revoked": _("revoked"),
        "annulled": _("annulled"),
        "departed": _("left the kindergarten"),
    }.get(status, status)


def filter_value(key: str, value: str | None) -> str:
    """The shown value of the language, queue and status filters ("all" when not set)."""
    labels = {
        "language": {"kk": lambda: _("in Kazakh"), "ru": lambda: _("in Russian")},
        "queue_type": {"general": lambda: _("general"), "correctional": lambda: _("correctional")},
        "status": {"active": lambda: _("active"), "stop_listed": lambda: _("in the stop-list")},
    }
    factory = labels.get(key, {}).get(str(value)) if value else None
    return factory() if factory else (str(value) if value else _("all"))
