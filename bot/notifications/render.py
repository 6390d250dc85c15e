"""Notification texts: one template per kind (`core.notifications.kinds`), in the reader's language.

The worker (delivery) and the cabinet's event feed both call `render` on the typed payload of an
outbox row. Texts are HTML (the bot's parse mode) with values escaped; `Message.sms` is the
plain text for SMS. Moments are shown in `settings.tz`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import assert_never
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n

from bot.callbacks import ProofOf, WhyMoved
from bot.notifications.sms import DEPARTURE_REASONS, sms_text
from bot.texts.formats import application_number, esc, fmt_date, fmt_datetime, referral_number
from bot.texts.labels import documents_to_bring, group_label
from core.notifications.broadcasts import Progress
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
from core.platform.catalogs import (
    DEFAULT_LANGUAGE,
    DOMAIN,
    LANGUAGES,
    LOCALES_DIR,
    babel_locale,
    compile_if_stale,
)
from core.platform.settings import get_settings


@dataclass(frozen=True)
class Button:
    """An inline button under the message: its label and callback data."""

    text: str
    callback_data: str


@dataclass(frozen=True)
class Message:
    text: str  # HTML
    button: Button | None = None
    sms: str = ""  # the SMS text: plain, short, no buttons (bot.notifications.sms)


def render(
    payload: AnyPayload, language: str, *, tz: ZoneInfo | None = None, buttons: bool = True
) -> Message:
    """One notification as the parent reads it in `language` (kk or ru; Russian otherwise).

    `buttons=False`: for the cabinet's event feed, which shows no buttons under its entries, so
    the text points to none either."""
    reader = _Reader(language if language in LANGUAGES else DEFAULT_LANGUAGE, tz, buttons=buttons)
    with reader.active():
        return Message(
            _text(reader, payload).strip(),
            _button(reader, payload) if buttons else None,
            sms_text(payload, reader.gettext, reader.language, reader.tz),
        )


def offer_callback_data(application_id: int, release_id: int) -> str:
    """The seat_offered button: the same string as the deep-link start payload."""
    return f"ref_{application_id}_{release_id}"


def plain(text: str) -> str:
    """HTML message -> SMS text."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def progress_text(progress: Progress, language: str) -> str:
    """A broadcast's progress message, edited in place by the worker."""
    reader = _Reader(language if language in LANGUAGES else DEFAULT_LANGUAGE, None)
    _ = reader.gettext
    status = {
        "running": _("sending"),
        "paused": _("paused"),
        "done": _("finished"),
    }.get(progress.status, progress.status)
    lines = [
        _("Broadcast #{id}: {status}").format(id=progress.broadcast_id, status=status),
        _("Sent: {count}").format(count=progress.sent),
        _("Failed: {count}").format(count=progress.failed + progress.unknown),
        _("Blocked the bot: {count}").format(count=progress.blocked),
        _("Remaining: {count}").format(count=progress.remaining),
    ]
    if progress.remaining and progress.status == "running":
        lines.append(_("Rate: {rate} per second").format(rate=round(progress.rate, 1)))
        if progress.eta_seconds is not None:
            minutes, seconds = divmod(progress.eta_seconds, 60)
            lines.append(
                _("Time left: {minutes} min {seconds} s").format(minutes=minutes, seconds=seconds)
            )
    return "\n".join(lines)


def N_(text: str) -> str:
    """Mark a string for extraction without translating it here."""
    return text


STOP_LIST_REASONS = {
    "not_extended": N_("It was not extended before the deadline."),
    "referral_expired": N_("The referral was not used in time."),
    "benefit_not_confirmed": N_("The benefit was not confirmed in time."),
}

# Reasons staff pick from a list (core.referrals.benefits.DecisionReason): the parent reads
# them in their own language, the staff member sees the same words on the buttons.
DECISION_REASONS = {
    "documents_not_provided": N_("The documents were not provided."),
    "parent_refused_seat": N_("The parent refused the seat."),
    "false_benefit_document": N_("The benefit document is not genuine."),
    "document_unreadable": N_("The benefit document cannot be read."),
}


# --- templates ----------------------------------------------------------------------------------


def _text(r: _Reader, payload: AnyPayload) -> str:
    match payload:
        case ApplicationRegistered():
            return _application_registered(r, payload)
        case PositionChanged():
            return _position_changed(r, payload)
        case SeatOffered():
            return _seat_offered(r, payload)
        case ReferralIssued():
            return _referral_issued(r, payload)
        case ReferralEnrolled():
            return _referral_enrolled(r, payload)
        case ReferralRevoked():
            return _referral_revoked(r, payload)
        case ReferralExpiring():
            return _referral_expiring(r, payload)
        case ReferralExpired():
            return _referral_expired(r, payload)
        case ExtensionDue():
            return _extension_due(r, payload)
        case StopListed():
            return _stop_listed(r, payload)
        case AgedOut():
            return _aged_out(r, payload)
        case Restored():
            return _restored(r, payload)
        case BenefitConfirmed():
            return _benefit_confirmed(r, payload)
        case BenefitRejected():
            return _benefit_rejected(r, payload)
        case BenefitEnded():
            return _benefit_ended(r, payload)
        case Broadcast():
            return _broadcast(r, payload)
        case FamilyReady():
            return _family_ready(r, payload)
        case BenefitCertificateExpiring():
            return _benefit_certificate_expiring(r, payload)
        case BenefitCertificateLapsed():
            return _benefit_certificate_lapsed(r, payload)
        case CodeNotDelivered():
            return _code_not_delivered(r)
        case ReferralEnrolmentUndone():
            return _referral_enrolment_undone(r, payload)
        case ReferralRevocationUndone():
            return _referral_revocation_undone(r, payload)
        case BenefitDecisionUndone():
            return _benefit_decision_undone(r, payload)
        case ComplaintRegistered():
            return _complaint_registered(r, payload)
        case ComplaintFiled():
            return _complaint_filed(r, payload)
        case ComplaintTaken():
            return _complaint_taken(r, payload)
        case ComplaintAnswered():
            return _complaint_answered(r, payload)
        case ComplaintEscalated():
            return _complaint_escalated(r, payload)
        case OfferWithdrawn():
            return _offer_withdrawn(r, payload)
        case ApplicationsMoved():
            return _applications_moved(r, payload)
        case ExchangeNews():
            return _exchange_news(r, payload)
        case ReferralModeChanged():
            return _referral_mode_changed(r, payload)
        case ReferralDismissed():
            return _referral_dismissed(r, payload)
        case ReferralDismissalUndone():
            return _referral_dismissal_undone(r, payload)
        case _:
            assert_never(payload)


def _button(r: _Reader, payload: AnyPayload) -> Button | None:
    if isinstance(payload, SeatOffered):
        return Button(
            r.gettext("Take the seat"),
            offer_callback_data(payload.application_id, payload.release_id),
        )
    if isinstance(payload, PositionChanged):  # issue 17: the explanation in one tap
        return Button(r.gettext("Why did it move?"), WhyMoved(number=payload.number).pack())
    number = _proven_application(payload)
    if number is None:
        return None
    return Button(r.gettext("Proof in the public log"), ProofOf(number=number).pack())


def _proven_application(payload: AnyPayload) -> int | None:
    """The application whose receipts the button opens: after the submission and after each
    referral event a parent is told of (issued, expired, revoked with the benefit)."""
    match payload:
        case ApplicationRegistered():
            return payload.number
        case ReferralIssued() | ReferralExpired() | ReferralEnrolled() | ReferralRevoked():
            return payload.application_number
        case ReferralEnrolmentUndone() | ReferralRevocationUndone():
            return payload.application_number
        case ReferralDismissed() | ReferralDismissalUndone():
            return payload.application_number
        case BenefitCertificateLapsed() if payload.referral_number:
            return payload.application_number
    return None


def _application_registered(r: _Reader, p: ApplicationRegistered) -> str:
    return r.gettext("Your application {number} is registered.").format(
        number=application_number(p.number)
    )


def _position_changed(r: _Reader, p: PositionChanged) -> str:
    text = r.gettext("The position of application {number} in the queue is now {position}.")
    text = text.format(number=application_number(p.number), position=p.position)
    return text + "\n" + r.gettext("It was {position}.").format(position=p.previous)


def _seat_offered(r: _Reader, p: SeatOffered) -> str:
    text = r.gettext("A seat is free for application {number}.").format(
        number=application_number(p.application_number)
    )
    text += "\n" + _place(r, p.place)
    if p.general_access:
        # Open to every eligible application of the city: fair means fast, and says so.
        text += "\n" + r.gettext(
            "The seat is open to everyone in the queue: the first to take it gets it."
        )
    elif p.deadline is not None:
        text += "\n" + r.gettext(
            "Only you and the other applications first in line may take it until {deadline}."
        ).format(deadline=f"<b>{r.when(p.deadline)}</b>")
    if r.buttons:
        text += "\n" + r.gettext("Press the button below to get a referral.")
    return text


def _referral_issued(r: _Reader, p: ReferralIssued) -> str:
    text = r.gettext("Referral {number} is issued.").format(number=f"<b>{_referral(p.number)}</b>")
    text += "\n" + _place(r, p.place)
    text += "\n" + r.gettext("Valid until {when}.").format(when=f"<b>{r.when(p.expires_at)}</b>")
    if p.awaiting_benefit_confirmation:
        text += "\n" + r.gettext(
            "The referral waits for the confirmation of the benefit by the education department."
        )
    text += "\n\n" + r.gettext("Bring to the kindergarten:")
    text += "".join(f"\n• {name}" for name in documents_to_bring(p.queue_type, p.benefit))
    return text


def _referral_enrolled(r: _Reader, p: ReferralEnrolled) -> str:
    text = r.gettext("Referral {number}: the kindergarten has enrolled the child.").format(
        number=f"<b>{_referral(p.number)}</b>"
    )
    text += "\n" + _place(r, p.place)
    text += "\n" + r.gettext("Application {number} has left the queue.").format(
        number=application_number(p.application_number)
    )
    return text


def _referral_revoked(r: _Reader, p: ReferralRevoked) -> str:
    text = r.gettext("Referral {number} is revoked; the seat goes to other children.").format(
        number=f"<b>{_referral(p.number)}</b>"
    )
    text += "\n" + _place(r, p.place)
    text += _decision_reason(r, p.reason_code, p.reason)
    text += "\n" + r.gettext("Application {number} stays in the queue at its place.").format(
        number=application_number(p.application_number)
    )
    return text


def _referral_enrolment_undone(r: _Reader, p: ReferralEnrolmentUndone) -> str:
    text = r.gettext(
        "Referral {number}: the enrolment was marked by mistake and has been undone."
    ).format(number=f"<b>{_referral(p.number)}</b>")
    text += "\n" + _place(r, p.place)
    text += "\n" + r.gettext(
        "The referral waits for the enrolment again; application {number} is back in the queue."
    ).format(number=application_number(p.application_number))
    return text


def _referral_dismissed(r: _Reader, p: ReferralDismissed) -> str:
    text = r.gettext("Referral {number}: the kindergarten recorded that the child has left it.")
    text = text.format(number=f"<b>{_referral(p.number)}</b>")
    text += "\n" + _place(r, p.place)
    text += "\n" + r.gettext("Date of leaving: {date}").format(date=r.day(p.left_on))
    if p.reason_code in DEPARTURE_REASONS:
        text += "\n" + r.gettext("Reason: {reason}").format(
            reason=r.gettext(DEPARTURE_REASONS[p.reason_code])
        )
    else:
        text += _decision_reason(r, "", p.reason)
    text += "\n" + r.gettext("If this is a mistake, please contact the kindergarten.")
    return text


def _referral_dismissal_undone(r: _Reader, p: ReferralDismissalUndone) -> str:
    text = r.gettext(
        "Referral {number}: the child's departure was recorded by mistake and has been undone; "
        "the child is enrolled again."
    ).format(number=f"<b>{_referral(p.number)}</b>")
    return text + "\n" + _place(r, p.place)


def _exchange_news(r: _Reader, p: ExchangeNews) -> str:
    """A step of the exchange of places (core.exchange.cycles)."""
    steps = {
        "requested": r.gettext(
            "Your exchange request is registered. When the exchange campaign finds places for "
            "it, you will be asked to confirm."
        ),
        "offered": r.gettext(
            "An exchange of places is found for your child. Confirm it or refuse in the menu "
            '"Exchange of places" (/exchange). The exchange happens only when every family '
            "in it confirms."
        ),
        "waiting_others": r.gettext(
            "Your confirmation of the exchange is recorded. We are waiting for the other "
            "families; you will be told the result."
        ),
        "dropped": r.gettext(
            "The exchange did not happen: another family refused it or did not answer in time. "
            "Your child keeps the current place, and your request stays in the campaign."
        ),
        "dropped_out": r.gettext(
            "The exchange did not happen: it was refused or not confirmed in time. Your child "
            "keeps the current place; the request is closed."
        ),
        "carried_out": r.gettext(
            "The exchange of places is done: every family confirmed. The new referral is {number}."
        ).format(number=f"<b>{_referral(p.number)}</b>"),
        "unmatched": r.gettext(
            "The exchange campaign has ended without finding an exchange for your request. "
            "Your child keeps the current place; you may ask again in the next campaign."
        ),
    }
    text = steps.get(p.step, steps["requested"])
    if p.place is not None:
        text += "\n" + _place(r, p.place)
    if p.deadline is not None and p.step == "offered":
        text += "\n" + r.gettext("Confirm by: {when}").format(when=f"<b>{r.when(p.deadline)}</b>")
    elif p.deadline is not None:
        text += "\n" + r.gettext("Referral valid until: {when}").format(
            when=f"<b>{r.when(p.deadline)}</b>"
        )
    return text


def _offer_withdrawn(r: _Reader, p: OfferWithdrawn) -> str:
    text = r.gettext(
        "The seat offered for application {number} is no longer available: it was freed by a "
        "staff mistake that has been corrected."
    ).format(number=application_number(p.application_number))
    text += "\n" + _place(r, p.place)
    text += "\n" + r.gettext("Your application keeps its place in the queue.")
    return text


def _referral_mode_changed(r: _Reader, p: ReferralModeChanged) -> str:
    number = application_number(p.application_number)
    if p.referral_from is None:
        text = r.gettext(
            "Application {number}: the referral is now issued immediately, when a seat appears."
        ).format(number=number)
    else:
        text = r.gettext(
            "Application {number}: the referral is now issued from a date; no seat is offered "
            "before it."
        ).format(number=number)
        text += "\n" + r.gettext("Referral wanted from: {date}").format(
            date=f"<b>{r.day(p.referral_from)}</b>"
        )
    return text + "\n" + r.gettext("Your application keeps its place in the queue.")


def _referral_revocation_undone(r: _Reader, p: ReferralRevocationUndone) -> str:
    text = r.gettext(
        "Referral {number}: the revocation was made by mistake and has been undone."
    ).format(number=f"<b>{_referral(p.number)}</b>")
    text += "\n" + _place(r, p.place)
    text += "\n" + r.gettext("The referral is valid again until {when}.").format(
        when=f"<b>{r.when(p.expires_at)}</b>"
    )
    return text


def _referral_expiring(r: _Reader, p: ReferralExpiring) -> str:
    text = r.gettext("Referral {number} expires on {when}.").format(
        number=_referral(p.number), when=f"<b>{r.when(p.expires_at)}</b>"
    )
    text += "\n" + r.gettext(
        "Take the documents to the kindergarten or extend the referral in your cabinet."
    )
    return text


def _referral_expired(r: _Reader, p: ReferralExpired) -> str:
    text = r.gettext("Referral {number} has expired; the seat goes to other children.").format(
        number=_referral(p.number)
    )
    if p.stop_listed_until is not None:
        text += "\n" + r.gettext(
            "The application is on the stop-list until {when}, then it returns to the queue "
            "at its original time."
        ).format(when=r.when(p.stop_listed_until))
    return text


def _extension_due(r: _Reader, p: ExtensionDue) -> str:
    text = r.gettext("It is time to extend your applications for another year.")
    if p.numbers:
        text += "\n" + r.gettext("Applications: {numbers}").format(
            numbers=", ".join(application_number(n) for n in p.numbers)
        )
    text += "\n" + r.gettext(
        "Fill in the questionnaire in your cabinet before {date}; applications not "
        "extended by then go to the stop-list."
    ).format(date=f"<b>{r.day(p.deadline)}</b>")
    return text


def _stop_listed(r: _Reader, p: StopListed) -> str:
    text = r.gettext("Application {number} is moved to the stop-list.").format(
        number=application_number(p.application_number)
    )
    reason = STOP_LIST_REASONS.get(p.reason)
    if reason:
        text += "\n" + r.gettext(reason)
    if p.until is not None:
        text += "\n" + r.gettext("It returns to the queue automatically on {when}.").format(
            when=r.when(p.until)
        )
    else:
        text += "\n" + r.gettext(
            "You can restore it from your cabinet; it keeps its original time."
        )
    return text


def _aged_out(r: _Reader, p: AgedOut) -> str:
    # "до {age} лет" / "{age} жасқа дейін": no number agreement needed for the ages in use.
    text = r.gettext(
        "Application {number} is archived: the queue is for children under {age}, and the "
        "child has reached this age."
    ).format(number=application_number(p.application_number), age=p.age_years)
    if p.live_referral:
        text += "\n" + r.gettext(
            "Your referral is still valid: the kindergarten can enrol the child on it until it "
            "expires."
        )
    return text


def _restored(r: _Reader, p: Restored) -> str:
    return r.gettext("Application {number} is back in the queue at its original time.").format(
        number=application_number(p.application_number)
    )


def _benefit_confirmed(r: _Reader, p: BenefitConfirmed) -> str:
    text = r.gettext("The benefit of application {number} is confirmed.").format(
        number=application_number(p.application_number)
    )
    if p.referral_number and p.expires_at is not None:
        text += "\n" + r.gettext("Referral {number} is valid until {when}.").format(
            number=_referral(p.referral_number), when=f"<b>{r.when(p.expires_at)}</b>"
        )
    return text


def _benefit_decision_undone(r: _Reader, p: BenefitDecisionUndone) -> str:
    if p.decision == "confirmed":
        text = r.gettext(
            "The confirmation of the benefit of application {number} was made by mistake and "
            "has been undone; the benefit waits for a decision again."
        )
    else:
        text = r.gettext(
            "The rejection of the benefit of application {number} was made by mistake and "
            "has been undone; the benefit waits for a decision again."
        )
    text = text.format(number=application_number(p.application_number))
    if p.referral_number:
        text += "\n" + r.gettext(
            "Referral {number} waits for the benefit's confirmation again."
        ).format(number=_referral(p.referral_number))
    return text


def _benefit_rejected(r: _Reader, p: BenefitRejected) -> str:
    text = r.gettext("The benefit of application {number} is not confirmed.").format(
        number=application_number(p.application_number)
    )
    text += _decision_reason(r, p.reason_code, p.reason)
    return text


def _benefit_ended(r: _Reader, p: BenefitEnded) -> str:
    return (
        r.gettext(
            "The state registry no longer confirms the first-priority benefit of application "
            "{number}: the last day of its record was {date}."
        ).format(
            number=application_number(p.application_number), date=f"<b>{r.day(p.ended_on)}</b>"
        )
        + "\n"
        + r.gettext(
            "The application stays in the queue at its original time, in the general order. "
            "If the benefit has been extended, add it again in your cabinet."
        )
    )


def _broadcast(r: _Reader, p: Broadcast) -> str:
    mine, other = (p.text_kk, p.text_ru) if r.language == "kk" else (p.text_ru, p.text_kk)
    return esc(mine or other)


def _family_ready(r: _Reader, p: FamilyReady) -> str:
    if not p.consent:
        return r.gettext(
            "The family data request was refused. You can start the application again."
        )
    return r.gettext("Your family data has arrived. Open the bot to continue the application.")


def _benefit_certificate_expiring(r: _Reader, p: BenefitCertificateExpiring) -> str:
    text = r.gettext(
        "The benefit of application {number} is still waiting for confirmation, and its "
        "certificate will soon be out of date. If it is not confirmed by then, the benefit is "
        "removed. You can upload a new certificate in your cabinet."
    ).format(number=application_number(p.application_number))
    return (
        text
        + "\n"
        + r.gettext("Certificate valid until: {date}").format(date=f"<b>{r.day(p.valid_until)}</b>")
    )


def _benefit_certificate_lapsed(r: _Reader, p: BenefitCertificateLapsed) -> str:
    text = r.gettext(
        "The benefit certificate of application {number} is out of date and the benefit was "
        "not confirmed, so the benefit is removed. The application stays in the general queue "
        "at its original time."
    ).format(number=application_number(p.application_number))
    if p.referral_number:
        text += "\n" + r.gettext("Referral {number} is annulled.").format(
            number=_referral(p.referral_number)
        )
    if p.stop_listed_until is not None:
        text += "\n" + r.gettext("It returns to the queue automatically on {when}.").format(
            when=r.when(p.stop_listed_until)
        )
    return (
        text
        + "\n"
        + r.gettext("You can add the benefit again with a new certificate in your cabinet.")
    )


def _code_not_delivered(r: _Reader) -> str:
    return r.gettext(
        "The SMS with your confirmation code was not delivered. Request a new code (Send the "
        "code again) or use another number."
    )


COMPLAINT_CATEGORIES = {
    "corruption": N_("Report of corruption"),
    "kindergarten": N_("Complaint about a kindergarten"),
    "department": N_("Complaint about the education department"),
}


def _complaint_registered(r: _Reader, p: ComplaintRegistered) -> str:
    category = r.gettext(COMPLAINT_CATEGORIES.get(p.category, p.category))
    return "\n".join(
        (
            r.gettext("Your complaint is registered."),
            r.gettext("Registration number: {number}").format(number=f"<b>№{p.number}</b>"),
            r.gettext("Category: {category}").format(category=esc(category)),
            r.gettext("Answer due by: {when}").format(when=r.when(p.deadline)),
        )
    )


def _complaint_filed(r: _Reader, p: ComplaintFiled) -> str:
    category = r.gettext(COMPLAINT_CATEGORIES.get(p.category, p.category))
    return "\n".join(
        (
            r.gettext("A new complaint for you to answer: {number}.").format(
                number=f"<b>№{p.number}</b>"
            ),
            r.gettext("Category: {category}").format(category=esc(category)),
            r.gettext("Answer due by: {when}").format(when=r.when(p.deadline)),
            r.gettext("The complaints to answer: /complaints"),
        )
    )


def _complaint_taken(r: _Reader, p: ComplaintTaken) -> str:
    return (
        r.gettext("Complaint №{number} has been taken into work.").format(number=p.number)
        + "\n"
        + r.gettext("Answer due by: {when}").format(when=r.when(p.deadline))
    )


def _complaint_answered(r: _Reader, p: ComplaintAnswered) -> str:
    # The staff member's words as typed: a quote under a lead-in in the reader's language.
    return (
        r.gettext("The answer to your complaint №{number}:").format(number=p.number)
        + f"\n<blockquote>{esc(p.answer)}</blockquote>"
    )


def _complaint_escalated(r: _Reader, p: ComplaintEscalated) -> str:
    return r.gettext(
        "Complaint №{number} was not answered in time. It has been passed to the superadmin "
        "of the education system, who will answer it."
    ).format(number=p.number)


def _applications_moved(r: _Reader, p: ApplicationsMoved) -> str:
    numbers = ", ".join(f"№{number}" for number in p.numbers)
    lines = [
        r.gettext(
            "Your applications were moved to another account: {numbers}. The child's legal "
            "representative, confirmed by the state registry, restored access to them."
        ).format(numbers=f"<b>{numbers}</b>"),
        r.gettext("When: {when}").format(when=r.when(p.moved_at)),
        r.gettext("Confirmed by a code to the number: {phone}").format(phone=esc(p.phone)),
        r.gettext(
            "If you did not expect this and you are the child's legal representative, open the "
            'Personal cabinet and choose "Restore access to an application" (you will confirm '
            "it in the SMS from 1414), or contact the education department."
        ),
    ]
    return "\n".join(lines)


# --- helpers ------------------------------------------------------------------------------------


def _place(r: _Reader, place: Place) -> str:
    """The kindergarten in the reader's language and the group as the bot names it everywhere
    (bot.texts.labels.group_label): "Средняя группа №3, 2021 г.р., казахский язык"."""
    kindergarten = place.kindergarten_kk if r.language == "kk" else place.kindergarten_ru
    group = group_label(place.group, place.group_birth_year, place.language, place.group_kind)
    return "\n".join(
        (
            r.gettext("Kindergarten: {name}").format(
                name=esc(kindergarten or place.kindergarten_ru)
            ),
            r.gettext("Group: {name}").format(name=esc(group)),
        )
    )


def _decision_reason(r: _Reader, code: str, typed: str) -> str:
    """The reason line: one picked from the list, in the reader's language; else the staff
    member's own words, which may be in the other language, as a quote after a lead-in in the
    reader's language («Себебі (қызметкердің сөзі): «…»»), never as if the bot said them."""
    if code in DECISION_REASONS:
        return "\n" + r.gettext("Reason: {reason}").format(reason=r.gettext(DECISION_REASONS[code]))
    typed = typed.strip()
    if not typed:
        return ""
    return "\n" + r.gettext("Reason, in the staff member's words: «{reason}»").format(
        reason=esc(typed)
    )


def _referral(number: str) -> str:
    return referral_number(number)


class _Reader:
    """The reader's language: translations, dates in their locale and our time zone."""

    def __init__(self, language: str, tz: ZoneInfo | None, *, buttons: bool = True) -> None:
        self.language = language
        self.buttons = buttons  # the message carries its button: the text may point to it
        self.locale = babel_locale(language)
        self.tz = tz or get_settings().tz
        self.i18n = _i18n()

    def gettext(self, message: str) -> str:
        return self.i18n.gettext(message, locale=self.language)

    @contextmanager
    def active(self) -> Iterator[None]:
        """Our catalog and language for the bot's shared texts (group_label) too."""
        with self.i18n.context(), self.i18n.use_locale(self.language):
            yield

    def when(self, moment: datetime) -> str:
        """A moment in our zone, to the minute."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        return fmt_datetime(moment, self.tz, self.language)

    def day(self, day: date) -> str:
        return fmt_date(day, self.language)


@lru_cache(maxsize=1)
def _i18n() -> I18n:
    compile_if_stale()  # gettext reads only the compiled .mo
    return I18n(path=LOCALES_DIR, default_locale=DEFAULT_LANGUAGE, domain=DOMAIN)
