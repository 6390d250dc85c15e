"""Staff find their tools (walkthrough finding 9): a command menu for their chat in their
language, a /help listing their tools, and roles granted, removed and listed from the command
line (`indigo staff add|remove|list`)."""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from aiogram.methods import DeleteMyCommands, SetMyCommands
from aiogram.types import BotCommandScopeChat

from core.models import AuditEntry, Language, StaffRole
from core.people import staff as staff_service
from core.platform.errors import DomainError
from core.platform.settings import Settings
from indigo.app import make_bot
from indigo.cli import add_staff_cli, list_staff_cli, remove_staff_cli
from tests.fixtures.bot import Parent, RecordingSession
from tests.fixtures.seats import make_city, make_kindergarten, make_parent
from tests.fixtures.staff_texts import shown
from tests.fixtures.worker import make_staff


def _menus(requests: list[Any]) -> list[SetMyCommands]:
    return [r for r in requests if isinstance(r, SetMyCommands)]


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_a_staff_members_start_sets_their_own_menu_in_their_language(
    bot_app: Any, language: str
) -> None:
    city = await make_city()
    await make_staff(961, StaffRole.operator, city=city)
    staff = Parent(bot_app, 961, language)

    greeting = await staff.send("/start")

    (menu,) = _menus(staff.seen)
    assert menu.scope == BotCommandScopeChat(chat_id=961)
    commands = {c.command: c.description for c in menu.commands}
    assert commands["release"] == shown("Release free seats in a group", language)
    assert commands["benefits"] == shown("Benefits waiting for a decision", language)
    assert commands["dismiss"] == shown(
        "Record that an enrolled child left the kindergarten", language
    )
    assert {"stats", "protocol", "broadcast", "start", "help"} <= set(commands)
    assert greeting  # the main menu is answered as for everybody


async def test_a_parent_gets_no_staff_menu(bot_app: Any) -> None:
    parent = Parent(bot_app, 962, "ru")
    await parent.send("/start")
    assert not _menus(parent.seen)


async def test_help_for_staff_lists_their_tools(bot_app: Any) -> None:
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    await make_staff(963, StaffRole.kindergarten_admin, kindergarten=kindergarten, city=city)
    shown_help = await Parent(bot_app, 963, "ru").send("/help")
    for command in (
        "/release",
        "/benefits",
        "/enroll",
        "/revoke",
        "/dismiss",
        "/stats",
        "/protocol",
    ):
        assert command in shown_help
    assert shown("Your role: administrator of a kindergarten.", "ru") in shown_help
    parent_help = await Parent(bot_app, 964, "ru").send("/help")
    assert "/release" not in parent_help


async def test_indigo_staff_add_remove_list_with_the_menu(
    settings: Settings, db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    city = await make_city()
    parent = await make_parent(Language.kk)
    parent.telegram_user_id = 965
    await parent.save()
    session = RecordingSession()
    bot = make_bot(settings, session)

    await add_staff_cli(
        argparse.Namespace(
            telegram_user_id=965, role="operator", city=city.code, kindergarten=None, name="Айгүл"
        ),
        bot,
    )
    (menu,) = _menus(session.take())
    assert menu.scope == BotCommandScopeChat(chat_id=965)
    release = next(c for c in menu.commands if c.command == "release")
    assert release.description == shown("Release free seats in a group", "kk")  # their language

    await list_staff_cli(argparse.Namespace(all=False))
    assert "965\toperator" in capsys.readouterr().out

    await remove_staff_cli(argparse.Namespace(telegram_user_id=965), bot)
    assert "no longer operator" in capsys.readouterr().out
    (deleted,) = [r for r in session.take() if isinstance(r, DeleteMyCommands)]
    assert deleted.scope == BotCommandScopeChat(chat_id=965)
    assert await staff_service.staff_for(965) is None
    assert await AuditEntry.filter(action="staff.removed", actor="cli").count() == 1

    await list_staff_cli(argparse.Namespace(all=False))
    assert "965" not in capsys.readouterr().out
    await list_staff_cli(argparse.Namespace(all=True))
    assert "(removed)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        await remove_staff_cli(argparse.Namespace(telegram_user_id=965), bot)


async def test_a_removed_staff_member_is_a_parent_again(bot_app: Any) -> None:
    city = await make_city()
    await make_staff(966, StaffRole.operator, city=city)
    await staff_service.remove_staff(966, by="test")
    refused = await Parent(bot_app, 966, "ru").send("/release")
    assert "только для сотрудников" in refused
    with pytest.raises(DomainError) as again:
        await staff_service.remove_staff(966, by="test")
    assert again.value.reason == "staff_not_found"
