"""`indigo seed`: a deterministic, realistic demo city (kindergartens, groups, families, queue).

The same `random_seed` gives the same city. Rows are written with `bulk_create` in batches and
explicit ids (one transaction), so 100k applications take seconds on PostgreSQL. Seeded
applications take numbers below the live counter, which is then moved past them. Seeded IINs use
serials 0..499, which the sandbox gov registry (500 and up) never hands out, so a demo family is
never mistaken for a seeded one.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields import JSONField
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from core import audit
from core.applications.submission import APPLICATION_COUNTER, FIRST_APPLICATION_NUMBER
from core.ledger.imports import log_imported
from core.models import (
    Applicant,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    BenefitStatus,
    Channel,
    Child,
    City,
    ExchangeCampaign,
    ExchangeRequest,
    ExtensionAnswers,
    Group,
    GroupKind,
    Kindergarten,
    Language,
    Ownership,
    Person,
    QueueType,
    Referral,
    ReferralMode,
    ReferralStatus,
    Seat,
    SeatRelease,
    SeatStatus,
    Stream,
)
from core.people.iin import make_iin
from core.platform import clock
from core.platform.counters import ensure_counter_at_least, next_number, prepare_counter
from core.platform.dates import one_year_after
from core.platform.search import search_key
from core.referrals.records import snapshot
from devtools.past_season import PastSeason

if TYPE_CHECKING:
    from core.platform.settings import Settings

log = logging.getLogger(__name__)

BATCH = 5000
SEED_SERIALS = 500  # IIN serials 0..499 are the seed's (see the module docstring)


@dataclass
class SeedSize:
    kindergartens: int = 344
    applications: int = 108_000
    random_seed: int = 2026


@dataclass(frozen=True)
class SeedReport:
    city_id: int
    kindergartens: int
    groups: int
    applications: int
    seconds: float
    skipped: bool = False


CITIES = {
    "astana": ("Астана", "Астана", 51.13, 71.43),
    "almaty": ("Алматы", "Алматы", 43.24, 76.91),
    "shymkent": ("Шымкент", "Шымкент", 42.32, 69.59),
}

# (ru, kk) kindergarten names, street names.
KG_NAMES = [
    ("Балапан", "Балапан"),
    ("Айгөлек", "Айгөлек"),
    ("Құлыншақ", "Құлыншақ"),
    ("Ақбота", "Ақбота"),
    ("Балдырған", "Балдырған"),
    ("Күншуақ", "Күншуақ"),
    ("Болашақ", "Болашақ"),
    ("Шаттық", "Шаттық"),
    ("Жұлдыз", "Жұлдыз"),
    ("Ертегі", "Ертегі"),
    ("Солнышко", "Күнсәуле"),
    ("Радуга", "Кемпірқосақ"),
    ("Теремок", "Ертегі үй"),
    ("Аленушка", "Ақбөбек"),
    ("Золотой ключик", "Алтын кілт"),
    ("Карлыгаш", "Қарлығаш"),
    ("Акку", "Аққу"),
    ("Нур", "Нұр"),
    ("Береке", "Береке"),
    ("Бөбек", "Бөбек"),
    ("Таусылмас", "Таусылмас"),
    ("Самал", "Самал"),
    ("Мейірім", "Мейірім"),
    ("Достық", "Достық"),
]
STREETS = [
    ("ул. Кенесары", "Кенесары к-сі"),
    ("ул. Абая", "Абай к-сі"),
    ("пр. Республики", "Республика даңғылы"),
    ("пр. Тәуелсіздік", "Тәуелсіздік даңғылы"),
    ("пр. Мәңгілік Ел", "Мәңгілік Ел даңғылы"),
    ("пр. Туран", "Тұран даңғылы"),
    ("ул. Сыганак", "Сығанақ к-сі"),
    ("пр. Кабанбай батыра", "Қабанбай батыр даңғылы"),
    ("ул. Кунаева", "Қонаев к-сі"),
    ("ул. Достык", "Достық к-сі"),
    ("пр. Сарыарка", "Сарыарқа даңғылы"),
    ("пр. Богенбай батыра", "Бөгенбай батыр даңғылы"),
    ("ул. Жумабаева", "Жұмабаев к-сі"),
    ("ул. Иманова", "Иманов к-сі"),
    ("ул. Сейфуллина", "Сейфуллин к-сі"),
    ("ул. Бейбітшілік", "Бейбітшілік к-сі"),
    ("ул. Ауэзова", "Әуезов к-сі"),
    ("ул. Акмешит", "Ақмешіт к-сі"),
]
# Share of applications submitted before this season's extension deadline whose parents did
# not extend them: the annual cleaning stop-listed these (the rest were extended).
NOT_EXTENDED_SHARE = 0.03
# Extension questionnaire answers stored for seeded parents (core.extension.validate_answers).
SEED_ANSWERS: dict[str, Any] = {
    "ownership": "any",
    "ownership_why": [],
    "max_payment": 10000,
    "activities": [],
    "activities_other": "",
    "digital": [],
    "digital_other": "",
}

SURNAMES = [
    "Ахметов",
    "Сейткали",
    "Жаксылыков",
    "Нурланов",
    "Серикбаев",
    "Абдрахманов",
    "Касымов",
    "Омаров",
    "Мусин",
    "Искаков",
    "Тулегенов",
    "Байжанов",
    "Есенов",
    "Кенжебаев",
    "Смагулов",
    "Иванов",
    "Петров",
    "Ким",
    "Цой",
    "Шевченко",
    "Бекмуханов",
    "Жумабаев",
    "Сатпаев",
    "Мухамеджанов",
]
MALE_NAMES = [
    "Алихан",
    "Нурасыл",
    "Ерасыл",
    "Айсултан",
    "Арсен",
    "Даниял",
    "Алинур",
    "Мирас",
    "Тимур",
    "Ернар",
    "Асанали",
    "Матвей",
    "Артём",
    "Нуржан",
    "Ерлан",
    "Данияр",
    "Асхат",
    "Руслан",
    "Бауыржан",
    "Серик",
]
FEMALE_NAMES = [
    "Аружан",
    "Айлин",
    "Томирис",
    "Амина",
    "Медина",
    "Камила",
    "Жасмин",
    "Айша",
    "Раяна",
    "София",
    "Алия",
    "Аяла",
    "Инкар",
    "Дана",
    "Айгерим",
    "Елена",
    "Гульнара",
    "Жанар",
    "Асель",
    "Мадина",
]
# Fathers' names give the patronymic: Russian style or Kazakh -ұлы / -қызы.
FATHER_NAMES = ["Ерлан", "Данияр", "Асхат", "Руслан", "Серик", "Нуржан", "Тимур", "Бауыржан"]


async def seed(settings: Settings, size: SeedSize | None = None) -> SeedReport:
    """Build the demo city named by `settings.default_city`; a no-op if it already exists."""
    size = size or SeedSize()
    started = time.perf_counter()
    existing = await City.get_or_none(code=settings.default_city)
    if existing is not None:
        log.info("seed: city %s already exists, nothing to do", settings.default_city)
        return SeedReport(existing.id, 0, 0, 0, 0.0, skipped=True)
    builder = _Builder(settings, size)
    async with in_transaction() as conn:
        report = await builder.build(conn)
    # The city's queue is the public log's first chapter, so anyone can replay it from there.
    await log_imported("seed")
    seconds = time.perf_counter() - started
    log.info(
        "seed: %d kindergartens, %d groups, %d applications in %.1f s",
        report.kindergartens,
        report.groups,
        report.applications,
        seconds,
    )
    return SeedReport(
        report.city_id, report.kindergartens, report.groups, report.applications, seconds
    )


async def seed_exchange_cases(settings: Settings, city_id: int) -> list[ExchangeRequest]:
    """The exchange of places in the demo: an open campaign and three families holding a
    referral in three kindergartens (one cohort, one language), each asking for the next one's
    kindergarten, so `/exchanges` → "Find exchanges" shows a 3-way cycle."""
    today = clock.now().astimezone(settings.tz).date()
    campaign = await ExchangeCampaign.create(
        city_id=city_id, starts_on=today, ends_on=today + timedelta(days=14), created_by="seed"
    )
    groups = await Group.filter(
        kindergarten__city_id=city_id, kind=GroupKind.general, last_birth_year__isnull=True
    ).order_by("birth_year", "language", "kindergarten_id", "id")
    by_cohort: dict[tuple[int, str], dict[int, Group]] = {}
    for group in groups:
        by_cohort.setdefault((group.birth_year, str(group.language)), {}).setdefault(
            group.kindergarten_id, group
        )
    chosen: list[Group] = []
    for (year, _language), in_cohort in by_cohort.items():
        # A cohort with three kindergartens and three children still in the queue (the past
        # seasons leave the oldest cohorts enrolled or aged out).
        waiting = await Application.filter(
            city_id=city_id,
            birth_year=year,
            queue_type=QueueType.general,
            status=ApplicationStatus.active,
        ).count()
        if len(in_cohort) >= 3 and waiting >= 3:
            chosen = list(in_cohort.values())[:3]
            break
    await prepare_counter("referral", 1)
    requests: list[ExchangeRequest] = []
    now = clock.now()
    for n, group in enumerate(chosen):
        app = (
            await Application.filter(
                city_id=city_id,
                birth_year=group.birth_year,
                queue_type=QueueType.general,
                status=ApplicationStatus.active,
            )
            .order_by("number")
            .offset(n)
            .first()
        )
        if app is None:
            return requests
        async with in_transaction() as conn:
            release = await SeatRelease.create(
                group_id=group.id,
                kindergarten_id=group.kindergarten_id,
                seats=1,
                priority_end_at=now,
                released_by="seed",
                general_announced_at=now,
                using_db=conn,
            )
            seat = await Seat.create(
                release_id=release.id,
                group_id=group.id,
                status=SeatStatus.taken,
                priority_end_at=now,
                taken_at=now,
                using_db=conn,
            )
            serial = await next_number("referral", 1, conn=conn)
            referral = await Referral.create(
                number=f"NP-{today.year}-{serial:06d}",
                application_id=app.id,
                seat_id=seat.id,
                group_id=group.id,
                kindergarten_id=group.kindergarten_id,
                status=ReferralStatus.awaiting_enrollment,
                issued_at=now,
                expires_at=now + timedelta(days=30),
                using_db=conn,
            )
            # In the public log like any referral, so a replay knows the child holds a place.
            await audit.record(
                "referral.issued",
                "referral",
                referral.id,
                actor="seed",
                after=snapshot(referral)
                | {"application_number": app.number, "kindergarten_id": group.kindergarten_id},
                conn=conn,
            )
            requests.append(
                await ExchangeRequest.create(
                    campaign_id=campaign.id,
                    applicant_id=app.applicant_id,
                    application_id=app.id,
                    referral_id=referral.id,
                    language=group.language,
                    preferences=[chosen[(n + 1) % len(chosen)].kindergarten_id],
                    using_db=conn,
                )
            )
    return requests


class _Builder:
    def __init__(self, settings: Settings, size: SeedSize) -> None:
        self.settings = settings
        self.size = size
        self.rnd = random.Random(size.random_seed)
        # Special groups draw from their own stream, so the rest of the city stays as it was.
        self.special_rnd = random.Random(size.random_seed * 7919 + 1)
        self.special_kindergartens: set[int] = set()  # ids of those with correctional groups
        self.now = clock.now()
        self.today = self.now.astimezone(settings.tz).date()
        self.serials: dict[tuple[date, bool], int] = {}
        # The last extension campaign that has opened ("this season") and its window.
        opens = settings.month_day(settings.extension_opens, self.today.year)
        self.season = self.today.year if self.today >= opens else self.today.year - 1
        self.season_opens = settings.month_day(settings.extension_opens, self.season)
        self.season_deadline = settings.month_day(settings.extension_deadline, self.season)

    async def build(self, conn: BaseDBAsyncClient) -> SeedReport:
        code = self.settings.default_city
        name_ru, name_kk, lat, lon = CITIES.get(code, (code.title(), code.title(), 51.13, 71.43))
        city = await City.create(code=code, name_ru=name_ru, name_kk=name_kk, using_db=conn)
        if conn.capabilities.dialect == "postgres":
            # Seeded rows are consistent by construction: when allowed (a superuser, as in
            # development and tests), skip the per-row foreign-key triggers for this
            # transaction only. Indexes and constraints other than FKs still apply.
            rows = await conn.execute_query_dict(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            )
            if rows and rows[0]["rolsuper"]:
                await conn.execute_script("SET LOCAL session_replication_role = replica")

        kindergartens = self._kindergartens(city, lat, lon, await _next_id(Kindergarten, conn))
        await Kindergarten.bulk_create(kindergartens, batch_size=BATCH, using_db=conn)
        groups = self._groups(kindergartens)
        await Group.bulk_create(groups, batch_size=BATCH, using_db=conn)
        # bulk_create leaves the ids unset on SQLite: read the groups back
        self.groups = list(await Group.filter(kindergarten__city_id=city.id).using_db(conn))
        count = await self._applications(city, kindergartens, conn)
        if conn.capabilities.dialect == "postgres":
            for model in (
                Kindergarten,
                Group,
                Person,
                Applicant,
                Child,
                Application,
                ApplicationChoice,
                ExtensionAnswers,
                SeatRelease,
                Seat,
                Referral,
            ):
                await _reset_sequence(model, conn)
        return SeedReport(city.id, len(kindergartens), len(groups), count, 0.0)

    # --- places ---------------------------------------------------------------------------

    def _kindergartens(
        self, city: City, lat: float, lon: float, first_id: int
    ) -> list[Kindergarten]:
        rnd = self.rnd
        result = []
        for n in range(1, self.size.kindergartens + 1):
            name_ru, name_kk = KG_NAMES[(n * 7) % len(KG_NAMES)]
            street_ru, street_kk = rnd.choice(STREETS)
            house = rnd.randint(1, 120)
            private = rnd.random() < 0.3
            if private:
                # Numbered like the state ones: several private gardens share a name.
                title_ru = f"Детский сад №{n} «{name_ru}»"
                title_kk = f"№{n} «{name_kk}» балабақшасы"
                cost = rnd.randrange(35_000, 110_001, 5_000)
            else:
                title_ru = f"Ясли-сад №{n} «{name_ru}»"
                title_kk = f"№{n} «{name_kk}» бөбекжай-бақшасы"
                cost = 0
            roll = rnd.random()
            languages = "kk" if roll < 0.45 else "ru" if roll < 0.55 else "kk,ru"
            result.append(
                Kindergarten(
                    id=first_id + n - 1,
                    city_id=city.id,
                    name_ru=title_ru,
                    name_kk=title_kk,
                    search_key=search_key(title_ru, title_kk),  # bulk_create skips save()
                    ownership=Ownership.private if private else Ownership.state,
                    kind="mini_centre" if rnd.random() < 0.1 else "kindergarten",
                    languages=languages,
                    address_ru=f"г. {city.name_ru}, {street_ru}, {house}",
                    address_kk=f"{city.name_kk} қ., {street_kk}, {house}",
                    latitude=round(lat + rnd.uniform(-0.08, 0.08), 6),
                    longitude=round(lon + rnd.uniform(-0.12, 0.12), 6),
                    hours=rnd.choice(["08:00-18:00", "07:30-19:00", "08:00-19:00"]),
                    monthly_cost=cost,
                    phone=f"+7 7172 {rnd.randint(20, 79)} {rnd.randint(10, 99)} "
                    f"{rnd.randint(10, 99)}",
                    email=f"kg{n}@edu.example.kz",
                )
            )
        return result

    def _groups(self, kindergartens: list[Kindergarten]) -> list[Group]:
        """Each kindergarten's general groups, one per age and language; about 8% also have
        correctional groups (the correctional queue) and about 5% sanatorium ones (the general
        queue, benefit 9 first: `core.seats.eligibility.QUEUE_OF_KIND`), ages 3-6, as the
        portal's "Коррекционные" groups and the overview's "санаторные детские сады"; about 10%
        a mixed-age group "от 3 до 5 лет" (two birth years: `Group.last_birth_year`)."""
        rnd = self.rnd
        groups = []
        for n, kg in enumerate(kindergartens):
            # The first two always have them, so even a small demo city can show both kinds.
            correctional = rnd.random() < 0.08 or n == 0
            sanatorium = self.special_rnd.random() < 0.05 or n == 1
            if correctional:
                self.special_kindergartens.add(kg.id)
            # Short, language-neutral names ("№3"): the bot shows a group as its age group,
            # birth year and language in the reader's language (bot.texts.group_label).
            numbers = itertools.count(1)
            for age in range(1, 6 + 1):
                birth_year = self.today.year - age
                for language in kg.language_list:
                    groups.append(
                        Group(
                            kindergarten_id=kg.id,
                            name=f"№{next(numbers)}",
                            birth_year=birth_year,
                            age_from=age,
                            age_to=age + 1,
                            language=language,
                            kind=GroupKind.general,
                            capacity=rnd.randint(15, 25) if kg.kind == "kindergarten" else 10,
                        )
                    )
                for special, wanted in (
                    (GroupKind.correctional, correctional),
                    (GroupKind.sanatorium, sanatorium),
                ):
                    if not wanted or age < 3:
                        continue
                    capacity = (
                        rnd.randint(8, 12)
                        if special is GroupKind.correctional
                        else self.special_rnd.randint(10, 15)
                    )
                    groups.append(
                        Group(
                            kindergarten_id=kg.id,
                            name=f"№{next(numbers)}",
                            birth_year=birth_year,
                            age_from=age,
                            age_to=age + 1,
                            language=kg.language_list[0],
                            kind=special,
                            capacity=capacity,
                        )
                    )
            if self.special_rnd.random() < 0.1 or n == 2:
                # A mixed-age group "от 3 до 5 лет": children of 3 and 4 by calendar year.
                groups.append(
                    Group(
                        kindergarten_id=kg.id,
                        name=f"№{next(numbers)}",
                        birth_year=self.today.year - 4,
                        last_birth_year=self.today.year - 3,
                        age_from=3,
                        age_to=5,
                        language=kg.language_list[0],
                        kind=GroupKind.general,
                        capacity=self.special_rnd.randint(15, 25),
                    )
                )
        return groups

    # --- families and the queue -----------------------------------------------------------

    async def _applications(
        self, city: City, kindergartens: list[Kindergarten], conn: BaseDBAsyncClient
    ) -> int:
        rnd = self.rnd
        total = self.size.applications
        person_id = await _next_id(Person, conn)
        applicant_id = await _next_id(Applicant, conn)
        child_id = await _next_id(Child, conn)
        application_id = await _next_id(Application, conn)
        choice_id = await _next_id(ApplicationChoice, conn)
        # values_list(flat=True) yields the numbers themselves; the stubs only know tuples.
        taken = set(
            cast(
                "list[int]",
                await Application.filter(
                    number__gte=FIRST_APPLICATION_NUMBER - total,
                    number__lt=FIRST_APPLICATION_NUMBER,
                )
                .using_db(conn)
                .values_list("number", flat=True),
            )
        )

        # Popularity: a few kindergartens draw long queues (Zipf-like weights).
        by_language: dict[Language, tuple[list[Kindergarten], list[float]]] = {}
        for language in Language:
            teaching = [kg for kg in kindergartens if language in kg.language_list]
            weights = [1.0 / (1 + (kg.id * 31) % len(kindergartens)) ** 0.6 for kg in teaching]
            by_language[language] = (teaching, list(itertools.accumulate(weights)))
        # The correctional queue chooses among kindergartens with correctional groups (as submit).
        special_by_language: dict[Language, tuple[list[Kindergarten], list[float]]] = {}
        for language, (teaching, _cumulative) in by_language.items():
            special = [kg for kg in teaching if kg.id in self.special_kindergartens] or teaching
            weights = [1.0 / (1 + (kg.id * 31) % len(kindergartens)) ** 0.6 for kg in special]
            special_by_language[language] = (special, list(itertools.accumulate(weights)))

        persons: list[dict[str, Any]] = []
        applicants: list[dict[str, Any]] = []
        children: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        language_of: dict[int, Language] = {}
        youngest = self.today - timedelta(days=60)
        oldest = self.today.replace(year=self.today.year - 6) + timedelta(days=1)
        span = (youngest - oldest).days

        made = 0
        while made < total:
            # One family: a parent and one to three children, each with an application.
            family_language = Language.kk if rnd.random() < 0.62 else Language.ru
            surname = rnd.choice(SURNAMES)
            mother = rnd.random() < 0.8
            parent_born = date(rnd.randint(1978, 2002), rnd.randint(1, 12), rnd.randint(1, 28))
            persons.append(
                {
                    "id": person_id,
                    "iin": self._iin(parent_born, male=not mother),
                    "last_name": _surname(surname, female=mother),
                    "first_name": rnd.choice(FEMALE_NAMES if mother else MALE_NAMES),
                    "middle_name": _patronymic(rnd.choice(FATHER_NAMES), female=mother, rnd=rnd),
                    "birth_date": parent_born,
                }
            )
            language_of[applicant_id] = family_language
            applicants.append(
                {
                    "id": applicant_id,
                    "person_id": person_id,
                    "language": family_language,
                    "channel": Channel.telegram,
                }
            )
            person_id += 1
            kids = min(total - made, rnd.choices([1, 2, 3], weights=[80, 17, 3])[0])
            father = rnd.choice(FATHER_NAMES)
            for _ in range(kids):
                born = oldest + timedelta(days=rnd.randint(0, span))
                male = rnd.random() < 0.51
                persons.append(
                    {
                        "id": person_id,
                        "iin": self._iin(born, male=male),
                        "last_name": _surname(surname, female=not male),
                        "first_name": rnd.choice(MALE_NAMES if male else FEMALE_NAMES),
                        "middle_name": _patronymic(father, female=not male, rnd=rnd),
                        "birth_date": born,
                    }
                )
                children.append(
                    {"id": child_id, "person_id": person_id, "representative_id": applicant_id}
                )
                person_id += 1
                rows.append(self._application_row(child_id, applicant_id, born, family_language))
                child_id += 1
                made += 1
            applicant_id += 1

        # Numbers follow submission order, ending just below the live counter's start.
        rows.sort(key=lambda r: r["submitted_at"])
        number = FIRST_APPLICATION_NUMBER - total
        for row in rows:
            while number in taken:
                number += 1
            row["number"] = number
            number += 1
        last_number = number - 1

        choices: list[dict[str, Any]] = []
        # This season's extension questionnaires: applicant -> (first day, numbers, kindergartens).
        extensions: dict[int, tuple[date, list[int], list[int]]] = {}
        for row in rows:
            language = row.pop("language")
            extended_on = row.pop("extended_on")
            row["id"] = application_id
            row["city_id"] = city.id
            application_id += 1
            teaching, cumulative = (
                special_by_language if row["queue_type"] == QueueType.correctional else by_language
            )[language]
            wanted = min(len(teaching), rnd.choices([1, 2, 3, 4], weights=[25, 30, 25, 20])[0])
            picked: list[Kindergarten] = []
            while len(picked) < wanted:
                kg = rnd.choices(teaching, cum_weights=cumulative)[0]
                if kg not in picked:
                    picked.append(kg)
            for rank, kg in enumerate(picked, start=1):
                choices.append(
                    {
                        "id": choice_id,
                        "application_id": row["id"],
                        "kindergarten_id": kg.id,
                        "rank": rank,
                        "language": language,
                        "queue_type": row["queue_type"],
                        "birth_year": row["birth_year"],
                        "stream": row["stream"],
                        "submitted_at": row["submitted_at"],
                        "number": row["number"],
                        "active": row["status"] == ApplicationStatus.active,
                    }
                )
                choice_id += 1
            if extended_on is not None:
                first_day, numbers, wanted_ids = extensions.setdefault(
                    row["applicant_id"], (extended_on, [], [])
                )
                numbers.append(row["number"])
                wanted_ids.extend(kg.id for kg in picked if kg.id not in wanted_ids)
                if extended_on < first_day:
                    extensions[row["applicant_id"]] = (extended_on, numbers, wanted_ids)

        answers_id = await _next_id(ExtensionAnswers, conn)
        answer_rows = []
        for n, (applicant, (first_day, numbers, wanted_ids)) in enumerate(
            sorted(extensions.items())
        ):
            answer_rows.append(
                {
                    "id": answers_id + n,
                    "applicant_id": applicant,
                    "season": self.season,
                    "answers": {
                        **SEED_ANSWERS,
                        "kindergartens": wanted_ids[:3],
                        "language": str(language_of[applicant]),
                    },
                    "extended_numbers": sorted(numbers),
                    "created_at": datetime(
                        first_day.year, first_day.month, first_day.day, 6, 0, tzinfo=UTC
                    ),
                }
            )

        # The past seasons (issue 17): the heads of the queues took referrals and enrolled.
        past = PastSeason(self.settings, self.now, self.size.random_seed).simulate(
            self.groups, rows, choices, {kg.id: kg for kg in kindergartens}
        )
        await _insert(Person, persons, conn, self.now)
        await _insert(Applicant, applicants, conn, self.now)
        await _insert(Child, children, conn, self.now)
        await _insert(Application, rows, conn, self.now)
        await _insert(ApplicationChoice, choices, conn, self.now)
        await _insert(ExtensionAnswers, answer_rows, conn, self.now)
        await past.insert(conn, _insert, _next_id)
        if rows:
            # The next live application gets a number after every seeded one.
            await ensure_counter_at_least(
                APPLICATION_COUNTER,
                max(last_number, FIRST_APPLICATION_NUMBER - 1),
                conn=conn,
                first=FIRST_APPLICATION_NUMBER,
            )
        return len(rows)

    def _application_row(
        self, child_id: int, applicant_id: int, born: date, language: Language
    ) -> dict[str, Any]:
        rnd = self.rnd
        # Parents apply soon after birth, some later; never in the future.
        first_day = born + timedelta(days=14)
        days = max(0, (self.today - first_day).days)
        offset = int(days * rnd.random() ** 1.8)
        day = first_day + timedelta(days=min(offset, days))
        submitted_at = datetime(
            day.year, day.month, day.day, rnd.randint(3, 15), rnd.randint(0, 59), 0, tzinfo=UTC
        ) + timedelta(seconds=rnd.random() * 60)
        if submitted_at > self.now:
            submitted_at = self.now - timedelta(seconds=rnd.randint(60, 86_400))

        roll = rnd.random()
        category: int | None = None
        if roll < 0.01:
            stream, category, benefit = (
                Stream.extraordinary,
                rnd.randint(1, 4),
                BenefitStatus.pending,
            )
        elif roll < 0.09:
            stream, category = Stream.first_priority, rnd.randint(5, 11)
            benefit = BenefitStatus.confirmed
        else:
            stream, benefit = Stream.general, BenefitStatus.none
        valid_until, status, extended_on = self._validity(submitted_at.date())
        from_date = rnd.random() < 0.08
        return {
            "applicant_id": applicant_id,
            "child_id": child_id,
            "queue_type": QueueType.correctional if rnd.random() < 0.02 else QueueType.general,
            "birth_year": born.year,
            "stream": stream,
            "benefit_category": category,
            "benefit_status": benefit,
            "referral_mode": ReferralMode.from_date if from_date else ReferralMode.immediately,
            "referral_from": date(self.today.year + 1, 9, 1) if from_date else None,
            "submitted_at": submitted_at,
            "status": status,
            "valid_until": valid_until,
            "notification_language": language,
            "language": language,
            "extended_on": extended_on,
        }

    def _validity(self, submitted: date) -> tuple[date, ApplicationStatus, date | None]:
        """valid_until, status and the day of this season's extension (None: not extended),
        as the yearly campaigns (core.extension) would have left them by today.

        An application is valid a year and was extended in every earlier campaign. Those
        submitted before this season's deadline were extended in this season too, except a
        small share the annual cleaning stop-listed; while the campaign is still open, only
        part of them are extended so far."""
        rnd = self.rnd
        valid_until = one_year_after(submitted)
        if submitted > self.season_deadline:
            return valid_until, ApplicationStatus.active, None
        while valid_until <= self.season_opens:  # extended in the earlier campaigns
            valid_until = one_year_after(valid_until)
        campaign_over = self.today > self.season_deadline
        roll = rnd.random()
        if campaign_over and roll < NOT_EXTENDED_SHARE:
            return valid_until, ApplicationStatus.stop_listed, None
        if not campaign_over and roll < 0.4:
            return valid_until, ApplicationStatus.active, None  # not extended yet
        first = max(self.season_opens, submitted)
        last = min(self.season_deadline, self.today)
        extended_on = first + timedelta(days=rnd.randint(0, max(0, (last - first).days)))
        return one_year_after(max(valid_until, extended_on)), ApplicationStatus.active, extended_on

    def _iin(self, born: date, *, male: bool) -> str:
        key = (born, male)
        serial = self.serials.get(key, 0)
        while serial < SEED_SERIALS:
            value = make_iin(born, male, serial)
            serial += 1
            if value is not None:
                self.serials[key] = serial
                return value
        raise RuntimeError(f"seed: no IIN serials left for {born}")  # 500 per day and sex


def _surname(base: str, *, female: bool) -> str:
    if female and base.endswith(("ов", "ев", "ин")):
        return base + "а"
    return base


def _patronymic(father: str, *, female: bool, rnd: random.Random) -> str:
    if rnd.random() < 0.4:
        return father + ("қызы" if female else "ұлы")
    stem = father[:-1] + "е" if father.endswith("й") else father
    return stem + ("овна" if female else "ович")


async def _insert(
    model: Any, rows: list[dict[str, Any]], conn: BaseDBAsyncClient, now: datetime
) -> None:
    """Insert plain rows: PostgreSQL COPY (fast), elsewhere `bulk_create` in batches.

    Columns a row leaves out take the field's default (so fields added later need no change
    here), `auto_now` fields take `now`."""
    if not rows:
        return
    started = time.perf_counter()
    meta = model._meta
    if conn.capabilities.dialect != "postgres":
        for start in range(0, len(rows), BATCH):
            batch = [model(**row) for row in rows[start : start + BATCH]]
            await model.bulk_create(batch, using_db=conn)
        return
    columns = list(meta.fields_db_projection.items())
    defaults: dict[str, Any] = {}
    for name, _ in columns:
        field = meta.fields_map[name]
        if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            defaults[name] = now
        elif not callable(field.default):
            defaults[name] = field.default
    records = []
    for row in rows:
        record = []
        for name, _ in columns:
            if name in row:
                value = row[name]
            elif name in defaults:
                value = defaults[name]
            else:
                value = meta.fields_map[name].default()
            if isinstance(meta.fields_map[name], JSONField) and value is not None:
                value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            record.append(value.value if isinstance(value, Enum) else value)
        records.append(tuple(record))
    async with conn.acquire_connection() as raw:
        await raw.copy_records_to_table(
            meta.db_table, records=records, columns=[db for _, db in columns]
        )
    log.debug(
        "seed: %d rows into %s in %.1f s", len(rows), meta.db_table, time.perf_counter() - started
    )


async def _next_id(model: Any, conn: BaseDBAsyncClient) -> int:
    row = await model.all().using_db(conn).annotate(top=Max("id")).values("top")
    top = row[0]["top"] if row else None
    return int(top or 0) + 1


async def _reset_sequence(model: Any, conn: BaseDBAsyncClient) -> None:
    table = model._meta.db_table
    await conn.execute_script(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
        f'COALESCE((SELECT MAX(id) FROM "{table}"), 1))'
    )
