"""The bot's side over HTTP: `/bot<token>/<method>` and `/file/bot<token>/<path>`."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from devtools.sandbox.telegram.emulator import Params, TelegramEmulator, canonical_method
from devtools.sandbox.telegram.spec import (
    known_method,
    method_returns,
    required_params,
    spec,
    validate,
)
from devtools.sandbox.telegram.state import ApiError, bad_request

log = logging.getLogger(__name__)

EMULATOR_KEY = web.AppKey("telegram_emulator", TelegramEmulator)

# Parameters that travel as JSON-serialized strings in forms and query strings.
_EMPTY_REASON = {"text": "message text is empty", "chat_id": "chat_id is empty"}


def add_bot_routes(app: web.Application, emulator: TelegramEmulator) -> None:
    app.router.add_route("*", "/bot{token}/{method}", _method)
    app.router.add_get("/file/bot{token}/{path:.+}", _file)


async def _method(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR_KEY]
    token = request.match_info["token"]
    if emulator.config.token and token != emulator.config.token:
        return _reply(ApiError(401, "Unauthorized").payload(), 401)
    raw_method = request.match_info["method"]
    method = canonical_method(raw_method)
    if method is None:
        if any(m.lower() == raw_method.lower() for m in _spec_methods()):
            error = bad_request(f"the sandbox does not implement {raw_method}")
            return _reply(error.payload(), 400)
        return _reply(ApiError(404, "Not Found").payload(), 404)
    try:
        params = await _params(request)
        for name in required_params(method):
            if not params.has(name) and name not in params.files:
                raise bad_request(_EMPTY_REASON.get(name, f'parameter "{name}" is required'))
        result = await emulator.call(method, params)
    except ApiError as exc:
        return _reply(exc.payload(), exc.code)
    if emulator.config.validate and known_method(method):
        problems = validate(result, method_returns(method))
        if problems:
            log.error("sandbox reply to %s does not fit the spec: %s", method, problems)
            description = f"Internal: sandbox reply does not fit the spec: {problems[:3]}"
            return _reply({"ok": False, "error_code": 500, "description": description}, 500)
    return _reply({"ok": True, "result": result}, 200)


def _spec_methods() -> list[str]:
    return list(spec()["methods"])


async def _params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    files: dict[str, tuple[str, bytes]] = {}
    if request.method == "POST" and request.can_read_body:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if isinstance(body, dict):
                values.update(body)
        elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = (value.filename or key, value.file.read())
                else:
                    values[key] = value
    return Params(values, files)


async def _file(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR_KEY]
    token = request.match_info["token"]
    if emulator.config.token and token != emulator.config.token:
        raise web.HTTPUnauthorized()
    stored = emulator.file_by_path(request.match_info["path"])
    if stored is None:
        raise web.HTTPNotFound()
    return web.Response(
        body=stored.content, content_type=stored.mime_type or "application/octet-stream"
    )


def _reply(body: dict[str, Any], status: int) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )
