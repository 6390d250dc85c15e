"""Applications to the queue, their chosen kindergartens and extension answers.

`ApplicationChoice` repeats the ordering columns of its application (stream, submitted_at,
number, active) so that a kindergarten's queue position is three index-backed counts, never a
join over the cohort. `core.queue` keeps the copies in step.
"""

from typing import Any

from tortoise import fields
from tortoise.models import Model

from core.models.enums import (
    ApplicationStatus,
    ArchiveReason,
    BenefitStatus,
    Language,
    QueueType,
    ReferralMode,
    Stream,
)
from core.models.people import Applicant, Child, Document
from core.models.places import City, Kindergarten


class Application(Model):
    id = fields.IntField(primary_key=True)
    number = fields.BigIntField(unique=True)
    # Indexed: a parent's applications (cabinet) and a child's twins (the seat claim's precheck).
    applicant: fields.ForeignKeyRelation[Applicant] = fields.ForeignKeyField(
        "models.Applicant", related_name="applications", db_index=True
    )
    applicant_id: int
    child: fields.ForeignKeyRelation[Child] = fields.ForeignKeyField(
        "models.Child", related_name="applications"
    )
    child_id: int
    city: fields.ForeignKeyRelation[City] = fields.ForeignKeyField(
        "models.City", related_name="applications"
    )
    city_id: int
    queue_type = fields.CharEnumField(QueueType, max_length=16)
    birth_year = fields.IntField()
    stream = fields.IntEnumField(Stream, default=Stream.general)
    benefit_category = fields.IntField(null=True)
    benefit_status = fields.CharEnumField(BenefitStatus, max_length=16, default=BenefitStatus.none)
    benefit_document: fields.ForeignKeyNullableRelation[Document] = fields.ForeignKeyField(
        "models.Document", related_name="benefit_applications", null=True
    )
    benefit_document_id: int | None
    # Extraordinary: the day the certificate counts from (it lapses after
    # `benefit_certificate_valid_days`); first priority: None.
    benefit_certificate_issued_on = fields.DateField(null=True)
    # The last day the benefit holds without a new check: the registry record's validity (first
    # priority) or the certificate's (extraordinary, until staff confirm it).
    benefit_valid_until = fields.DateField(null=True)
    pmpk_document: fields.ForeignKeyNullableRelation[Document] = fields.ForeignKeyField(
        "models.Document", related_name="pmpk_applications", null=True
    )
    pmpk_document_id: int | None
    referral_mode = fields.CharEnumField(
        ReferralMode, max_length=16, default=ReferralMode.immediately
    )
    referral_from = fields.DateField(null=True)
    submitted_at = fields.DatetimeField()
    status = fields.CharEnumField(
        ApplicationStatus, max_length=16, default=ApplicationStatus.active
    )
    archive_reason = fields.CharEnumField(ArchiveReason, max_length=16, null=True)
    stop_listed_until = fields.DatetimeField(null=True)  # null while stop-listed: indefinitely
    valid_until = fields.DateField()
    notification_language = fields.CharEnumField(Language, max_length=2, default=Language.ru)
    last_notified_position = fields.IntField(null=True)
    choices: fields.ReverseRelation["ApplicationChoice"]  # ApplicationChoice.application

    class Meta:
        table = "application"
        indexes = (
            ("city_id", "queue_type", "birth_year", "status", "stream", "submitted_at", "number"),
            ("child_id", "queue_type", "status"),
        )


class ApplicationChoice(Model):
    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="choices"
    )
    application_id: int
    kindergarten: fields.ForeignKeyRelation[Kindergarten] = fields.ForeignKeyField(
        "models.Kindergarten", related_name="choices"
    )
    kindergarten_id: int
    rank = fields.SmallIntField()  # 1..4, the parent's order
    language = fields.CharEnumField(Language, max_length=2)
    # Copies of the application's ordering columns (see the module docstring).
    queue_type = fields.CharEnumField(QueueType, max_length=16)
    birth_year = fields.IntField()
    stream = fields.IntEnumField(Stream)
    submitted_at = fields.DatetimeField()
    number = fields.BigIntField()
    active = fields.BooleanField(default=True)

    class Meta:
        table = "application_choice"
        unique_together = (("application_id", "kindergarten_id"),)
        indexes = (
            (
                "kindergarten_id",
                "queue_type",
                "birth_year",
                "language",
                "active",
                "stream",
                "submitted_at",
                "number",
            ),
        )


class Counter(Model):
    """Named monotonic counters (application and referral numbers, never reused)."""

    name = fields.CharField(max_length=32, primary_key=True)
    value = fields.BigIntField(default=0)

    class Meta:
        table = "counter"


class ExtensionAnswers(Model):
    id = fields.IntField(primary_key=True)
    applicant: fields.ForeignKeyRelation[Applicant] = fields.ForeignKeyField(
        "models.Applicant", related_name="extension_answers"
    )
    applicant_id: int
    season = fields.IntField()  # the calendar year of the extension campaign
    answers: fields.JSONField[dict[str, Any]] = fields.JSONField()
    extended_numbers: fields.JSONField[list[int]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "extension_answers"
