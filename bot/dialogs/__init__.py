"""The multi-step conversations (aiogram-dialog), collected for the composition root.

`all_dialogs()` returns every Dialog of every module here (a module may define
`make_dialogs()` to build fresh ones per Dispatcher; modules whose imports are not there yet are
skipped); `setup_background(app)` (alias `subscribe`, which the composition root calls once)
connects the conversations that continue by themselves to core events, e.g. the gov family
result that moves the submission wizard on.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import TYPE_CHECKING

from aiogram_dialog import Dialog

if TYPE_CHECKING:
    from indigo.app import App

log = logging.getLogger(__name__)

# Helper modules (no conversation of their own) are imported too: they simply hold no Dialog.
SKIP = frozenset({"widgets"})


def all_dialogs() -> list[Dialog]:
    """Every Dialog defined in a module of this package (cabinet, referral, extension,
    settings, recovery, verification, staff_*, submission, ...), each once.

    A module whose imports are not there yet (a flow still being written) is skipped with a
    warning, so the other conversations keep working.
    """
    dialogs: list[Dialog] = []
    seen: set[int] = set()
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in SKIP or info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{__name__}.{info.name}")
        except ImportError:
            log.warning("conversation module %s is not available", info.name, exc_info=True)
            continue
        factory = getattr(module, "make_dialogs", None)
        found = factory() if callable(factory) else list(vars(module).values())
        for value in found:
            if isinstance(value, Dialog) and id(value) not in seen:
                seen.add(id(value))
                dialogs.append(_detached(value))
    return dialogs


def _detached(dialog: Dialog) -> Dialog:
    """A module-level Dialog can be included in one Dispatcher only; every `build_app` (tests
    build several in one process) gets it detached from the previous one first. Modules that
    define `make_dialogs()` build fresh Dialogs instead and never need this."""
    parent = dialog.parent_router
    if parent is not None:
        if dialog in parent.sub_routers:
            parent.sub_routers.remove(dialog)
        dialog._parent_router = None
    return dialog


def setup_background(app: App) -> None:
    """Subscribe the conversations that react to core events (called once by the composition)."""
    from bot.dialogs.recovery import setup_recovery
    from bot.dialogs.submission import setup_submission

    setup_recovery(app)  # access recovery goes on when the registry answers

    setup_submission(app)


subscribe = setup_background
