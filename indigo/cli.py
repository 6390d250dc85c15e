"""The `indigo` command: one entry point per process of the service.

    indigo migrate            apply the committed migrations (a deploy step)
    indigo seed               build the deterministic demo city
    indigo position NUMBER    an application's place in the city and kindergarten queues
    indigo run                the bot with long polling (development)
    indigo serve [--workers N] webhooks app (N processes): Telegram webhook, callbacks, metrics
    indigo worker             notification sender and scheduled jobs
    indigo demo [--headless]  everything offline against the sandbox, with a terminal chat
    indigo staff add ...      grant a staff role (and set their command menu in the bot)
    indigo staff remove ID    take a staff role away (their menu goes back to the parents')
    indigo staff list         the staff members, their roles and scopes

This module only parses arguments and calls what runs: the process lifecycles are in
indigo.runners; configuration errors are logged as one line (see load_settings).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from aiogram import Bot

from bot.i18n import make_i18n
from bot.staff.menu import refresh_menu
from core.models import Application, StaffMember
from core.people.staff import add_staff, language_of, list_staff, remove_staff
from core.platform.catalogs import compile_all
from core.platform.db import close_db, init_db, migrate
from core.platform.errors import DomainError
from core.platform.logs import setup_logging
from core.platform.settings import Settings, load_settings
from core.queue.index import rebuild_for
from core.queue.order import city_position, kindergarten_positions
from devtools.demo import run_demo
from devtools.seed import SeedSize, seed
from indigo.app import make_bot
from indigo.runners.polling import run_polling
from indigo.runners.serve import run_fast, serve, serve_workers
from indigo.runners.worker import run_worker

STAFF_ROLES = ("operator", "kindergarten_admin", "superadmin")
SERVICES = ("run", "serve", "worker")


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    setup_logging(args.verbose)  # masks IINs and phones in every record
    settings = load_settings()
    compile_all()  # aiogram refuses a .po without its .mo; a fresh clone has none
    try:
        if args.command == "serve" and args.workers > 1:
            serve_workers(settings, args.workers, verbose=args.verbose)
        elif args.command in SERVICES:
            run_fast(_command(args, settings))  # uvloop for the long-running services
        else:
            asyncio.run(_command(args, settings))
    except KeyboardInterrupt:
        pass


async def add_staff_cli(args: argparse.Namespace, bot: Bot | None = None) -> None:
    """`indigo staff add <telegram_user_id> --role ... [--city] [--kindergarten] [--name]`;
    with a bot, the member's command menu shows their tools at once."""
    try:
        member = await add_staff(
            args.telegram_user_id,
            args.role,
            city_code=args.city,
            kindergarten_id=args.kindergarten,
            name=args.name or "",
            by="cli",
        )
    except DomainError as exc:
        raise SystemExit(f"indigo: staff add refused: {exc.reason} {exc.params}") from exc
    print(
        f"staff {member.id}: telegram {member.telegram_user_id} is {member.role} ({_scope(member)})"
    )
    await _refresh_menu(bot, member)


async def remove_staff_cli(args: argparse.Namespace, bot: Bot | None = None) -> None:
    """`indigo staff remove <telegram_user_id>`: the role is taken away (kept in the audit)."""
    try:
        member = await remove_staff(args.telegram_user_id, by="cli")
    except DomainError as exc:
        raise SystemExit(f"indigo: staff remove refused: {exc.reason} {exc.params}") from exc
    print(f"staff {member.id}: telegram {member.telegram_user_id} is no longer {member.role}")
    await _refresh_menu(bot, member)


async def list_staff_cli(args: argparse.Namespace) -> None:
    """`indigo staff list [--all]`: one line per staff member."""
    members = await list_staff(include_inactive=args.all)
    if not members:
        print("no staff members")
    for member in members:
        state = "" if member.active else " (removed)"
        name = f" {member.name}" if member.name else ""
        print(
            f"{member.telegram_user_id}\t{member.role}\t{_scope(member)}{name}{state}",
        )


def _scope(member: StaffMember) -> str:
    if member.kindergarten_id:
        return f"kindergarten {member.kindergarten_id}"
    if member.city_id:
        return f"city {member.city_id}"
    return "everything" if member.role == "superadmin" else "-"


async def _refresh_menu(bot: Bot | None, member: StaffMember) -> None:
    if bot is None:
        print("command menu: not updated (no BOT_TOKEN); it is set at their next /start")
        return
    language = await language_of(member.telegram_user_id)
    await refresh_menu(bot, make_i18n(), member, str(language))
    print("command menu: updated")


async def _staff_command(args: argparse.Namespace, settings: Settings) -> None:
    if args.staff_command == "list":
        await list_staff_cli(args)
        return
    bot = make_bot(settings) if settings.bot_token else None
    try:
        if args.staff_command == "add":
            await add_staff_cli(args, bot)
        else:
            await remove_staff_cli(args, bot)
    finally:
        if bot is not None:
            await bot.session.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="indigo", description="Indigo kindergarten queue bot")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    seed_args = sub.add_parser(
        "seed", help="build the demo city (idempotent: skips a seeded database)"
    )
    seed_args.add_argument("--kindergartens", type=int, default=344)
    seed_args.add_argument("--applications", type=int, default=108_000)
    seed_args.add_argument("--seed", type=int, default=2026, help="random seed")
    position = sub.add_parser("position", help="print an application's queue positions")
    position.add_argument("number", type=int, help="application number, e.g. 1292001")
    sub.add_parser("run", help="run the bot with long polling")
    serve_args = sub.add_parser(
        "serve", help="run the webhooks app (Telegram webhook, callbacks, metrics)"
    )
    serve_args.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes on the same ports (SO_REUSEPORT), sharing PostgreSQL and Redis",
    )
    sub.add_parser("worker", help="deliver notifications and run scheduled jobs")
    demo = sub.add_parser("demo", help="run everything offline against the sandbox")
    demo.add_argument("--headless", action="store_true", help="no terminal chat")
    demo.add_argument("--applications", type=int, default=None)
    staff = sub.add_parser("staff", help="manage staff members")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser("add", help="grant a role")
    add.add_argument("telegram_user_id", type=int)
    add.add_argument("--role", required=True, choices=STAFF_ROLES)
    add.add_argument("--city", help="city code (operators)")
    add.add_argument("--kindergarten", type=int, help="kindergarten id (kindergarten admins)")
    add.add_argument("--name", default="")
    remove = staff_sub.add_parser("remove", help="take a role away")
    remove.add_argument("telegram_user_id", type=int)
    listing = staff_sub.add_parser("list", help="list staff members")
    listing.add_argument("--all", action="store_true", help="also removed ones")
    return parser


async def _command(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "migrate":
        await migrate(settings)
        await _with_db(settings, lambda: _rebuild_position_index(settings))
    elif args.command == "seed":
        size = SeedSize(
            kindergartens=args.kindergartens, applications=args.applications, random_seed=args.seed
        )
        await _with_db(settings, lambda: _seed_and_index(settings, size))
    elif args.command == "position":
        await _with_db(settings, lambda: _print_position(args.number, settings))
    elif args.command == "run":
        await run_polling(settings)
    elif args.command == "serve":
        await serve(settings)
    elif args.command == "worker":
        await run_worker(settings)
    elif args.command == "demo":
        await run_demo(settings, headless=args.headless, applications=args.applications)
    elif args.command == "staff":
        await _with_db(settings, lambda: _staff_command(args, settings))
    else:
        raise SystemExit(f"indigo: unknown command {args.command}")


async def _with_db(settings: Settings, body: Callable[[], Awaitable[None]]) -> None:
    await init_db(settings)
    try:
        await body()
    finally:
        await close_db()


async def _seed_and_index(settings: Settings, size: SeedSize) -> None:
    await seed(settings, size)
    await _rebuild_position_index(settings)


async def _rebuild_position_index(settings: Settings) -> None:
    """The Redis queue-position index, rebuilt from the database (core.queue.index)."""
    indexed = await rebuild_for(settings)
    if indexed is not None:
        print(f"position index: {indexed} active applications", flush=True)


async def _print_position(number: int, settings: Settings) -> None:
    application = await Application.get_or_none(number=number)
    if application is None:
        sys.exit(f"indigo: no application #{number}")
    city = await city_position(application, settings)
    print(
        f"#{number} {application.queue_type.value} queue, birth year {application.birth_year}, "
        f"{application.status.value}: place {city.place} of {city.total} in the city "
        f"(ahead: {city.ahead.extraordinary} extraordinary, {city.ahead.first_priority} "
        f"first-priority, {city.ahead.general} general)"
    )
    for choice, place in await kindergarten_positions(application, settings):
        print(
            f"  {choice.rank}. kindergarten {choice.kindergarten_id} ({choice.language.value}): "
            f"place {place.place} of {place.total}"
        )


if __name__ == "__main__":
    main()
