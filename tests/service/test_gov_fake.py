"""The fake state registry and the family-composition request, through the real HTTP client."""

from __future__ import annotations

from datetime import date

import aiohttp
import pytest
from aiohttp import web

from core.models import Applicant, Child, GovRequest, GovRequestStatus, InboxEvent, Person
from core.people.iin import full_years, parse_iin
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.registry import family_requests
from core.registry.gov_client import HttpGovGateway
from core.registry.ports import GatewayUnavailable
from devtools.sandbox.gov import PERSONAS
from devtools.sandbox.gov.callbacks import deliver
from devtools.sandbox.gov.personas import AIGERIM, DANIYAR, ELENA
from scripts.services import free_port
from tests.fixtures.webhooks import CallbacksStack, eventually

UNKNOWN_PARENT = "031231500126"  # valid, not a persona


async def test_every_valid_iin_is_a_person_generated_the_same_way_each_time(
    stack: CallbacksStack,
) -> None:
    first = await stack.gov.person(UNKNOWN_PARENT)
    again = await stack.gov.person(UNKNOWN_PARENT)
    assert first == again
    assert first is not None and first.first_name and first.last_name
    assert first.birth_date == date(2003, 12, 31)
    assert first.sex == "male"
    assert await stack.gov.person("031231500127") is None  # bad check digit: nobody


async def test_persona_phones_are_registered_to_the_persona_and_0000_numbers_are_not(
    stack: CallbacksStack,
) -> None:
    own = await stack.gov.phone_registered(AIGERIM.phones[0])
    assert own.registered and own.iin == AIGERIM.iin
    assert (await stack.gov.phone_registered("+77015550101")).registered
    assert not (await stack.gov.phone_registered("+77015550000")).registered


async def test_the_large_family_has_a_first_priority_benefit(stack: CallbacksStack) -> None:
    benefits = await stack.gov.benefits(DANIYAR.iin)
    assert [b.category for b in benefits] == [8]
    assert benefits[0].valid_until > date.today()
    assert await stack.gov.benefits(AIGERIM.iin) == []


async def test_personas_are_valid_iins_with_the_published_phones() -> None:
    assert len({p.iin for p in PERSONAS}) == len(PERSONAS)
    for persona in PERSONAS:
        assert parse_iin(persona.iin).birth_date == persona.birth_date
        assert len(persona.phones) >= 2


async def test_a_consented_family_request_stores_the_children_and_tells_the_conversation(
    stack: CallbacksStack,
) -> None:
    applicant = await Applicant.create(telegram_user_id=501)
    request = await family_requests.start_family_request(applicant, AIGERIM.iin, stack.gov)
    assert request.status == GovRequestStatus.consent_pending

    async with stack.http.get(stack.sandbox_url + "/sandbox/gov/requests") as resp:
        waiting = (await resp.json())["requests"]
    assert [r["request_id"] for r in waiting] == [request.request_id]

    async with stack.http.post(
        f"{stack.sandbox_url}/sandbox/gov/consent/{request.request_id}", json={"consent": True}
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["delivered"] is True

    async def answered() -> GovRequest | None:
        found = await family_requests.result_for(applicant.id)
        return found if found and found.status == GovRequestStatus.consented else None

    stored = await eventually(answered)
    result = family_requests.family_result(stored)
    assert result is not None and result.consent
    ages = sorted(full_years(c.person.birth_date, date.today()) for c in result.children)
    assert ages == [1, 3, 7]  # the 7-year-old is there; the wizard refuses it as too old
    children = await Child.filter(representative_id=applicant.id).prefetch_related("person")
    assert sorted(c.person.first_name for c in children) == ["Алихан", "Аружан", "Нурасыл"]
    await applicant.refresh_from_db()
    parent = await Person.get(id=applicant.person_id)
    assert parent.iin == AIGERIM.iin
    await eventually(lambda: _truthy(stack.family_results))
    assert stack.family_results == [
        {"request_id": request.request_id, "applicant_id": applicant.id, "consent": True}
    ]

    async with stack.http.get(stack.sandbox_url + "/sandbox/gov/requests") as resp:
        assert (await resp.json())["requests"] == []


async def test_a_repeated_family_result_changes_nothing(stack: CallbacksStack) -> None:
    applicant = await Applicant.create(telegram_user_id=502)
    request = await family_requests.start_family_request(applicant, AIGERIM.iin, stack.gov)
    await stack.gov_fake.answer(request.request_id, True)
    await eventually(lambda: _status(request.request_id, GovRequestStatus.consented))
    payload = dict(stack.gov_fake.sent[-1])
    payload["event_id"] = "another-delivery"
    payload["consent"] = False  # even a contradicting repeat does not overwrite the answer
    status, body = await stack.post_signed("/callbacks/gov", payload)
    assert (status, body) == (200, {"status": "accepted"})
    await eventually(lambda: _event_done("another-delivery"))
    assert (await GovRequest.get(request_id=request.request_id)).status == "consented"
    assert await Child.filter(representative_id=applicant.id).count() == 3
    assert len(stack.family_results) == 1


async def test_a_refused_request_stores_no_children(stack: CallbacksStack) -> None:
    applicant = await Applicant.create(telegram_user_id=503)
    request = await family_requests.start_family_request(applicant, AIGERIM.iin, stack.gov)
    async with stack.http.post(
        f"{stack.sandbox_url}/sandbox/gov/consent/{request.request_id}", json={"consent": False}
    ) as resp:
        assert resp.status == 200
    await eventually(lambda: _status(request.request_id, GovRequestStatus.refused))
    assert await Child.filter(representative_id=applicant.id).count() == 0
    await eventually(lambda: _truthy(stack.family_results))
    assert stack.family_results[0]["consent"] is False


async def test_auto_consent_answers_without_the_parent(stack: CallbacksStack) -> None:
    async with stack.http.post(
        stack.sandbox_url + "/sandbox/gov/auto-consent", json={"enabled": True}
    ) as resp:
        assert (await resp.json()) == {"auto_consent": True}
    applicant = await Applicant.create(telegram_user_id=504)
    request = await family_requests.start_family_request(applicant, UNKNOWN_PARENT, stack.gov)
    await eventually(lambda: _status(request.request_id, GovRequestStatus.consented))
    result = family_requests.family_result(await GovRequest.get(request_id=request.request_id))
    assert result is not None and len(result.children) <= 2


async def test_a_child_whose_guardian_is_someone_else_is_not_linked_to_the_parent(
    stack: CallbacksStack,
) -> None:
    applicant = await Applicant.create(telegram_user_id=505)
    request = await family_requests.start_family_request(applicant, ELENA.iin, stack.gov)
    await stack.gov_fake.answer(request.request_id, True)
    stored = await eventually(lambda: _status(request.request_id, GovRequestStatus.consented))
    result = family_requests.family_result(stored)
    assert result is not None
    flags = {c.person.first_name: c.legal_representative for c in result.children}
    assert flags == {"София": True, "Матвей": False}
    linked = await Child.filter(representative_id=applicant.id).prefetch_related("person")
    assert [c.person.first_name for c in linked] == ["София"]


async def test_an_unknown_parent_iin_is_refused_by_the_registry(stack: CallbacksStack) -> None:
    with pytest.raises(DomainError) as refused:
        await stack.gov.request_family("123456789012")
    assert refused.value.reason == "parent_not_found"


async def test_the_fake_retries_a_callback_the_receiver_did_not_accept() -> None:
    answers = [503, 500, 200]
    received: list[str] = []

    async def receiver(request: web.Request) -> web.Response:
        received.append(request.headers["X-Signature"])
        return web.json_response({}, status=answers[len(received) - 1])

    app = web.Application()
    app.router.add_post("/cb", receiver)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as session:
            ok = await deliver(
                session, f"http://127.0.0.1:{port}/cb", "s", {"type": "x"}, (0.01, 0.01, 0.01)
            )
    finally:
        await runner.cleanup()
    assert ok and len(received) == 3


async def test_gateway_unavailable_when_the_registry_fails_or_is_down(settings: Settings) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.json_response({"error": "boom"}, status=502)

    app = web.Application()
    app.router.add_route("*", "/gov/{tail:.*}", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    failing = HttpGovGateway(
        settings.model_copy(update={"gov_base_url": f"http://127.0.0.1:{port}/gov"})
    )
    down = HttpGovGateway(
        settings.model_copy(update={"gov_base_url": f"http://127.0.0.1:{free_port()}/gov"})
    )
    try:
        with pytest.raises(GatewayUnavailable):
            await failing.person(AIGERIM.iin)
        with pytest.raises(GatewayUnavailable):
            await failing.request_family(AIGERIM.iin)
        with pytest.raises(GatewayUnavailable):
            await down.phone_registered("+77011234567")
    finally:
        await failing.close()
        await down.close()
        await runner.cleanup()


async def test_other_gov_callbacks_sent_by_the_fake_reach_the_service(
    stack: CallbacksStack,
) -> None:
    person = await Person.create(
        iin=UNKNOWN_PARENT, last_name="Old", first_name="Name", birth_date=date(2003, 12, 31)
    )
    async with stack.http.post(
        stack.sandbox_url + "/sandbox/gov/callbacks",
        json={"type": "person.updated", "iin": UNKNOWN_PARENT, "last_name": "Новая"},
    ) as resp:
        assert (await resp.json())["status"] == 200

    async def renamed() -> bool:
        await person.refresh_from_db()
        return person.last_name == "Новая"

    await eventually(renamed)
    assert person.first_name == "Name"


async def _status(request_id: str, status: GovRequestStatus) -> GovRequest | None:
    found = await GovRequest.get_or_none(request_id=request_id)
    return found if found and found.status == status else None


async def _event_done(event_id: str) -> bool:
    return await InboxEvent.filter(event_id=event_id, status="done").exists()


async def _truthy(value: object) -> object:
    return value
