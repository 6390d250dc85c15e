"""Notification texts as a parent reads them (kk and ru), from what the producers wrote."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import get_args

import pytest

from bot.i18n import make_i18n
from bot.notifications.render import render
from core.applications.benefits import recheck_ended_benefits
from core.applications.extension import annual_cleaning, remind_extension
from core.applications.lifecycle import remove_aged_out, restore_due
from core.applications.referral_mode import change_referral_mode
from core.applications.submission import SubmissionInput, submit
from core.complaints import filing as complaints
from core.complaints import handling as complaint_handling
from core.models import Application, BenefitStatus, Language, Notification, QueueType, Stream
from core.notifications.broadcasts import create_broadcast
from core.notifications.kinds import KINDS, AnyPayload, FamilyReady, Place, ReferralIssued, load
from core.people.applicants import get_or_create_applicant, transfer_applications
from core.platform import clock
from core.queue.watch import notify_position_changes
from core.referrals.benefits import benefit_certificates, confirm_benefit
from core.referrals.departures import dismiss
from core.referrals.lifecycle import enroll, expire_due, revoke
from core.referrals.take import take_seat
from core.referrals.undo import (
    undo_benefit_decision,
    undo_dismissal,
    undo_enrolment,
    undo_revocation,
)
from core.registry import inbox
from core.seats.releases import release_seats
from tests.fixtures.benefits import BenefitsRegistry
from tests.fixtures.queue import make_child, make_city, make_kindergarten, make_parent
from tests.fixtures.seats import make_application, make_group, make_queue
from tests.fixtures.worker import make_staff

LANGUAGES = ("kk", "ru")
KINDERGARTEN = {"kk": "№1 бөбекжай-бақша", "ru": "Ясли-сад №1"}
GROUP_YEAR = {"kk": "ж.т.", "ru": "г.р."}  # the group label: "..., 2022 г.р., русский язык"
PMPK = {"kk": "ПМПК", "ru": "ПМПК"}


def test_every_kind_has_a_template_and_every_template_a_kind() -> None:
    assert set(KINDS) == {payload.kind for payload in get_args(AnyPayload)}
    assert len(KINDS) == 34
    with pytest.raises(AssertionError):
        render(object(), "ru")  # type: ignore[arg-type]  # no template: assert_never


async def test_every_kind_reads_right_from_what_its_producer_wrote(db, settings) -> None:
    rows = await _produce_every_kind(settings)
    kinds = {row.kind for row in rows}
    # nothing produces family_ready yet; exchange_news: tests/service/test_exchange.py
    assert kinds == set(KINDS) - {"family_ready", "exchange_news"}
    seen: dict[str, list[str]] = {}
    for row in rows:
        payload = load(row.kind, row.params)
        for language in LANGUAGES:
            message = render(payload, language, tz=settings.tz)
            text = message.text
            assert text and "{" not in text and "}" not in text, (row.kind, text)
            assert "<" not in message.sms
            seen.setdefault(f"{row.kind}:{language}", []).append(text)
            _check(row.kind, payload, language, text)
        button = render(payload, "ru").button
        if row.kind == "seat_offered":
            assert button is not None and button.text == "Занять место"
        elif row.kind == "position_changed":  # issue 17: the explanation in one tap
            assert button is not None and button.callback_data.startswith("why:")
            assert button.text == make_i18n().gettext("Why did it move?", locale="ru")
        elif row.kind in {
            "application_registered",
            "referral_issued",
            "referral_expired",
            "referral_enrolled",
            "referral_revoked",
            "referral_enrolment_undone",
            "referral_revocation_undone",
            "referral_dismissed",
            "referral_dismissal_undone",
        } or (row.kind == "benefit_certificate_lapsed" and row.params.get("number")):
            # After the submission and each referral event: the receipts in the public log.
            assert button is not None, row.kind
            assert button.text == make_i18n().gettext("Proof in the public log", locale="ru")
            assert button.callback_data.startswith("proof:")
        else:
            assert button is None, row.kind
    for language in LANGUAGES:
        assert render(FamilyReady(consent=True), language).text
        assert render(FamilyReady(consent=False), language).text
    # The referral that waits for the benefit says so; the general queue brings no PMPK.
    issued = [load(r.kind, r.params) for r in rows if r.kind == "referral_issued"]
    assert any(isinstance(p, ReferralIssued) and p.awaiting_benefit_confirmation for p in issued)
    waiting = [t for t in seen["referral_issued:ru"] if "подтверждения льготы" in t]
    assert waiting, seen["referral_issued:ru"]


def test_the_correctional_queue_brings_the_pmpk_conclusion() -> None:
    payload = ReferralIssued(
        referral_id=1,
        number="NP-2026-000001",
        application_number=1292001,
        place=Place("Ясли-сад №1", "№1 бөбекжай-бақша", "№3", "ru", 2022, "correctional"),
        expires_at=datetime(2026, 11, 23, 4, 0, tzinfo=UTC),
        queue_type=str(QueueType.correctional),
        awaiting_benefit_confirmation=False,
    )
    for language in LANGUAGES:
        text = render(payload, language).text
        assert PMPK[language] in text and "23" in text


def test_a_child_with_special_needs_in_the_general_queue_brings_the_pmpk_conclusion() -> None:
    """Parents' memo: «Заключение психолого-медико-педагогической консультации (для детей с
    особыми образовательными потребностями)» — benefit 9 in the general queue too (rule 40)."""
    payload = ReferralIssued(
        referral_id=1,
        number="NP-2026-000001",
        application_number=1292001,
        place=Place("Ясли-сад №1", "№1 бөбекжай-бақша", "№3", "ru", 2022, "general"),
        expires_at=datetime(2026, 11, 23, 4, 0, tzinfo=UTC),
        queue_type=str(QueueType.general),
        awaiting_benefit_confirmation=False,
        benefit=9,
    )
    for language in LANGUAGES:
        assert PMPK[language] in render(payload, language).text
        assert PMPK[language] not in render(replace(payload, benefit=8), language).text


def test_a_priority_offer_names_its_deadline_in_local_time() -> None:
    params = {
        "release_id": 7,
        "application_id": 42,
        "application_number": 1292001,
        "kindergarten_ru": "Ясли-сад №1",
        "kindergarten_kk": "№1 бөбекжай-бақша",
        "group": "№3",
        "language": "kk",
        "group_birth_year": 2023,
        "group_kind": "general",
        "deadline": datetime(2026, 11, 23, 4, 0, tzinfo=UTC).isoformat(),
    }
    text = render(load("seat_offered", params), "ru").text
    assert "№1292001" in text and "23 ноября 2026" in text and "09:00" in text  # UTC+5
    # The group is named as the bot names it, in the reader's language.
    assert "2023 г.р., казахский язык" in text
    assert "2023 ж.т., қазақ тілі" in render(load("seat_offered", params), "kk").text
    general = load("seat_offered", {**params, "general_access": True, "deadline": None})
    assert "получит тот, кто займёт первым" in render(general, "ru").text
    assert "кім бірінші алса" in render(general, "kk").text
    assert "только вы" not in render(general, "ru").text


# --- helpers ------------------------------------------------------------------------------------


def _check(kind: str, payload: AnyPayload, language: str, text: str) -> None:
    """What a parent must read in each kind."""
    if kind in (
        "seat_offered",
        "referral_issued",
        "referral_enrolled",
        "referral_revoked",
        "referral_dismissed",
    ):
        assert KINDERGARTEN[language] in text and GROUP_YEAR[language] in text, text
    if kind == "referral_issued":
        assert isinstance(payload, ReferralIssued)
        assert payload.number in text
        assert PMPK[language] not in text  # the general queue
    if kind in ("referral_issued", "referral_expiring", "seat_offered"):
        assert str(clock.now().year) in text or str(clock.now().year + 1) in text  # a date
    if kind == "broadcast":
        assert text == {"kk": "Сәлеметсіз бе", "ru": "Здравствуйте"}[language]
    if kind == "applications_moved":
        assert "+7701*****02" in text and "№" in text and "1414" in text, text
    if kind == "extension_due":
        assert "<b>1 " in text or "жылғы 1 " in text  # "1 октября 2027" / "2027 жылғы 1 қазан"
    if kind in (
        "application_registered",
        "position_changed",
        "restored",
        "stop_listed",
        "aged_out",
    ):
        assert "№" in text


async def _produce_every_kind(settings) -> list[Notification]:
    """Run the real services so each writes its notifications; return the outbox rows."""
    city = await make_city()
    kindergarten = await make_kindergarten(city, 1)
    group = await make_group(kindergarten)
    # application_registered (and seat_offered on submission when a seat is free: none yet)
    parent = await make_parent(telegram_user_id=501)
    child = await make_child(parent, date(clock.now().year - 3, 6, 1))
    await submit(
        SubmissionInput(
            applicant_id=parent.id,
            child_id=child.id,
            city_id=city.id,
            queue_type=QueueType.general,
            choices=[(kindergarten.id, Language.ru)],
            legal_representative=True,
        ),
        settings=settings,
        actor="applicant:501",
    )
    # seat_offered (priority window), referral_issued, referral_expiring, referral_expired,
    # restored (the stop-list term ends)
    first, second = await make_queue(city, kindergarten, 2)
    await release_seats(group.id, 1, actor="staff:1", settings=settings)
    referral = await take_seat(first.id, group.id, actor="parent", settings=settings)
    until_expiry = referral.expires_at - clock.now()
    with clock.travel(until_expiry - timedelta(hours=2)):
        await expire_due(settings)
    with clock.travel(until_expiry + timedelta(minutes=1)):
        await expire_due(settings)
    with clock.travel(until_expiry + timedelta(days=settings.stop_list_days + 1)):
        await restore_due(settings)
    # referral_issued awaiting the benefit, benefit_confirmed; benefit_rejected; each undone
    # (benefit_decision_undone)
    undoer, decided = await make_staff(778), []
    for confirmed in (True, False):
        app = await make_application(
            city=city,
            choices=[(kindergarten, Language.ru)],
            stream=Stream.extraordinary,
            benefit_status=BenefitStatus.pending,
        )
        await release_seats(group.id, 1, actor="staff:1", settings=settings)
        await take_seat(app.id, group.id, actor="parent", settings=settings)
        await confirm_benefit(
            app.id, confirmed, "document unreadable", actor="staff:1", settings=settings
        )
        decided.append(app.id)
    # referral_enrolled, referral_revoked (a reason picked from the list), each undone
    # (referral_enrolment_undone, referral_revocation_undone)
    for enrolled in (True, False):
        app = await make_application(city=city, choices=[(kindergarten, Language.ru)])
        await release_seats(group.id, 1, actor="staff:1", settings=settings)
        taken = await take_seat(app.id, group.id, actor="parent", settings=settings)
        if enrolled:
            kept = taken
            await enroll(taken.id, actor="staff:1")
        else:
            await revoke(
                taken.id,
                "",
                actor="staff:1",
                settings=settings,
                reason_code="documents_not_provided",
            )
        undo = undo_enrolment if enrolled else undo_revocation
        await undo(taken.id, undoer, settings=settings)
    for application_id in decided:
        await undo_benefit_decision(application_id, undoer, settings=settings)
    # referral_dismissed (the child enrolled again on the referral whose enrolment was undone
    # left the kindergarten), referral_dismissal_undone
    await enroll(kept.id, actor="staff:1")
    await dismiss(kept.id, "went_to_school", undoer, settings=settings)
    await undo_dismissal(kept.id, undoer, settings=settings)
    # position_changed: a place recorded long ago, far from today's
    await Application.filter(id=second.id).update(last_notified_position=500)
    await Application.exclude(id=second.id).update(last_notified_position=None)
    await notify_position_changes(settings)
    # extension_due, stop_listed (not extended)
    year = clock.now().year
    await make_application(
        city=city, choices=[(kindergarten, Language.ru)], valid_until=date(year, 11, 15)
    )
    target = datetime(year, 9, 15, 7, 0, tzinfo=clock.now().tzinfo)
    with clock.travel(target - clock.now()):
        await remind_extension(settings, date(year, 9, 15))
    await annual_cleaning(settings, date(year, 10, 2))
    # benefit_certificate_expiring, benefit_certificate_lapsed (unconfirmed certificates)
    local_today = clock.now().astimezone(settings.tz).date()
    for days_left in (2, -1):
        waiting = await make_application(
            city=city,
            choices=[(kindergarten, Language.ru)],
            stream=Stream.extraordinary,
            benefit_status=BenefitStatus.pending,
        )
        await Application.filter(id=waiting.id).update(
            benefit_valid_until=local_today + timedelta(days=days_left)
        )
    await benefit_certificates(settings, local_today)
    # benefit_ended: the registry no longer confirms a first-priority benefit
    ending = await make_application(
        city=city, choices=[(kindergarten, Language.ru)], stream=Stream.first_priority
    )
    await Application.filter(id=ending.id).update(
        benefit_category=8,
        benefit_status=BenefitStatus.confirmed,
        benefit_valid_until=local_today - timedelta(days=1),
    )
    await recheck_ended_benefits(settings, local_today, BenefitsRegistry())
    # aged_out: a child who is 6 full years old leaves the queue
    await make_application(
        city=city, choices=[(kindergarten, Language.ru)], born=date(local_today.year - 7, 1, 1)
    )
    await remove_aged_out(settings, local_today)
    # broadcast
    await create_broadcast(await make_staff(), "Сәлеметсіз бе", "Здравствуйте", {})
    # code_not_delivered: the SMS gateway reports a one-time code SMS failed
    report = {"event_id": "dr-1", "type": "delivery_report", "message_id": "m1"}
    _, event = await inbox.store(
        "sms", {**report, "client_id": f"otp-{parent.id}-ab", "status": "failed"}
    )
    assert event is not None and await inbox.process(event.id, inbox.InboxContext(settings))
    # complaint_registered, _filed (to the superadmin, who has opened the bot), _taken,
    # _answered, _escalated
    await get_or_create_applicant(779)
    superadmin = await make_staff(779)
    answered = await complaints.file_complaint(parent, "department", "Жалоба", settings)
    await complaint_handling.take(superadmin, answered.id)
    await complaint_handling.answer(superadmin, answered.id, "Ответ по существу")
    await complaints.file_complaint(parent, "corruption", "Взятка", settings, anonymous=True)
    with clock.travel(timedelta(days=40)):
        await complaint_handling.escalate_overdue(settings)
    # applications_moved: access recovery moves the child's application to another account
    await child.fetch_related("person")
    heir = await make_parent(telegram_user_id=502)
    await transfer_applications(str(child.person.iin), heir.id, "+77010000502")
    # referral_mode_changed: the parent changes the referral date mode in the cabinet
    changing = await make_application(
        city=city, choices=[(kindergarten, Language.ru)], born=date(local_today.year - 3, 6, 1)
    )
    await change_referral_mode(
        changing.id,
        changing.applicant_id,
        "from_date",
        local_today + timedelta(days=30),
        settings=settings,
        actor="parent",
    )
    return await Notification.all().order_by("id")
