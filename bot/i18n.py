"""Gettext wiring: the catalog, the extraction marker, and the middleware choosing each
update's language.

The language comes from the applicant's stored choice (not FSM data, which `state.clear()`
wipes), falling back to the Telegram client's language when it is kk or ru, else Russian.
"""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from core.platform.catalogs import (
    DEFAULT_LANGUAGE,
    DOMAIN,
    LANGUAGES,
    LOCALES_DIR,
    compile_if_stale,
)

# Telegram clients that report the country's code for Kazakh.
CLIENT_ALIASES = {"kz": "kk"}


def make_i18n() -> I18n:
    compile_if_stale()  # aiogram refuses a .po without its .mo
    return I18n(path=LOCALES_DIR, default_locale=DEFAULT_LANGUAGE, domain=DOMAIN)


def N_(msgid: str) -> str:
    """Mark a msgid for extraction without translating it here (translated where it is shown)."""
    return msgid


def client_language(language_code: str | None) -> str | None:
    """kk or ru when the Telegram client speaks one of them ("ru-RU" counts), else None."""
    code = (language_code or "").split("-")[0].lower()
    code = CLIENT_ALIASES.get(code, code)
    return code if code in LANGUAGES else None


class ApplicantI18nMiddleware(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        applicant = data.get("applicant")
        if applicant is not None:
            locale = str(applicant.language.value)
        else:
            user: User | None = data.get("event_from_user")
            locale = client_language(user.language_code if user else None) or DEFAULT_LANGUAGE
        data["locale"] = locale
        return locale
