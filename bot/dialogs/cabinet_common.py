"""Helpers shared by the cabinet conversations: locale, dates, money, countdowns, refusals."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiogram.enums import ContentType
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.input import MessageInput
from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal

from bot.texts import language_word
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.settings import Settings

if TYPE_CHECKING:
    from core.views.cabinet import ReferralCard

BABEL_LOCALES = {"kk": "kk_KZ", "ru": "ru_RU"}


def language(manager: DialogManager) -> str:
    """The reader's language code (kk or ru) for this update."""
    try:
        from aiogram.utils.i18n import get_i18n

        current = get_i18n().current_locale
    except LookupError:
        current = None
    if current in BABEL_LOCALES:
        return current
    locale = manager.middleware_data.get("locale")
    if locale in BABEL_LOCALES:
        return locale
    applicant = manager.middleware_data.get("applicant")
    return str(getattr(applicant, "language", "ru"))


def babel_locale(manager: DialogManager) -> str:
    return BABEL_LOCALES.get(language(manager), "ru_RU")


def applicant_id(manager: DialogManager) -> int:
    return manager.middleware_data["applicant"].id


def settings_of(manager: DialogManager) -> Settings:
    settings = manager.middleware_data.get("settings")
    if settings is None:
        settings = manager.middleware_data["app"].settings
    return settings


def fmt_datetime(value: datetime, manager: DialogManager) -> str:
    """ "12 сентября 2025, 17:02" in the service time zone."""
    tz = settings_of(manager).tz
    return format_datetime(value, "d MMMM y, HH:mm", tzinfo=tz, locale=babel_locale(manager))


def fmt_date(value: date, manager: DialogManager) -> str:
    return format_date(value, "d MMMM y", locale=babel_locale(manager))


def fmt_money(amount: int, manager: DialogManager) -> str:
    return format_decimal(amount, locale=babel_locale(manager))


def countdown(until: datetime, manager: DialogManager) -> str:
    """Time left to the minute ("2 дня 3 часа 15 минут"); empty when it has passed."""
    left = until - clock.now()
    if left <= timedelta(0):
        return ""
    minutes = int(left.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    locale = babel_locale(manager)
    parts = [
        format_timedelta(timedelta(**{unit: value}), threshold=1, locale=locale)
        for unit, value in (("days", days), ("hours", hours), ("minutes", minutes))
        if value
    ]
    return " ".join(parts) or format_timedelta(timedelta(minutes=1), threshold=1, locale=locale)


def localized(manager: DialogManager, ru: str, kk: str) -> str:
    return kk if language(manager) == "kk" and kk else ru


def refusal(error: DomainError) -> str:
    """The reason code translated into the reader's language (bot.texts owns the texts)."""
    from bot.texts import reason_text

    return reason_text(error.reason, **error.params)


def application_status(status: str, archive_reason: str | None = None) -> str:
    if status == "active":
        return _("In the queue")
    if status == "stop_listed":
        return _("In the stop-list")
    return {
        "enrolled": _("Archived: enrolled"),
        "withdrawn": _("Archived: withdrawn"),
        "aged_out": _("Archived: aged out"),
        "annulled": _("Archived: annulled"),
    }.get(archive_reason or "", _("Archived"))


def referral_status(status: str) -> str:
    return {
        "awaiting_benefit_confirmation": _("Awaiting benefit confirmation"),
        "awaiting_enrollment": _("Awaiting enrollment in the kindergarten"),
        "enrolled": _("Enrolled"),
        "expired": _("Expired"),
        "declined": _("Declined"),
        "revoked": _("Revoked"),
        "annulled": _("Annulled"),
    }.get(status, status)


def language_name(code: str) -> str:
    """A language inside a sentence: lower-case ("(русский)", "(қазақ тілі)")."""
    return language_word(code)


def documents_to_bring(queue_type: str = "general") -> list[str]:
    """DOMAIN.md: what the parent takes to the kindergarten with the referral."""
    from core.referrals.documents import documents_for

    labels = {
        "referral": _("the referral"),
        "parent_identity": _("an identity document of a parent"),
        "birth_certificate": _("the child's birth certificate"),
        "vaccination_card_065": _("vaccination card form 065/у"),
        "health_certificate_027": _("health certificate form 027/у"),
        "pmpk_conclusion": _("PMPK conclusion (for children with special educational needs)"),
        "photo_3x4": _("a 3×4 photo of the child"),
        "digital_signature": _("the parent's digital signature (ЭЦП)"),
        "bank_account": _("a bank account number"),
        "email": _("an e-mail address"),
    }
    return [labels.get(code, code) for code in documents_for(queue_type)]


def referral_place_lines(card: ReferralCard, manager: DialogManager) -> list[str]:
    """Where a referral sends the child and where it stands: kindergarten, address, group,
    status (the cabinet's referral card and the "referral issued" screen show the same)."""
    from bot.texts import group_label

    return [
        _("Kindergarten: {name}").format(
            name=localized(manager, card.kindergarten_ru, card.kindergarten_kk)
        ),
        _("Address: {address}").format(
            address=localized(manager, card.address_ru, card.address_kk)
        ),
        _("Group: {group}").format(
            group=group_label(
                card.group_name, card.group_birth_year, card.group_language, card.group_kind
            )
        ),
        _("Status: {status}").format(status=referral_status(card.status)),
    ]


def referral_term_lines(card: ReferralCard, manager: DialogManager) -> list[str]:
    """How long a live referral is valid, the time left, and the documents to bring."""
    lines = [_("Valid until: {when}").format(when=fmt_datetime(card.expires_at, manager))]
    left = countdown(card.expires_at, manager)
    if left:
        lines.append(_("Time left: {left}").format(left=left))
    lines += ["", _("Documents to bring:"), numbered(documents_to_bring(card.queue_type))]
    return lines


def numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def start_data(manager: DialogManager) -> dict[str, Any]:
    data = manager.start_data
    return data if isinstance(data, dict) else {}


async def _on_unexpected_input(message: Message, widget: Any, manager: DialogManager) -> None:
    await message.answer(_("Please use the buttons under the message below."))


def hint() -> MessageInput:
    """For windows that expect a button: anything typed or sent gets a hint (the window is
    shown again below it) instead of being silently ignored."""
    return MessageInput(_on_unexpected_input)


async def _on_not_text(message: Message, widget: Any, manager: DialogManager) -> None:
    await message.answer(_("Please type the answer as text."))


def text_input(handler: Any) -> list[MessageInput]:
    """A text answer: `handler` gets text messages; stickers, photos... get a hint."""
    return [MessageInput(handler, content_types=ContentType.TEXT), MessageInput(_on_not_text)]
