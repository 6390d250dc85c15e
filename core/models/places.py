"""Cities, kindergartens and their groups."""

from collections.abc import Iterable

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from core.models.enums import GroupKind, Language, Ownership
from core.platform import search


class City(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name_ru = fields.CharField(max_length=128)
    name_kk = fields.CharField(max_length=128)

    class Meta:
        table = "city"


class Kindergarten(Model):
    id = fields.IntField(primary_key=True)
    city: fields.ForeignKeyRelation[City] = fields.ForeignKeyField(
        "models.City", related_name="kindergartens"
    )
    city_id: int
    name_ru = fields.CharField(max_length=255)
    name_kk = fields.CharField(max_length=255)
    ownership = fields.CharEnumField(Ownership, max_length=16)
    kind = fields.CharField(max_length=32, default="kindergarten")  # kindergarten, mini_centre
    languages = fields.CharField(max_length=16, default="kk,ru")  # comma-separated Language values
    address_ru = fields.CharField(max_length=255)
    address_kk = fields.CharField(max_length=255)
    latitude = fields.FloatField()
    longitude = fields.FloatField()
    hours = fields.CharField(max_length=64, default="08:00-18:00")
    monthly_cost = fields.IntField(default=0)  # tenge; 0 for state kindergartens
    phone = fields.CharField(max_length=32, default="")
    email = fields.CharField(max_length=128, default="")
    # Both names' words normalised (core.platform.search): the same search on SQLite and
    # PostgreSQL. Kept in step with the names by `save`; `bulk_create` callers fill it.
    search_key = fields.CharField(max_length=512, default="")

    class Meta:
        table = "kindergarten"
        indexes = (("city_id", "name_ru"),)

    async def save(
        self,
        using_db: BaseDBAsyncClient | None = None,
        update_fields: Iterable[str] | None = None,
        force_create: bool = False,
        force_update: bool = False,
    ) -> None:
        self.search_key = search.search_key(self.name_ru, self.name_kk)[:512]
        if update_fields is not None:
            update_fields = list(update_fields)
            if {"name_ru", "name_kk"} & set(update_fields):
                update_fields.append("search_key")
        await super().save(using_db, update_fields, force_create, force_update)

    @property
    def language_list(self) -> list[Language]:
        return [Language(code) for code in self.languages.split(",") if code]


class Group(Model):
    id = fields.IntField(primary_key=True)
    kindergarten: fields.ForeignKeyRelation[Kindergarten] = fields.ForeignKeyField(
        "models.Kindergarten", related_name="groups"
    )
    kindergarten_id: int
    name = fields.CharField(max_length=64)
    birth_year = fields.IntField()  # the (oldest) age cohort this group takes
    # A mixed-age group ("от 3 до 5 лет") also takes the cohorts up to this (younger) birth
    # year; None: only `birth_year` (core.seats.eligibility.birth_years).
    last_birth_year = fields.IntField(null=True)
    age_from = fields.IntField()
    age_to = fields.IntField()
    language = fields.CharEnumField(Language, max_length=2)
    kind = fields.CharEnumField(GroupKind, max_length=16, default=GroupKind.general)
    capacity = fields.IntField()

    class Meta:
        table = "kgroup"
        indexes = (("kindergarten_id", "birth_year", "language"),)
