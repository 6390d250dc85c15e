"""The domain model (Tortoise ORM). One app, "models"; migrations in core/migrations."""

from core.models.applications import Application, ApplicationChoice, Counter, ExtensionAnswers
from core.models.complaints import Complaint
from core.models.enums import *  # noqa: F403
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
from core.models.seats import Offer, Referral, Seat, SeatRelease

__all__ = [
    "Applicant",
    "Application",
    "ApplicationChoice",
    "AuditEntry",
    "Broadcast",
    "Child",
    "City",
    "Complaint",
    "Counter",
    "Document",
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
    "Seat",
    "SeatRelease",
    "StaffMember",
]
