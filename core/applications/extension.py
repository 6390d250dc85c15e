"""The yearly extension campaign and its annual cleaning.

Every application is valid one year. Between `extension_opens` and `extension_deadline` the
parent answers the questionnaire (the 6 questions of the INDIGO "Анкета", kept here as ids and
option codes; the bot translates labels) and extends chosen applications by a year. After the
deadline, applications that would lapse before the next campaign and were not extended go to
the stop-list indefinitely; the parent may restore one at its original time. An application in
its first year (submitted after the previous campaign's deadline) is never cleaned while that
year runs: submitting it confirmed the family's interest; it is cleaned only once its year is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core import audit
from core.applications.lifecycle import Event, transition
from core.models import (
    Applicant,
    Application,
    ApplicationStatus,
    ExtensionAnswers,
    Kindergarten,
)
from core.notifications import outbox
from core.notifications.kinds import ExtensionDue
from core.platform.dates import local_today, one_year_after
from core.platform.errors import DomainError
from core.platform.reasons import Reason
from core.platform.settings import Settings

PAYMENT_LIMITS = (
    10000,
    15000,
    20000,
    25000,
    30000,
    35000,
    40000,
    45000,
    50000,
    70000,
    90000,
    110000,
)


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # kindergartens | single | multi
    options: tuple[str, ...] = ()
    min_choices: int = 0
    max_choices: int = 0
    other: bool = False  # a free-text "Other" answer is allowed
    follow_up: str | None = None  # id of a question asked on the same screen
    label: str = ""  # English, for reference; the bot has the translated texts


QUESTIONS: tuple[Question, ...] = (
    Question(
        "kindergartens",
        "kindergartens",
        min_choices=1,
        max_choices=3,
        label="Expected kindergartens",
    ),
    Question(
        "ownership",
        "single",
        ("any", "state", "private"),
        follow_up="ownership_why",
        label="Preference for state or private kindergartens",
    ),
    Question("ownership_why", "multi", ("quality", "cost"), label="Why?"),
    Question("language", "single", ("kk", "ru"), label="Teaching language"),
    Question(
        "max_payment",
        "single",
        tuple(str(limit) for limit in PAYMENT_LIMITS),
        label="Maximum monthly parental payment",
    ),
    Question(
        "activities",
        "multi",
        (
            "football",
            "sport_dance",
            "ballroom_dance",
            "chess",
            "basketball",
            "drawing",
            "extended_day",
            "fun_chemistry",
            "karate",
            "computer_graphics",
            "young_ecologist",
            "astronomy",
        ),
        other=True,
        label="Extra classes and activities",
    ),
    Question(
        "digital",
        "multi",
        (
            "invoices",
            "cashless_payments",
            "absence_recalculation",
            "attendance",
            "health_passport",
            "portfolio",
            "teacher_profiles",
            "nutrition",
            "e_contracts",
            "android_app",
            "ios_app",
            "online_reception",
        ),
        other=True,
        label="Digital services",
    ),
)
# The six numbered steps the parent sees ("Вопрос N из 6"); ownership_why shares step 2.
STEPS: tuple[str, ...] = (
    "kindergartens",
    "ownership",
    "language",
    "max_payment",
    "activities",
    "digital",
)
_BY_ID = {q.id: q for q in QUESTIONS}
OTHER_MAX_LENGTH = 200


@dataclass(frozen=True)
class Extendable:
    application_id: int
    number: int
    birth_year: int
    valid_until: date
    extended: bool  # already extended in this season


async def save_answers(
    applicant_id: int, answers: dict[str, Any], *, season: int, settings: Settings
) -> ExtensionAnswers:
    """Validate and store the questionnaire (one per applicant and season; re-answering
    replaces the answers and keeps the list of applications already extended). Only while this
    season's campaign is open: outside it nothing is stored (`extension_closed`)."""
    today = local_today(settings)
    if not campaign_open(settings, today) or season != today.year:
        opens, deadline = campaign_window(settings, today.year)
        raise DomainError(
            Reason.extension_closed, opens=opens.isoformat(), deadline=deadline.isoformat()
        )
    clean = await validate_answers(answers)
    row = await ExtensionAnswers.filter(applicant_id=applicant_id, season=season).first()
    if row is None:
        return await ExtensionAnswers.create(
            applicant_id=applicant_id, season=season, answers=clean
        )
    row.answers = clean
    await row.save(update_fields=["answers"])
    return row


async def answers_of(applicant_id: int, season: int) -> ExtensionAnswers | None:
    return await ExtensionAnswers.filter(applicant_id=applicant_id, season=season).first()


async def validate_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers normalised to JSON primitives; `invalid_answer(question=...)` otherwise."""
    clean: dict[str, Any] = {}
    ids = answers.get("kindergartens") or []
    if not isinstance(ids, list) or not 1 <= len(ids) <= 3 or len(set(ids)) != len(ids):
        raise DomainError(Reason.invalid_answer, question="kindergartens")
    ids = [int(i) for i in ids]
    if await Kindergarten.filter(id__in=ids).count() != len(ids):
        raise DomainError(Reason.invalid_answer, question="kindergartens")
    clean["kindergartens"] = ids
    for qid in ("ownership", "language", "max_payment"):
        value = str(answers.get(qid, ""))
        if value not in _BY_ID[qid].options:
            raise DomainError(Reason.invalid_answer, question=qid)
        clean[qid] = int(value) if qid == "max_payment" else value
    for qid in ("ownership_why", "activities", "digital"):
        question = _BY_ID[qid]
        chosen = answers.get(qid) or []
        if not isinstance(chosen, list) or any(c not in question.options for c in chosen):
            raise DomainError(Reason.invalid_answer, question=qid)
        clean[qid] = [c for c in question.options if c in chosen]
        if question.other:
            other = str(answers.get(f"{qid}_other") or "").strip()
            if len(other) > OTHER_MAX_LENGTH:
                raise DomainError(Reason.invalid_answer, question=qid, max_length=OTHER_MAX_LENGTH)
            clean[f"{qid}_other"] = other
    # "Why?", the activities and the digital services may be left empty (as on the portal).
    return clean


def campaign_window(settings: Settings, year: int) -> tuple[date, date]:
    return (
        settings.month_day(settings.extension_opens, year),
        settings.month_day(settings.extension_deadline, year),
    )


def campaign_open(settings: Settings, today: date) -> bool:
    opens, deadline = campaign_window(settings, today.year)
    return opens <= today <= deadline


async def extendable(applicant_id: int, settings: Settings) -> list[Extendable]:
    """The parent's applications the campaign may extend (not archived), with a mark for those
    already extended this season: the "Продлить заявления (N шт.)" list."""
    season = local_today(settings).year
    answers = await answers_of(applicant_id, season)
    done = set(answers.extended_numbers) if answers else set()
    apps = (
        await Application.filter(applicant_id=applicant_id)
        .exclude(status=ApplicationStatus.archived)
        .order_by("submitted_at")
    )
    return [Extendable(a.id, a.number, a.birth_year, a.valid_until, a.number in done) for a in apps]


async def extend_applications(
    applicant_id: int, application_ids: list[int], *, actor: str, settings: Settings
) -> list[Application]:
    """Extend each chosen application by one year; only during the campaign and after the
    questionnaire of this season is answered. Already extended ones are left as they are."""
    today = local_today(settings)
    if not campaign_open(settings, today):
        opens, deadline = campaign_window(settings, today.year)
        raise DomainError(
            Reason.extension_closed, opens=opens.isoformat(), deadline=deadline.isoformat()
        )
    if not application_ids:
        raise DomainError(Reason.nothing_to_extend)
    async with in_transaction() as conn:
        answers = (
            await ExtensionAnswers.filter(applicant_id=applicant_id, season=today.year)
            .select_for_update()
            .using_db(conn)
            .first()
        )
        if answers is None:
            raise DomainError(Reason.questionnaire_required)
        done = list(answers.extended_numbers)
        extended: list[Application] = []
        for application_id in sorted(set(application_ids)):
            app = (
                await Application.filter(id=application_id)
                .select_for_update(no_key=True)
                .using_db(conn)
                .first()
            )
            if app is None or app.applicant_id != applicant_id:
                raise DomainError(Reason.application_not_found)
            if app.status == ApplicationStatus.archived:
                raise DomainError(Reason.application_archived, number=app.number)
            if app.number in done:
                continue
            before = {"valid_until": app.valid_until.isoformat()}
            app.valid_until = one_year_after(max(app.valid_until, today))
            await app.save(using_db=conn, update_fields=["valid_until"])
            await audit.record(
                "application.extended",
                "application",
                app.id,
                actor=actor,
                before=before,
                after={"valid_until": app.valid_until.isoformat(), "season": today.year},
                conn=conn,
            )
            done.append(app.number)
            extended.append(app)
        answers.extended_numbers = done
        await answers.save(using_db=conn, update_fields=["extended_numbers"])
        return extended


async def remind_extension(settings: Settings, today: date) -> int:
    """While the campaign is open, tell each parent with applications to extend (once a
    season). Returns the number of parents reminded."""
    if not campaign_open(settings, today):
        return 0
    _, deadline = campaign_window(settings, today.year)
    next_deadline = settings.month_day(settings.extension_deadline, today.year + 1)
    # First-year applications whose year outlasts this season's cleaning are not due yet.
    due = await Application.filter(
        Q(submitted_at__lt=first_year_starts(settings, today))
        | Q(valid_until__lte=date(today.year, 12, 31)),
        status__in=(ApplicationStatus.active, ApplicationStatus.stop_listed),
        valid_until__lt=next_deadline,
    ).values_list("applicant_id", "number")
    by_applicant: dict[int, list[int]] = {}
    for applicant_id, number in due:
        by_applicant.setdefault(applicant_id, []).append(number)
    reminded = 0
    for applicant_id, numbers in by_applicant.items():
        applicant = await Applicant.get(id=applicant_id)
        sent = await outbox.notify(
            applicant,
            ExtensionDue(numbers=tuple(sorted(numbers)), deadline=deadline),
            key=f"extension_due:{today.year}:{applicant_id}",
        )
        reminded += sent is not None
    return reminded


async def annual_cleaning(settings: Settings, today: date) -> int:
    """After the deadline: applications that lapse before the next campaign's deadline and were
    not extended go to the stop-list indefinitely; one in its first year (submitted after the
    previous campaign's deadline) only once that year is over. Returns how many. Safe to run
    again (daily until the year ends)."""
    _, deadline = campaign_window(settings, today.year)
    if today <= deadline:
        return 0
    next_deadline = settings.month_day(settings.extension_deadline, today.year + 1)
    # A first-year application is due only when its one-year validity has ended.
    due_now = Q(submitted_at__lt=first_year_starts(settings, today)) | Q(valid_until__lte=today)
    extended: set[int] = set()
    for numbers in await ExtensionAnswers.filter(season=today.year).values_list(
        "extended_numbers", flat=True
    ):
        extended.update(numbers or [])
    due = await Application.filter(
        due_now, status=ApplicationStatus.active, valid_until__lt=next_deadline
    ).values_list("id", "number")
    cleaned = 0
    for application_id, number in due:
        if number in extended:
            continue
        async with in_transaction() as conn:
            app = (
                await Application.filter(
                    due_now,
                    id=application_id,
                    status=ApplicationStatus.active,
                    valid_until__lt=next_deadline,
                )
                .select_for_update(no_key=True)
                .using_db(conn)
                .first()
            )
            if app is None:
                continue
            await transition(conn, app, Event.not_extended, actor="system")
            cleaned += 1
    return cleaned


def first_year_starts(settings: Settings, today: date) -> datetime:
    """The moment this season's first-year applications begin: the local midnight after the
    previous campaign's deadline. One submitted since then needs no extension this season."""
    previous_deadline = settings.month_day(settings.extension_deadline, today.year - 1)
    return datetime.combine(previous_deadline + timedelta(days=1), time(), tzinfo=settings.tz)
