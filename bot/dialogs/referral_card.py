"""A referral as the parent reads it: where it sends the child and how long it is valid (the
cabinet's referral card and the "referral issued" screen show the same lines)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager

from bot.dialogs.common import locale_of, localized, numbered, tz_of
from bot.texts.formats import countdown, esc, fmt_datetime
from bot.texts.labels import documents_to_bring, group_label, referral_status
from core.views.cabinet import ReferralCard


def place_lines(card: ReferralCard, manager: DialogManager) -> list[str]:
    """Where a referral sends the child and where it stands: kindergarten, address, group,
    status."""
    return [
        _("Kindergarten: {name}").format(
            name=esc(localized(manager, card.kindergarten_ru, card.kindergarten_kk))
        ),
        _("Address: {address}").format(
            address=esc(localized(manager, card.address_ru, card.address_kk))
        ),
        _("Group: {group}").format(
            group=esc(
                group_label(
                    card.group_name, card.group_birth_year, card.group_language, card.group_kind
                )
            )
        ),
        _("Status: {status}").format(status=referral_status(card.status)),
    ]


def term_lines(card: ReferralCard, manager: DialogManager) -> list[str]:
    """How long a live referral is valid, the time left, and the documents to bring."""
    language = locale_of(manager)
    lines = [
        _("Valid until: {when}").format(
            when=fmt_datetime(card.expires_at, tz_of(manager), language)
        )
    ]
    left = countdown(card.expires_at, language)
    if left:
        lines.append(_("Time left: {left}").format(left=left))
    lines += [
        "",
        _("Documents to bring:"),
        numbered(documents_to_bring(card.queue_type, card.benefit)),
    ]
    return lines
