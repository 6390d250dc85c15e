"""Enumerations stored in the database (values are stable identifiers, never shown as text)."""

from enum import IntEnum, StrEnum


class Language(StrEnum):
    kk = "kk"
    ru = "ru"


class Ownership(StrEnum):
    state = "state"
    private = "private"


class GroupKind(StrEnum):
    general = "general"
    correctional = "correctional"
    sanatorium = "sanatorium"


class QueueType(StrEnum):
    general = "general"
    correctional = "correctional"


class Stream(IntEnum):
    """Benefit class of an application, in distribution order."""

    extraordinary = 0
    first_priority = 1
    general = 2


class BenefitStatus(StrEnum):
    none = "none"
    pending = "pending"  # extraordinary: document uploaded, staff have not decided
    confirmed = "confirmed"
    rejected = "rejected"


class ReferralMode(StrEnum):
    immediately = "immediately"
    from_date = "from_date"


class ApplicationStatus(StrEnum):
    active = "active"
    stop_listed = "stop_listed"
    archived = "archived"


class ArchiveReason(StrEnum):
    enrolled = "enrolled"
    withdrawn = "withdrawn"
    aged_out = "aged_out"
    annulled = "annulled"


class Channel(StrEnum):
    telegram = "telegram"
    sms = "sms"


class ReferralStatus(StrEnum):
    awaiting_benefit_confirmation = "awaiting_benefit_confirmation"
    awaiting_enrollment = "awaiting_enrollment"
    enrolled = "enrolled"
    expired = "expired"
    declined = "declined"
    revoked = "revoked"
    annulled = "annulled"
    exchanged = "exchanged"  # given up in an exchange of places (core.exchange)
    # the enrolled child has left the kindergarten (core.referrals.departures): no seat held
    departed = "departed"


LIVE_REFERRAL_STATUSES = (
    ReferralStatus.awaiting_benefit_confirmation,
    ReferralStatus.awaiting_enrollment,
)


class DepartureReason(StrEnum):
    """Why an enrolled child left the kindergarten (staff pick one; "other" is typed)."""

    moved_away = "moved_away"
    went_to_school = "went_to_school"
    parent_request = "parent_request"
    health = "health"
    other = "other"


class SeatStatus(StrEnum):
    free = "free"
    taken = "taken"
    withdrawn = "withdrawn"


class OfferStatus(StrEnum):
    open = "open"
    taken = "taken"
    declined = "declined"
    lapsed = "lapsed"


class StaffRole(StrEnum):
    operator = "operator"  # education department of a city
    kindergarten_admin = "kindergarten_admin"
    superadmin = "superadmin"
    # the anti-corruption officer: sees only corruption reports, and nothing else
    anticorruption = "anticorruption"


class DocumentKind(StrEnum):
    benefit = "benefit"
    pmpk = "pmpk"
    birth_certificate = "birth_certificate"
    complaint = "complaint"  # a photo or PDF attached to a complaint


class ComplaintCategory(StrEnum):
    corruption = "corruption"  # may be anonymous; only the anticorruption role sees it
    kindergarten = "kindergarten"  # answered by the education department of its city
    department = "department"  # about the education department: answered by the superadmin


class ComplaintStatus(StrEnum):
    registered = "registered"
    in_work = "in_work"
    answered = "answered"


class NotificationStatus(StrEnum):
    pending = "pending"
    claimed = "claimed"  # leased by a worker, no request yet; an expired lease goes back to pending
    sending = "sending"  # the request may have started; if the worker dies here: unknown
    sent = "sent"
    failed = "failed"
    blocked = "blocked"
    unknown = "unknown"
    cancelled = "cancelled"


class GovRequestStatus(StrEnum):
    consent_pending = "consent_pending"
    consented = "consented"
    refused = "refused"
    failed = "failed"


class InboxStatus(StrEnum):
    pending = "pending"
    done = "done"
    failed = "failed"


class BenefitCategory(IntEnum):
    """DOMAIN.md numbering: 1-4 extraordinary, 5-11 first-priority."""

    military = 1
    special_state_bodies = 2
    law_enforcement = 3
    state_courier = 4
    parent_disability = 5
    without_parental_care = 6
    orphan = 7
    large_family = 8
    special_needs = 9
    child_disability = 10
    teacher = 11

    @property
    def stream(self) -> Stream:
        return Stream.extraordinary if self <= 4 else Stream.first_priority

    @property
    def needs_document(self) -> bool:
        return self.stream is Stream.extraordinary
