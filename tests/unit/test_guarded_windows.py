"""Every dialog window is the guarded one (`bot.dialogs.common.Window`): a press is accepted only
for a button the window showed. aiogram-dialog's own Window renders `when=` but does not enforce
it on callbacks, and its Select/Radio/Multiselect pass any item id on, so one raw Window is one
dialog where a forged button reaches a handler."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from aiogram import Router
from aiogram_dialog import Dialog

from bot import staff
from bot.dialogs.common import Window
from bot.setup import conversations

ROOT = Path(__file__).resolve().parents[2]
GUARD = ROOT / "bot" / "dialogs" / "common.py"


def test_no_module_of_the_bot_builds_a_window_without_the_guard() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} {what}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if path != GUARD
        for line, what in _raw_windows(ast.parse(path.read_text(), str(path)))
    ]
    assert offenders == [], "use bot.dialogs.common.Window:\n" + "\n".join(offenders)


def test_every_window_of_every_dialog_the_bot_registers_is_guarded() -> None:
    dialogs = [d for router in (*conversations(), staff.make_router()) for d in _dialogs(router)]
    names = {d.states_group_name() for d in dialogs}
    # Parents' and staff's conversations are both here: the walk below is not vacuous.
    assert {"SubmissionSG", "CabinetSG", "ReleaseSG", "BroadcastSG"} <= names
    raw = [
        f"{dialog.states_group_name()}: {state}"
        for dialog in dialogs
        for state, window in dialog.windows.items()
        if not isinstance(window, Window)
    ]
    assert raw == [], "\n".join(raw)


def _raw_windows(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """aiogram-dialog's Window imported or reached as an attribute."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aiogram_dialog"):
            for alias in node.names:
                if alias.name == "Window":
                    yield node.lineno, f"from {node.module} import Window"
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "Window"
            and isinstance(node.value, ast.Name)
            and node.value.id == "aiogram_dialog"
        ):
            yield node.lineno, "aiogram_dialog.Window"


def _dialogs(router: Router) -> Iterator[Dialog]:
    if isinstance(router, Dialog):
        yield router
    for child in router.sub_routers:
        yield from _dialogs(child)
