"""Gettext wiring: the catalog, and the middleware choosing each update's language.

The language comes from the applicant's stored choice (not FSM data, which `state.clear()`
wipes), falling back to the Telegram client's language when it is kk or ru, else Russian.
"""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from core.platform.catalogs import BABEL_LOCALES, compile_if_stale
from core.platform.catalogs import DEFAULT_LANGUAGE as DEFAULT_LOCALE
from core.platform.catalogs import LOCALES_DIR as LOCALES


def make_i18n() -> I18n:
    compile_if_stale()  # aiogram refuses a .po without its .mo
    return I18n(path=LOCALES, default_locale=DEFAULT_LOCALE, domain="messages")


def client_language(language_code: str | None) -> str | None:
    """kk or ru when the Telegram client speaks one of them ("ru-RU" counts), else None."""
    code = (language_code or "").split("-")[0].lower()
    return {"kk": "kk", "kz": "kk", "ru": "ru"}.get(code)


def babel_locale(locale: str) -> str:
    """The Babel locale for one of our languages: kk -> kk_KZ, ru -> ru_RU."""
    return BABEL_LOCALES.get(locale, BABEL_LOCALES[DEFAULT_LOCALE])


class ApplicantI18nMiddleware(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        applicant = data.get("applicant")
        if applicant is not None:
            locale = str(applicant.language.value)
        else:
            user: User | None = data.get("event_from_user")
            locale = client_language(user.language_code if user else None) or DEFAULT_LOCALE
        data["locale"] = locale
        return locale
