"""Public endpoints of the verifiable log (docs/public-log.md), no login:

GET /log/checkpoint                       the latest signed checkpoint (text/plain signed note)
GET /log/key                              the verifier key ("<name>+<key id>+<base64 key>")
GET /log/proof/inclusion?index=I&size=N   {"index", "size", "proof": [b64], "leaf_hash": b64}
GET /log/proof/consistency?first=M&second=N   {"first", "second", "proof": [b64]}
GET /log/leaves?start=S&end=E             {"leaves": [{"seq", "data", "hash"}]} (at most 1000)

A missing, unknown, repeated or malformed parameter is a 400 naming it; an index or size beyond
the log is a 404 {"error": "unknown_index" | "unknown_size"}.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from core.ledger import log
from core.platform.settings import Settings

MAX_INDEX = 10**15  # far beyond any log; keeps the numbers exact in JSON
_DIGITS = re.compile(r"[0-9]{1,16}")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_ledger_routes(web_app: web.Application, settings: Settings) -> None:
    async def checkpoint(request: web.Request) -> web.Response:
        _parameters(request)
        text = await log.latest_checkpoint(settings)
        return web.Response(text=text, content_type="text/plain", charset="utf-8")

    async def key(request: web.Request) -> web.Response:
        _parameters(request)
        return web.Response(
            text=log.verifier_key(settings) + "\n", content_type="text/plain", charset="utf-8"
        )

    async def inclusion(request: web.Request) -> web.Response:
        index, size = _parameters(request, "index", "size")
        proof = await log.inclusion(index, size)
        leaf = await log.leaf_hash_at(index)
        return web.json_response(
            {"index": index, "size": size, "proof": _b64(proof), "leaf_hash": _b64([leaf])[0]}
        )

    async def consistency(request: web.Request) -> web.Response:
        first, second = _parameters(request, "first", "second")
        proof = await log.consistency(first, second)
        return web.json_response({"first": first, "second": second, "proof": _b64(proof)})

    async def leaves(request: web.Request) -> web.Response:
        start, end = _parameters(request, "start", "end")
        return web.json_response({"leaves": await log.leaves(start, end)})

    for path, handler in (
        ("/log/checkpoint", checkpoint),
        ("/log/key", key),
        ("/log/proof/inclusion", inclusion),
        ("/log/proof/consistency", consistency),
        ("/log/leaves", leaves),
    ):
        web_app.router.add_get(path, _answering_errors(handler))


class _BadParameter(Exception):
    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(parameter)
        self.parameter = parameter
        self.problem = problem


def _parameters(request: web.Request, *names: str) -> list[int]:
    """The named non-negative integer parameters, all required; nothing else allowed."""
    query = request.query
    for name in query:
        if name not in names:
            raise _BadParameter(name[:64], "unknown")
    values: list[int] = []
    for name in names:
        given = query.getall(name, [])
        if not given:
            raise _BadParameter(name, "missing")
        if len(given) > 1:
            raise _BadParameter(name, "repeated")
        if not _DIGITS.fullmatch(given[0]) or int(given[0]) > MAX_INDEX:
            raise _BadParameter(name, "not an integer from 0 to 10^15")
        values.append(int(given[0]))
    return values


def _answering_errors(handler: Handler) -> Handler:
    async def view(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except _BadParameter as exc:
            return _bad(exc.parameter, exc.problem)
        except log.LedgerError as exc:
            if exc.reason == "bad_parameter":
                return _bad(exc.parameter or "", "out of range")
            if exc.reason in ("unknown_index", "unknown_size"):
                return web.json_response({"error": exc.reason}, status=404)
            raise

    return view


def _bad(parameter: str, problem: str) -> web.Response:
    return web.json_response(
        {"error": "bad_parameter", "parameter": parameter, "problem": problem}, status=400
    )


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


# --- The OpenAPI description (webhooks.openapi adds it to the document) ------------------------

_HASH = {"type": "string", "pattern": "^[A-Za-z0-9+/]{43}=$", "description": "base64 SHA-256"}


def openapi_paths(ref: str) -> dict[str, Any]:
    """The log's paths; `ref` formats a component schema reference."""
    bad = _json("A parameter is missing, unknown, repeated or malformed", ref, "BadParameter")
    unknown = _json("Beyond the log's current size", ref, "LogUnknown")

    def path(op: str, summary: str, params: list[str], ok: dict[str, Any]) -> dict[str, Any]:
        responses: dict[str, Any] = {"200": ok}
        if params:
            responses |= {"400": bad, "404": unknown}
        return {
            "get": {
                "operationId": op,
                "summary": summary,
                "parameters": [
                    {
                        "name": name,
                        "in": "query",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_INDEX},
                    }
                    for name in params
                ],
                "responses": responses,
            }
        }

    def text(description: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }

    return {
        "/log/checkpoint": path(
            "logCheckpoint",
            "The latest signed checkpoint of the public log (a C2SP signed note)",
            [],
            text("origin, size and base64 root, a blank line, signature lines"),
        ),
        "/log/key": path(
            "logKey",
            "The key that signs checkpoints, as a verifier key string",
            [],
            text("<name>+<hex key id>+<base64(0x01 || Ed25519 public key)>"),
        ),
        "/log/proof/inclusion": path(
            "logInclusionProof",
            "RFC 6962 audit path of leaf `index` in the tree of the first `size` leaves",
            ["index", "size"],
            _json("The proof", ref, "LogInclusionProof"),
        ),
        "/log/proof/consistency": path(
            "logConsistencyProof",
            "RFC 6962 proof that the tree of `first` leaves is a prefix of `second`'s",
            ["first", "second"],
            _json("The proof", ref, "LogConsistencyProof"),
        ),
        "/log/leaves": path(
            "logLeaves",
            "Leaves start..end-1 (at most 1000), each its canonical JSON text and hex hash",
            ["start", "end"],
            _json("The leaves", ref, "LogLeaves"),
        ),
    }


def openapi_schemas() -> dict[str, Any]:
    integer = {"type": "integer", "minimum": 0}
    proof = {"type": "array", "items": _HASH}
    leaf = _object(
        {
            "seq": integer,
            "data": {"type": "string", "description": "Canonical JSON of the leaf"},
            "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        }
    )
    return {
        "LogUnknown": _object({"error": {"enum": ["unknown_index", "unknown_size"]}}),
        "LogInclusionProof": _object(
            {"index": integer, "size": integer, "proof": proof, "leaf_hash": _HASH}
        ),
        "LogConsistencyProof": _object({"first": integer, "second": integer, "proof": proof}),
        "LogLeaves": _object({"leaves": {"type": "array", "maxItems": 1000, "items": leaf}}),
    }


def _json(description: str, ref: str, model: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": ref.format(model=model)}}},
    }


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(properties),
        "additionalProperties": False,
        "properties": properties,
    }
