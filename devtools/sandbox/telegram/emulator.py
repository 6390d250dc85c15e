"""The Bot API emulator's behaviour: methods the bot calls and actions users take.

HTTP lives in `botapi.py` (the bot's side) and `users.py` (the people's side); this module holds
the state machine both act on, so tests can also drive it directly.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import contextlib
import hashlib
import itertools
import json
import logging
import secrets
import struct
import time
from collections import Counter
from typing import Any

import aiohttp

from devtools.sandbox.telegram.config import TelegramConfig
from devtools.sandbox.telegram.markup import ParseError, parse_html, utf16_len
from devtools.sandbox.telegram.state import (
    BLOCKED,
    CHAT_NOT_FOUND,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    ApiError,
    ChatMessage,
    SandboxUser,
    Signal,
    StoredFile,
    TokenBucket,
    bad_request,
    retry_after_seconds,
)

log = logging.getLogger(__name__)

# Update types a bot gets when it does not say (Telegram's default leaves these out).
NOT_BY_DEFAULT = {"chat_member", "message_reaction", "message_reaction_count"}
SEND_METHODS = {"sendMessage", "sendDocument", "sendPhoto", "sendVenue", "sendLocation"}
# A 1x1 PNG: what a user "sends" as a photo when the test gives no picture.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
ASTANA = (51.1282, 71.4307)


class Params:
    """A method's parameters from a query string, a form, multipart or JSON, typed on read."""

    def __init__(self, values: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> None:
        self.values = values
        self.files = files  # field name -> (file name, content)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def int(self, name: builtins.str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"invalid {name} specified") from exc

    def float(self, name: builtins.str, default: float | None = None) -> float | None:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        return float(value)

    def bool(self, name: builtins.str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def json(self, name: builtins.str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            if not value:
                return None
            try:
                return json.loads(value)
            except ValueError as exc:
                raise bad_request(f"can't parse {name} JSON object") from exc
        return value


class TelegramEmulator:
    def __init__(self, config: TelegramConfig | None = None) -> None:
        self.config = config or TelegramConfig()
        self.users: dict[int, SandboxUser] = {}
        self.files: dict[str, StoredFile] = {}
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 100_000_001
        self.updates_signal = Signal()
        self.allowed_updates: set[str] | None = None
        self.poll_generation = 0
        self.webhook: dict[str, Any] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._in_flight: set[int] = set()  # update ids being delivered to the webhook
        self._busy_chats: set[int] = set()
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.bot_texts: dict[str, dict[str, str]] = {}
        self.menu_button: dict[str, Any] = {"type": "commands"}
        self.callbacks: dict[str, dict[str, Any]] = {}
        self.stats: Counter[str] = Counter()
        self._global_bucket: TokenBucket | None = None
        self._chat_buckets: dict[int, TokenBucket] = {}
        self._bucket_params: tuple[float, float, int] | None = None
        self._file_counter = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self.closing = False

    # -- the bot --------------------------------------------------------------------------

    @property
    def bot_id(self) -> int:
        head = (self.config.token or "").split(":", 1)[0]
        return int(head) if head.isdigit() else 100_000

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.config.bot_first_name,
            "username": self.config.bot_username,
        }

    def shutdown(self) -> None:
        """Release every long poll and waiting reader (the server is stopping)."""
        self.closing = True
        self.updates_signal.notify()
        for user in self.users.values():
            user.changed.notify()

    async def close(self) -> None:
        self.shutdown()
        await self._stop_webhook()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, params: Params) -> Any:
        handler = getattr(self, f"m_{method}", None)
        if handler is None:
            raise bad_request(f"the sandbox does not implement {method}")
        self.stats[f"method.{method}"] += 1
        try:
            return await handler(params)
        except ApiError as exc:
            self.stats[f"error.{exc.code}"] += 1
            if exc.code == 429:
                self.stats["too_many_requests"] += 1
            raise

    # -- getMe, commands, descriptions ----------------------------------------------------

    async def m_getMe(self, p: Params) -> dict[str, Any]:
        return {
            **self.bot_user(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def m_logOut(self, p: Params) -> bool:
        return True

    async def m_close(self, p: Params) -> bool:
        return True

    def _commands_key(self, p: Params) -> tuple[str, str]:
        scope = p.json("scope") or {"type": "default"}
        return (json.dumps(scope, sort_keys=True), p.str("language_code") or "")

    async def m_setMyCommands(self, p: Params) -> bool:
        commands = p.json("commands")
        if not isinstance(commands, list):
            raise bad_request('parameter "commands" is required')
        for command in commands:
            name = str(command.get("command", ""))
            if not name or len(name) > 32 or not name.replace("_", "").isalnum():
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description is empty")
        self.commands[self._commands_key(p)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def m_getMyCommands(self, p: Params) -> list[dict[str, str]]:
        scope, language = self._commands_key(p)
        return self.commands.get((scope, language), [])

    async def m_deleteMyCommands(self, p: Params) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    async def _set_text(self, p: Params, kind: str) -> bool:
        self.bot_texts.setdefault(kind, {})[p.str("language_code") or ""] = p.str(kind) or ""
        return True

    async def m_setMyDescription(self, p: Params) -> bool:
        return await self._set_text(p, "description")

    async def m_setMyShortDescription(self, p: Params) -> bool:
        return await self._set_text(p, "short_description")

    async def m_setMyName(self, p: Params) -> bool:
        return await self._set_text(p, "name")

    async def m_setChatMenuButton(self, p: Params) -> bool:
        self.menu_button = p.json("menu_button") or {"type": "default"}
        return True

    async def m_getChatMenuButton(self, p: Params) -> dict[str, Any]:
        return self.menu_button

    # -- chats ----------------------------------------------------------------------------

    def _chat(self, p: Params, *, sending: bool = True) -> SandboxUser:
        raw = p.values.get("chat_id")
        if raw in (None, ""):
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad_request(CHAT_NOT_FOUND) from None
        user = self.users.get(chat_id)
        if user is None or not user.contacted:
            if self.config.known_chats_only or chat_id <= 0:
                raise bad_request(CHAT_NOT_FOUND)
            user = self.user(chat_id)
            user.contacted = True
        if sending and user.blocked:
            raise ApiError(403, BLOCKED)
        return user

    async def m_getChat(self, p: Params) -> dict[str, Any]:
        user = self._chat(p, sending=False)
        return {
            **user.chat_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    async def m_getChatMember(self, p: Params) -> dict[str, Any]:
        user = self._chat(p, sending=False)
        member_id = p.int("user_id")
        if member_id == user.id:
            status = "kicked" if user.blocked else "member"
            body: dict[str, Any] = {"status": status, "user": user.user_json()}
            if user.blocked:
                body["until_date"] = 0
            return body
        if member_id == self.bot_id:
            return {"status": "member", "user": self.bot_user()}
        raise bad_request("PARTICIPANT_ID_INVALID")

    async def m_sendChatAction(self, p: Params) -> bool:
        user = self._chat(p)
        action = p.str("action")
        if not action:
            raise bad_request("action is empty")
        user.chat_actions.append(action)
        del user.chat_actions[:-20]
        return True

    # -- sending --------------------------------------------------------------------------

    def _check_rate(self, user: SandboxUser) -> None:
        config = self.config
        if not config.rate_limits:
            return
        params = (config.global_per_second, config.per_chat_per_second, config.per_chat_burst)
        if params != self._bucket_params:
            self._bucket_params = params
            self._global_bucket = TokenBucket(config.global_per_second, config.global_per_second)
            self._chat_buckets.clear()
        assert self._global_bucket is not None
        chat_bucket = self._chat_buckets.get(user.id)
        if chat_bucket is None:
            chat_bucket = TokenBucket(config.per_chat_per_second, config.per_chat_burst)
            self._chat_buckets[user.id] = chat_bucket
        now = time.monotonic()
        wait = max(self._global_bucket.wait_time(now), chat_bucket.wait_time(now))
        if wait > 0:
            retry = retry_after_seconds(wait)
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        self._global_bucket.take()
        chat_bucket.take()

    def _text(
        self, p: Params, name: str, limit: int, *, required: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        raw = p.str(name) or ""
        parse_mode = p.str("parse_mode")
        if name == "caption":
            entities = p.json("caption_entities")
        else:
            entities = p.json("entities")
        if parse_mode and parse_mode.upper() == "HTML":
            try:
                text, parsed = parse_html(raw)
            except ParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        else:
            text, parsed = raw.strip(), list(entities or [])
        if required and not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > limit:
            raise bad_request(
                "message is too long" if name == "text" else "message caption is too long"
            )
        return text, parsed

    def _markup(self, p: Params) -> dict[str, Any] | None:
        markup = p.json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = []
            for row in markup["inline_keyboard"]:
                buttons = []
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise bad_request("BUTTON_TEXT_INVALID")
                    actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
                    if not actions:
                        raise bad_request("text buttons are unallowed in the inline keyboard")
                    if "callback_data" in button:
                        data = str(button["callback_data"]).encode()
                        if not data or len(data) > self.config.max_callback_data_bytes:
                            raise bad_request("BUTTON_DATA_INVALID")
                    buttons.append(button)
                if buttons:
                    rows.append(buttons)
            return {"inline_keyboard": rows}
        if "keyboard" in markup:
            rows = []
            for row in markup["keyboard"]:
                buttons = [b if isinstance(b, dict) else {"text": str(b)} for b in row]
                if any(not b.get("text") for b in buttons):
                    raise bad_request("BUTTON_TEXT_INVALID")
                rows.append(buttons)
            return {**markup, "keyboard": rows}
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _new_bot_message(
        self,
        user: SandboxUser,
        content: dict[str, Any],
        *,
        source_text: str | None,
        parse_mode: str | None,
        markup: dict[str, Any] | None,
    ) -> ChatMessage:
        message_id = user.new_message_id()
        body: dict[str, Any] = {
            "message_id": message_id,
            "from": self.bot_user(),
            "chat": user.chat_json(),
            "date": int(time.time()),
            **content,
        }
        if markup and "inline_keyboard" in markup:
            body["reply_markup"] = markup
        message = ChatMessage(
            message_id=message_id,
            from_bot=True,
            date=body["date"],
            body=body,
            source_text=source_text,
            parse_mode=parse_mode,
            reply_markup=markup,
            seq=user.next_seq(),
        )
        user.messages[message_id] = message
        if markup and "keyboard" in markup:
            user.reply_keyboard = markup
        elif markup and markup.get("remove_keyboard"):
            user.reply_keyboard = None
        self.stats["sent_messages"] += 1
        user.changed.notify()
        return message

    async def m_sendMessage(self, p: Params) -> dict[str, Any]:
        user = self._chat(p)
        text, entities = self._text(p, "text", self.config.max_text_length, required=True)
        markup = self._markup(p)
        self._check_rate(user)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        message = self._new_bot_message(
            user, content, source_text=p.str("text"), parse_mode=p.str("parse_mode"), markup=markup
        )
        return message.body

    async def _send_file(self, p: Params, field: str) -> dict[str, Any]:
        user = self._chat(p)
        stored = await self._input_file(p, field)
        caption, entities = self._text(p, "caption", self.config.max_caption_length, required=False)
        markup = self._markup(p)
        self._check_rate(user)
        content: dict[str, Any] = {}
        if field == "photo":
            content["photo"] = self._photo_sizes(stored)
        else:
            content["document"] = self._document_json(stored)
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        message = self._new_bot_message(
            user,
            content,
            source_text=p.str("caption"),
            parse_mode=p.str("parse_mode"),
            markup=markup,
        )
        return message.body

    async def m_sendDocument(self, p: Params) -> dict[str, Any]:
        return await self._send_file(p, "document")

    async def m_sendLocation(self, p: Params) -> dict[str, Any]:
        user = self._chat(p)
        location = self._location(p)
        markup = self._markup(p)
        self._check_rate(user)
        message = self._new_bot_message(
            user, {"location": location}, source_text=None, parse_mode=None, markup=markup
        )
        return message.body

    async def m_sendVenue(self, p: Params) -> dict[str, Any]:
        """A place on the map with its name and address (a kindergarten's "show on the map")."""
        user = self._chat(p)
        location = self._location(p)
        title, address = p.str("title"), p.str("address")
        if not title:
            raise bad_request("title is empty")  # Telegram requires both
        if not address:
            raise bad_request("address is empty")
        markup = self._markup(p)
        self._check_rate(user)
        venue = {"location": location, "title": title, "address": address}
        message = self._new_bot_message(
            user,
            {"venue": venue, "location": location},  # as Telegram sends a venue: both
            source_text=None,
            parse_mode=None,
            markup=markup,
        )
        return message.body

    @staticmethod
    def _location(p: Params) -> dict[str, float]:
        latitude, longitude = p.float("latitude"), p.float("longitude")
        if latitude is None or longitude is None:
            raise bad_request("latitude and longitude are required")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise bad_request("wrong latitude or longitude")
        return {"latitude": latitude, "longitude": longitude}

    async def m_sendPhoto(self, p: Params) -> dict[str, Any]:
        return await self._send_file(p, "photo")

    # -- editing and deleting -------------------------------------------------------------

    def _own_message(self, p: Params, *, action: str) -> tuple[SandboxUser, ChatMessage]:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        user = self._chat(p, sending=False)
        message_id = p.int("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = user.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request(f"message to {action} not found")
        if not message.from_bot:
            raise bad_request(
                f"message can't be {action}ed" if action == "edit" else "message can't be deleted"
            )
        return user, message

    def _apply_edit(self, user: SandboxUser, message: ChatMessage, body: dict[str, Any]) -> None:
        body["edit_date"] = int(time.time())
        message.body = body
        message.edited += 1
        message.seq = user.next_seq()
        self.stats["edits"] += 1
        user.changed.notify()

    async def m_editMessageText(self, p: Params) -> dict[str, Any]:
        user, message = self._own_message(p, action="edit")
        if "text" not in message.body:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._text(p, "text", self.config.max_text_length, required=True)
        markup = self._markup(p)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")  # edits carry inline keyboards only
        body = {k: v for k, v in message.body.items() if k not in ("entities", "reply_markup")}
        body["text"] = text
        if entities:
            body["entities"] = entities
        if markup and markup["inline_keyboard"]:
            body["reply_markup"] = markup
        if _same(body, message.body):
            raise bad_request(NOT_MODIFIED)
        message.source_text, message.parse_mode = p.str("text"), p.str("parse_mode")
        message.reply_markup = body.get("reply_markup")
        self._apply_edit(user, message, body)
        return message.body

    async def m_editMessageCaption(self, p: Params) -> dict[str, Any]:
        user, message = self._own_message(p, action="edit")
        if "text" in message.body:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._text(p, "caption", self.config.max_caption_length, required=False)
        markup = self._markup(p)
        body = {
            k: v
            for k, v in message.body.items()
            if k not in ("caption", "caption_entities", "reply_markup")
        }
        if caption:
            body["caption"] = caption
        if entities:
            body["caption_entities"] = entities
        if markup and markup.get("inline_keyboard"):
            body["reply_markup"] = markup
        if _same(body, message.body):
            raise bad_request(NOT_MODIFIED)
        message.source_text, message.parse_mode = p.str("caption"), p.str("parse_mode")
        message.reply_markup = body.get("reply_markup")
        self._apply_edit(user, message, body)
        return message.body

    async def m_editMessageReplyMarkup(self, p: Params) -> dict[str, Any]:
        user, message = self._own_message(p, action="edit")
        markup = self._markup(p)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        body = {k: v for k, v in message.body.items() if k != "reply_markup"}
        if markup and markup["inline_keyboard"]:
            body["reply_markup"] = markup
        if _same(body, message.body):
            raise bad_request(NOT_MODIFIED)
        message.reply_markup = body.get("reply_markup")
        self._apply_edit(user, message, body)
        return message.body

    async def m_deleteMessage(self, p: Params) -> bool:
        user, message = self._own_message(p, action="delete")
        message.deleted = True
        message.seq = user.next_seq()
        self.stats["deletes"] += 1
        user.changed.notify()
        return True

    async def m_answerCallbackQuery(self, p: Params) -> bool:
        query_id = p.str("callback_query_id")
        query = self.callbacks.get(query_id or "")
        too_old = (
            query and time.monotonic() - query["created"] > self.config.callback_answer_timeout
        )
        if query is None or query["answered"] or too_old:
            raise bad_request(QUERY_TOO_OLD)
        query["answered"] = True
        user = self.users[query["user_id"]]
        alert = {
            "callback_query_id": query_id,
            "message_id": query["message_id"],
            "text": p.str("text"),
            "show_alert": p.bool("show_alert"),
            "url": p.str("url"),
            "seq": user.next_seq(),
        }
        user.alerts.append(alert)
        self.stats["callback_answers"] += 1
        user.changed.notify()
        return True

    # -- files ----------------------------------------------------------------------------

    def store_file(
        self, content: bytes, *, kind: str, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        number = next(self._file_counter)
        prefix = {"photo": "AgAC", "document": "BQAC", "sticker": "CAAC"}.get(kind, "BAAC")
        unique = hashlib.sha256(content).hexdigest()[:16]
        extension = (file_name or "").rpartition(".")[2] if file_name and "." in file_name else ""
        if kind == "photo":
            extension = extension or "jpg"
        path = f"{kind}s/file_{number}" + (f".{extension}" if extension else "")
        stored = StoredFile(
            file_id=f"{prefix}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{unique}",
            file_path=path,
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    async def _input_file(self, p: Params, field: str) -> StoredFile:
        if field in p.files:
            name, content = p.files[field]
            return self.store_file(content, kind=field, file_name=name, mime_type=_mime(name))
        value = p.str(field)
        if not value:
            raise bad_request(f"there is no {field} in the request")
        if value.startswith("attach://"):
            key = value.removeprefix("attach://")
            if key not in p.files:
                raise bad_request("wrong HTTP URL specified")
            name, content = p.files[key]
            return self.store_file(content, kind=field, file_name=name, mime_type=_mime(name))
        if value in self.files:
            return self.files[value]
        if value.startswith(("http://", "https://")):
            try:
                session = self._client_session()
                async with session.get(value, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                    resp.raise_for_status()
                    content = await resp.read()
            except (aiohttp.ClientError, TimeoutError):
                raise bad_request("failed to get HTTP URL content") from None
            name = value.rsplit("/", 1)[-1] or field
            return self.store_file(content, kind=field, file_name=name, mime_type=_mime(name))
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _document_json(self, stored: StoredFile) -> dict[str, Any]:
        body: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        if stored.file_name:
            body["file_name"] = stored.file_name
        if stored.mime_type:
            body["mime_type"] = stored.mime_type
        return body

    def _photo_sizes(self, stored: StoredFile) -> list[dict[str, Any]]:
        width, height = _image_size(stored.content)
        return [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.content),
                "width": width,
                "height": height,
            }
        ]

    async def m_getFile(self, p: Params) -> dict[str, Any]:
        stored = self.files.get(p.str("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > 20 * 1024 * 1024:
            raise bad_request("file is too big")
        return stored.file_json()

    def file_by_path(self, path: str) -> StoredFile | None:
        for stored in self.files.values():
            if stored.file_path == path:
                return stored
        return None

    # -- updates: long polling ------------------------------------------------------------

    def _allowed(self, kind: str) -> bool:
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in NOT_BY_DEFAULT

    def push_update(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update for the bot; None when the bot's allowed_updates leave it out."""
        if not self._allowed(kind):
            return None
        update_id = self.next_update_id
        self.next_update_id += 1
        self.updates.append({"update_id": update_id, kind: payload})
        self.stats["updates"] += 1
        self.updates_signal.notify()
        return update_id

    async def m_getUpdates(self, p: Params) -> list[dict[str, Any]]:
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        self.poll_generation += 1
        generation = self.poll_generation
        self.updates_signal.notify()  # an older poll still waiting ends with a conflict
        allowed = p.json("allowed_updates")
        if allowed is not None:
            self.allowed_updates = set(allowed) or None
            self.updates = [u for u in self.updates if self._allowed(_kind(u))]
        offset = p.int("offset", 0) or 0
        limit = min(max(p.int("limit", 100) or 100, 1), 100)
        timeout = min(max(p.float("timeout", 0) or 0, 0), self.config.max_poll_timeout)
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        deadline = time.monotonic() + timeout
        while True:
            if generation != self.poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            if self.updates:
                return self.updates[:limit]
            if self.closing:
                return []
            if not await self.updates_signal.wait(deadline - time.monotonic()):
                if generation != self.poll_generation:
                    continue
                return []

    # -- updates: webhook -----------------------------------------------------------------

    async def m_setWebhook(self, p: Params) -> bool:
        url = p.str("url") or ""
        if p.bool("drop_pending_updates"):
            self.updates.clear()
        if not url:
            await self._stop_webhook()
            self.webhook = None
            return True
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.str("secret_token")
        if secret and (len(secret) > 256 or not all(c.isalnum() or c in "_-" for c in secret)):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.json("allowed_updates")
        if allowed is not None:
            self.allowed_updates = set(allowed) or None
        await self._stop_webhook()
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": p.int("max_connections", 40) or 40,
            "last_error_date": None,
            "last_error_message": None,
        }
        self.poll_generation += 1
        self.updates_signal.notify()
        self._webhook_task = asyncio.create_task(self._deliver_loop(self.webhook))
        return True

    async def m_deleteWebhook(self, p: Params) -> bool:
        if p.bool("drop_pending_updates"):
            self.updates.clear()
        await self._stop_webhook()
        self.webhook = None
        return True

    async def m_getWebhookInfo(self, p: Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self.webhook["last_error_date"]:
                info["last_error_date"] = self.webhook["last_error_date"]
                info["last_error_message"] = self.webhook["last_error_message"]
            if self.allowed_updates:
                info["allowed_updates"] = sorted(self.allowed_updates)
        return info

    async def _stop_webhook(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        self.webhook = None  # the delivery loop ends on its next turn even if a cancel is lost
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._in_flight.clear()
        self._busy_chats.clear()

    def _client_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _deliver_loop(self, hook: dict[str, Any]) -> None:
        """Send pending updates, in order within a chat, up to max_connections at once."""
        tasks: set[asyncio.Task[None]] = set()
        try:
            while self.webhook is hook:
                picked = None
                if len(tasks) < hook["max_connections"]:
                    for update in self.updates:
                        chat = _chat_of(update)
                        if update["update_id"] in self._in_flight:
                            continue
                        if chat in self._busy_chats:
                            continue
                        picked = update
                        break
                if picked is None:
                    await self.updates_signal.wait(1.0)
                    continue
                self._in_flight.add(picked["update_id"])
                self._busy_chats.add(_chat_of(picked))
                task = asyncio.create_task(self._deliver(hook, picked))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            for task in tasks:
                task.cancel()

    async def _deliver(self, hook: dict[str, Any], update: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/json"}
        if hook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        attempt = 0
        try:
            while True:
                error = await self._post_update(hook["url"], update, headers)
                if error is None:
                    self.stats["webhook_deliveries"] += 1
                    if update in self.updates:
                        self.updates.remove(update)
                    return
                self.stats["webhook_failures"] += 1
                if self.webhook is not None:
                    self.webhook["last_error_date"] = int(time.time())
                    self.webhook["last_error_message"] = error
                delay = min(
                    self.config.webhook_retry_base * 2**attempt, self.config.webhook_retry_max
                )
                attempt += 1
                await asyncio.sleep(delay)
        finally:
            self._in_flight.discard(update["update_id"])
            self._busy_chats.discard(_chat_of(update))
            self.updates_signal.notify()

    async def _post_update(
        self, url: str, update: dict[str, Any], headers: dict[str, str]
    ) -> str | None:
        """None on success, else the error text getWebhookInfo shows."""
        session = self._client_session()
        try:
            async with session.post(
                url,
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.config.webhook_timeout),
            ) as resp:
                if not 200 <= resp.status < 300:
                    return f"Wrong response from the webhook: {resp.status} {resp.reason}"
                reply = await resp.read()
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientError as exc:
            return f"Connection refused: {type(exc).__name__}"
        await self._method_in_reply(reply)
        return None

    async def _method_in_reply(self, reply: bytes) -> None:
        """Telegram runs a method the webhook answered with (aiogram can reply this way)."""
        if not reply.strip():
            return
        try:
            body = json.loads(reply)
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("method"), str):
            method = _canonical(body.pop("method"))
            if method:
                with contextlib.suppress(ApiError):
                    await self.call(method, Params(body, {}))

    # -- the people's side ----------------------------------------------------------------

    def user(self, user_id: int, **profile: Any) -> SandboxUser:
        user = self.users.get(user_id)
        if user is None:
            user = SandboxUser(id=user_id, first_name=profile.get("first_name") or f"User{user_id}")
            self.users[user_id] = user
        for key in ("first_name", "last_name", "username", "language_code", "phone"):
            if profile.get(key):
                setattr(user, key, profile[key])
        return user

    def _user_message(self, user: SandboxUser, content: dict[str, Any]) -> dict[str, Any]:
        if user.blocked:  # writing to the bot again restarts it
            self._member_update(user, blocked=False)
        user.contacted = True
        message_id = user.new_message_id()
        body = {
            "message_id": message_id,
            "from": user.user_json(),
            "chat": user.chat_json(),
            "date": int(time.time()),
            **content,
        }
        user.messages[message_id] = ChatMessage(
            message_id=message_id, from_bot=False, date=body["date"], body=body, seq=user.seq
        )
        update_id = self.push_update("message", body)
        return {"message_id": message_id, "update_id": update_id}

    def send(self, user_id: int, request: dict[str, Any]) -> dict[str, Any]:
        """A user writes to the bot: text, contact, location, document, photo, sticker or
        voice."""
        user = self.user(
            user_id,
            first_name=request.get("first_name"),
            last_name=request.get("last_name"),
            username=request.get("username"),
            language_code=request.get("language_code"),
            phone=request.get("phone"),
        )
        return self._user_message(user, self._content(user, request))

    def _content(self, user: SandboxUser, request: dict[str, Any]) -> dict[str, Any]:
        if "text" in request and request["text"] is not None:
            text = str(request["text"])
            content: dict[str, Any] = {"text": text}
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                content["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
                ]
            return content
        if "contact" in request:
            contact = request["contact"] or {}
            phone = contact.get("phone_number") or user.phone
            if not phone:
                raise ValueError("contact needs a phone_number")
            body = {
                "phone_number": str(phone),
                "first_name": contact.get("first_name") or user.first_name,
                "user_id": contact.get("user_id", user.id),
            }
            if contact.get("last_name") or user.last_name:
                body["last_name"] = contact.get("last_name") or user.last_name
            return {"contact": body}
        if "location" in request:
            location = request["location"] or {}
            return {
                "location": {
                    "latitude": float(location.get("latitude", ASTANA[0])),
                    "longitude": float(location.get("longitude", ASTANA[1])),
                }
            }
        if "document" in request:
            document = request["document"] or {}
            content_bytes = base64.b64decode(document.get("content_base64") or "")
            stored = self.store_file(
                content_bytes,
                kind="document",
                file_name=document.get("file_name") or "document.pdf",
                mime_type=document.get("mime_type") or "application/pdf",
            )
            result: dict[str, Any] = {"document": self._document_json(stored)}
            if request.get("caption"):
                result["caption"] = str(request["caption"])
            return result
        if "photo" in request:
            photo = request["photo"]
            raw = TINY_PNG
            if isinstance(photo, dict) and photo.get("content_base64"):
                raw = base64.b64decode(photo["content_base64"])
            stored = self.store_file(
                raw, kind="photo", file_name="photo.jpg", mime_type="image/jpeg"
            )
            return {"photo": self._photo_sizes(stored)}
        if request.get("voice"):
            voice = request["voice"] if isinstance(request["voice"], dict) else {}
            raw = base64.b64decode(voice.get("content_base64") or "") or b"OggS-voice"
            stored = self.store_file(raw, kind="voice", file_name=None, mime_type="audio/ogg")
            return {
                "voice": {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "duration": int(voice.get("duration", 3)),
                    "mime_type": "audio/ogg",
                    "file_size": len(raw),
                }
            }
        if request.get("sticker"):
            stored = self.store_file(
                b"RIFF-sticker", kind="sticker", file_name=None, mime_type=None
            )
            return {
                "sticker": {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": "👍",
                }
            }
        raise ValueError(
            "nothing to send: give text, contact, location, document, photo, sticker or voice"
        )

    def press(self, user_id: int, request: dict[str, Any]) -> dict[str, Any]:
        """A user taps a button: inline (a callback query) or of the reply keyboard (a message)."""
        user = self.users.get(user_id)
        if user is None:
            raise LookupError("this user has not talked to the bot yet")
        if request.get("callback_data") is not None:
            return self._press_exact(user, str(request["callback_data"]), request.get("message_id"))
        label = str(request.get("text") or "")
        found = self._find_inline(user, label)
        if found is not None:
            message, button = found
            if "callback_data" in button:
                return self._callback(user, message, button["callback_data"])
            return {"message_id": message.message_id, "button": button}
        for row in (user.reply_keyboard or {}).get("keyboard", []):
            for button in row:
                if _label_matches(button["text"], label):
                    return self._press_reply_button(user, button, request)
        raise LookupError(f"no button {label!r}; the user sees: {self.visible_buttons(user)}")

    def visible_buttons(self, user: SandboxUser) -> list[str]:
        labels = []
        for message in sorted(user.messages.values(), key=lambda m: -m.message_id):
            if message.from_bot and not message.deleted:
                for row in (message.body.get("reply_markup") or {}).get("inline_keyboard", []):
                    labels += [b["text"] for b in row]
        for row in (user.reply_keyboard or {}).get("keyboard", []):
            labels += [b["text"] for b in row]
        return labels

    def _find_inline(
        self, user: SandboxUser, label: str
    ) -> tuple[ChatMessage, dict[str, Any]] | None:
        newest_first = sorted(user.messages.values(), key=lambda m: -m.message_id)
        for exact in (True, False):
            for message in newest_first:
                if not message.from_bot or message.deleted:
                    continue
                for row in (message.body.get("reply_markup") or {}).get("inline_keyboard", []):
                    for button in row:
                        if (
                            (button["text"] == label)
                            if exact
                            else _label_matches(button["text"], label)
                        ):
                            return message, button
        return None

    def _press_exact(self, user: SandboxUser, data: str, message_id: Any) -> dict[str, Any]:
        if message_id is not None:
            message = user.messages.get(int(message_id))
            if message is None or message.deleted or not message.from_bot:
                raise LookupError(f"no bot message {message_id} in the chat")
            return self._callback(user, message, data)
        for message in sorted(user.messages.values(), key=lambda m: -m.message_id):
            if not message.from_bot or message.deleted:
                continue
            for row in (message.body.get("reply_markup") or {}).get("inline_keyboard", []):
                if any(b.get("callback_data") == data for b in row):
                    return self._callback(user, message, data)
        raise LookupError(f"no button with callback_data {data!r}")

    def _callback(self, user: SandboxUser, message: ChatMessage, data: str) -> dict[str, Any]:
        query_id = str(secrets.randbits(63))
        self.callbacks[query_id] = {
            "user_id": user.id,
            "message_id": message.message_id,
            "created": time.monotonic(),
            "answered": False,
        }
        if user.blocked:
            self._member_update(user, blocked=False)
        instance = hashlib.sha1(f"{user.id}:{self.bot_id}".encode()).hexdigest()[:16]
        update_id = self.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": user.user_json(),
                "message": message.body,
                "chat_instance": str(int(instance, 16)),
                "data": data,
            },
        )
        return {
            "callback_query_id": query_id,
            "message_id": message.message_id,
            "update_id": update_id,
        }

    def _press_reply_button(
        self, user: SandboxUser, button: dict[str, Any], request: dict[str, Any]
    ) -> dict[str, Any]:
        if button.get("request_contact"):
            phone = request.get("phone_number") or user.phone
            if not phone:
                raise ValueError("sharing a contact needs the user's phone: give phone_number")
            return self._user_message(
                user, self._content(user, {"contact": {"phone_number": phone}})
            )
        if button.get("request_location"):
            location = request.get("location") or {}
            return self._user_message(user, self._content(user, {"location": location}))
        return self._user_message(user, self._content(user, {"text": button["text"]}))

    def block(self, user_id: int, blocked: bool = True) -> None:
        user = self.user(user_id)
        if user.blocked != blocked:
            self._member_update(user, blocked=blocked)

    def _member_update(self, user: SandboxUser, *, blocked: bool) -> None:
        user.blocked = blocked
        old: dict[str, Any] = {"status": "member", "user": self.bot_user()}
        new: dict[str, Any] = {"status": "kicked", "user": self.bot_user(), "until_date": 0}
        if not blocked:
            old, new = new, old
        self.push_update(
            "my_chat_member",
            {
                "chat": user.chat_json(),
                "from": user.user_json(),
                "date": int(time.time()),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )
        user.changed.notify()

    def messages_view(self, user: SandboxUser, *, after: int = 0, since: int = 0) -> dict[str, Any]:
        messages = [
            view_message(m)
            for m in sorted(user.messages.values(), key=lambda m: m.message_id)
            if m.from_bot and m.message_id > after and m.seq > since
        ]
        alerts = [a for a in user.alerts if a["seq"] > since]
        return {
            "user_id": user.id,
            "blocked": user.blocked,
            "seq": user.seq,
            "messages": messages,
            "alerts": alerts,
            "reply_keyboard": _reply_rows(user.reply_keyboard),
        }


def view_message(message: ChatMessage) -> dict[str, Any]:
    """A bot message as a person sees it (for tests and the demo chat)."""
    body = message.body
    inline = [
        [{k: v for k, v in b.items() if k in ("text", "callback_data", "url")} for b in row]
        for row in (body.get("reply_markup") or {}).get("inline_keyboard", [])
    ]
    markup = message.reply_markup or {}
    view: dict[str, Any] = {
        "message_id": message.message_id,
        "seq": message.seq,
        "date": message.date,
        "text": body.get("text", body.get("caption", "")),
        "html": message.source_text,
        "parse_mode": message.parse_mode,
        "entities": body.get("entities", body.get("caption_entities", [])),
        "inline_keyboard": inline,
        "reply_keyboard": _reply_rows(markup) if "keyboard" in markup else None,
        "remove_keyboard": bool(markup.get("remove_keyboard")),
        "edited": message.edited,
        "deleted": message.deleted,
    }
    if "document" in body:
        view["document"] = body["document"]
    if "photo" in body:
        view["photo"] = body["photo"][-1]
    if "venue" in body:
        view["venue"] = body["venue"]
    if "location" in body:
        view["location"] = body["location"]
    return view


def _reply_rows(markup: dict[str, Any] | None) -> list[list[str]] | None:
    if not markup or "keyboard" not in markup:
        return None
    return [[b["text"] for b in row] for row in markup["keyboard"]]


def _label_matches(label: str, wanted: str) -> bool:
    return label.casefold().strip() == wanted.casefold().strip()


def _same(new: dict[str, Any], old: dict[str, Any]) -> bool:
    keys = ("text", "entities", "caption", "caption_entities", "reply_markup")
    return all(new.get(k) == old.get(k) for k in keys)


def _kind(update: dict[str, Any]) -> str:
    return next(k for k in update if k != "update_id")


def _chat_of(update: dict[str, Any]) -> int:
    body = update[_kind(update)]
    if "chat" in body:
        return int(body["chat"]["id"])
    if "from" in body:
        return int(body["from"]["id"])
    return 0


_METHODS: dict[str, str] = {}


def _canonical(method: str) -> str | None:
    if not _METHODS:
        for name in dir(TelegramEmulator):
            if name.startswith("m_"):
                _METHODS[name[2:].lower()] = name[2:]
    return _METHODS.get(method.lower())


canonical_method = _canonical


def _mime(name: str | None) -> str | None:
    import mimetypes

    if not name:
        return None
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _image_size(content: bytes) -> tuple[int, int]:
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    return 800, 600
