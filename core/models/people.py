"""People as the state registry knows them, the parents using the bot, and their children."""

from tortoise import fields
from tortoise.models import Model

from core.models.enums import Channel, DocumentKind, Language


class Person(Model):
    id = fields.IntField(primary_key=True)
    iin = fields.CharField(max_length=12, unique=True, null=True)  # null: a non-citizen child
    last_name = fields.CharField(max_length=64)
    first_name = fields.CharField(max_length=64)
    middle_name = fields.CharField(max_length=64, default="")
    birth_date = fields.DateField()
    sex = fields.CharField(max_length=8, default="")  # "male" | "female"; "" when unknown

    class Meta:
        table = "person"


class Applicant(Model):
    """A parent or guardian who uses the service (from Telegram, or from the seed)."""

    id = fields.IntField(primary_key=True)
    person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="applicants", null=True
    )
    person_id: int | None
    telegram_user_id = fields.BigIntField(unique=True, null=True)
    chat_id = fields.BigIntField(null=True)
    language = fields.CharEnumField(Language, max_length=2, default=Language.ru)
    channel = fields.CharEnumField(Channel, max_length=16, default=Channel.telegram)
    email = fields.CharField(max_length=128, default="")
    blocked_bot = fields.BooleanField(default=False)
    consent_notifications = fields.BooleanField(default=False)
    consent_offer = fields.BooleanField(default=False)
    # "Выйти": set by sign-out, cleared when a phone is confirmed again. Until then the chat is
    # not written to (notices go by SMS) and the cabinet asks for a new code.
    signed_out_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "applicant"


class Phone(Model):
    id = fields.IntField(primary_key=True)
    applicant: fields.ForeignKeyRelation[Applicant] = fields.ForeignKeyField(
        "models.Applicant", related_name="phones"
    )
    applicant_id: int
    number = fields.CharField(max_length=16)  # E.164, +7XXXXXXXXXX
    verified_at = fields.DatetimeField(null=True)

    class Meta:
        table = "phone"
        unique_together = (("applicant_id", "number"),)


class Child(Model):
    id = fields.IntField(primary_key=True)
    person: fields.OneToOneRelation[Person] = fields.OneToOneField(
        "models.Person", related_name="child"
    )
    person_id: int
    # Indexed: a parent's children and a child's twins (the seat claim's precheck).
    representative: fields.ForeignKeyNullableRelation[Applicant] = fields.ForeignKeyField(
        "models.Applicant", related_name="children", null=True, db_index=True
    )
    representative_id: int | None
    birth_certificate: fields.ForeignKeyNullableRelation["Document"] = fields.ForeignKeyField(
        "models.Document", related_name="children", null=True
    )
    birth_certificate_id: int | None

    class Meta:
        table = "child"


class Document(Model):
    """An upload kept by its Telegram file id (we store no file bodies)."""

    id = fields.IntField(primary_key=True)
    applicant: fields.ForeignKeyNullableRelation[Applicant] = fields.ForeignKeyField(
        "models.Applicant", related_name="documents", null=True
    )
    applicant_id: int | None
    kind = fields.CharEnumField(DocumentKind, max_length=24)
    telegram_file_id = fields.CharField(max_length=255, default="")
    file_name = fields.CharField(max_length=255, default="")
    mime_type = fields.CharField(max_length=64, default="")
    sha256 = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "document"
