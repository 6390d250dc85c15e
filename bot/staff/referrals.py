"""/enroll and /revoke: the kindergarten reports a referral used, or takes it back (its seat is
released again). Both by the referral's number, both audited with the staff member as actor."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.texts.reasons import error_text
from bot.texts.typed import clean_typed
from core.models import Referral, StaffMember
from core.people import staff as staff_service
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings
from core.referrals.lifecycle import enroll, revoke

# Referral.number's column width: a longer token is no referral number (and the database would
# refuse it as a filter value, which ended as "something went wrong").
MAX_NUMBER_LENGTH = 32


def make_router() -> Router:
    """Staff only: the router that includes this one checks."""
    router = Router(name="staff.referrals")
    router.message.register(enroll_command, Command("enroll"))
    router.message.register(revoke_command, Command("revoke"))
    return router


async def enroll_command(message: Message, command: CommandObject, staff: StaffMember) -> None:
    number = clean_typed(command.args)
    if not number:
        await message.answer(_("Usage: /enroll NUMBER (the referral number)"))
        return
    try:
        referral = await _referral(staff, number)
        await enroll(referral.id, actor=staff_service.actor(staff))
    except DomainError as exc:
        await message.answer(error_text(exc))
        return
    await message.answer(
        _("Referral #{number}: the child is enrolled.").format(number=referral.number)
    )


async def revoke_command(
    message: Message, command: CommandObject, staff: StaffMember, settings: Settings
) -> None:
    number, _sep, reason = (command.args or "").strip().partition(" ")
    number = clean_typed(number)
    if not number or not reason.strip():
        await message.answer(_("Usage: /revoke NUMBER REASON (the referral number and why)"))
        return
    try:
        referral = await _referral(staff, number)
        await revoke(
            referral.id, reason.strip(), actor=staff_service.actor(staff), settings=settings
        )
    except DomainError as exc:
        await message.answer(error_text(exc))
        return
    await message.answer(
        _("Referral #{number} is revoked; its seat is released again.").format(
            number=referral.number
        )
    )


async def _referral(staff: StaffMember, number: str) -> Referral:
    if len(number) > MAX_NUMBER_LENGTH:
        raise DomainError(Reason.referral_not_found, number=number[:MAX_NUMBER_LENGTH])
    return await staff_service.referral_in_scope(staff, number)
