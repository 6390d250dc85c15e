"""Exchange of places ("Обмен местами"): campaigns, parents' requests, the cycles found among
them and each participant's part in a cycle (core.exchange)."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from core.models.applications import Application
from core.models.enums import Language
from core.models.people import Applicant
from core.models.places import City, Group, Kindergarten
from core.models.seats import Referral


class CampaignStatus(StrEnum):
    open = "open"  # parents may file requests between starts_on and ends_on
    matched = "matched"  # cycles found, staff review them
    offered = "offered"  # participants were asked to confirm
    closed = "closed"


class RequestStatus(StrEnum):
    waiting = "waiting"  # filed, no exchange found yet
    in_cycle = "in_cycle"  # part of a proposed or offered cycle
    exchanged = "exchanged"  # the cycle was carried out
    withdrawn = "withdrawn"  # the parent took it back
    dropped = "dropped"  # the parent refused or let the deadline pass
    unmatched = "unmatched"  # the campaign closed with no exchange found for it


class CycleStatus(StrEnum):
    proposed = "proposed"  # found; staff have not sent the offers
    offered = "offered"  # the participants are asked to confirm
    carried_out = "carried_out"  # everyone confirmed: referrals swapped
    dropped = "dropped"  # someone refused or did not answer in time


class Answer(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    refused = "refused"
    lapsed = "lapsed"


class ExchangeCampaign(Model):
    id = fields.IntField(primary_key=True)
    city: fields.ForeignKeyRelation[City] = fields.ForeignKeyField(
        "models.City", related_name="exchange_campaigns"
    )
    city_id: int
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    status = fields.CharEnumField(CampaignStatus, max_length=16, default=CampaignStatus.open)
    created_by = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "exchange_campaign"


class ExchangeRequest(Model):
    """A parent's wish: the child's place (its referral, live or enrolled) for a place in one
    of `preferences` (kindergarten ids, best first) in a group of `language`."""

    id = fields.IntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[ExchangeCampaign] = fields.ForeignKeyField(
        "models.ExchangeCampaign", related_name="requests"
    )
    campaign_id: int
    applicant: fields.ForeignKeyRelation[Applicant] = fields.ForeignKeyField(
        "models.Applicant", related_name="exchange_requests"
    )
    applicant_id: int
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="exchange_requests"
    )
    application_id: int
    referral: fields.ForeignKeyRelation[Referral] = fields.ForeignKeyField(
        "models.Referral", related_name="exchange_requests"
    )
    referral_id: int
    language = fields.CharEnumField(Language, max_length=2)
    preferences: list[int] = fields.JSONField(default=list)
    status = fields.CharEnumField(RequestStatus, max_length=16, default=RequestStatus.waiting)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "exchange_request"
        indexes = (("campaign_id", "status"),)


class ExchangeCycle(Model):
    id = fields.IntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[ExchangeCampaign] = fields.ForeignKeyField(
        "models.ExchangeCampaign", related_name="cycles"
    )
    campaign_id: int
    status = fields.CharEnumField(CycleStatus, max_length=16, default=CycleStatus.proposed)
    deadline = fields.DatetimeField(null=True)  # set when the offers are sent
    created_at = fields.DatetimeField(auto_now_add=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "exchange_cycle"


class ExchangeLeg(Model):
    """One participant of a cycle: gives up `request.referral`, receives the place of
    `target` (the next participant's referral) in `group`."""

    id = fields.IntField(primary_key=True)
    cycle: fields.ForeignKeyRelation[ExchangeCycle] = fields.ForeignKeyField(
        "models.ExchangeCycle", related_name="legs"
    )
    cycle_id: int
    request: fields.ForeignKeyRelation[ExchangeRequest] = fields.ForeignKeyField(
        "models.ExchangeRequest", related_name="legs"
    )
    request_id: int
    target: fields.ForeignKeyRelation[Referral] = fields.ForeignKeyField(
        "models.Referral", related_name="exchange_targets"
    )
    target_id: int
    group: fields.ForeignKeyRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="exchange_legs"
    )
    group_id: int
    kindergarten: fields.ForeignKeyRelation[Kindergarten] = fields.ForeignKeyField(
        "models.Kindergarten", related_name="exchange_legs"
    )
    kindergarten_id: int
    position = fields.IntField()  # order in the cycle
    answer = fields.CharEnumField(Answer, max_length=16, default=Answer.pending)
    answered_at = fields.DatetimeField(null=True)
    new_referral: fields.ForeignKeyNullableRelation[Referral] = fields.ForeignKeyField(
        "models.Referral", related_name="exchange_results", null=True
    )
    new_referral_id: int | None

    class Meta:
        table = "exchange_leg"
