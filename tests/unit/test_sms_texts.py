"""Every notification's SMS, in Kazakh and in Russian, fits one or two SMS segments and never
asks the reader to press a button (an SMS has none)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from bot.notifications.render import render
from bot.notifications.sms import TWO_SEGMENTS, segments
from core.notifications.kinds import (
    AgedOut,
    AnyPayload,
    ApplicationRegistered,
    ApplicationsMoved,
    BenefitCertificateExpiring,
    BenefitCertificateLapsed,
    BenefitConfirmed,
    BenefitDecisionUndone,
    BenefitEnded,
    BenefitRejected,
    Broadcast,
    CodeNotDelivered,
    ComplaintAnswered,
    ComplaintEscalated,
    ComplaintFiled,
    ComplaintRegistered,
    ComplaintTaken,
    ExchangeNews,
    ExtensionDue,
    FamilyReady,
    OfferWithdrawn,
    Place,
    PositionChanged,
    ReferralDismissalUndone,
    ReferralDismissed,
    ReferralEnrolled,
    ReferralEnrolmentUndone,
    ReferralExpired,
    ReferralExpiring,
    ReferralIssued,
    ReferralModeChanged,
    ReferralRevocationUndone,
    ReferralRevoked,
    Restored,
    SeatOffered,
    StopListed,
)

TZ = ZoneInfo("Asia/Almaty")
WHEN = datetime(2026, 12, 8, 6, 16, tzinfo=UTC)  # 11:16 in Kazakhstan
NUMBER = 1292010
REFERRAL = "NP-2026-000006"
LONG_NAME = {
    "ru": "Ясли-сад №138 «Балапан» государственного коммунального казённого предприятия "
    "отдела образования города Астаны",
    "kk": "Астана қаласы білім беру бөлімінің шаруашылық жүргізу құқығындағы мемлекеттік "
    "коммуналдық кәсіпорны №138 «Балапан» бөбекжай-бақшасы",
}
SHORT = Place(
    "Ясли-сад №9 «Карлыгаш»", "№9 «Қарлығаш» бөбекжай-бақшасы", "№3", "kk", 2022, "general"
)
LONG = Place(LONG_NAME["ru"], LONG_NAME["kk"], "Солнышко", "ru", 2022, "general")
TYPED = "Справка недействительна: срок истёк, " * 6
# What a reader must never be asked to press in an SMS (word starts: "отбасыңыз" is "your family").
BUTTON_WORDS = re.compile(r"\b(button|press|кнопк|нажм|батырм|түйме|басыңыз)", re.IGNORECASE)


def worst_cases() -> list[AnyPayload]:
    """Every kind, with the longest values it carries in practice (and longer)."""
    return [
        ApplicationRegistered(number=NUMBER),
        PositionChanged(application_id=1, number=NUMBER, previous=108_000, position=107_999),
        SeatOffered(NUMBER, NUMBER, 7, LONG, general_access=True),
        SeatOffered(NUMBER, NUMBER, 7, LONG, deadline=WHEN),
        SeatOffered(NUMBER, NUMBER, 7, SHORT, general_access=True),
        SeatOffered(NUMBER, NUMBER, 7, SHORT, deadline=WHEN),
        ReferralIssued(1, REFERRAL, NUMBER, LONG, WHEN, "correctional", True, benefit=3),
        ReferralIssued(1, REFERRAL, NUMBER, SHORT, WHEN, "general", False),
        ReferralEnrolled(1, REFERRAL, NUMBER, LONG),
        ReferralRevoked(1, REFERRAL, NUMBER, LONG, reason=TYPED),
        ReferralRevoked(1, REFERRAL, NUMBER, SHORT, reason_code="parent_refused_seat"),
        ReferralEnrolmentUndone(1, REFERRAL, NUMBER, LONG),
        ReferralRevocationUndone(1, REFERRAL, NUMBER, LONG, WHEN),
        ReferralDismissed(1, REFERRAL, NUMBER, LONG, date(2026, 12, 8), "went_to_school"),
        ReferralDismissed(1, REFERRAL, NUMBER, LONG, date(2026, 12, 8), "other", TYPED),
        ReferralDismissalUndone(1, REFERRAL, NUMBER, LONG),
        OfferWithdrawn(NUMBER, LONG),
        ReferralExpiring(1, REFERRAL, WHEN),
        ReferralExpired(1, REFERRAL, NUMBER, WHEN),
        ReferralExpired(1, REFERRAL, NUMBER, None),
        ExtensionDue(
            numbers=(NUMBER, NUMBER + 1, NUMBER + 2, NUMBER + 3), deadline=date(2027, 10, 1)
        ),
        StopListed(1, NUMBER, "referral_expired", WHEN),
        StopListed(1, NUMBER, "not_extended", None),
        AgedOut(1, NUMBER, 6, live_referral=True),
        Restored(application_number=NUMBER, application_id=1),
        BenefitConfirmed(NUMBER, REFERRAL, WHEN),
        BenefitRejected(NUMBER, reason=TYPED, referral_number=REFERRAL, stop_listed_until=WHEN),
        BenefitRejected(NUMBER, reason="", reason_code="false_benefit_document"),
        BenefitEnded(1, NUMBER, 8, date(2026, 11, 30)),
        BenefitDecisionUndone(NUMBER, "rejected", REFERRAL),
        Broadcast(text_kk="Құрметті ата-аналар! " * 20, text_ru="Уважаемые родители! " * 20),
        FamilyReady(consent=True),
        FamilyReady(consent=False),
        BenefitCertificateExpiring(1, NUMBER, date(2026, 12, 20)),
        BenefitCertificateLapsed(1, NUMBER, REFERRAL, WHEN),
        CodeNotDelivered(),
        ReferralModeChanged(1, NUMBER, date(2027, 9, 1)),
        ReferralModeChanged(1, NUMBER, None),
        ComplaintRegistered(number=123456, category="corruption", deadline=WHEN),
        ComplaintFiled(number=123456, category="department", deadline=WHEN),
        ComplaintTaken(number=123456, deadline=WHEN),
        ComplaintAnswered(number=123456, answer="Ответ по существу. " * 20),
        ComplaintEscalated(number=123456),
        ApplicationsMoved((NUMBER, NUMBER + 1, NUMBER + 2), WHEN, "+7701*****02"),
        *(
            ExchangeNews(step, 1, None, WHEN, REFERRAL)
            for step in ("requested", "offered", "waiting_others", "dropped", "carried_out")
        ),
    ]


def test_every_kind_has_a_worst_case_here() -> None:
    assert {type(p) for p in worst_cases()} == set(get_args(AnyPayload))


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_every_sms_fits_two_segments_and_mentions_no_button(language: str) -> None:
    for payload in worst_cases():
        sms = render(payload, language, tz=TZ).sms
        assert sms.startswith("Indigo: "), (payload, sms)
        assert len(sms) <= TWO_SEGMENTS and segments(sms) <= 2, (payload.kind, len(sms), sms)
        assert "<" not in sms and "{" not in sms, sms
        assert not BUTTON_WORDS.search(sms), sms
        if not isinstance(payload, Broadcast | ComplaintAnswered):  # staff words, cut to fit
            assert not sms.endswith("…"), sms  # our own texts fit whole; only staff text is cut
            # The reader's language: the Kazakh SMS is not the Russian one.
            assert sms != render(payload, "ru" if language == "kk" else "kk", tz=TZ).sms


def test_a_seat_offer_sms_names_the_kindergarten_when_it_fits_and_the_deadline_as_a_label() -> None:
    ru = render(SeatOffered(NUMBER, NUMBER, 7, SHORT, general_access=True), "ru", tz=TZ).sms
    assert ru == (
        "Indigo: место для заявления №1292010. Ясли-сад №9 «Карлыгаш». "
        "Открыто всем: кто первый, того и место. Направление — в боте Indigo."
    )
    kk = render(SeatOffered(NUMBER, NUMBER, 7, SHORT, general_access=True), "kk", tz=TZ).sms
    assert "№9 «Қарлығаш» бөбекжай-бақшасы" in kk
    assert "бірінші алған алады" in kk and "Жолдама — Indigo ботында." in kk
    # A name too long for two segments is left out; the terms and the way to act never are.
    long = render(SeatOffered(NUMBER, NUMBER, 7, LONG, deadline=WHEN), "ru", tz=TZ).sms
    assert "Балапан" not in long
    assert long.endswith(
        "Только для первых в очереди, срок: 08.12.2026 11:16. Направление — в боте Indigo."
    )
    kk = render(SeatOffered(NUMBER, NUMBER, 7, LONG, deadline=WHEN), "kk", tz=TZ).sms
    assert "мерзімі: 08.12.2026 11:16." in kk


def test_the_referral_sms_leaves_the_document_list_to_the_bot() -> None:
    payload = ReferralIssued(1, REFERRAL, NUMBER, SHORT, WHEN, "general", False)
    message = render(payload, "ru", tz=TZ)
    assert "065" in message.text  # the chat message lists the documents
    assert message.sms == (
        "Indigo: выдано направление №NP-2026-000006. Ясли-сад №9 «Карлыгаш». "
        "Действует до: 08.12.2026 11:16. Список документов — в боте Indigo."
    )


def test_segments_count_ucs2_and_gsm() -> None:
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("я" * 70) == 1 and segments("я" * 71) == 2 and segments("я" * 134) == 2
    assert segments("я" * 135) == 3
