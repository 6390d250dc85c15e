"""Every reason code a core service refuses with, named once.

`DomainError(Reason.x, **params)`: the code is the enum's value (a str), so the bot's texts,
the webhooks and the audit keep reading plain strings.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    already_has_referral = "already_has_referral"
    applicant_not_found = "applicant_not_found"
    application_archived = "application_archived"
    application_not_found = "application_not_found"
    benefit_certificate_expired = "benefit_certificate_expired"
    benefit_check_unavailable = "benefit_check_unavailable"
    benefit_decided_by_staff = "benefit_decided_by_staff"
    benefit_document_required = "benefit_document_required"
    benefit_not_confirmed = "benefit_not_confirmed"
    benefit_not_pending = "benefit_not_pending"
    benefit_unchanged = "benefit_unchanged"
    birth_certificate_required = "birth_certificate_required"
    broadcast_bad_filter = "broadcast_bad_filter"
    broadcast_no_recipients = "broadcast_no_recipients"
    broadcast_text_required = "broadcast_text_required"
    child_not_found = "child_not_found"
    child_queued_by_other_parent = "child_queued_by_other_parent"
    child_too_old = "child_too_old"
    city_not_found = "city_not_found"
    document_not_found = "document_not_found"
    duplicate_application = "duplicate_application"
    duplicate_kindergarten = "duplicate_kindergarten"
    exchange_already_requested = "exchange_already_requested"
    exchange_bad_dates = "exchange_bad_dates"
    exchange_campaign_open = "exchange_campaign_open"
    exchange_no_campaign = "exchange_no_campaign"
    exchange_no_matching_group = "exchange_no_matching_group"
    exchange_no_place = "exchange_no_place"
    exchange_no_preferences = "exchange_no_preferences"
    exchange_not_offered = "exchange_not_offered"
    exchange_wrong_step = "exchange_wrong_step"
    extension_closed = "extension_closed"
    group_not_found = "group_not_found"
    invalid_answer = "invalid_answer"
    invalid_benefit = "invalid_benefit"
    invalid_iin = "invalid_iin"
    invalid_language = "invalid_language"
    invalid_phone = "invalid_phone"
    invalid_priority_window = "invalid_priority_window"
    invalid_queue_type = "invalid_queue_type"
    invalid_referral_mode = "invalid_referral_mode"
    invalid_seat_count = "invalid_seat_count"
    kindergarten_not_found = "kindergarten_not_found"
    landline_phone = "landline_phone"
    language_not_taught = "language_not_taught"
    live_referral = "live_referral"
    no_free_seat = "no_free_seat"
    no_correctional_group = "no_correctional_group"
    no_kindergartens = "no_kindergartens"
    not_eligible = "not_eligible"
    not_enough_verified_phones = "not_enough_verified_phones"
    not_legal_representative = "not_legal_representative"
    not_stop_listed = "not_stop_listed"
    nothing_to_extend = "nothing_to_extend"
    offer_not_open = "offer_not_open"
    otp_expired = "otp_expired"
    otp_locked = "otp_locked"
    otp_wrong = "otp_wrong"
    out_of_scope = "out_of_scope"
    over_capacity = "over_capacity"
    parent_not_found = "parent_not_found"
    phone_already_confirmed = "phone_already_confirmed"
    phone_not_found = "phone_not_found"
    phone_not_in_bmg = "phone_not_in_bmg"
    phone_not_verified = "phone_not_verified"
    pmpk_required = "pmpk_required"
    questionnaire_required = "questionnaire_required"
    referral_already_extended = "referral_already_extended"
    referral_date_required = "referral_date_required"
    referral_date_out_of_range = "referral_date_out_of_range"
    referral_expired = "referral_expired"
    referral_not_enrollable = "referral_not_enrollable"
    referral_not_extendable = "referral_not_extendable"
    referral_not_found = "referral_not_found"
    referral_not_live = "referral_not_live"
    resend_cooldown = "resend_cooldown"
    staff_city_required = "staff_city_required"
    staff_kindergarten_required = "staff_kindergarten_required"
    staff_not_found = "staff_not_found"
    stop_list_not_over = "stop_list_not_over"
    too_many_kindergartens = "too_many_kindergartens"
    transition_not_allowed = "transition_not_allowed"
    twins_need_seats = "twins_need_seats"
    # SMS abuse and the public check (appended).
    otp_phone_limit = "otp_phone_limit"
    otp_applicant_limit = "otp_applicant_limit"
    otp_service_busy = "otp_service_busy"
    phone_owner_mismatch = "phone_owner_mismatch"
    sms_not_sent = "sms_not_sent"
    public_check_limit = "public_check_limit"
    undo_not_possible = "undo_not_possible"
    undo_window_passed = "undo_window_passed"
    complaint_empty = "complaint_empty"
    complaint_too_long = "complaint_too_long"
    complaint_file_type = "complaint_file_type"
    complaint_not_found = "complaint_not_found"
    complaint_answered = "complaint_answered"
    complaint_answer_empty = "complaint_answer_empty"
    complaint_subject_not_found = "complaint_subject_not_found"
    complaint_no_kindergarten = "complaint_no_kindergarten"
    complaint_anonymous_category = "complaint_anonymous_category"
    # Staff roles granted and removed inside the bot (appended).
    superadmin_only = "superadmin_only"
    last_superadmin = "last_superadmin"
    invalid_channel = "invalid_channel"
    # A child leaving a kindergarten (core.referrals.departures; appended).
    referral_not_enrolled = "referral_not_enrolled"
    referral_already_departed = "referral_already_departed"
    departure_reason_required = "departure_reason_required"
    departure_date_out_of_range = "departure_date_out_of_range"
    invalid_departure_reason = "invalid_departure_reason"


# Codes for input the bot never sends (its keyboards offer only valid values): no parent text.
INTERNAL = frozenset(
    {
        Reason.invalid_queue_type,
        Reason.invalid_referral_mode,
        Reason.invalid_language,
        Reason.invalid_channel,
        Reason.invalid_benefit,
        Reason.invalid_departure_reason,
        Reason.benefit_decided_by_staff,  # a gov callback's refusal, never a parent's
    }
)
