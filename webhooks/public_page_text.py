"""The public page's language: gettext from the bot's catalogs, and numbers and moments via Babel.

Every word on the page goes through `Page.gettext` (msgids extracted like the bot's); every value
put into the HTML goes through `h` (attribute-safe `html.escape`).
"""

from __future__ import annotations

import gettext
import html
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from babel.support import Translations

from bot.texts.formats import fmt_date, fmt_datetime
from core.platform.catalogs import (
    DEFAULT_LANGUAGE,
    DOMAIN,
    LANGUAGES,
    LOCALES_DIR,
    babel_locale,
    compile_if_stale,
)


def h(value: Any) -> str:
    """THE escape of the page: text and attribute values (quotes included)."""
    return html.escape(str(value), quote=True)


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> gettext.NullTranslations:
    compile_if_stale()  # the .mo are build output; a fresh checkout has only the .po
    return Translations.load(str(LOCALES_DIR), [language], DOMAIN)


@dataclass(frozen=True)
class Page:
    """One request's reader: language (kk or ru), the service's time zone."""

    language: str
    tz: ZoneInfo

    @classmethod
    def for_language(cls, language: str | None, tz: ZoneInfo) -> Page:
        return cls(language if language in LANGUAGES else DEFAULT_LANGUAGE, tz)

    @property
    def other(self) -> str:
        return "ru" if self.language == "kk" else "kk"

    def gettext(self, msgid: str) -> str:
        return translations(self.language).gettext(msgid)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(self.language).ngettext(singular, plural, n)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=babel_locale(self.language))

    def moment(self, value: datetime) -> str:
        return fmt_datetime(value, self.tz, self.language)

    def day(self, value: date) -> str:
        return fmt_date(value, self.language)
