"""Staff, the notification outbox, broadcasts, webhook inbox, gov requests, jobs, audit log."""

from typing import Any

from tortoise import fields
from tortoise.models import Model

from core.models.enums import (
    Channel,
    GovRequestStatus,
    InboxStatus,
    Language,
    NotificationStatus,
    StaffRole,
)
from core.models.people import Applicant
from core.models.places import City, Kindergarten


class StaffMember(Model):
    id = fields.IntField(primary_key=True)
    telegram_user_id = fields.BigIntField(unique=True)
    name = fields.CharField(max_length=128, default="")
    role = fields.CharEnumField(StaffRole, max_length=24)
    city: fields.ForeignKeyNullableRelation[City] = fields.ForeignKeyField(
        "models.City", related_name="staff", null=True
    )
    city_id: int | None
    kindergarten: fields.ForeignKeyNullableRelation[Kindergarten] = fields.ForeignKeyField(
        "models.Kindergarten", related_name="staff", null=True
    )
    kindergarten_id: int | None
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff_member"


class Broadcast(Model):
    id = fields.IntField(primary_key=True)
    staff: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="broadcasts"
    )
    staff_id: int
    text_kk = fields.TextField()
    text_ru = fields.TextField()
    audience: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    status = fields.CharField(max_length=16, default="running")  # running, paused, done
    total = fields.IntField(default=0)
    progress_chat_id = fields.BigIntField(null=True)
    progress_message_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "broadcast"


class Notification(Model):
    """Outbox row: written in the transaction that causes it, delivered once by the worker."""

    id = fields.BigIntField(primary_key=True)
    idempotency_key = fields.CharField(max_length=128, unique=True)
    applicant: fields.ForeignKeyNullableRelation[Applicant] = fields.ForeignKeyField(
        "models.Applicant", related_name="notifications", null=True
    )
    applicant_id: int | None
    broadcast: fields.ForeignKeyNullableRelation[Broadcast] = fields.ForeignKeyField(
        "models.Broadcast", related_name="notifications", null=True
    )
    broadcast_id: int | None
    kind = fields.CharField(max_length=48)
    params: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    language = fields.CharEnumField(Language, max_length=2, default=Language.ru)
    channel = fields.CharEnumField(Channel, max_length=16, default=Channel.telegram)
    status = fields.CharEnumField(
        NotificationStatus, max_length=16, default=NotificationStatus.pending
    )
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    error = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notification"
        indexes = (("status", "next_attempt_at"), ("applicant_id", "created_at"))


class GovRequest(Model):
    """A family-composition request waiting for the parent's consent (SMS from 1414)."""

    id = fields.IntField(primary_key=True)
    request_id = fields.CharField(max_length=64, unique=True)
    applicant: fields.ForeignKeyRelation[Applicant] = fields.ForeignKeyField(
        "models.Applicant", related_name="gov_requests"
    )
    applicant_id: int
    parent_iin = fields.CharField(max_length=12)
    status = fields.CharEnumField(
        GovRequestStatus, max_length=24, default=GovRequestStatus.consent_pending
    )
    result: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    answered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "gov_request"


class InboxEvent(Model):
    """A provider callback stored before it is acknowledged: processed once, retried on failure."""

    id = fields.BigIntField(primary_key=True)
    source = fields.CharField(max_length=16)  # gov, sms
    event_id = fields.CharField(max_length=128)
    type = fields.CharField(max_length=64)
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField()
    status = fields.CharEnumField(InboxStatus, max_length=16, default=InboxStatus.pending)
    attempts = fields.IntField(default=0)
    error = fields.CharField(max_length=255, default="")
    received_at = fields.DatetimeField(auto_now_add=True)
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbox_event"
        unique_together = (("source", "event_id"),)
        indexes = (("status", "received_at"),)


class JobRun(Model):
    """A scheduled job's run for one period (unique, so two workers never repeat it)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64)
    period = fields.CharField(max_length=32)
    started_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "job_run"
        unique_together = (("name", "period"),)


class AuditEntry(Model):
    """Append-only, hash-chained log of every state change (see core.audit)."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=64)
    action = fields.CharField(max_length=48)
    entity = fields.CharField(max_length=32)
    entity_id = fields.CharField(max_length=64)
    before: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    after: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64, unique=True)

    class Meta:
        table = "audit_entry"
        indexes = (("entity", "entity_id"), ("action", "at"))
