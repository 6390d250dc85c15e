"""Staff commands and conversations: /release, /broadcast, /broadcasts, /benefits, /enroll,
/revoke, /dismiss (bot.staff.dismissals), /stats, /protocol, /staff (superadmins: roles),
/complaints (bot.staff.complaints), and the staff menu and /help (bot.staff.menu). Only for
staff members (core.people.staff), refused politely to everybody else; every action names the
staff member as the audit actor ("staff:<id>") and the core checks the scope.
"""

from __future__ import annotations

from aiogram import F, Router

from bot.callbacks import UndoCb
from bot.filters import IsStaff, MayBeStaff
from bot.staff import (
    benefits,
    benefits_list,
    broadcast,
    complaints,
    dismissals,
    exchange,
    menu,
    referrals,
    refusal,
    release,
    reports,
    roles,
    undo,
)
from bot.staff.answers import AnsweredByHandler
from bot.staff.benefits import BenefitCb
from bot.staff.states import (
    BenefitListSG,
    BenefitRejectSG,
    BroadcastSG,
    DismissalSG,
    ExchangeStaffSG,
    ReferralActionSG,
    ReleaseSG,
    ReportsSG,
    StaffRolesSG,
)
from core.people.staff import QUEUE_ROLES

__all__ = ["IsStaff", "make_router"]


def make_router() -> Router:
    """A fresh staff router (tests build several Dispatchers in one process): the refusal for
    non-staff first, then everything staff may do behind one IsStaff gate, commands before the
    dialogs so that a staff command restarts its conversation."""
    gated = Router(name="staff.gated")
    maybe = MayBeStaff(
        (
            ReleaseSG,
            BroadcastSG,
            BenefitRejectSG,
            ReferralActionSG,
            DismissalSG,
            BenefitListSG,
            ReportsSG,
            StaffRolesSG,
            ExchangeStaffSG,
        ),
        (BenefitCb.__prefix__, UndoCb.__prefix__),
    )
    # The queue tools are not the anti-corruption officer's (bot.staff.complaints has theirs).
    gated.message.filter(maybe, IsStaff(QUEUE_ROLES))
    gated.callback_query.filter(maybe, IsStaff(QUEUE_ROLES))
    for module in (
        menu,
        release,
        broadcast,
        benefits,
        referrals,
        dismissals,
        reports,
        roles,
        undo,
        exchange,
    ):
        gated.include_router(module.make_router())
    for dialog in (
        release.make_dialog(),
        broadcast.make_dialog(),
        benefits.make_dialog(),
        benefits_list.make_dialog(),
        referrals.make_dialog(),
        dismissals.make_dialog(),
        reports.make_dialog(),
        roles.make_dialog(),
        exchange.make_dialog(),
    ):
        # Commands typed inside a staff conversation go on to the command routers.
        dialog.message.filter(~F.text.startswith("/"))
        gated.include_router(dialog)
    router = Router(name="staff")
    router.callback_query.middleware(AnsweredByHandler())
    router.include_routers(refusal.make_router(), complaints.make_router(), gated)
    return router
