"""`indigo demo`: the whole service offline, with a terminal chat (or headless for scripts).

Migrates and seeds an embedded SQLite database (`var/demo.sqlite3`), starts the sandbox (Bot API
emulator, gov and SMS fakes; `SANDBOX_PORT` fixes its port), the webhooks app, the bot (long
polling) and the worker in this process. Headless prints `sandbox: http://127.0.0.1:<port>`
once ready and runs until SIGTERM or Ctrl-C; otherwise a chat runs in the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiogram_dialog.utils import split_reply_callback

from core.models import StaffMember
from core.models.enums import StaffRole
from core.people.staff import add_staff
from core.platform.db import close_db, init_db, migrate
from core.platform.settings import Settings
from core.queue.index import index_for
from devtools.demo_complaints import DEMO_OFFICER_ID, seed_complaints
from devtools.sandbox.gov.personas import PERSONAS
from devtools.sandbox.telegram import TelegramEmulator
from devtools.seed import SeedSize, seed
from devtools.stack import Stack, run_stack

log = logging.getLogger(__name__)

DEMO_DATABASE = "sqlite://var/demo.sqlite3"
DEMO_KINDERGARTENS = 40
DEMO_APPLICATIONS = 3000
DEMO_STAFF_ID = 900000001
FIRST_PERSONA_ID = 700001
GUEST_ID = 700000


@dataclass(frozen=True)
class DemoPersona:
    user_id: int
    key: str
    first_name: str
    last_name: str
    iin: str
    phones: tuple[str, ...]
    description: str
    language: str = "ru"


def demo_personas() -> list[DemoPersona]:
    """Parents the fake registry knows (sandbox.gov.personas), each with a Telegram user id."""
    return [
        DemoPersona(
            user_id=FIRST_PERSONA_ID + index,
            key=persona.key,
            first_name=persona.first_name,
            last_name=persona.last_name,
            iin=persona.iin,
            phones=tuple(persona.phones),
            description=persona.description,
            language="kk" if index % 2 == 0 else "ru",
        )
        for index, persona in enumerate(PERSONAS)
    ]


def demo_settings(settings: Settings) -> Settings:
    """The embedded defaults, unless the environment chose a database."""
    if "database_url" in settings.model_fields_set or os.environ.get("DATABASE_URL"):
        return settings
    return settings.model_copy(update={"database_url": DEMO_DATABASE})


async def prepare_database(settings: Settings, applications: int | None) -> None:
    await migrate(settings)
    await init_db(settings)
    size = SeedSize(
        kindergartens=DEMO_KINDERGARTENS,
        applications=DEMO_APPLICATIONS if applications is None else applications,
    )
    report = await seed(settings, size)
    if not report.skipped:
        print(
            f"seeded the demo city: {report.kindergartens} kindergartens, "
            f"{report.applications} applications ({report.seconds:.1f} s)",
            flush=True,
        )
    await ensure_staff()
    await seed_complaints(settings, DEMO_STAFF_ID)


async def ensure_staff() -> None:
    if not await StaffMember.exists(telegram_user_id=DEMO_STAFF_ID):
        await add_staff(DEMO_STAFF_ID, StaffRole.superadmin, name="Demo staff", by="demo")


def personas_text(personas: list[DemoPersona]) -> str:
    lines = ["Demo personas (the fake registry knows these parents; /as <user id> to switch):"]
    for persona in personas:
        lines.append(
            f"  {persona.user_id}  {persona.first_name} {persona.last_name}, IIN {persona.iin}, "
            f"phones {', '.join(persona.phones)}: {persona.description}"
        )
    lines.append(f"  {DEMO_STAFF_ID}  staff member (superadmin): /as staff")
    lines.append(
        f"  {DEMO_OFFICER_ID}  anti-corruption officer: /as {DEMO_OFFICER_ID}, /complaints"
    )
    lines.append("  Any other valid IIN is a generated person in the fake registry too.")
    return "\n".join(lines)


async def run_demo(settings: Settings, *, headless: bool, applications: int | None) -> None:
    settings = demo_settings(settings)
    log_file = None
    if not headless:
        log_file = _quiet_logs()
    print("preparing the demo database…", flush=True)
    await prepare_database(settings, applications)
    port = int(os.environ.get("SANDBOX_PORT") or 0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        # Seeded parents are Telegram users who never opened this emulator: let pushes and
        # broadcasts reach their chats, so staff see deliveries rather than "chat not found".
        async with run_stack(
            settings=settings,
            init_database=False,
            sandbox_port=port,
            telegram={"known_chats_only": False},
        ) as stack:
            print(personas_text(demo_personas()), flush=True)
            print(f"sandbox: {stack.sandbox_url}", flush=True)
            # The webhooks app: provider callbacks, the public page and the public log.
            print(f"public page: {stack.webhooks_url}/public", flush=True)
            print(f"public log: {stack.webhooks_url}/log/checkpoint", flush=True)
            index = index_for(stack.app.redis)
            if index is not None:
                index.rebuild_in_background()  # queue positions from Redis
            if headless:
                await stop.wait()
            else:
                if log_file:
                    print(f"(logs: {log_file})")
                chat = TerminalChat(stack, stop)
                await chat.run()
    finally:
        with contextlib.suppress(Exception):
            await close_db()
        print("demo stopped", flush=True)


def _quiet_logs() -> str:
    """The chat owns the terminal: logs go to var/demo.log."""
    path = Path("var") / "demo.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return str(path)


HELP = """\
Type a message for the bot, or a button number. Commands of the demo:
  /as <user id> | /as staff | /as <persona key>   talk as someone else
  /lang kk|ru                                    the phone's language (asks the bot to switch)
  /contact [phone]                               share a phone number (the persona's by default)
  /sms [phone]                                   read the phone's SMS inbox (one-time codes)
  /consent yes|no                                answer the 1414 SMS of a family-data request
  /location                                      share a location (central Astana)
  /block, /unblock                               block or unblock the bot
  /personas, /help, /quit                        (Ctrl-C also quits)
Other /commands (/start, /cancel, /help@bot...) go to the bot."""


class TerminalChat:
    """Prints the current persona's chat as it changes; reads lines and acts on them."""

    def __init__(self, stack: Stack, stop: asyncio.Event) -> None:
        self.stack = stack
        self.stop = stop
        self.personas = demo_personas()
        self.numbered: list[tuple[str, dict[str, Any], int]] = []  # (kind, button, message_id)
        self.user_id = self.personas[0].user_id if self.personas else GUEST_ID
        self.cursor = 0
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._buttons_shown = ""

    @property
    def emulator(self) -> TelegramEmulator:
        return self.stack.telegram

    def persona(self) -> DemoPersona | None:
        return next((p for p in self.personas if p.user_id == self.user_id), None)

    def profile(self) -> dict[str, Any]:
        persona = self.persona()
        if persona is not None:
            return {
                "first_name": persona.first_name,
                "last_name": persona.last_name,
                "phone": persona.phones[0],
                "language_code": persona.language,
            }
        if self.user_id == DEMO_STAFF_ID:
            return {"first_name": "Staff", "language_code": "ru"}
        return {"first_name": f"Guest{self.user_id}", "language_code": "ru"}

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(sys.stdin.fileno(), self._read_line)
        printer = asyncio.create_task(self._printer())
        print(HELP)
        self._switch(self.user_id)
        try:
            while not self.stop.is_set():
                get = asyncio.create_task(self.lines.get())
                stopped = asyncio.create_task(self.stop.wait())
                done, _ = await asyncio.wait({get, stopped}, return_when=asyncio.FIRST_COMPLETED)
                for task in (get, stopped):
                    if task not in done:
                        task.cancel()
                if get not in done:
                    break
                line = get.result()
                if line is None:
                    break
                try:
                    await self.handle(line.strip())
                except Exception as exc:  # the chat goes on after a bad command
                    print(f"! {exc}")
        finally:
            loop.remove_reader(sys.stdin.fileno())
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer

    def _read_line(self) -> None:
        line = sys.stdin.readline()
        self.lines.put_nowait(line if line else None)  # "" is end of input

    def _switch(self, user_id: int) -> None:
        self.user_id = user_id
        user = self.emulator.user(user_id, **self.profile())
        self.cursor = 0
        self.numbered = []
        self._buttons_shown = ""
        persona = self.persona()
        who = f"{persona.first_name} {persona.last_name}" if persona else user.first_name
        print(f"── you are {who} (user {user_id}); /start to begin ──")

    async def handle(self, line: str) -> None:
        if not line:
            return
        # A short number presses a button; a longer one (a code, an IIN) is text for the bot.
        if line.isdigit() and len(line) <= 2 and self.numbered:
            await self.press_number(int(line))
            return
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        handler = {
            "/quit": self.c_quit,
            "/exit": self.c_quit,
            "/as": self.c_as,
            "/lang": self.c_lang,
            "/contact": self.c_contact,
            "/sms": self.c_sms,
            "/consent": self.c_consent,
            "/location": self.c_location,
            "/block": self.c_block,
            "/unblock": self.c_unblock,
            "/personas": self.c_personas,
            "/help": self.c_help,
        }.get(command.lower())
        if handler is not None:
            await handler(rest)
            return
        self.emulator.send(self.user_id, {"text": line})

    async def press_number(self, number: int) -> None:
        if not 1 <= number <= len(self.numbered):
            print(f"! no button {number}")
            return
        kind, button, message_id = self.numbered[number - 1]
        if kind == "inline" and "callback_data" in button:
            self.emulator.press(
                self.user_id,
                {"callback_data": button["callback_data"], "message_id": message_id},
            )
        elif kind == "inline":
            print(f"  (opens {button.get('url', 'a link')})")
        else:
            self.emulator.press(self.user_id, {"text": button["text"], **self._press_extras()})

    def _press_extras(self) -> dict[str, Any]:
        persona = self.persona()
        return {"phone_number": persona.phones[0]} if persona else {}

    async def c_quit(self, rest: str) -> None:
        self.stop.set()

    async def c_as(self, rest: str) -> None:
        if rest == "staff":
            self._switch(DEMO_STAFF_ID)
            return
        found = next((p for p in self.personas if p.key == rest.lower()), None)
        if found is not None:
            self._switch(found.user_id)
        elif rest.isdigit():
            self._switch(int(rest))
        else:
            print("! /as <user id> | staff | " + " | ".join(p.key for p in self.personas))

    async def c_lang(self, rest: str) -> None:
        code = rest.lower()
        if code not in ("kk", "ru"):
            print("! /lang kk or /lang ru")
            return
        self.emulator.user(self.user_id, language_code=code)
        self.emulator.send(self.user_id, {"text": "/lang"})
        for _ in range(50):  # press the language button when the bot offers it
            await asyncio.sleep(0.1)
            with contextlib.suppress(LookupError):
                self.emulator.press(self.user_id, {"callback_data": f"lang:{code}"})
                return

    async def c_contact(self, rest: str) -> None:
        phone = rest or self.profile().get("phone")
        if not phone:
            print("! /contact <phone>")
            return
        self.emulator.send(self.user_id, {"contact": {"phone_number": phone}})

    async def c_location(self, rest: str) -> None:
        self.emulator.send(self.user_id, {"location": {}})

    async def c_sms(self, rest: str) -> None:
        phone = rest or self.profile().get("phone")
        if not phone:
            print("! /sms <phone>")
            return
        messages = await self.stack.sms_inbox(phone)
        if not messages:
            print(f"  (no SMS for {phone})")
        for message in messages[-5:]:
            print(f"  SMS to {phone}: {message.get('text')}")

    async def c_consent(self, rest: str) -> None:
        answer = rest.lower() not in ("no", "n", "нет", "жоқ", "false")
        base = self.stack.sandbox_url
        async with self.stack.http.get(f"{base}/sandbox/gov/requests") as resp:
            waiting = (await resp.json()).get("requests", [])
        if not waiting:
            print("  (no family-data request is waiting for consent)")
        for request in waiting:
            url = f"{base}/sandbox/gov/consent/{request['request_id']}"
            async with self.stack.http.post(url, json={"consent": answer}) as resp:
                resp.raise_for_status()
            print(f"  1414: {'consented' if answer else 'refused'} ({request['request_id']})")

    async def c_block(self, rest: str) -> None:
        self.emulator.block(self.user_id, True)
        print("  (you blocked the bot)")

    async def c_unblock(self, rest: str) -> None:
        self.emulator.block(self.user_id, False)
        print("  (you unblocked the bot)")

    async def c_personas(self, rest: str) -> None:
        print(personas_text(self.personas))

    async def c_help(self, rest: str) -> None:
        print(HELP)

    async def _printer(self) -> None:
        while True:
            user = self.emulator.user(self.user_id)
            view = self.emulator.messages_view(user, since=self.cursor)
            if view["messages"] or view["alerts"]:
                self.cursor = view["seq"]
                self._show(view)
            await user.changed.wait(0.5)

    def _show(self, view: dict[str, Any]) -> None:
        for alert in view["alerts"]:
            if alert.get("text"):
                print(f"  ⟨{alert['text']}⟩")
        printed = False
        for message in view["messages"]:
            if message["deleted"]:
                continue
            mark = "bot (edited)" if message["edited"] else "bot"
            print(f"\n{mark}:")
            text = message["text"] or ""
            if message.get("document"):
                text += f"\n[document {message['document'].get('file_name', '')}]"
            if message.get("photo"):
                text += "\n[photo]"
            for paragraph in text.split("\n"):
                print(textwrap.fill(paragraph, 96, initial_indent="  ", subsequent_indent="  "))
            printed = True
        if printed:
            self._buttons_shown = ""  # show what can be pressed after the new text
        self._number_buttons(view)

    def _number_buttons(self, view: dict[str, Any]) -> None:
        user = self.emulator.user(self.user_id)
        full = self.emulator.messages_view(user)
        live = [m for m in full["messages"] if not m["deleted"] and m["inline_keyboard"]]
        self.numbered = []
        lines = []
        if live:
            newest = live[-1]
            for row in newest["inline_keyboard"]:
                cells = []
                for button in row:
                    self.numbered.append(("inline", button, newest["message_id"]))
                    cells.append(f"[{len(self.numbered)}] {button['text']}")
                lines.append("  " + "   ".join(cells))
        keyboard = user.reply_keyboard
        if keyboard:
            for row in keyboard.get("keyboard", []):
                cells = []
                for button in row:
                    self.numbered.append(("reply", button, 0))
                    label, _ = split_reply_callback(button["text"])  # aiogram-dialog's marker
                    cells.append(f"({len(self.numbered)}) {label}")
                lines.append("  " + " | ".join(cells))
        shown = "\n".join(lines)
        if shown and shown != self._buttons_shown:
            print(shown)
        self._buttons_shown = shown
