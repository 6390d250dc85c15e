"""What the staff decision dialogs (/enroll, /revoke, a benefit decision) share: the preview
card of a referral or an application, and the common reasons offered as buttons."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import User
from aiogram.utils.i18n import gettext as _

from bot.notifications.render import DECISION_REASONS
from bot.staff.texts import pick
from bot.texts.formats import esc
from bot.texts.labels import benefit_name, group_label
from core.referrals.benefits import DecisionReason
from core.referrals.cards import ApplicationCard, ReferralCard

REASON_LENGTH = 200  # what a parent's message shows of a typed reason


def card_text(card: ReferralCard, user: User | None = None) -> str:
    """Child, application, referral, kindergarten and group: whom the action touches."""
    place = card.place
    group = group_label(place.group, place.group_birth_year, place.language, place.group_kind)
    kindergarten = pick(place.kindergarten_ru, place.kindergarten_kk or place.kindergarten_ru, user)
    return "\n".join(
        (
            _("Child: {child}").format(child=esc(card.child)),
            _("Application: #{number}").format(number=card.application_number),
            _("Referral: #{number}").format(number=esc(card.number)),
            _("Kindergarten: {name}").format(name=esc(kindergarten)),
            _("Group: {name}").format(name=esc(group)),
        )
    )


def application_text(card: ApplicationCard) -> str:
    return "\n".join(
        (
            _("Child: {child}").format(child=esc(card.child)),
            _("Application: #{number}").format(number=card.number),
            _("Benefit: {benefit}").format(benefit=esc(benefit_name(card.benefit_category))),
        )
    )


def reason_choices(codes: Iterable[DecisionReason]) -> list[tuple[str, str]]:
    """(code, label) pairs for the reason buttons, in the staff member's language."""
    return [
        (
            str(code),
            _("Other: type the reason")
            if code == DecisionReason.other
            else _(DECISION_REASONS[str(code)]),
        )
        for code in codes
    ]


def reason_shown(reason: dict[str, str]) -> str:
    """A picked reason in the staff member's language, a typed one as typed (escaped)."""
    if reason.get("code") in DECISION_REASONS:
        return _(DECISION_REASONS[reason["code"]])
    return esc(reason.get("text", ""))
