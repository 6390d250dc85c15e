"""Routers for commands and menus, in the order the Dispatcher tries them."""

from __future__ import annotations

import importlib

from aiogram import Router

from bot import staff


def all_routers() -> list[Router]:
    """Included before the dialogs: commands and the main menu work inside any conversation."""
    from bot.handlers import check, directory, errors, help, menu, start

    routers = [errors.router, start.router, help.router, menu.router, check.router]
    routers.append(directory.router)
    routers.insert(1, staff.make_router())  # staff commands and conversations
    routers.insert(1, importlib.import_module("bot.dialogs.referral").router)  # offer button
    return [_detached(router) for router in routers]


def fallback_routers() -> list[Router]:
    """Included after the dialogs: whatever nobody else handled (unexpected content)."""
    from bot.handlers import errors

    return [_detached(errors.fallback_router)]


def _detached(router: Router) -> Router:
    """Module-level routers attach to one Dispatcher; tests build several apps in one process."""
    parent = router.parent_router
    if parent is not None:
        if router in parent.sub_routers:
            parent.sub_routers.remove(router)
        router._parent_router = None
    return router
