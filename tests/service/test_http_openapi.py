"""The HTTP contract: the served OpenAPI document is the checked-in one, and a property-based fuzz
(schemathesis, deterministic) of every documented endpoint gets no 5xx and answers that conform."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.platform.settings import Settings
from core.platform.signing import signed_headers
from core.referrals.take import take_seat
from core.seats import releases
from tests.fixtures.seats import make_city, make_group, make_kindergarten, make_queue
from tests.fixtures.webhooks import CallbacksStack
from webhooks.openapi import document, rendered

CHECKED_IN = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXAMPLES_PER_OPERATION = 8  # per generation mode: a few seconds in all
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


async def test_the_served_contract_is_the_checked_in_document(stack: CallbacksStack) -> None:
    async with stack.http.get(stack.web_url + "/openapi.json") as resp:
        served = await resp.json()
    assert resp.status == 200
    assert served == json.loads(CHECKED_IN.read_text(encoding="utf-8")), (
        "docs/openapi.json is stale: python -m webhooks.openapi > docs/openapi.json"
    )
    assert CHECKED_IN.read_text(encoding="utf-8") == rendered()


async def test_fuzzing_the_documented_endpoints_finds_no_server_error(
    stack: CallbacksStack, settings: Settings
) -> None:
    await _some_open_data(settings)
    secrets = {
        "/callbacks/gov": stack.settings.gov_callback_secret[0],
        "/callbacks/sms": stack.settings.sms_callback_secret[0],
    }
    started = time.monotonic()
    failures = await asyncio.to_thread(_fuzz, stack.web_url, secrets)
    assert failures == []
    assert time.monotonic() - started < 60  # bounded: a fixed number of examples


def _fuzz(base_url: str, secrets: dict[str, str]) -> list[str]:
    """Runs in a thread: the server lives on the test's event loop, requests are synchronous."""
    schema = schemathesis.openapi.from_dict(document())
    failures: list[str] = []
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            cases = st.one_of(
                operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
            )

            @hypothesis_settings(
                max_examples=2 * EXAMPLES_PER_OPERATION,
                derandomize=True,  # the same examples on every run
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=cases)
            def call(case: Any) -> None:
                kwargs = case.as_transport_kwargs(base_url=base_url)
                secret = secrets.get(case.path)
                if secret is not None:  # sign what is sent, so the fuzz reaches validation
                    body = kwargs.pop("json", None)
                    data = kwargs.pop("data", None)
                    raw = json.dumps(body).encode() if data is None else _bytes(data)
                    kwargs["data"] = raw
                    kwargs["headers"] = {**kwargs.get("headers", {}), **signed_headers(secret, raw)}
                response = session.request(**kwargs, timeout=10)
                try:
                    case.validate_response(response, checks=CHECKS)
                except Exception as exc:
                    failures.append(f"{case.method} {case.path}: {exc}"[:3000])
                    raise

            try:
                call()
            except Exception:  # recorded above; the other operations still run
                continue
    return failures


def _bytes(data: Any) -> bytes:
    return data if isinstance(data, bytes) else str(data).encode()


async def _some_open_data(settings: Settings) -> None:
    """A release open at once, one with a window and a referral: the pages have rows."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    group = await make_group(kindergarten)
    await releases.release_seats(group.id, 1, actor="staff:t", settings=settings)
    (first,) = await make_queue(city, kindergarten, 1)
    await releases.release_seats(group.id, 1, actor="staff:t", settings=settings)
    await take_seat(first.id, group.id, actor="parent", settings=settings)
