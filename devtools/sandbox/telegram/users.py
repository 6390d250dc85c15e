"""The people's side over HTTP (a stable interface for tests, scripts and the demo).

POST /sandbox/users/{user_id}/send      {"text"} | {"contact": {"phone_number"}} |
                                        {"location": {"latitude", "longitude"}} |
                                        {"document": {"file_name", "mime_type", "content_base64"}} |
                                        {"photo": true | {"content_base64"}} | {"sticker": true} |
                                        {"voice": true | {"duration", "content_base64"}}
                                        optional "language_code", "first_name", "last_name",
                                        "username", "phone" (used when a contact is shared)
    -> {"message_id", "update_id"}
POST /sandbox/users/{user_id}/press     {"text": label} | {"callback_data", "message_id"?}
                                        ("phone_number" / "location" for request buttons)
    -> {"callback_query_id", "message_id", "update_id"} or {"message_id", "update_id"}
GET  /sandbox/users/{user_id}/messages?after=<message_id>&since=<seq>&wait=<seconds>
    -> {"user_id", "blocked", "seq", "messages": [...], "alerts": [...], "reply_keyboard"}
       each message: message_id, seq (changes on every edit/delete), text, html, parse_mode,
       entities, inline_keyboard [[{text, callback_data|url}]], reply_keyboard [[label]] | null,
       remove_keyboard, edited (count), deleted, document?, photo?, venue? {location, title,
       address}, location? {latitude, longitude}
       alerts: answers to button presses {callback_query_id, message_id, text, show_alert}
POST /sandbox/users/{user_id}/block     {"blocked": true (default) | false}
GET  /sandbox/telegram/stats            counters (sent_messages, too_many_requests, ...)
POST /sandbox/telegram/stats/reset
GET|POST /sandbox/telegram/config       read or change limits (TelegramConfig fields)
"""

from __future__ import annotations

import functools
import json
import time
from typing import Any

from aiohttp import web

from devtools.sandbox.telegram.botapi import EMULATOR_KEY

# Readable with curl: Kazakh and Russian as they are, not \u escapes.
_dumps = functools.partial(json.dumps, ensure_ascii=False)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=_dumps)


def add_user_routes(app: web.Application) -> None:
    app.router.add_post("/sandbox/users/{user_id}/send", _send)
    app.router.add_post("/sandbox/users/{user_id}/press", _press)
    app.router.add_get("/sandbox/users/{user_id}/messages", _messages)
    app.router.add_post("/sandbox/users/{user_id}/block", _block)
    app.router.add_get("/sandbox/telegram/stats", _stats)
    app.router.add_post("/sandbox/telegram/stats/reset", _reset_stats)
    app.router.add_get("/sandbox/telegram/config", _config)
    app.router.add_post("/sandbox/telegram/config", _config)


def _user_id(request: web.Request) -> int:
    try:
        return int(request.match_info["user_id"])
    except ValueError:
        raise web.HTTPBadRequest(text="user_id must be an integer") from None


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="JSON body expected") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="a JSON object expected")
    return body


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status=status)


async def _send(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR_KEY]
    try:
        return _json(emulator.send(_user_id(request), await _body(request)))
    except ValueError as exc:
        return _error(400, str(exc))


async def _press(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR_KEY]
    try:
        return _json(emulator.press(_user_id(request), await _body(request)))
    except LookupError as exc:
        return _error(404, str(exc.args[0]))
    except ValueError as exc:
        return _error(400, str(exc))


async def _messages(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR_KEY]
    user = emulator.user(_user_id(request))
    try:
        after = int(request.query.get("after", 0))
        since = int(request.query.get("since", 0))
        wait = min(float(request.query.get("wait", 0)), 120.0)
    except ValueError:
        return _error(400, "after, since and wait must be numbers")
    deadline = time.monotonic() + wait
    while True:
        view = emulator.messages_view(user, after=after, since=since)
        done = emulator.closing or time.monotonic() >= deadline
        if view["messages"] or view["alerts"] or done:
            return _json(view)
        await user.changed.wait(deadline - time.monotonic())


async def _block(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR_KEY]
    body = await _body(request)
    emulator.block(_user_id(request), bool(body.get("blocked", True)))
    return _json({"blocked": emulator.users[_user_id(request)].blocked})


async def _stats(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR_KEY]
    stats = {"sent_messages": 0, "too_many_requests": 0, **emulator.stats}
    stats["pending_updates"] = len(emulator.updates)
    stats["users"] = len(emulator.users)
    return _json(stats)


async def _reset_stats(request: web.Request) -> web.Response:
    request.app[EMULATOR_KEY].stats.clear()
    return _json({"ok": True})


async def _config(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR_KEY]
    if request.method == "POST":
        try:
            emulator.config.update(await _body(request))
        except (ValueError, TypeError) as exc:
            return _error(400, str(exc))
    return _json(emulator.config.as_dict())
