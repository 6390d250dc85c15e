"""The anti-corruption officer reads corruption reports and nothing else: their menu and /help
list /complaints only, the queue tools answer politely that the role handles reports only, and
/complaints is refused to parents like every staff command."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.methods import SetMyCommands

from core.models import StaffRole
from tests.fixtures.bot import Parent
from tests.fixtures.seats import make_city
from tests.fixtures.staff_texts import shown
from tests.fixtures.worker import make_staff


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_the_anticorruption_officer_has_only_the_complaints_tool(
    bot_app: Any, language: str
) -> None:
    await make_staff(971, StaffRole.anticorruption)
    officer = Parent(bot_app, 971, language)
    help_text = await officer.send("/help")
    assert "/complaints" in help_text and "/release" not in help_text
    (menu,) = [r for r in officer.seen if isinstance(r, SetMyCommands)]
    assert {c.command for c in menu.commands} >= {"complaints"}
    assert "release" not in {c.command for c in menu.commands}
    refused = await officer.send("/release")
    assert (
        shown("Your role handles reports of corruption only: /complaints lists them.", language)
        in refused
    )
    listing = await officer.send("/complaints")
    assert shown("No complaints here.", language) in listing


async def test_an_operator_lists_complaints_and_a_parent_is_refused(bot_app: Any) -> None:
    city = await make_city()
    await make_staff(972, StaffRole.operator, city=city)
    assert "Жалобы" in await Parent(bot_app, 972, "ru").send("/complaints")
    refused = await Parent(bot_app, 973, "ru").send("/complaints")
    assert "только для сотрудников" in refused
