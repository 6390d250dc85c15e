"""Refusals as text in the reader's language: reason codes of domain refusals
(core.platform.errors.DomainError), the conversations' own refusals, and feed event kinds.

The one place where codes become words; an unknown code gets a polite generic text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.texts.formats import day_month, esc, fmt_date
from core.platform.errors import DomainError

log = logging.getLogger(__name__)


def _texts() -> dict[str, Callable[[], str]]:
    # Lambdas: gettext runs at call time, in the reader's language.
    return {
        # IIN rules (core.iin.InvalidIin.reason, prefixed with iin_).
        "iin_length": lambda: _("An IIN has exactly 12 digits. Please check and send it again."),
        "iin_not_digits": lambda: _("An IIN consists of digits only. Please send 12 digits."),
        "iin_century": lambda: _(
            "The 7th digit of an IIN (century and sex) must be from 1 to 6. Please check it."
        ),
        "iin_date": lambda: _(
            "The first six digits of an IIN are the birth date (YYMMDD), and this date does "
            "not exist. Please check them."
        ),
        "iin_future": lambda: _("The birth date in this IIN is in the future. Please check it."),
        "iin_checksum": lambda: _(
            "The last (check) digit of this IIN does not match the others: there is a typo "
            "somewhere. Please check every digit."
        ),
        # Submission.
        "child_too_old": lambda: _(
            "The child is 6 or older: the kindergarten queue is for children under 6."
        ),
        "duplicate_application": lambda: _(
            "This child already has an application in this queue: No. {number}."
        ),
        "child_queued_by_other_parent": lambda: _(
            "Another parent or legal representative has already applied for this child in this "
            "queue (the child was recognised by the name and date of birth from the birth "
            "certificate). A child can have only one application in each queue: it is in that "
            "parent's cabinet."
        ),
        "not_legal_representative": lambda: _(
            "According to the state registry you are not a legal representative of this child."
        ),
        "too_many_kindergartens": lambda: _("You can choose at most {max} kindergartens."),
        "no_kindergartens": lambda: _("Choose at least one kindergarten."),
        "pmpk_required": lambda: _(
            "The correctional queue needs the conclusion of the psychological, medical and "
            "pedagogical consultation (PMPK). Please upload it."
        ),
        "benefit_document_required": lambda: _(
            "This benefit needs a supporting document. Please upload a photo or a PDF."
        ),
        "benefit_not_confirmed": lambda: _(
            "The state registry has not confirmed this benefit for your family, so it cannot "
            "be chosen. First-priority benefits are taken from the registry automatically."
        ),
        "benefit_certificate_expired": lambda: _(
            "The benefit certificate is no longer valid. Please upload a new certificate."
        ),
        "benefit_check_unavailable": lambda: _(
            "The state registry does not answer right now, so the benefit cannot be checked. "
            "Please try again later."
        ),
        "benefit_unchanged": lambda: _("Application No. {number} already has this benefit."),
        "birth_certificate_required": lambda: _(
            "A child without an IIN needs a birth certificate. Please upload a photo or a PDF."
        ),
        "language_not_taught": lambda: _("The chosen kindergarten has no groups in this language."),
        "no_correctional_group": lambda: _(
            "The chosen kindergarten has no correctional groups. Please choose another one."
        ),
        "not_enough_verified_phones": lambda: _(
            "Confirm {required} phone numbers first (confirmed now: {have})."
        ),
        "family_consent_refused": lambda: _(
            "Consent to share family data was not given, so the children cannot be found."
        ),
        "parent_not_found": lambda: _("The state registry does not know this IIN."),
        # Seats and referrals.
        "no_free_seat": lambda: _(
            "Sorry, this seat has just been taken. Here is the fresh list of free seats."
        ),
        "already_has_referral": lambda: _("This application already has a referral."),
        "not_eligible": lambda: _("You cannot take this seat now: {why}"),
        "extension_closed": lambda: _(
            "Applications can be extended only from {opens} to {deadline}; the extension "
            "period is closed now."
        ),
        "referral_expired": lambda: _("The referral has expired."),
        # Phones and one-time codes.
        "invalid_phone": lambda: _(
            "This does not look like a Kazakhstan mobile number. Send it as +7 7XX XXX XX XX."
        ),
        "landline_phone": lambda: _(
            "This is a landline number: it cannot receive an SMS with a code. Please send a "
            "mobile number, +7 7XX XXX XX XX."
        ),
        "phone_already_confirmed": lambda: _(
            "This number is already confirmed. Please send another mobile number, for example "
            "of the other parent or a relative."
        ),
        "phone_not_in_bmg": lambda: _(
            "This number is not registered in the mobile citizens database (БМГ). Register it "
            "at egov.kz or a public service centre, or use another number."
        ),
        "not_own_contact": lambda: _("Please share your own contact, not someone else's."),
        "otp_wrong": lambda: _("Wrong code. Tries left: {attempts_left}."),
        "otp_expired": lambda: _("The code has expired or was already used. Request a new one."),
        "otp_locked": lambda: _("Too many wrong codes. Try again in {minutes} min."),
        "resend_cooldown": lambda: _("A new code can be requested in {seconds_left} s."),
        "otp_phone_limit": lambda: _(
            "Too many codes have been sent to this number. A new code can be requested later. "
            "Wait: {wait}."
        ),
        "otp_applicant_limit": lambda: _(
            "You have requested too many codes. A new code can be requested later. Wait: {wait}."
        ),
        "otp_service_busy": lambda: _(
            "Sending codes is paused because of unusually many requests. Please try again "
            "later. Wait: {wait}."
        ),
        "phone_owner_mismatch": lambda: _(
            "According to the mobile citizens database (БМГ), this number belongs to another "
            "person. Use a number registered to you or to your child. No SMS was sent."
        ),
        "sms_not_sent": lambda: _(
            "The SMS with the code could not be sent to this number. Please try again in a few "
            "minutes or use another number."
        ),
        "public_check_limit": lambda: _(
            "You have checked the queue many times in a short while. Please try again later. "
            "Wait: {wait}."
        ),
        # Providers.
        "gateway_unavailable": lambda: _(
            "The state service does not answer right now. Please try again in a few minutes."
        ),
        "application_not_found": lambda: _("No application with this number was found."),
        # Lookups and state checks raised by core services.
        "application_archived": lambda: _("Application No. {number} is archived."),
        "live_referral": lambda: _(
            "Application No. {number} has a valid referral, so it cannot be changed now."
        ),
        "not_stop_listed": lambda: _("Application No. {number} is not in the stop-list."),
        "transition_not_allowed": lambda: _(
            "Application No. {number} cannot be changed in its current status."
        ),
        "offer_not_open": lambda: _("This offer is no longer open."),
        "phone_not_verified": lambda: _("This phone number is not confirmed yet."),
        "phone_not_found": lambda: _(
            "This phone number is not among your numbers. Open the settings again."
        ),
        "referral_date_required": lambda: _("Choose the date from which you need a referral."),
        "referral_date_out_of_range": lambda: _(
            "This date cannot be chosen: the date from which you need a referral must be after "
            "today and no later than the end of the year before the child turns 6. Latest "
            "date: {latest}"
        ),
        "duplicate_kindergarten": lambda: _("This kindergarten is already chosen."),
        "exchange_no_campaign": lambda: _(
            "Exchange requests are accepted only during an exchange campaign, and none is "
            "open now. The dates are announced by the education department."
        ),
        "exchange_no_place": lambda: _(
            "An exchange is possible only for a child who attends a kindergarten or holds a "
            "referral to one."
        ),
        "exchange_no_preferences": lambda: _(
            "Choose from 1 to {most} kindergartens you would move to."
        ),
        "exchange_no_matching_group": lambda: _(
            "A chosen kindergarten has no group for the child's birth year and language. "
            "Please choose another one."
        ),
        "exchange_already_requested": lambda: _(
            "An exchange request for this child is already in the campaign."
        ),
        "exchange_not_offered": lambda: _(
            "This exchange offer is no longer open: it was answered, dropped or its time ran out."
        ),
        "exchange_wrong_step": lambda: _("This step of the exchange is not possible now."),
        "exchange_bad_dates": lambda: _(
            "The campaign must end on or after its start and not in the past."
        ),
        "exchange_campaign_open": lambda: _(
            "An exchange campaign is already running in this city. Close it first."
        ),
        "child_not_found": lambda: _("The child was not found."),
        "kindergarten_not_found": lambda: _("The kindergarten was not found."),
        "group_not_found": lambda: _("The group was not found."),
        "referral_not_found": lambda: _("The referral was not found."),
        "document_not_found": lambda: _("The document was not found. Please upload it again."),
        "applicant_not_found": lambda: _("Please press /start and try again."),
        "city_not_found": lambda: _("The city was not found."),
        "invalid_seat_count": lambda: _("The number of seats must be from 1 to {max}."),
        "invalid_priority_window": lambda: _("The priority period must be from 0 to {max} days."),
        "twins_need_seats": lambda: _(
            "Twins get referrals together: this group has {free} of the {count} seats needed."
        ),
        "stop_list_not_over": lambda: _(
            "The application returns to the queue by itself when its stop-list term ends."
        ),
        "stop_listed_until": lambda: _(
            "The application returns to the queue by itself when its stop-list term ends."
        ),
        "referral_not_extendable": lambda: _("This referral cannot be extended."),
        "referral_already_extended": lambda: _("The referral has already been extended once."),
        "referral_not_live": lambda: _("This referral is no longer valid."),
        "referral_not_enrollable": lambda: _("This referral cannot be enrolled in its status."),
        "benefit_not_pending": lambda: _("This benefit was already decided."),
        # A child leaving a kindergarten (core.referrals.departures).
        "referral_not_enrolled": lambda: _(
            "The child is not enrolled on referral #{number}, so a departure cannot be recorded."
        ),
        "referral_already_departed": lambda: _(
            "The child on referral #{number} has already left the kindergarten. Date of "
            "leaving: {left_on}."
        ),
        "departure_reason_required": lambda: _("Please type why the child left."),
        "departure_date_out_of_range": lambda: _(
            "The date of leaving must be from {earliest} to {latest}."
        ),
        "undo_window_passed": lambda: _(
            "The time to undo this has passed ({minutes} min). Ask a superadmin to undo it."
        ),
        "undo_not_possible": lambda: _(
            "This can no longer be undone: what it changed has changed again since."
        ),
        "nothing_to_extend": lambda: _("There are no applications to extend."),
        "questionnaire_required": lambda: _("Please fill in the questionnaire first."),
        "invalid_answer": lambda: _("Please answer this question of the questionnaire."),
        "out_of_scope": lambda: _("This is outside your scope (city or kindergarten)."),
        # Complaints.
        "complaint_empty": lambda: _(
            "The complaint is empty. Please describe what happened in one message."
        ),
        "complaint_too_long": lambda: _(
            "The text is too long: {length} characters, at most {max}. Please shorten it and "
            "send it again; nothing else is lost."
        ),
        "complaint_file_type": lambda: _(
            "Only a photo or a PDF file (up to 20 MB) can be attached. Send one of those, or "
            "press Skip."
        ),
        "complaint_not_found": lambda: _("This complaint is not found or is not yours to see."),
        "complaint_answered": lambda: _("Complaint №{number} is already answered."),
        "complaint_answer_empty": lambda: _("The answer is empty. Please type it."),
        "complaint_subject_not_found": lambda: _(
            "This application or referral is not among yours. Choose one from the list."
        ),
        "complaint_no_kindergarten": lambda: _(
            "A complaint about a kindergarten is about one of the kindergartens of your "
            "applications or referrals. Choose one from the list."
        ),
        "complaint_anonymous_category": lambda: _(
            "Only a report of corruption can be sent anonymously."
        ),
        "over_capacity": lambda: _(
            "The group would have more free seats than its capacity allows: at most {releasable} "
            "seat(s) can be released now."
        ),
        "staff_not_found": lambda: _("This person has no staff role."),
        "superadmin_only": lambda: _("Only a superadmin may grant or remove staff roles."),
        "last_superadmin": lambda: _(
            "This is the last superadmin: grant the role to somebody else first."
        ),
        "staff_city_required": lambda: _("An operator needs a city."),
        "staff_kindergarten_required": lambda: _(
            "A kindergarten administrator needs a kindergarten."
        ),
        "broadcast_text_required": lambda: _("Both texts, Kazakh and Russian, are needed."),
        "broadcast_no_recipients": lambda: _("Nobody matches these filters."),
        "broadcast_bad_filter": lambda: _("I did not understand the filters. Please check them."),
        # Why a seat cannot be taken (not_eligible's `why`).
        "child_too_young": lambda: _("the child is too young for a referral this year"),
        "child_turns_six": lambda: _("the child turns 6 this year and goes to school preparation"),
        "stop_listed": lambda: _("the application is in the stop-list"),
        "not_active": lambda: _("the application is not active"),
        "mode_from_date": lambda: _("the application asked for a referral from a later date"),
        "group_kind_mismatch": lambda: _("the group is of another kind than the queue"),
        "birth_year_mismatch": lambda: _("the group is for children of another birth year"),
        "city_mismatch": lambda: _("the seat is in another city"),
        "language_mismatch": lambda: _("the group teaches in another language"),
        "priority_window": lambda: _(
            "the seat is reserved for the parents it was offered to until the deadline"
        ),
    }


def reason_text(reason: str, **params: Any) -> str:
    """The refusal `reason` with its `params`, in the current language."""
    if reason == "invalid_iin":  # core services wrap core.iin.InvalidIin this way
        reason = f"iin_{params.pop('detail', '')}"
    factory = _texts().get(reason)
    if factory is None:
        log.warning("no text for reason code %s", reason)
        return _("Sorry, this cannot be done right now. Please try again later or press /start.")
    if "seconds_left" in params:
        params.setdefault("minutes", max(1, -(-int(params["seconds_left"]) // 60)))
        params.setdefault("wait", wait_text(int(params["seconds_left"])))
    if reason == "not_eligible" and "why" in params:
        params["why"] = reason_text(str(params["why"])) if params["why"] in _texts() else ""
    for key, value in params.items():
        if key in _DATE_PARAMS and isinstance(value, str):
            params[key] = _localized_date(value)
        elif key in _FULL_DATE_PARAMS and isinstance(value, str):
            params[key] = _localized_date(value, with_year=True)
        elif key != "why":  # a value may be typed (a city code, a number): HTML-escaped
            params[key] = esc(value) if isinstance(value, str) else value
    try:
        return factory().format_map(_Defaults(params))
    except (KeyError, ValueError, IndexError):
        return factory()


def wait_text(seconds: int) -> str:
    """A wait as "45 min" or "3 h 20 min" (rounded up to a minute), for a label "Wait: …"."""
    minutes = max(1, -(-seconds // 60))
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return _("{minutes} min").format(minutes=minutes)
    if not minutes:
        return _("{hours} h").format(hours=hours)
    return _("{hours} h {minutes} min").format(hours=hours, minutes=minutes)


def error_text(error: DomainError) -> str:
    return reason_text(error.reason, **error.params)


def local_refusal(code: str) -> str:
    """Refusals of the conversation itself (not domain rules), in the reader's language."""
    texts = {
        "consent_required": lambda: _(
            "To continue, tick both boxes: consent to notifications and the offer terms."
        ),
        "text_expected": lambda: _(
            "I expected a text message here. Please type it, or use the buttons below."
        ),
        "document_expected": lambda: _(
            "Please send a photo or a PDF file of the document, or use the buttons below."
        ),
        "location_expected": lambda: _(
            "Please share your location with the button below, or go back."
        ),
        "choose_child": lambda: _("Choose the child first."),
        "kindergarten_already_chosen": lambda: _("This kindergarten is already in your list."),
    }
    return texts[code]()


def feed_kind(kind: str) -> str:
    """A notification kind as a short title (the event feed, when a kind has no template)."""
    return {
        "application_registered": _("Application registered"),
        "position_changed": _("Position changed"),
        "seat_offered": _("A seat is offered"),
        "referral_issued": _("Referral issued"),
        "referral_expiring": _("Referral expiring"),
        "referral_expired": _("Referral expired"),
        "extension_due": _("Extension due"),
        "stop_listed": _("Moved to the stop-list"),
        "restored": _("Restored to the queue"),
        "benefit_confirmed": _("Benefit confirmed"),
        "benefit_rejected": _("Benefit rejected"),
        "broadcast": _("Announcement"),
        "family_ready": _("Family data received"),
        "code_not_delivered": _("The code SMS was not delivered"),
    }.get(kind, kind)


_DATE_PARAMS = ("opens", "deadline")
_FULL_DATE_PARAMS = ("earliest", "latest", "left_on")  # another year possible: "31 декабря 2026"


def _localized_date(value: str, *, with_year: bool = False) -> str:
    """An ISO date from a refusal's params as "1 сентября" / "1 қыркүйек" for the reader."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    locale = get_i18n().current_locale
    return fmt_date(day, locale) if with_year else day_month(day, locale)


class _Defaults(dict[str, Any]):
    """Missing parameters render as "?" rather than failing the whole answer."""

    def __missing__(self, key: str) -> str:
        return "?"
