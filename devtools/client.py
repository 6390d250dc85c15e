"""A person talking to the bot through the sandbox emulator's people's side (tests and scripts).

    client = stack.client(700001, language_code="ru")
    await client.send("/start")
    menu = await client.expect("Выберите язык")
    await client.press("Русский")
    await client.expect("Главное меню")

`expect` waits for the next bot message or edit (after what earlier `expect` calls returned) whose
text contains the given string, and fails with everything the person saw when none arrives.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp

# How long a person waits for the bot before the test fails. Waits end as soon as the message
# arrives, so only a failure takes this long; a loaded machine is slower but not red.
WAIT_BUDGET = 30.0


@dataclass
class BotMessage:
    """A bot message as the person sees it now (edits applied)."""

    message_id: int
    seq: int
    text: str
    html: str | None = None
    parse_mode: str | None = None
    inline_keyboard: list[list[dict[str, Any]]] = field(default_factory=list)
    reply_keyboard: list[list[str]] | None = None
    remove_keyboard: bool = False
    edited: int = 0
    deleted: bool = False
    document: dict[str, Any] | None = None
    photo: dict[str, Any] | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_view(cls, view: dict[str, Any]) -> BotMessage:
        return cls(
            message_id=view["message_id"],
            seq=view["seq"],
            text=view.get("text") or "",
            html=view.get("html"),
            parse_mode=view.get("parse_mode"),
            inline_keyboard=view.get("inline_keyboard") or [],
            reply_keyboard=view.get("reply_keyboard"),
            remove_keyboard=bool(view.get("remove_keyboard")),
            edited=view.get("edited", 0),
            deleted=bool(view.get("deleted")),
            document=view.get("document"),
            photo=view.get("photo"),
            entities=view.get("entities") or [],
        )

    @property
    def buttons(self) -> list[str]:
        """Labels of the inline buttons, then of the reply keyboard, row by row."""
        labels = [b["text"] for row in self.inline_keyboard for b in row]
        return labels + [label for row in self.reply_keyboard or [] for label in row]

    def button(self, label: str) -> dict[str, Any]:
        for row in self.inline_keyboard:
            for button in row:
                if button["text"] == label:
                    return button
        raise AssertionError(f"no button {label!r} in message: {self.buttons}")

    def __str__(self) -> str:
        flags = (" (edited)" if self.edited else "") + (" (deleted)" if self.deleted else "")
        lines = [f"#{self.message_id}{flags}: {self.text}"]
        if self.buttons:
            lines.append(f"    buttons: {self.buttons}")
        return "\n".join(lines)


class E2EClient:
    def __init__(
        self,
        base_url: str,
        user_id: int,
        *,
        language_code: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        phone: str | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.user_id = user_id
        self.profile = {
            k: v
            for k, v in {
                "language_code": language_code,
                "first_name": first_name,
                "last_name": last_name,
                "phone": phone,
            }.items()
            if v
        }
        self._session = session
        self._own_session = session is None
        self.cursor = 0  # seq of the last change `expect` consumed
        self.alert_cursor = 0

    @property
    def _url(self) -> str:
        return f"{self.base_url}/sandbox/users/{self.user_id}"

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> E2EClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _post(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        session = await self._http()
        async with session.post(f"{self._url}/{action}", json=body) as resp:
            data = await resp.json()
            if resp.status != 200:
                raise AssertionError(f"{action} failed ({resp.status}): {data.get('error', data)}")
            return cast("dict[str, Any]", data)

    # -- what the person does -------------------------------------------------------------

    async def send(self, text: str | None = None, **kw: Any) -> dict[str, Any]:
        """Write text, or pass contact=, location=, document=, photo=, sticker= (users.py)."""
        body = {**self.profile, **kw}
        if text is not None:
            body["text"] = text
        return await self._post("send", body)

    async def send_contact(self, phone: str) -> dict[str, Any]:
        return await self.send(contact={"phone_number": phone})

    async def send_document(
        self, content: bytes, file_name: str = "document.pdf", mime_type: str = "application/pdf"
    ) -> dict[str, Any]:
        document = {
            "file_name": file_name,
            "mime_type": mime_type,
            "content_base64": base64.b64encode(content).decode(),
        }
        return await self.send(document=document)

    async def press(
        self,
        label: str | None = None,
        *,
        callback_data: str | None = None,
        message_id: int | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        """Tap a button by its label (newest message having it), or exactly by callback data."""
        body: dict[str, Any] = dict(kw)
        if callback_data is not None:
            body["callback_data"] = callback_data
            if message_id is not None:
                body["message_id"] = message_id
        else:
            body["text"] = label
        if "phone" in self.profile and "phone_number" not in body:
            body["phone_number"] = self.profile["phone"]
        return await self._post("press", body)

    async def block(self, blocked: bool = True) -> None:
        await self._post("block", {"blocked": blocked})

    # -- what the person sees -------------------------------------------------------------

    async def view(self, *, since: int = 0, wait: float = 0) -> dict[str, Any]:
        session = await self._http()
        params = {"since": str(since), "wait": str(wait)}
        async with session.get(f"{self._url}/messages", params=params) as resp:
            resp.raise_for_status()
            return cast("dict[str, Any]", await resp.json())

    async def messages(self, *, include_deleted: bool = False) -> list[BotMessage]:
        view = await self.view()
        found = [BotMessage.from_view(m) for m in view["messages"]]
        return [m for m in found if include_deleted or not m.deleted]

    async def last(self) -> BotMessage | None:
        found = await self.messages()
        return found[-1] if found else None

    async def buttons(self) -> list[str]:
        """What the person can tap now: the newest message's inline buttons and the keyboard."""
        view = await self.view()
        live = [BotMessage.from_view(m) for m in view["messages"] if not m["deleted"]]
        labels = [b["text"] for row in (live[-1].inline_keyboard if live else []) for b in row]
        return labels + [label for row in view.get("reply_keyboard") or [] for label in row]

    async def alerts(self) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", (await self.view())["alerts"])

    async def expect(self, contains: str | None = None, timeout: float = WAIT_BUDGET) -> BotMessage:  # noqa: ASYNC109
        """The next new or edited bot message containing `contains` (any, when None)."""
        deadline = time.monotonic() + timeout
        while True:
            view = await self.view(since=self.cursor)
            changed = sorted(
                (BotMessage.from_view(m) for m in view["messages"]), key=lambda m: m.seq
            )
            for message in changed:
                if not message.deleted and (contains is None or contains in message.text):
                    self.cursor = message.seq
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                recent = "\n".join(str(m) for m in (await self.messages())[-5:])
                raise AssertionError(
                    f"user {self.user_id}: no bot message containing {contains!r} within "
                    f"{timeout} s; the chat ends with:\n{recent or '(no messages)'}"
                )
            await self.view(since=view["seq"], wait=remaining)

    async def expect_alert(
        self,
        contains: str | None = None,
        timeout: float = WAIT_BUDGET,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The next answer to a button press (toast or alert) containing `contains`."""
        deadline = time.monotonic() + timeout
        while True:
            view = await self.view(since=self.alert_cursor, wait=0)
            alerts: list[dict[str, Any]] = view["alerts"]
            for alert in alerts:
                if contains is None or contains in (alert.get("text") or ""):
                    self.alert_cursor = alert["seq"]
                    return alert
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"user {self.user_id}: no answer to a press containing {contains!r}; "
                    f"answers: {[a.get('text') for a in view['alerts']]}"
                )
            await self.view(since=view["seq"], wait=min(remaining, 1.0))
