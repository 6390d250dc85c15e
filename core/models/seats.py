"""Freed seats, the offers made to priority addressees, and referrals."""

from tortoise import fields
from tortoise.models import Model

from core.models.applications import Application
from core.models.enums import DepartureReason, OfferStatus, ReferralStatus, SeatStatus
from core.models.places import Group, Kindergarten


class SeatRelease(Model):
    id = fields.IntField(primary_key=True)
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="releases"
    )
    group_id: int
    kindergarten: fields.ForeignKeyRelation[Kindergarten] = fields.ForeignKeyField(
        "models.Kindergarten", related_name="releases"
    )
    kindergarten_id: int
    seats = fields.IntField()
    priority_end_at = fields.DatetimeField()
    released_by = fields.CharField(max_length=64)  # audit actor
    created_at = fields.DatetimeField(auto_now_add=True)
    # Seats that opened to general access up to this moment were announced to the queue
    # (core.seats.general_access.announce_general_access); null: none announced yet.
    general_announced_at = fields.DatetimeField(null=True)

    class Meta:
        table = "seat_release"


class Seat(Model):
    """One freed place. Taken by a conditional update, so it is never given twice."""

    id = fields.IntField(primary_key=True)
    release: fields.ForeignKeyRelation[SeatRelease] = fields.ForeignKeyField(
        "models.SeatRelease", related_name="seat_rows"
    )
    release_id: int
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="seats"
    )
    group_id: int
    status = fields.CharEnumField(SeatStatus, max_length=16, default=SeatStatus.free)
    # Until this moment only the release's addressees may take it; after it, general access.
    priority_end_at = fields.DatetimeField()
    taken_at = fields.DatetimeField(null=True)

    class Meta:
        table = "seat"
        indexes = (("group_id", "status"),)


class Offer(Model):
    """A release's priority addressee: this application may take one of its seats."""

    id = fields.IntField(primary_key=True)
    release: fields.ForeignKeyRelation[SeatRelease] = fields.ForeignKeyField(
        "models.SeatRelease", related_name="offers"
    )
    release_id: int
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="offers"
    )
    application_id: int
    status = fields.CharEnumField(OfferStatus, max_length=16, default=OfferStatus.open)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "offer"
        unique_together = (("release_id", "application_id"),)


class Referral(Model):
    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="referrals"
    )
    application_id: int
    seat: fields.OneToOneRelation[Seat] = fields.OneToOneField(
        "models.Seat", related_name="referral"
    )
    seat_id: int
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="referrals"
    )
    group_id: int
    kindergarten: fields.ForeignKeyRelation[Kindergarten] = fields.ForeignKeyField(
        "models.Kindergarten", related_name="referrals"
    )
    kindergarten_id: int
    status = fields.CharEnumField(ReferralStatus, max_length=32)
    issued_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    extended = fields.BooleanField(default=False)
    closed_at = fields.DatetimeField(null=True)
    close_reason = fields.CharField(max_length=255, default="")

    class Meta:
        table = "referral"
        indexes = (("application_id", "status"), ("status", "expires_at"))


class Departure(Model):
    """An enrolled child left the kindergarten on `left_on` (core.referrals.departures): the
    referral is `departed` and its seat no longer counts against the group's capacity. Undone
    by staff as a mistake: `undone_at` set, the referral enrolled again."""

    id = fields.IntField(primary_key=True)
    referral: fields.ForeignKeyRelation[Referral] = fields.ForeignKeyField(
        "models.Referral", related_name="departures"
    )
    referral_id: int
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="departures"
    )
    application_id: int
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="departures"
    )
    group_id: int
    kindergarten: fields.ForeignKeyRelation[Kindergarten] = fields.ForeignKeyField(
        "models.Kindergarten", related_name="departures"
    )
    kindergarten_id: int
    left_on = fields.DateField()  # the day the child left (local date)
    reason = fields.CharEnumField(DepartureReason, max_length=16)
    note = fields.CharField(max_length=255, default="")  # the typed reason ("other")
    actor = fields.CharField(max_length=64)  # audit actor
    created_at = fields.DatetimeField()
    undone_at = fields.DatetimeField(null=True)
    undone_by = fields.CharField(max_length=64, default="")

    class Meta:
        table = "departure"
        indexes = (("kindergarten_id", "left_on"), ("referral_id", "undone_at"))
