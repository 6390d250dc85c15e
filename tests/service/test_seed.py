"""`indigo seed`: a realistic, deterministic city whose queue answers position queries."""

from __future__ import annotations

from dataclasses import replace

from core.applications.submission import FIRST_APPLICATION_NUMBER, SubmissionInput, submit
from core.models import (
    Applicant,
    Application,
    ApplicationChoice,
    ApplicationStatus,
    City,
    Group,
    Kindergarten,
    Language,
    Person,
    Phone,
    QueueType,
    Stream,
)
from core.people.iin import parse_iin
from core.queue.order import city_position, distribution_order, kindergarten_positions
from devtools.seed import SeedSize, seed
from tests.fixtures.database import truncate_all
from tests.fixtures.queue import T0, make_child

SMALL = SeedSize(kindergartens=12, applications=900, random_seed=7)


async def test_seed_builds_a_city_with_a_queue(db: None, settings) -> None:
    report = await seed(settings, SMALL)
    assert not report.skipped
    city = await City.get(code=settings.default_city)
    assert city.name_ru == "Астана"
    assert await Kindergarten.filter(city=city).count() == 12
    assert await Application.filter(city=city).count() == 900
    assert await Group.all().count() == report.groups > 12 * 6

    kg = await Kindergarten.filter(city=city).first()
    assert kg.name_kk and kg.name_ru and kg.address_kk.startswith("Астана қ.")
    assert 50.9 < kg.latitude < 51.3 and 71.2 < kg.longitude < 71.6
    assert all(lang in (Language.kk, Language.ru) for lang in kg.language_list)

    for person in await Person.all().limit(200):
        assert parse_iin(person.iin).birth_date == person.birth_date

    extraordinary = await Application.filter(stream=Stream.extraordinary).count()
    first_priority = await Application.filter(stream=Stream.first_priority).count()
    assert 0 < extraordinary < 30 and 30 < first_priority < 130

    # Every choice agrees with its application and names a language the kindergarten teaches.
    choices = await ApplicationChoice.all().prefetch_related("application", "kindergarten")
    assert 900 <= len(choices) <= 3600
    for choice in choices[:500]:
        assert choice.number == choice.application.number
        assert choice.stream == choice.application.stream
        assert choice.language in choice.kindergarten.language_list
        assert choice.active == (choice.application.status == ApplicationStatus.active)

    app = await Application.filter(status=ApplicationStatus.active).order_by("-number").first()
    position = await city_position(app, settings)
    assert 1 <= position.place <= position.total
    head = await distribution_order(
        city_id=city.id,
        queue_type=app.queue_type,
        birth_year=app.birth_year,
        limit=position.total,
        ratio=settings.first_priority_ratio,
    )
    assert head[position.place - 1].id == app.id
    for _choice, kg_position in await kindergarten_positions(app, settings):
        assert 1 <= kg_position.place <= kg_position.total

    # Seeded numbers sit below the live counter: the next submission continues after them.
    assert app.number < FIRST_APPLICATION_NUMBER
    applicant = await Applicant.filter(person_id__isnull=False).first()
    for n in range(2):
        await Phone.create(applicant=applicant, number=f"+7701000000{n}", verified_at=T0)
    child = await make_child(applicant)
    live = await submit(
        SubmissionInput(
            applicant_id=applicant.id,
            child_id=child.id,
            city_id=city.id,
            queue_type=QueueType.general,
            choices=[(kg.id, kg.language_list[0])],
            legal_representative=True,
        ),
        settings=settings,
        actor="t",
    )
    assert live.number == FIRST_APPLICATION_NUMBER


async def test_seed_is_deterministic_and_idempotent(db: None, settings) -> None:
    await seed(settings, SMALL)
    first = await Application.all().order_by("number").values_list("number", "stream", "birth_year")
    names = await Kindergarten.all().order_by("id").values_list("name_ru", flat=True)
    again = await seed(settings, SMALL)
    assert again.skipped
    assert await Application.all().count() == 900

    await truncate_all()
    await seed(settings, replace(SMALL))
    assert (
        await Application.all().order_by("number").values_list("number", "stream", "birth_year")
        == first
    )
    assert await Kindergarten.all().order_by("id").values_list("name_ru", flat=True) == names
