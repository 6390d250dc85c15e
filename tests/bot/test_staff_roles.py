"""A superadmin grants and removes staff roles inside the bot (/staff): the person, the role and
its scope, a preview, Confirm; the member's command menu follows at once and the change is
audited. Anybody else is refused, and the last superadmin cannot be removed."""

from __future__ import annotations

from typing import Any

from aiogram.methods import DeleteMyCommands, SetMyCommands
from aiogram.types import BotCommandScopeChat

from core.models import AuditEntry, StaffMember, StaffRole
from core.people import staff as staff_service
from tests.bot.test_staff import Staff
from tests.fixtures.seats import make_city, make_kindergarten
from tests.fixtures.staff_texts import fixed_part, shown
from tests.fixtures.worker import make_staff


async def test_a_superadmin_grants_a_role_with_a_preview_and_removes_it(bot_app: Any) -> None:
    city = await make_city()
    await make_kindergarten(city, 3)
    chief = await make_staff(970, StaffRole.superadmin)
    staff = Staff(bot_app, 970)

    await staff.send("/staff")
    await staff.press(shown("Grant a role", "ru"))
    assert fixed_part("Telegram id {person}. Which role?", "ru") in await staff.send("975")
    await staff.press(shown("Operator of a city's education department", "ru"))
    preview = await staff.press(city.name_ru)
    assert "975" in preview and city.name_ru in preview
    assert await staff_service.staff_for(975) is None  # nothing before Confirm

    await staff.press(shown("Confirm", "ru"))
    member = await StaffMember.get(telegram_user_id=975, active=True)
    assert (member.role, member.city_id) == (StaffRole.operator, city.id)
    granted = await AuditEntry.get(action="staff.granted", entity_id=str(member.id))
    assert granted.actor == f"staff:{chief.id}"
    (menu,) = [r for r in staff.seen if isinstance(r, SetMyCommands)]
    assert menu.scope == BotCommandScopeChat(chat_id=975)
    assert "release" in {c.command for c in menu.commands}

    # The new operator sees their tools; /staff is not one of them.
    refused = await Staff(bot_app, 975).send("/staff")
    assert shown("Only a superadmin may grant or remove staff roles.", "ru") in refused

    await staff.send("/staff")
    await staff.press("975")
    asked = await staff.press(shown("Remove the role", "ru"))
    assert "975" in asked and await staff_service.staff_for(975) is not None
    await staff.press(shown("Confirm", "ru"))
    assert await staff_service.staff_for(975) is None
    assert (await AuditEntry.get(action="staff.removed")).actor == f"staff:{chief.id}"
    (deleted,) = [r for r in staff.seen if isinstance(r, DeleteMyCommands)]
    assert deleted.scope == BotCommandScopeChat(chat_id=975)


async def test_the_last_superadmin_cannot_be_removed_or_demoted(bot_app: Any) -> None:
    await make_staff(971, StaffRole.superadmin)
    staff = Staff(bot_app, 971)
    await staff.send("/staff")
    await staff.press("971")
    await staff.press(shown("Remove the role", "ru"))
    alert = shown("This is the last superadmin: grant the role to somebody else first.", "ru")
    assert alert in await staff.press(shown("Confirm", "ru"))
    assert await staff_service.staff_for(971) is not None

    city = await make_city("almaty")
    await staff.send("/staff")
    await staff.press("971")
    await staff.press(shown("Change the role", "ru"))
    await staff.press(shown("Operator of a city's education department", "ru"))
    await staff.press(city.name_ru)
    assert alert in await staff.press(shown("Confirm", "ru"))
    assert (await StaffMember.get(telegram_user_id=971)).role == StaffRole.superadmin
