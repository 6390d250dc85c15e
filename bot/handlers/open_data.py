"""/stats and /protocol typed by a parent: the staff tools' figures and protocols are open data,
so the parent is shown where everybody reads them (the public page), not refused."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiogram.types import Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.texts.formats import esc
from core.platform.catalogs import DEFAULT_LANGUAGE, LANGUAGES
from core.platform.settings import Settings


async def open_data(message: Message, settings: Settings) -> None:
    link = public_page_url(settings, get_i18n().current_locale)
    if link is None:
        await message.answer(
            _(
                "The queue's open data, the seat release and referral protocols and the public "
                "log are open to everybody, without logging in, on the service's public page."
            )
        )
        return
    await message.answer(
        _(
            "The queue's open data, the seat release and referral protocols and the public log "
            "are open to everybody, without logging in: {link}"
        ).format(link=esc(link))
    )


def public_page_url(settings: Settings, language: str) -> str | None:
    """The public page in the reader's language: under `public_url`, else under the origin the
    Telegram webhook is served from (the same listener serves /public); None when neither is
    known (long polling without a public address)."""
    base = settings.public_url
    if not base and settings.telegram_webhook_url:
        parts = urlsplit(settings.telegram_webhook_url)
        base = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
    if not base:
        return None
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
    return f"{base.rstrip('/')}/public?lang={lang}"
