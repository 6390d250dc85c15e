"""The OpenAPI 3.1 contract of the public HTTP endpoints but Telegram's: provider callbacks, health,
the open-data protocols and the public log. Built from the callback models and the protocols'
parameters, so it cannot drift from the code; the checked-in rendering is docs/openapi.json (a
test compares them).

    python -m webhooks.openapi > docs/openapi.json     # after changing an endpoint
"""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import Any

from aiohttp import web
from pydantic.json_schema import models_json_schema

from core.models import GroupKind, Language, Ownership, ReferralStatus
from webhooks import ledger, registers
from webhooks.models import MODELS

OPENAPI_PATH = "/openapi.json"
REF = "#/components/schemas/{model}"


def add_openapi_route(web_app: web.Application) -> None:
    web_app.router.add_get(OPENAPI_PATH, openapi_view)


async def openapi_view(request: web.Request) -> web.Response:
    return web.json_response(document())


def rendered() -> str:
    """The document as checked in: sorted keys, two-space indent, a final newline."""
    return json.dumps(document(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


@cache
def document() -> dict[str, Any]:
    models = [model for source in MODELS.values() for model in source.values()]
    refs, defs = models_json_schema([(model, "validation") for model in models], ref_template=REF)
    schemas: dict[str, Any] = {
        **defs.get("$defs", {}),
        **_response_schemas(),
        **ledger.openapi_schemas(),
    }
    paths: dict[str, Any] = {
        f"/callbacks/{source}": _callback_path(
            source, [refs[(model, "validation")] for model in MODELS[source].values()]
        )
        for source in MODELS
    }
    paths["/healthz"] = {
        "get": {
            "operationId": "healthz",
            "summary": "The process is alive",
            "responses": {"200": _json_response("Alive", {"$ref": REF.format(model="Health")})},
        }
    }
    paths["/protocols/seats"] = _protocol_path(
        "seatProtocol",
        "Seat release protocol, newest first",
        [*_common_parameters(), _enum("ownership", Ownership), _enum("kind", GroupKind)],
        "SeatRow",
    )
    paths["/protocols/referrals"] = _protocol_path(
        "referralProtocol",
        "Referral protocol, newest first",
        [*_common_parameters(), _enum("status", ReferralStatus)],
        "ReferralRow",
    )
    paths |= ledger.openapi_paths(REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Indigo Bot: provider callbacks and open data",
            "version": "1",
            "description": (
                "Provider callbacks are signed: X-Signature = hex(HMAC-SHA256(secret, "
                '"<X-Timestamp>.<body>")), the timestamp within 300 s. Bodies are read within '
                "a few seconds and limited in size (408, 413). Readiness and metrics are served "
                "on an internal listener only."
            ),
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _callback_path(source: str, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    error = {"$ref": REF.format(model="CallbackError")}
    return {
        "post": {
            "operationId": f"{source}Callback",
            "summary": f"An event from the {source} provider (stored, answered at once)",
            "parameters": [
                {
                    "name": "X-Timestamp",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"},
                },
                {
                    "name": "X-Signature",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                },
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"oneOf": bodies}}},
            },
            "responses": {
                "200": _json_response(
                    "Stored, or already stored (a replay)",
                    {"$ref": REF.format(model="CallbackAccepted")},
                ),
                "400": _json_response("Malformed, invalid or unknown event", error),
                "401": _json_response("Missing, stale or wrong signature", error),
                "408": _json_response("The body did not arrive in time", error),
                "413": _json_response("The body is too large", error),
                "503": _json_response("Not stored (the provider retries)", error),
            },
        }
    }


def _protocol_path(
    operation_id: str, summary: str, parameters: list[dict[str, Any]], row: str
) -> dict[str, Any]:
    page = {
        "type": "object",
        "required": ["total", "limit", "offset", "items"],
        "additionalProperties": False,
        "properties": {
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1, "maximum": registers.MAX_LIMIT},
            "offset": {"type": "integer", "minimum": 0},
            "items": {"type": "array", "items": {"$ref": REF.format(model=row)}},
        },
    }
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": "Unknown or repeated parameters are refused (400).",
            "parameters": parameters,
            "responses": {
                "200": _json_response("One page", page),
                "400": _json_response(
                    "A parameter is unknown, repeated or malformed",
                    {"$ref": REF.format(model="BadParameter")},
                ),
            },
        }
    }


def _common_parameters() -> list[dict[str, Any]]:
    return [
        _query(
            "date",
            {
                "type": "string",
                "pattern": "^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
            },
            "Local date (the service's time zone)",
        ),
        _query("city", _integer(1, registers.MAX_ID)),
        _query("kindergarten", _integer(1, registers.MAX_ID)),
        _query(
            "q",
            {
                "type": "string",
                "maxLength": registers.MAX_QUERY_LENGTH,
                "pattern": "^[^\\x00-\\x1f\\x7f]*$",
            },
            "Part of the kindergarten's name (either language, any case)",
        ),
        _enum("language", Language),
        _query("age_from", _integer(0, registers.MAX_AGE)),
        _query("age_to", _integer(0, registers.MAX_AGE)),
        _query("limit", _integer(1, registers.MAX_LIMIT), f"Default {registers.DEFAULT_LIMIT}"),
        _query("offset", _integer(0, registers.MAX_OFFSET)),
    ]


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def _enum(name: str, options: type[Any]) -> dict[str, Any]:
    return _query(name, {"type": "string", "enum": [str(option) for option in options]})


def _integer(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _response_schemas() -> dict[str, Any]:
    text = {"type": "string"}
    when = {"type": "string", "format": "date-time"}
    number = {"type": "integer"}
    place = {
        "kindergarten_id": number,
        "kindergarten_ru": text,
        "kindergarten_kk": text,
        "group": text,
        "age_from": number,
        "age_to": number,
        "language": {"type": "string", "enum": [str(option) for option in Language]},
    }
    seat_row = {
        "release_id": number,
        "released_at": when,
        "address_ru": text,
        "address_kk": text,
        "ownership": {"type": "string", "enum": [str(option) for option in Ownership]},
        "group_kind": {"type": "string", "enum": [str(option) for option in GroupKind]},
        "seats": {"type": "integer", "minimum": 1},
        "priority_end_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "End of the priority window; null when the seats opened to "
            "general access at once",
        },
        "undone_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "When staff undid the release (a mistake); null for a release "
            "that stands",
        },
        "withdrawn": {
            "type": "integer",
            "minimum": 0,
            "description": "Seats of the release withdrawn before anyone took them (by its "
            "undo, or by undoing the revocation that released it)",
        },
        **place,
    }
    referral_row = {
        "referral_id": number,
        "number": text,
        "issued_at": when,
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "child": {"type": "string", "description": 'Masked, like "А***В Р*** Ж."'},
        "status": {"type": "string", "enum": [str(option) for option in ReferralStatus]},
        **place,
    }
    return {
        "Health": _object({"status": {"const": "ok"}}),
        "CallbackAccepted": _object({"status": {"enum": ["accepted", "duplicate"]}}),
        "CallbackError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": text,
                "problems": {
                    "type": "array",
                    "items": _object({"field": text, "problem": text}),
                },
                "type": {"type": "string", "maxLength": 64},
                "limit": number,
            },
        },
        "BadParameter": _object(
            {"error": {"const": "bad_parameter"}, "parameter": text, "problem": text}
        ),
        "SeatRow": _object(seat_row),
        "ReferralRow": _object(referral_row),
    }


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(properties),
        "additionalProperties": False,
        "properties": properties,
    }


if __name__ == "__main__":
    sys.stdout.write(rendered())
