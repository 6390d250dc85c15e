"""Complaints and reports a parent files in chat (INDIGO's "Онлайн-приемная и обращения" and
"Сообщить о коррупции"), routed to a staff scope with a registration number and a deadline."""

from tortoise import fields
from tortoise.models import Model

from core.models.applications import Application
from core.models.enums import ComplaintCategory, ComplaintStatus
from core.models.operations import StaffMember
from core.models.people import Applicant, Document
from core.models.places import City, Kindergarten
from core.models.seats import Referral


class Complaint(Model):
    """One complaint. The parent is always kept (answers reach them), an anonymous one is never
    shown to staff with the parent's name, phone or application."""

    id = fields.IntField(primary_key=True)
    number = fields.IntField(unique=True)  # the registration number the parent is given
    applicant: fields.ForeignKeyRelation[Applicant] = fields.ForeignKeyField(
        "models.Applicant", related_name="complaints"
    )
    applicant_id: int
    category = fields.CharEnumField(ComplaintCategory, max_length=16)
    anonymous = fields.BooleanField(default=False)
    text = fields.TextField()
    attachment: fields.ForeignKeyNullableRelation[Document] = fields.ForeignKeyField(
        "models.Document", related_name="complaints", null=True
    )
    attachment_id: int | None
    application: fields.ForeignKeyNullableRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="complaints", null=True
    )
    application_id: int | None
    referral: fields.ForeignKeyNullableRelation[Referral] = fields.ForeignKeyField(
        "models.Referral", related_name="complaints", null=True
    )
    referral_id: int | None
    # The routing: the kindergarten complained about, and the city whose staff answer.
    kindergarten: fields.ForeignKeyNullableRelation[Kindergarten] = fields.ForeignKeyField(
        "models.Kindergarten", related_name="complaints", null=True
    )
    kindergarten_id: int | None
    city: fields.ForeignKeyNullableRelation[City] = fields.ForeignKeyField(
        "models.City", related_name="complaints", null=True
    )
    city_id: int | None
    status = fields.CharEnumField(
        ComplaintStatus, max_length=16, default=ComplaintStatus.registered
    )
    deadline = fields.DatetimeField()  # the answer is due by this moment (working days)
    taken_by: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="complaints_taken", null=True
    )
    taken_by_id: int | None
    answer = fields.TextField(default="")
    answered_at = fields.DatetimeField(null=True)
    escalated_at = fields.DatetimeField(null=True)  # overdue: passed to the superadmin
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "complaint"
        indexes = (("status", "deadline"), ("applicant_id", "created_at"))
