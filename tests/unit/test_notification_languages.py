"""Every notification kind, and its SMS, reads in one language: no Kazakh letters in a Russian
text, no Russian words in a Kazakh one; a staff member's own words reach the parent only as a
quote after a lead-in in the parent's language; dates and numbers in the one format."""

from __future__ import annotations

import dataclasses
import re
import types
from datetime import UTC, date, datetime
from typing import Any, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo

import pytest

from bot.notifications.render import DECISION_REASONS, STOP_LIST_REASONS, render
from core.notifications.kinds import AnyPayload, BenefitRejected, Place, ReferralRevoked
from tests.unit.test_glossary import KAZAKH_LETTERS, RUSSIAN_WORDS

TZ = ZoneInfo("Asia/Almaty")
MOMENT = datetime(2026, 12, 8, 6, 16, tzinfo=UTC)  # 11:16 in Kazakhstan
DAY = date(2027, 10, 1)
PLACE = Place(
    kindergarten_ru="Ясли-сад №16 «Лебедушка»",
    kindergarten_kk="№16 «Аққу» бөбекжай-бақшасы",
    group="№3",
    language="kk",
    group_birth_year=2024,
    group_kind="general",
)
STAFF_WORDS = "Справка недействительна: срок истёк"
# Field values by name where the type alone does not say what a real payload holds.
BY_NAME: dict[str, Any] = {
    "number": "NP-2026-000002",
    "referral_number": "NP-2026-000002",
    "queue_type": "general",
    "decision": "rejected",
    "reason": "not_extended",
    "text_kk": "Ертең балабақшалар жұмыс істемейді.",
    "text_ru": "Завтра детские сады не работают.",
    "age_years": 6,
    "category": 5,
    "benefit": 9,
}


def _value(name: str, hint: Any, owner: type) -> Any:
    if name in BY_NAME and not (name == "number" and hint is int):
        return BY_NAME[name]
    if get_origin(hint) in (Union, types.UnionType):
        return _value(name, next(a for a in get_args(hint) if a is not type(None)), owner)
    if get_origin(hint) is tuple:
        return (1292002, 1292003)
    simple: dict[Any, Any] = {
        int: 1292002,
        str: "x",
        bool: True,
        datetime: MOMENT,
        date: DAY,
        Place: PLACE,
    }
    if hint in simple:
        return simple[hint]
    raise AssertionError(f"{owner.__name__}.{name}: no sample for {hint}")


def _payloads() -> list[Any]:
    """One payload of every kind with every optional part filled, and the variants whose text
    differs: a reason typed by staff, a reason picked from the list, the general access offer."""
    payloads = []
    for kind in get_args(AnyPayload):
        hints = get_type_hints(kind)
        fields = {
            f.name: _value(f.name, hints[f.name], kind) for f in dataclasses.fields(kind) if f.init
        }
        payloads.append(kind(**fields))
    for code in DECISION_REASONS:
        payloads.append(BenefitRejected(application_number=1292002, reason="", reason_code=code))
    payloads += [
        BenefitRejected(application_number=1292002, reason=STAFF_WORDS, reason_code="other"),
        ReferralRevoked(
            referral_id=1,
            number="NP-2026-000002",
            application_number=1292002,
            place=PLACE,
            reason=STAFF_WORDS,
            reason_code="other",
        ),
    ]
    for payload in list(payloads):
        if hasattr(payload, "general_access"):
            payloads.append(dataclasses.replace(payload, general_access=False))
        if isinstance(payload, get_args(AnyPayload)) and getattr(payload, "reason", None) == (
            "not_extended"
        ):
            payloads += [dataclasses.replace(payload, reason=r) for r in STOP_LIST_REASONS]
    return payloads


def _texts(language: str) -> list[tuple[str, str]]:
    out = []
    for payload in _payloads():
        message = render(payload, language, tz=TZ)
        out += [(payload.kind, message.text), (f"{payload.kind} (SMS)", message.sms)]
    return out


def _without_quotes(text: str) -> str:
    """What the bot itself says: the staff member's quoted words and the kindergarten's own
    name (a proper name, written as the registry has it) are left out."""
    text = text.replace(PLACE.kindergarten_kk, "").replace(PLACE.kindergarten_ru, "")
    return re.sub(r"«[^«»]*»", "«»", text)


def test_every_kind_is_rendered() -> None:
    kinds = {payload.kind for payload in _payloads()}
    assert kinds == {kind.kind for kind in get_args(AnyPayload)}


def test_a_russian_parent_reads_no_kazakh_letters() -> None:
    wrong = [(kind, text) for kind, text in _texts("ru") if KAZAKH_LETTERS.search(text)]
    assert wrong == []


def test_a_kazakh_parent_reads_no_russian_words_outside_a_quote() -> None:
    wrong = [
        (kind, text, RUSSIAN_WORDS.search(_without_quotes(text)))
        for kind, text in _texts("kk")
        if RUSSIAN_WORDS.search(_without_quotes(text))
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("language", "lead_in"),
    [("kk", "Себебі (қызметкердің өз сөзімен): «"), ("ru", "Причина (словами сотрудника): «")],
)
def test_staff_typed_reasons_are_quoted_after_a_lead_in_in_the_readers_language(
    language: str, lead_in: str
) -> None:
    rejected = BenefitRejected(application_number=1292002, reason=STAFF_WORDS, reason_code="other")
    message = render(rejected, language, tz=TZ)
    assert f"{lead_in}{STAFF_WORDS}»" in message.text
    assert f"{lead_in}{STAFF_WORDS}»" in message.sms
    picked = BenefitRejected(
        application_number=1292002, reason="", reason_code="documents_not_provided"
    )
    assert "«" not in render(picked, language, tz=TZ).text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("kk", "NP-2026-000002 жолдамасының мерзімі аяқталады: 2026 жылғы 8 желтоқсан, 11:16."),
        ("ru", "Срок направления №NP-2026-000002 истекает 8 декабря 2026, 11:16."),
    ],
)
def test_dates_and_numbers_read_in_the_one_format(language: str, expected: str) -> None:
    texts = dict(_texts(language))
    chat = re.sub(r"<[^>]+>", "", texts["referral_expiring"])
    assert expected in chat, chat
    # The SMS writes the moment as a short numeric label (two segments at most).
    sms = texts["referral_expiring (SMS)"]
    assert "08.12.2026 11:16" in sms, sms
    registered = texts["application_registered (SMS)"]
    assert "№1292002" in registered and "#" not in registered
