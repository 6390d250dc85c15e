"""SMS abuse (security review #3, #16) on a real Redis and PostgreSQL: codes capped per phone,
per applicant and city-wide (a circuit breaker), even under concurrent requests; a БМГ-owned
phone verified only by its owner or the owner's family; a failed code SMS is never "sent"."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import date

import pytest
from redis.asyncio import Redis

from core.models import (
    Applicant,
    Child,
    GovRequest,
    GovRequestStatus,
    Notification,
    Person,
)
from core.people.otp import OtpService
from core.platform import metrics
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.registry import inbox
from core.registry.ports import BmgRecord, GatewayUnavailable

VICTIM = "+77640008888"
OWNER_IIN = "900314364011"
STRANGER_IIN = "880101300123"
CHILD_IIN = "200505600124"


class FakeGov:
    """БМГ: every +7 7xx number is registered; `owners` name the owner's IIN."""

    def __init__(self, owners: dict[str, str] | None = None) -> None:
        self.owners = owners or {}

    async def phone_registered(self, phone: str) -> BmgRecord:
        return BmgRecord(phone=phone, registered=True, iin=self.owners.get(phone))


class FakeSms:
    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.fail = fail

    async def send(self, phone: str, text: str, client_id: str) -> str:
        if self.fail is not None:
            raise self.fail
        self.sent.append((phone, text, client_id))
        return f"m{len(self.sent)}"

    def to(self, phone: str) -> list[str]:
        return [text for number, text, _ in self.sent if number == phone]


def _service(
    redis: Redis, settings: Settings, sms: FakeSms, gov: FakeGov | None = None, **limits: int
) -> OtpService:
    tuned = settings.model_copy(update=limits)
    return OtpService(redis, tuned, sms, gov or FakeGov())  # type: ignore[arg-type]


async def _applicants(count: int, first_user: int = 7000) -> list[Applicant]:
    return [
        await Applicant.create(telegram_user_id=first_user + i, chat_id=first_user + i)
        for i in range(count)
    ]


async def _refusal(otp: OtpService, applicant: Applicant, phone: str) -> DomainError:
    with pytest.raises(DomainError) as refused:
        await otp.request(applicant.id, phone, "{code}")
    return refused.value


@pytest.fixture
def sms() -> FakeSms:
    return FakeSms()


# --- caps -------------------------------------------------------------------------------------


async def test_five_accounts_bombing_one_phone_get_three_codes_through_in_an_hour(
    db: None, redis: Redis, settings: Settings, sms: FakeSms
) -> None:
    otp = _service(redis, settings, sms)
    accounts = await _applicants(5)
    for account in accounts[:3]:
        await otp.request(account.id, VICTIM, "{code}")
    refused = await _refusal(otp, accounts[3], VICTIM)
    assert refused.reason == "otp_phone_limit"
    assert 3500 < refused.params["seconds_left"] <= 3600  # when to try again
    assert len(sms.to(VICTIM)) == 3


async def test_a_phone_gets_at_most_the_daily_number_of_codes(
    db: None, redis: Redis, settings: Settings, sms: FakeSms
) -> None:
    otp = _service(redis, settings, sms, otp_phone_per_hour=100, otp_phone_per_day=4)
    accounts = await _applicants(6)
    for account in accounts[:4]:
        await otp.request(account.id, VICTIM, "{code}")
    refused = await _refusal(otp, accounts[4], VICTIM)
    assert refused.reason == "otp_phone_limit" and refused.params["seconds_left"] > 3600
    assert len(sms.to(VICTIM)) == 4


async def test_one_account_typing_many_numbers_is_stopped_by_its_daily_cap(
    db: None, redis: Redis, settings: Settings, sms: FakeSms
) -> None:
    otp = _service(redis, settings, sms, otp_applicant_per_day=3)
    (account,) = await _applicants(1)
    for i in range(3):
        await otp.request(account.id, f"+7764000{i:04d}", "{code}")
    refused = await _refusal(otp, account, "+77640009000")
    assert refused.reason == "otp_applicant_limit" and refused.params["seconds_left"] > 3600
    assert len(sms.sent) == 3


async def test_concurrent_requests_for_one_phone_never_pass_the_cap(
    db: None, redis: Redis, settings: Settings, sms: FakeSms
) -> None:
    otp = _service(redis, settings, sms)
    accounts = await _applicants(12)
    results = await asyncio.gather(
        *(otp.request(a.id, VICTIM, "{code}") for a in accounts), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(sms.to(VICTIM)) == settings.otp_phone_per_hour == 3
    assert len(refused) == 9 and {r.reason for r in refused} == {"otp_phone_limit"}


async def test_concurrent_requests_of_one_account_never_pass_its_daily_cap(
    db: None, redis: Redis, settings: Settings, sms: FakeSms
) -> None:
    otp = _service(redis, settings, sms, otp_applicant_per_day=4)
    (account,) = await _applicants(1)
    results = await asyncio.gather(
        *(otp.request(account.id, f"+7764000{i:04d}", "{code}") for i in range(10)),
        return_exceptions=True,
    )
    assert len(sms.sent) == 4
    assert {r.reason for r in results if isinstance(r, DomainError)} == {"otp_applicant_limit"}


async def test_the_city_wide_breaker_opens_above_the_rate_and_refuses_every_new_code(
    db: None, redis: Redis, settings: Settings, sms: FakeSms
) -> None:
    otp = _service(redis, settings, sms, otp_global_per_minute=5, otp_breaker_seconds=600)
    accounts = await _applicants(8)
    trips = metrics.OTP_BREAKER_TRIPS._value.get()
    results = await asyncio.gather(
        *(otp.request(a.id, f"+7701555{i:04d}", "{code}") for i, a in enumerate(accounts[:7])),
        return_exceptions=True,
    )
    assert len(sms.sent) == 5
    busy = [r for r in results if isinstance(r, DomainError)]
    assert {r.reason for r in busy} == {"otp_service_busy"} and len(busy) == 2
    # A fresh account and a fresh phone: still refused while the breaker is open, with the wait.
    refused = await _refusal(otp, accounts[7], "+77015559999")
    assert refused.reason == "otp_service_busy" and 590 < refused.params["seconds_left"] <= 600
    assert len(sms.sent) == 5
    # What operators see on /metrics.
    assert metrics.OTP_BREAKER_TRIPS._value.get() == trips + 1
    assert metrics.OTP_BREAKER_OPEN_UNTIL._value.get() > time.time() + 500
    assert b"indigo_otp_breaker_open_until_seconds" in metrics.render()


# --- the БМГ owner ----------------------------------------------------------------------------


async def _person(iin: str, last: str = "Тестов") -> Person:
    return await Person.create(
        iin=iin, last_name=last, first_name="Тест", birth_date=date(1990, 3, 14)
    )


async def test_a_phone_of_another_person_is_refused_before_any_sms(
    db: None, redis: Redis, settings: Settings, sms: FakeSms
) -> None:
    otp = _service(redis, settings, sms, FakeGov({VICTIM: OWNER_IIN}))
    stranger = await Applicant.create(telegram_user_id=7101, person=await _person(STRANGER_IIN))
    refused = await _refusal(otp, stranger, VICTIM)
    assert refused.reason == "phone_owner_mismatch"
    assert sms.sent == []


async def test_the_owner_verifies_their_own_phone(
    db: None, redis: Redis, settings: Settings, sms: FakeSms
) -> None:
    otp = _service(redis, settings, sms, FakeGov({VICTIM: OWNER_IIN}))
    owner = await Applicant.create(telegram_user_id=7102, person=await _person(OWNER_IIN))
    await otp.request(owner.id, VICTIM, "{code}")
    assert await otp.verify(owner.id, VICTIM, sms.to(VICTIM)[-1]) == 1


async def test_a_family_member_linked_by_the_registry_may_verify_the_phone(
    db: None, redis: Redis, settings: Settings, sms: FakeSms
) -> None:
    # The phone is the child's (БМГ); the applicant's consented family request names the child.
    otp = _service(redis, settings, sms, FakeGov({VICTIM: CHILD_IIN}))
    parent = await Applicant.create(telegram_user_id=7103, person=await _person(OWNER_IIN))
    await GovRequest.create(
        request_id="fam-1",
        applicant=parent,
        parent_iin=OWNER_IIN,
        status=GovRequestStatus.consented,
        result={"consent": True, "children": [{"iin": CHILD_IIN}], "benefits": []},
    )
    await otp.request(parent.id, VICTIM, "{code}")
    assert len(sms.to(VICTIM)) == 1
    # ...and a child stored for the applicant counts the same way.
    other = await Applicant.create(telegram_user_id=7104, person=await _person(STRANGER_IIN))
    await Child.create(person=await _person("210707500125", "Ребенков"), representative=other)
    gov = FakeGov({"+77017770000": "210707500125"})
    await _service(redis, settings, sms, gov).request(other.id, "+77017770000", "{code}")
    assert len(sms.to("+77017770000")) == 1


async def test_an_unidentified_account_is_bound_to_the_owner_of_its_first_confirmed_phone(
    db: None, redis: Redis, settings: Settings, sms: FakeSms
) -> None:
    # The wizard confirms phones before the IIN: the first owned phone binds the account.
    own_second = "+77011110002"
    gov = FakeGov({VICTIM: OWNER_IIN, own_second: OWNER_IIN, "+77012223344": STRANGER_IIN})
    otp = _service(redis, settings, sms, gov)
    (account,) = await _applicants(1)
    await otp.request(account.id, VICTIM, "{code}")
    await otp.verify(account.id, VICTIM, sms.to(VICTIM)[-1])
    await otp.request(account.id, own_second, "{code}")  # the same owner: fine
    refused = await _refusal(otp, account, "+77012223344")
    assert refused.reason == "phone_owner_mismatch"
    assert sms.to("+77012223344") == []


# --- a failed SMS -----------------------------------------------------------------------------


@pytest.mark.parametrize("failure", [ValueError("HTTP 400"), GatewayUnavailable("HTTP 503")])
async def test_a_synchronously_refused_sms_is_reported_and_can_be_retried_at_once(
    db: None, redis: Redis, settings: Settings, failure: Exception
) -> None:
    sms = FakeSms(fail=failure)
    otp = _service(redis, settings, sms)
    (account,) = await _applicants(1)
    for _ in range(settings.otp_phone_per_hour + 1):  # nothing sent: nothing counted
        refused = await _refusal(otp, account, VICTIM)
        assert refused.reason == "sms_not_sent"
    sms.fail = None
    sent = await otp.request(account.id, VICTIM, "{code}")
    assert sent.phone == VICTIM and len(sms.to(VICTIM)) == 1


async def _delivery_report(client_id: str, status: str, event_id: str, settings: Settings) -> None:
    payload = {
        "event_id": event_id,
        "type": "delivery_report",
        "message_id": "m1",
        "client_id": client_id,
        "status": status,
    }
    _, event = await inbox.store("sms", payload)
    assert event is not None
    assert await inbox.process(event.id, inbox.InboxContext(settings))


async def test_a_failed_delivery_report_of_a_code_tells_the_parent_once(
    db: None, redis: Redis, settings: Settings, sms: FakeSms
) -> None:
    otp = _service(redis, settings, sms)
    first, second = await _applicants(2)
    await otp.request(first.id, VICTIM, "{code}")
    await otp.request(second.id, "+77017654321", "{code}")
    failed_id = sms.sent[0][2]
    assert failed_id.startswith(f"otp-{first.id}-")
    await _delivery_report(failed_id, "failed", "dr-1", settings)
    await _delivery_report(failed_id, "failed", "dr-2", settings)  # a repeated report
    await _delivery_report(sms.sent[1][2], "delivered", "dr-3", settings)
    await _delivery_report("otp-x-1", "failed", "dr-4", settings)  # not ours: ignored
    await _delivery_report("otp-99999999999999-1", "failed", "dr-5", settings)
    rows = await Notification.all()
    assert [(row.applicant_id, row.kind) for row in rows] == [(first.id, "code_not_delivered")]


async def test_the_code_is_the_only_digits_in_the_sms(
    db: None, redis: Redis, settings: Settings, sms: FakeSms
) -> None:
    otp = _service(redis, settings, sms)
    (account,) = await _applicants(1)
    await otp.request(account.id, VICTIM, "Indigo: код {code}.")
    assert re.fullmatch(r"Indigo: код \d{6}\.", sms.to(VICTIM)[0])
