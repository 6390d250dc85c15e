"""SMS texts of the notifications: one short plain text per kind, in the reader's language.

An SMS has no buttons and is paid per segment. Kazakh and Russian are Cyrillic, sent as UCS-2:
70 characters fit one segment, 134 fit two (67 each). Every text here fits two segments: the
long parts of the chat message (the document list, the group label) are left to the bot, and a
part that may be long (a kindergarten's name, a reason typed by staff, a broadcast) is dropped
or shortened when the whole would not fit. Dates are numeric labels ("Срок: 08.12.2026 11:16"),
which read right in both languages without case endings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import assert_never
from zoneinfo import ZoneInfo

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

SINGLE_SEGMENT = 70  # UCS-2 characters in one SMS
TWO_SEGMENTS = 134  # UCS-2 characters in two concatenated SMS (2 x 67)
ELLIPSIS = "…"

# The GSM 7-bit basic alphabet: a text of these characters only is not sent as UCS-2.
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

Gettext = Callable[[str], str]


def segments(text: str) -> int:
    """How many SMS segments `text` takes (GSM-7 160/153, else UCS-2 70/67; a character outside
    the Basic Multilingual Plane takes two UCS-2 units)."""
    if all(ch in _GSM7 for ch in text):
        single, part, units = 160, 153, len(text)
    else:
        single, part, units = 70, 67, sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    if units <= single:
        return 1
    return -(-units // part)


def sms_text(payload: AnyPayload, gettext: Gettext, language: str, tz: ZoneInfo) -> str:
    """The SMS for one notification: at most two segments, no buttons mentioned."""
    s = _Sms(gettext, language, tz)
    match payload:
        case ApplicationRegistered():
            return s.text(
                s.t("Indigo: application {number} is registered.", number=_no(payload.number))
            )
        case PositionChanged():
            return s.text(
                s.t(
                    "Indigo: application {number}, place in the queue: {position} (was "
                    "{previous}).",
                    number=_no(payload.number),
                    position=payload.position,
                    previous=payload.previous,
                )
            )
        case SeatOffered():
            return _seat_offered(s, payload)
        case ReferralIssued():
            head = s.t("Indigo: referral {number} is issued.", number=_ref(payload.number))
            tail = [s.t("Valid until: {when}.", when=s.when(payload.expires_at))]
            if payload.awaiting_benefit_confirmation:
                tail.append(s.t("It waits for the benefit's confirmation."))
            tail.append(s.t("The documents to bring are listed in the Indigo bot."))
            return s.fit(head, s.place(payload.place), *tail)
        case ReferralEnrolled():
            return s.text(
                s.t(
                    "Indigo: referral {number}: the child is enrolled. Application {application} "
                    "has left the queue.",
                    number=_ref(payload.number),
                    application=_no(payload.application_number),
                )
            )
        case ReferralRevoked():
            head = s.t("Indigo: referral {number} is revoked.", number=_ref(payload.number))
            keep = s.t(
                "Application {application} stays in the queue at its place.",
                application=_no(payload.application_number),
            )
            return s.fit(head, s.reason(payload.reason_code, payload.reason), keep=keep)
        case ReferralEnrolmentUndone():
            return s.text(
                s.t(
                    "Indigo: the enrolment on referral {number} was a mistake and is undone. "
                    "Application {application} is back in the queue.",
                    number=_ref(payload.number),
                    application=_no(payload.application_number),
                )
            )
        case ReferralRevocationUndone():
            return s.text(
                s.t(
                    "Indigo: the revocation of referral {number} was a mistake and is undone.",
                    number=_ref(payload.number),
                )
                + " "
                + s.t("Valid until: {when}.", when=s.when(payload.expires_at))
            )
        case OfferWithdrawn():
            return s.text(
                s.t(
                    "Indigo: the seat offered for application {number} is no longer available "
                    "(a staff mistake was corrected). Your place in the queue is kept.",
                    number=_no(payload.application_number),
                )
            )
        case ReferralExpiring():
            return s.text(
                s.t(
                    "Indigo: referral {number} runs out. Deadline: {when}. Bring the documents "
                    "to the kindergarten or extend the referral in the bot.",
                    number=_ref(payload.number),
                    when=s.when(payload.expires_at),
                )
            )
        case ReferralExpired():
            head = s.t("Indigo: referral {number} has expired.", number=_ref(payload.number))
            if payload.stop_listed_until is None:
                return s.text(head)
            return s.text(
                head
                + " "
                + s.t(
                    "The application is on the stop-list until: {when}.",
                    when=s.when(payload.stop_listed_until),
                )
            )
        case ExtensionDue():
            head = s.t("Indigo: extend your applications for another year.")
            numbers = s.t("Applications: {numbers}.", numbers=", ".join(map(_no, payload.numbers)))
            deadline = s.t(
                "Fill in the questionnaire in the bot. Deadline: {date}.",
                date=s.day(payload.deadline),
            )
            return s.fit(head, numbers if payload.numbers else "", keep=deadline)
        case StopListed():
            head = s.t(
                "Indigo: application {number} is moved to the stop-list.",
                number=_no(payload.application_number),
            )
            if payload.until is not None:
                then = s.t("It returns to the queue on: {when}.", when=s.when(payload.until))
            else:
                then = s.t("You can restore it in the bot; it keeps its original time.")
            return s.text(head + " " + then)
        case AgedOut():
            head = s.t(
                "Indigo: application {number} is archived: the child has reached {age} years.",
                number=_no(payload.application_number),
                age=payload.age_years,
            )
            if payload.live_referral:
                head += " " + s.t("The referral stays valid until its deadline.")
            return s.text(head)
        case Restored():
            return s.text(
                s.t(
                    "Indigo: application {number} is back in the queue at its original time.",
                    number=_no(payload.application_number),
                )
            )
        case BenefitConfirmed():
            head = s.t(
                "Indigo: the benefit of application {number} is confirmed.",
                number=_no(payload.application_number),
            )
            if payload.referral_number and payload.expires_at is not None:
                head += " " + s.t(
                    "Referral {number}, valid until: {when}.",
                    number=_ref(payload.referral_number),
                    when=s.when(payload.expires_at),
                )
            return s.text(head)
        case BenefitRejected():
            head = s.t(
                "Indigo: the benefit of application {number} is not confirmed.",
                number=_no(payload.application_number),
            )
            return s.fit(head, s.reason(payload.reason_code, payload.reason))
        case BenefitEnded():
            return s.text(
                s.t(
                    "Indigo: the registry no longer confirms the benefit of application "
                    "{number}. It stays in the queue at its time, in the general order.",
                    number=_no(payload.application_number),
                )
            )
        case BenefitDecisionUndone():
            return s.text(
                s.t(
                    "Indigo: the decision on the benefit of application {number} was a mistake "
                    "and is undone; the benefit waits for a decision again.",
                    number=_no(payload.application_number),
                )
            )
        case Broadcast():
            mine, other = (
                (payload.text_kk, payload.text_ru)
                if s.language == "kk"
                else (payload.text_ru, payload.text_kk)
            )
            return s.shorten("Indigo: " + " ".join((mine or other).split()))
        case FamilyReady():
            if payload.consent:
                return s.text(
                    s.t(
                        "Indigo: your family data has arrived. Continue the application in the bot."
                    )
                )
            return s.text(
                s.t(
                    "Indigo: the family data request was refused. You can start the application "
                    "again in the bot."
                )
            )
        case BenefitCertificateExpiring():
            return s.text(
                s.t(
                    "Indigo: the benefit of application {number} is not confirmed yet and its "
                    "certificate runs out. Valid until: {date}.",
                    number=_no(payload.application_number),
                    date=s.day(payload.valid_until),
                )
            )
        case BenefitCertificateLapsed():
            head = s.t(
                "Indigo: the benefit certificate of application {number} is out of date; the "
                "benefit is removed.",
                number=_no(payload.application_number),
            )
            if payload.referral_number:
                head += " " + s.t(
                    "Referral {number} is annulled.", number=_ref(payload.referral_number)
                )
            return s.text(head)
        case ReferralModeChanged():
            if payload.referral_from is None:
                return s.text(
                    s.t(
                        "Indigo: application {number}: the referral is issued immediately, when "
                        "a seat appears.",
                        number=_no(payload.application_number),
                    )
                )
            return s.text(
                s.t(
                    "Indigo: application {number}: the referral is issued from: {date}.",
                    number=_no(payload.application_number),
                    date=s.day(payload.referral_from),
                )
            )
        case ComplaintRegistered():
            return s.text(
                s.t(
                    "Indigo: complaint №{number} is registered. Answer due by: {when}.",
                    number=payload.number,
                    when=s.when(payload.deadline),
                )
            )
        case ComplaintFiled():
            return s.text(
                s.t(
                    "Indigo: a new complaint №{number} for you to answer by {when}.",
                    number=payload.number,
                    when=s.when(payload.deadline),
                )
            )
        case ComplaintTaken():
            return s.text(
                s.t(
                    "Indigo: complaint №{number} is taken into work. Answer due by: {when}.",
                    number=payload.number,
                    when=s.when(payload.deadline),
                )
            )
        case ComplaintAnswered():
            head = s.t("Indigo: the answer to complaint №{number}:", number=payload.number)
            return s.shorten(head + " " + " ".join(payload.answer.split()))
        case ComplaintEscalated():
            return s.text(
                s.t(
                    "Indigo: complaint №{number} was not answered in time and is passed to the "
                    "superadmin.",
                    number=payload.number,
                )
            )
        case CodeNotDelivered():
            return s.text(s.t("Indigo: the code was not delivered. Request a new code in the bot."))
        case ApplicationsMoved():
            head = s.t(
                "Indigo: your applications moved to another account (code to {phone}). Not you? "
                "Restore access in the bot.",
                phone=payload.phone,
            )
            numbers = " ".join(_no(n) for n in payload.numbers)
            return s.fit(head, numbers)
        case ExchangeNews():
            return s.text(s.t(EXCHANGE_STEPS.get(payload.step, EXCHANGE_STEPS["other"])))
        case ReferralDismissed():
            head = s.t(
                "Indigo: referral {number}: the child has left the kindergarten, date: {date}.",
                number=_ref(payload.number),
                date=s.day(payload.left_on),
            )
            return s.fit(head, s.departure_reason(payload.reason_code, payload.reason))
        case ReferralDismissalUndone():
            return s.text(
                s.t(
                    "Indigo: the departure on referral {number} was a mistake and is undone; "
                    "the child is enrolled again.",
                    number=_ref(payload.number),
                )
            )
        case _:
            assert_never(payload)


def _seat_offered(s: _Sms, p: SeatOffered) -> str:
    """The offer, its terms and where to act always; the kindergarten when it fits."""
    head = s.t("Indigo: a seat for application {number}.", number=_no(p.application_number))
    if p.general_access:
        terms = s.t("Open to all: the first to take it gets it.")
    elif p.deadline is not None:
        terms = s.t("Only for the first in line, deadline: {when}.", when=s.when(p.deadline))
    else:
        terms = ""
    take = s.t("Get the referral in the Indigo bot.")
    return s.fit(head, s.place(p.place), keep=_join([terms, take]))


def _no(number: int) -> str:
    """ "№1292002", as everywhere (bot.texts.formats.application_number)."""
    return f"№{number}"


def _ref(number: str) -> str:
    """ "№NP-2026-000002", as everywhere (plain text: no HTML escaping in an SMS)."""
    return f"№{number.lstrip('#№ ')}"


class _Sms:
    """The reader's language and zone, and the two-segment budget."""

    def __init__(self, gettext: Gettext, language: str, tz: ZoneInfo) -> None:
        self.gettext = gettext
        self.language = language
        self.tz = tz

    def t(self, message: str, **values: object) -> str:
        return self.gettext(message).format(**values)

    def when(self, moment: datetime) -> str:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        return moment.astimezone(self.tz).strftime("%d.%m.%Y %H:%M")

    def day(self, day: date) -> str:
        return day.strftime("%d.%m.%Y")

    def place(self, place: Place) -> str:
        name = place.kindergarten_kk if self.language == "kk" else place.kindergarten_ru
        return " ".join((name or place.kindergarten_ru).split()) + "."

    def reason(self, code: str, typed: str) -> str:
        """A reason picked from the list in the reader's language, else as staff typed it."""
        if code in DECISION_REASONS:
            return self.gettext(DECISION_REASONS[code])
        typed = " ".join(typed.split())
        # The staff member's words as a quote under a lead-in in the reader's language.
        return (
            self.t("Reason, in the staff member's words: «{reason}»", reason=typed) if typed else ""
        )

    def departure_reason(self, code: str, typed: str) -> str:
        """Why the child left: a code in the reader's language, else the staff member's words."""
        if code in DEPARTURE_REASONS:
            return self.gettext(DEPARTURE_REASONS[code])
        return self.reason("", typed)

    def text(self, text: str) -> str:
        """A fixed text (its parts are all short): shortened only as a last resort."""
        return self.shorten(text)

    def fit(self, head: str, *optional: str, keep: str = "") -> str:
        """`head` and `keep` always; each optional part (in order) while the whole fits two
        segments; an optional part that does not fit is left out."""
        parts = [head]
        for part in optional:
            if not part:
                continue
            if _units(_join([*parts, part, keep])) <= TWO_SEGMENTS:
                parts.append(part)
        return self.shorten(_join([*parts, keep]))

    def shorten(self, text: str) -> str:
        if _units(text) <= TWO_SEGMENTS:
            return text
        cut = text[: TWO_SEGMENTS - 1]
        while _units(cut) > TWO_SEGMENTS - 1:
            cut = cut[:-1]
        space = cut.rfind(" ")
        if space > TWO_SEGMENTS // 2:
            cut = cut[:space]
        return cut.rstrip(" ,.;:") + ELLIPSIS


def _join(parts: Iterable[str]) -> str:
    return " ".join(part for part in parts if part)


def _units(text: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def N_(text: str) -> str:
    """Mark a string for extraction without translating it here."""
    return text


# The same reasons as the chat message (bot.notifications.render.DECISION_REASONS).
DECISION_REASONS = {
    "documents_not_provided": N_("The documents were not provided."),
    "parent_refused_seat": N_("The parent refused the seat."),
    "false_benefit_document": N_("The benefit document is not genuine."),
    "document_unreadable": N_("The benefit document cannot be read."),
}


# Why an enrolled child left the kindergarten (core.models.DepartureReason; "other" is typed):
# the parent reads them in their language, staff see the same words on the buttons.
DEPARTURE_REASONS = {
    "moved_away": N_("The family moved away."),
    "went_to_school": N_("The child went to school."),
    "parent_request": N_("At the parent's request."),
    "health": N_("For health reasons."),
}


# The exchange of places: one short line per step (the bot's message has the details).
EXCHANGE_STEPS = {
    "requested": N_("Indigo: your exchange request is registered."),
    "offered": N_(
        "Indigo: an exchange of places is found. Confirm or refuse it in the bot: /exchange."
    ),
    "waiting_others": N_("Indigo: your confirmation is recorded; waiting for the other families."),
    "dropped": N_("Indigo: the exchange did not happen; your child keeps the current place."),
    "dropped_out": N_("Indigo: the exchange did not happen; your child keeps the current place."),
    "carried_out": N_("Indigo: the exchange of places is done; see the new referral in the bot."),
    "unmatched": N_(
        "Indigo: the exchange campaign ended with no exchange found; your child keeps the place."
    ),
    "other": N_("Indigo: news about your exchange of places in the bot."),
}
