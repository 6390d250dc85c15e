"""The domain model (Tortoise ORM). One app, "models"; migrations in core/migrations."""

from core.models.applications import Application, ApplicationChoice, Counter, ExtensionAnswers
from core.models.complaints import Complaint
from core.models.enums import *  # noqa: F403
from core.models.exchange import (
    Answer,
    CampaignStatus,
    CycleStatus,
    ExchangeCampaign,
    ExchangeCycle,
    ExchangeLeg,
    ExchangeRequest,
    RequestStatus,
)
from core.models.ledger import LedgerCheckpoint, LedgerLeaf
from core.models.operations import (
    AuditEntry,
    Broadcast,
    GovRequest,
    InboxEvent,
    JobRun,
    Notification,
    StaffMember,
)
from core.models.people import Applicant, Child, Document, Person, Phone
from core.models.places import City, Group, Kindergarten
from core.models.seats import Departure, Offer, Referral, Seat, SeatRelease

__all__ = [
    "Answer",
    "Applicant",
    "Application",
    "ApplicationChoice",
    "AuditEntry",
    "Broadcast",
    "CampaignStatus",
    "Child",
    "City",
    "Complaint",
    "Counter",
    "CycleStatus",
    "Departure",
    "Document",
    "ExchangeCampaign",
    "ExchangeCycle",
    "ExchangeLeg",
    "ExchangeRequest",
    "ExtensionAnswers",
    "GovRequest",
    "Group",
    "InboxEvent",
    "JobRun",
    "Kindergarten",
    "LedgerCheckpoint",
    "LedgerLeaf",
    "Notification",
    "Offer",
    "Person",
    "Phone",
    "Referral",
    "RequestStatus",
    "Seat",
    "SeatRelease",
    "StaffMember",
]
