"""The notification kinds: one typed payload per outbox `kind`, with everything its text needs.

A producer builds the payload in the transaction that causes it (`outbox.notify`); the outbox
row stores `kind` + `to_params()` (JSON primitives, moments as ISO strings) and the renderer
reads it back with `load(kind, params)`, so the producer and the template cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, Self, get_args

from core.models import Group, Kindergarten

Params = dict[str, object]


@dataclass(frozen=True)
class Place:
    """The kindergarten and group a seat or referral is in, as the group label needs them."""

    kindergarten_ru: str
    kindergarten_kk: str
    group: str  # the stored short name ("№3") or proper name
    language: str  # the group's language (kk, ru)
    group_birth_year: int
    group_kind: str

    @classmethod
    def of(cls, kindergarten: Kindergarten, group: Group) -> Self:
        return cls(
            kindergarten_ru=kindergarten.name_ru,
            kindergarten_kk=kindergarten.name_kk,
            group=group.name,
            language=str(group.language),
            group_birth_year=group.birth_year,
            group_kind=str(group.kind),
        )

    def to_params(self) -> Params:
        return {
            "kindergarten_ru": self.kindergarten_ru,
            "kindergarten_kk": self.kindergarten_kk,
            "group": self.group,
            "language": self.language,
            "group_birth_year": self.group_birth_year,
            "group_kind": self.group_kind,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            kindergarten_ru=_str(params, "kindergarten_ru"),
            kindergarten_kk=_str(params, "kindergarten_kk"),
            group=_str(params, "group"),
            language=_str(params, "language"),
            group_birth_year=_int(params, "group_birth_year"),
            group_kind=_str(params, "group_kind"),
        )


@dataclass(frozen=True)
class ApplicationRegistered:
    kind: ClassVar[str] = "application_registered"
    number: int

    def to_params(self) -> Params:
        return {"number": self.number}

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(number=_int(params, "number"))


@dataclass(frozen=True)
class PositionChanged:
    kind: ClassVar[str] = "position_changed"
    application_id: int
    number: int
    previous: int
    position: int

    def to_params(self) -> Params:
        return {
            "application_id": self.application_id,
            "number": self.number,
            "old": self.previous,
            "new": self.position,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            application_id=_int(params, "application_id"),
            number=_int(params, "number"),
            previous=_int(params, "old"),
            position=_int(params, "new"),
        )


@dataclass(frozen=True)
class SeatOffered:
    """A free seat: a priority offer until `deadline`, or open to all (`general_access`)."""

    kind: ClassVar[str] = "seat_offered"
    application_id: int
    application_number: int
    release_id: int  # with application_id, what the "Take the seat" button opens
    place: Place
    deadline: datetime | None = None
    general_access: bool = False

    def to_params(self) -> Params:
        params: Params = {
            "release_id": self.release_id,
            "application_id": self.application_id,
            "application_number": self.application_number,
            **self.place.to_params(),
        }
        if self.deadline is not None:
            params["deadline"] = self.deadline.isoformat()
        if self.general_access:
            params["general_access"] = True
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            application_id=_int(params, "application_id"),
            application_number=_int(params, "application_number"),
            release_id=_int(params, "release_id"),
            place=Place.from_params(params),
            deadline=_moment_or_none(params, "deadline"),
            general_access=bool(params.get("general_access", False)),
        )


@dataclass(frozen=True)
class ReferralIssued:
    """`queue_type` and `benefit` decide the documents to bring (core.referrals
    `documents_for`: special educational needs bring the PMPK conclusion)."""

    kind: ClassVar[str] = "referral_issued"
    referral_id: int
    number: str  # the referral's number
    application_number: int
    place: Place
    expires_at: datetime
    queue_type: str
    awaiting_benefit_confirmation: bool
    benefit: int | None = None

    def to_params(self) -> Params:
        return {
            "referral_id": self.referral_id,
            "number": self.number,
            "application_number": self.application_number,
            **self.place.to_params(),
            "expires_at": self.expires_at.isoformat(),
            "queue_type": self.queue_type,
            "awaiting_benefit_confirmation": self.awaiting_benefit_confirmation,
            "benefit": self.benefit,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        # Rows written before the typed payloads held the queue type in "documents" and the
        # referral status in "status"; the cabinet's feed still shows them.
        awaiting = params.get("awaiting_benefit_confirmation")
        if awaiting is None:
            awaiting = params.get("status") == "awaiting_benefit_confirmation"
        return cls(
            referral_id=_int(params, "referral_id"),
            number=_str(params, "number"),
            application_number=_int(params, "application_number"),
            place=Place.from_params(params),
            expires_at=_moment(params, "expires_at"),
            queue_type=_str(params, "queue_type" if "queue_type" in params else "documents"),
            awaiting_benefit_confirmation=bool(awaiting),
            benefit=_int(params, "benefit") if params.get("benefit") is not None else None,
        )


@dataclass(frozen=True)
class ReferralEnrolled:
    """The kindergarten marked the child enrolled on this referral (the application archived)."""

    kind: ClassVar[str] = "referral_enrolled"
    referral_id: int
    number: str
    application_number: int
    place: Place

    def to_params(self) -> Params:
        return {
            "referral_id": self.referral_id,
            "number": self.number,
            "application_number": self.application_number,
            **self.place.to_params(),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            referral_id=_int(params, "referral_id"),
            number=_str(params, "number"),
            application_number=_int(params, "application_number"),
            place=Place.from_params(params),
        )


@dataclass(frozen=True)
class ReferralEnrolmentUndone:
    """Staff undid the enrolment on this referral: it waits for the enrolment again and the
    application is back in the queue."""

    kind: ClassVar[str] = "referral_enrolment_undone"
    referral_id: int
    number: str
    application_number: int
    place: Place

    def to_params(self) -> Params:
        return {
            "referral_id": self.referral_id,
            "number": self.number,
            "application_number": self.application_number,
            **self.place.to_params(),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            referral_id=_int(params, "referral_id"),
            number=_str(params, "number"),
            application_number=_int(params, "application_number"),
            place=Place.from_params(params),
        )


@dataclass(frozen=True)
class OfferWithdrawn:
    """A seat offered to this application is gone: staff undid the revocation that had freed
    it, and it went back to its referral. The application keeps its place in the queue."""

    kind: ClassVar[str] = "offer_withdrawn"
    application_number: int
    place: Place

    def to_params(self) -> Params:
        return {"application_number": self.application_number, **self.place.to_params()}

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            application_number=_int(params, "application_number"),
            place=Place.from_params(params),
        )


@dataclass(frozen=True)
class ReferralRevocationUndone:
    """Staff undid the revocation of this referral: it is valid again, until `expires_at`."""

    kind: ClassVar[str] = "referral_revocation_undone"
    referral_id: int
    number: str
    application_number: int
    place: Place
    expires_at: datetime

    def to_params(self) -> Params:
        return {
            "referral_id": self.referral_id,
            "number": self.number,
            "application_number": self.application_number,
            "expires_at": _iso(self.expires_at),
            **self.place.to_params(),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            referral_id=_int(params, "referral_id"),
            number=_str(params, "number"),
            application_number=_int(params, "application_number"),
            place=Place.from_params(params),
            expires_at=_moment(params, "expires_at"),
        )


@dataclass(frozen=True)
class BenefitDecisionUndone:
    """Staff undid their decision on the benefit ("confirmed" or "rejected"): the benefit waits
    for a decision again (with the referral `referral_number`, if one waits with it)."""

    kind: ClassVar[str] = "benefit_decision_undone"
    application_number: int
    decision: str
    referral_number: str | None = None

    def to_params(self) -> Params:
        params: Params = {
            "application_number": self.application_number,
            "decision": self.decision,
        }
        if self.referral_number is not None:
            params["number"] = self.referral_number
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            application_number=_int(params, "application_number"),
            decision=_str(params, "decision"),
            referral_number=_str(params, "number") if params.get("number") else None,
        )


@dataclass(frozen=True)
class ReferralRevoked:
    """Staff took the referral back; its seat goes to other children, the application keeps
    its place. `reason_code`: a reason picked from the list (the parent reads it in their
    language); otherwise `reason` is the staff member's words."""

    kind: ClassVar[str] = "referral_revoked"
    referral_id: int
    number: str
    application_number: int
    place: Place
    reason: str = ""
    reason_code: str = ""

    def to_params(self) -> Params:
        return {
            "referral_id": self.referral_id,
            "number": self.number,
            "application_number": self.application_number,
            **self.place.to_params(),
            "reason": self.reason,
            "reason_code": self.reason_code,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            referral_id=_int(params, "referral_id"),
            number=_str(params, "number"),
            application_number=_int(params, "application_number"),
            place=Place.from_params(params),
            reason=str(params.get("reason") or ""),
            reason_code=str(params.get("reason_code") or ""),
        )


@dataclass(frozen=True)
class ReferralDismissed:
    """The kindergarten recorded that the child left it on `left_on` (the referral's seat is
    free for another child). `reason_code`: a `DepartureReason` the parent reads in their
    language; `reason`: the staff member's words for "other"."""

    kind: ClassVar[str] = "referral_dismissed"
    referral_id: int
    number: str
    application_number: int
    place: Place
    left_on: date
    reason_code: str
    reason: str = ""

    def to_params(self) -> Params:
        return {
            "referral_id": self.referral_id,
            "number": self.number,
            "application_number": self.application_number,
            **self.place.to_params(),
            "left_on": self.left_on.isoformat(),
            "reason_code": self.reason_code,
            "reason": self.reason,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            referral_id=_int(params, "referral_id"),
            number=_str(params, "number"),
            application_number=_int(params, "application_number"),
            place=Place.from_params(params),
            left_on=date.fromisoformat(_str(params, "left_on")),
            reason_code=_str(params, "reason_code"),
            reason=str(params.get("reason") or ""),
        )


@dataclass(frozen=True)
class ReferralDismissalUndone:
    """Staff undid the departure recorded by mistake: the child is enrolled again."""

    kind: ClassVar[str] = "referral_dismissal_undone"
    referral_id: int
    number: str
    application_number: int
    place: Place

    def to_params(self) -> Params:
        return {
            "referral_id": self.referral_id,
            "number": self.number,
            "application_number": self.application_number,
            **self.place.to_params(),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            referral_id=_int(params, "referral_id"),
            number=_str(params, "number"),
            application_number=_int(params, "application_number"),
            place=Place.from_params(params),
        )


@dataclass(frozen=True)
class ReferralExpiring:
    kind: ClassVar[str] = "referral_expiring"
    referral_id: int
    number: str
    expires_at: datetime

    def to_params(self) -> Params:
        return {
            "referral_id": self.referral_id,
            "number": self.number,
            "expires_at": self.expires_at.isoformat(),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            referral_id=_int(params, "referral_id"),
            number=_str(params, "number"),
            expires_at=_moment(params, "expires_at"),
        )


@dataclass(frozen=True)
class ReferralExpired:
    kind: ClassVar[str] = "referral_expired"
    referral_id: int
    number: str
    application_number: int
    stop_listed_until: datetime | None

    def to_params(self) -> Params:
        return {
            "referral_id": self.referral_id,
            "number": self.number,
            "application_number": self.application_number,
            "stop_listed_until": _iso(self.stop_listed_until),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            referral_id=_int(params, "referral_id"),
            number=_str(params, "number"),
            application_number=_int(params, "application_number"),
            stop_listed_until=_moment_or_none(params, "stop_listed_until"),
        )


@dataclass(frozen=True)
class ExtensionDue:
    kind: ClassVar[str] = "extension_due"
    numbers: tuple[int, ...]
    deadline: date

    def to_params(self) -> Params:
        return {"numbers": list(self.numbers), "deadline": self.deadline.isoformat()}

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        numbers = params.get("numbers")
        if not isinstance(numbers, list):
            raise ValueError("numbers must be a list")
        return cls(
            numbers=tuple(int(n) for n in numbers),
            deadline=date.fromisoformat(_str(params, "deadline")[:10]),
        )


@dataclass(frozen=True)
class StopListed:
    """`reason` is the stop-list reason code (not_extended, referral_expired, ...);
    `until` None means until the parent restores it."""

    kind: ClassVar[str] = "stop_listed"
    application_id: int
    application_number: int
    reason: str
    until: datetime | None

    def to_params(self) -> Params:
        return {
            "application_id": self.application_id,
            "application_number": self.application_number,
            "reason": self.reason,
            "until": _iso(self.until),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            application_id=_int(params, "application_id"),
            application_number=_int(params, "application_number"),
            reason=_str(params, "reason"),
            until=_moment_or_none(params, "until"),
        )


@dataclass(frozen=True)
class AgedOut:
    """The application was archived: the child is `max_child_age_years` full years old.
    `live_referral`: a referral issued before still holds (the kindergarten may enrol on it)."""

    kind: ClassVar[str] = "aged_out"
    application_id: int
    application_number: int
    age_years: int
    live_referral: bool

    def to_params(self) -> Params:
        return {
            "application_id": self.application_id,
            "application_number": self.application_number,
            "age_years": self.age_years,
            "live_referral": self.live_referral,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            application_id=_int(params, "application_id"),
            application_number=_int(params, "application_number"),
            age_years=_int(params, "age_years"),
            live_referral=params.get("live_referral") is True,
        )


@dataclass(frozen=True)
class Restored:
    kind: ClassVar[str] = "restored"
    application_number: int
    application_id: int | None = None  # None only in rows written before the typed payloads

    def to_params(self) -> Params:
        params: Params = {"application_number": self.application_number}
        if self.application_id is not None:
            params = {"application_id": self.application_id} | params
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        # A parent's restore wrote "number" before the typed payloads; the feed still shows it.
        key = "application_number" if "application_number" in params else "number"
        application_id = _int(params, "application_id") if "application_id" in params else None
        return cls(application_number=_int(params, key), application_id=application_id)


@dataclass(frozen=True)
class BenefitConfirmed:
    """With the referral that waited for the confirmation, if there was one."""

    kind: ClassVar[str] = "benefit_confirmed"
    application_number: int
    referral_number: str | None = None
    expires_at: datetime | None = None

    def to_params(self) -> Params:
        params: Params = {"application_number": self.application_number}
        if self.referral_number is not None:
            params["number"] = self.referral_number
            params["expires_at"] = _iso(self.expires_at)
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            application_number=_int(params, "application_number"),
            referral_number=_str(params, "number") if params.get("number") else None,
            expires_at=_moment_or_none(params, "expires_at"),
        )


@dataclass(frozen=True)
class BenefitRejected:
    """`reason` is the staff member's words (or the timer's); a referral waiting for the
    benefit is annulled and the application stop-listed until `stop_listed_until`."""

    kind: ClassVar[str] = "benefit_rejected"
    application_number: int
    reason: str
    referral_number: str | None = None
    stop_listed_until: datetime | None = None
    reason_code: str = ""  # picked from the list: the parent reads it in their language

    def to_params(self) -> Params:
        params: Params = {"application_number": self.application_number, "reason": self.reason}
        if self.reason_code:
            params["reason_code"] = self.reason_code
        if self.referral_number is not None:
            params["number"] = self.referral_number
            params["stop_listed_until"] = _iso(self.stop_listed_until)
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            application_number=_int(params, "application_number"),
            reason=str(params.get("reason") or ""),
            referral_number=_str(params, "number") if params.get("number") else None,
            stop_listed_until=_moment_or_none(params, "stop_listed_until"),
            reason_code=str(params.get("reason_code") or ""),
        )


@dataclass(frozen=True)
class BenefitEnded:
    """The state registry no longer confirms a first-priority benefit after its record's
    validity (`ended_on`): the application goes on in the general order at its original time."""

    kind: ClassVar[str] = "benefit_ended"
    application_id: int
    application_number: int
    category: int
    ended_on: date

    def to_params(self) -> Params:
        return {
            "application_id": self.application_id,
            "application_number": self.application_number,
            "category": self.category,
            "ended_on": self.ended_on.isoformat(),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            application_id=_int(params, "application_id"),
            application_number=_int(params, "application_number"),
            category=_int(params, "category"),
            ended_on=date.fromisoformat(_str(params, "ended_on")[:10]),
        )


@dataclass(frozen=True)
class Broadcast:
    """An announcement written by staff in both languages."""

    kind: ClassVar[str] = "broadcast"
    text_kk: str
    text_ru: str

    def to_params(self) -> Params:
        return {"text_kk": self.text_kk, "text_ru": self.text_ru}

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(text_kk=_str(params, "text_kk"), text_ru=_str(params, "text_ru"))


@dataclass(frozen=True)
class FamilyReady:
    """The gov family-data request finished: `consent` False when the parent refused."""

    kind: ClassVar[str] = "family_ready"
    consent: bool

    def to_params(self) -> Params:
        return {"consent": self.consent}

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(consent=params.get("consent") is not False)


@dataclass(frozen=True)
class BenefitCertificateExpiring:
    """An extraordinary benefit still waits for staff and its certificate runs out on
    `valid_until`: the parent may upload a new one in the cabinet."""

    kind: ClassVar[str] = "benefit_certificate_expiring"
    application_id: int
    application_number: int
    valid_until: date

    def to_params(self) -> Params:
        return {
            "application_id": self.application_id,
            "application_number": self.application_number,
            "valid_until": self.valid_until.isoformat(),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            application_id=_int(params, "application_id"),
            application_number=_int(params, "application_number"),
            valid_until=date.fromisoformat(_str(params, "valid_until")[:10]),
        )


@dataclass(frozen=True)
class BenefitCertificateLapsed:
    """The certificate ran out before staff confirmed it: the benefit is removed (general
    stream, original time); a referral waiting for it is annulled and the application
    stop-listed until `stop_listed_until`."""

    kind: ClassVar[str] = "benefit_certificate_lapsed"
    application_id: int
    application_number: int
    referral_number: str | None = None
    stop_listed_until: datetime | None = None

    def to_params(self) -> Params:
        params: Params = {
            "application_id": self.application_id,
            "application_number": self.application_number,
        }
        if self.referral_number is not None:
            params["number"] = self.referral_number
            params["stop_listed_until"] = _iso(self.stop_listed_until)
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            application_id=_int(params, "application_id"),
            application_number=_int(params, "application_number"),
            referral_number=_str(params, "number") if params.get("number") else None,
            stop_listed_until=_moment_or_none(params, "stop_listed_until"),
        )


@dataclass(frozen=True)
class CodeNotDelivered:
    """The SMS gateway reported that a one-time code SMS was not delivered."""

    kind: ClassVar[str] = "code_not_delivered"

    def to_params(self) -> Params:
        return {}

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls()


@dataclass(frozen=True)
class ReferralModeChanged:
    """The parent changed when the application may get a referral: at once when a seat appears
    (`referral_from` None) or from a date."""

    kind: ClassVar[str] = "referral_mode_changed"
    application_id: int
    application_number: int
    referral_from: date | None = None

    def to_params(self) -> Params:
        return {
            "application_id": self.application_id,
            "application_number": self.application_number,
            "referral_from": self.referral_from.isoformat() if self.referral_from else None,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        day = params.get("referral_from")
        return cls(
            application_id=_int(params, "application_id"),
            application_number=_int(params, "application_number"),
            referral_from=date.fromisoformat(str(day)) if day else None,
        )


@dataclass(frozen=True)
class ComplaintRegistered:
    """A complaint is registered: its number and the deadline of the answer."""

    kind: ClassVar[str] = "complaint_registered"
    number: int
    category: str
    deadline: datetime

    def to_params(self) -> Params:
        return {"number": self.number, "category": self.category, "deadline": _iso(self.deadline)}

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            number=_int(params, "number"),
            category=_str(params, "category"),
            deadline=_moment(params, "deadline"),
        )


@dataclass(frozen=True)
class ComplaintFiled:
    """To the staff who answer it (core.complaints.filing.answerers): a new complaint, its
    category and the deadline. Nothing of the parent: an anonymous report stays anonymous."""

    kind: ClassVar[str] = "complaint_filed"
    number: int
    category: str
    deadline: datetime

    def to_params(self) -> Params:
        return {"number": self.number, "category": self.category, "deadline": _iso(self.deadline)}

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(
            number=_int(params, "number"),
            category=_str(params, "category"),
            deadline=_moment(params, "deadline"),
        )


@dataclass(frozen=True)
class ComplaintTaken:
    """Staff took the complaint into work."""

    kind: ClassVar[str] = "complaint_taken"
    number: int
    deadline: datetime

    def to_params(self) -> Params:
        return {"number": self.number, "deadline": _iso(self.deadline)}

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(number=_int(params, "number"), deadline=_moment(params, "deadline"))


@dataclass(frozen=True)
class ComplaintAnswered:
    """Staff answered the complaint; `answer` is their text as typed (shown as a quote)."""

    kind: ClassVar[str] = "complaint_answered"
    number: int
    answer: str

    def to_params(self) -> Params:
        return {"number": self.number, "answer": self.answer}

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(number=_int(params, "number"), answer=_str(params, "answer"))


@dataclass(frozen=True)
class ComplaintEscalated:
    """The complaint was not answered in time and went to the superadmin."""

    kind: ClassVar[str] = "complaint_escalated"
    number: int

    def to_params(self) -> Params:
        return {"number": self.number}

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        return cls(number=_int(params, "number"))


@dataclass(frozen=True)
class ApplicationsMoved:
    """Access recovery moved these applications to another account (the child's legal
    representative, confirmed by the registry and by a code to `phone`): told to the account
    they left, with what to do if that was unexpected. `phone` is masked already."""

    kind: ClassVar[str] = "applications_moved"
    numbers: tuple[int, ...]
    moved_at: datetime
    phone: str

    def to_params(self) -> Params:
        return {
            "numbers": list(self.numbers),
            "moved_at": self.moved_at.isoformat(),
            "phone": self.phone,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        numbers = params.get("numbers")
        if not isinstance(numbers, list) or not numbers:
            raise ValueError("numbers is missing")
        return cls(
            numbers=tuple(int(n) for n in numbers),
            moved_at=_moment(params, "moved_at"),
            phone=_str(params, "phone"),
        )


@dataclass(frozen=True)
class ExchangeNews:
    """A step of the parent's exchange of places (core.exchange): `step` is one of
    requested, offered, waiting_others, dropped, carried_out, unmatched. `place`: the place
    offered or received; `deadline`: to confirm (offered) or to enrol (carried_out);
    `number`: the new referral's number (carried_out)."""

    kind: ClassVar[str] = "exchange_news"
    step: str
    request_id: int
    place: Place | None = None
    deadline: datetime | None = None
    number: str = ""

    def to_params(self) -> Params:
        params: Params = {"step": self.step, "request_id": self.request_id}
        if self.place is not None:
            params["place"] = self.place.to_params()
        if self.deadline is not None:
            params["deadline"] = self.deadline.isoformat()
        if self.number:
            params["number"] = self.number
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> Self:
        place = params.get("place")
        return cls(
            step=_str(params, "step"),
            request_id=_int(params, "request_id"),
            place=Place.from_params(place) if isinstance(place, Mapping) else None,
            deadline=_moment_or_none(params, "deadline"),
            number=str(params.get("number") or ""),
        )


AnyPayload = (
    ApplicationRegistered
    | PositionChanged
    | SeatOffered
    | ReferralIssued
    | ReferralEnrolled
    | ReferralRevoked
    | ReferralExpiring
    | ReferralExpired
    | ExtensionDue
    | StopListed
    | AgedOut
    | Restored
    | BenefitConfirmed
    | BenefitRejected
    | BenefitEnded
    | Broadcast
    | FamilyReady
    | BenefitCertificateExpiring
    | BenefitCertificateLapsed
    | CodeNotDelivered
    | ReferralEnrolmentUndone
    | ReferralRevocationUndone
    | OfferWithdrawn
    | BenefitDecisionUndone
    | ReferralModeChanged
    | ComplaintRegistered
    | ComplaintFiled
    | ComplaintTaken
    | ComplaintAnswered
    | ComplaintEscalated
    | ApplicationsMoved
    | ExchangeNews
    | ReferralDismissed
    | ReferralDismissalUndone
)
KINDS: dict[str, type[AnyPayload]] = {payload.kind: payload for payload in get_args(AnyPayload)}


def load(kind: str, params: Mapping[str, object]) -> AnyPayload:
    """The typed payload of an outbox row; KeyError for an unknown kind, ValueError (or
    KeyError) for params that do not fit it."""
    payload = KINDS.get(kind)
    if payload is None:
        raise KeyError(f"unknown notification kind {kind!r}")
    return payload.from_params(params)


def applications_of(payload: AnyPayload) -> dict[str, object] | None:
    """Filters on `Application` for the applications a notice is about (their notification
    language, chosen at submission, is the notice's); None for a notice about none (a
    broadcast, a complaint, a code)."""
    application_id = getattr(payload, "application_id", None)
    if application_id is not None:
        return {"id": application_id}
    if isinstance(payload, ApplicationRegistered):
        return {"number": payload.number}
    application_number = getattr(payload, "application_number", None)
    if application_number is not None:
        return {"number": application_number}
    if isinstance(payload, ExtensionDue | ApplicationsMoved):
        return {"number__in": list(payload.numbers)}
    if isinstance(payload, ReferralExpiring):
        return {"referrals__id": payload.referral_id}
    if isinstance(payload, ExchangeNews):
        return {"exchange_requests__id": payload.request_id}
    return None


# --- helpers ------------------------------------------------------------------------------------


def _str(params: Mapping[str, object], name: str) -> str:
    value = params[name]
    if value is None:
        raise ValueError(f"{name} is missing")
    return str(value)


def _int(params: Mapping[str, object], name: str) -> int:
    return int(_str(params, name))


def _moment(params: Mapping[str, object], name: str) -> datetime:
    return datetime.fromisoformat(_str(params, name))


def _moment_or_none(params: Mapping[str, object], name: str) -> datetime | None:
    return _moment(params, name) if params.get(name) else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
