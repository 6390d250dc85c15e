"""Names of things as the reader sees them: groups, teaching languages, benefits, queues,
statuses, documents. Lambdas and functions: gettext runs when the text is shown, in the
reader's language, never at import."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.texts.formats import fmt_date, full_months, months_text
from core.models.enums import BenefitCategory, Stream
from core.platform import clock
from core.referrals.documents import documents_for

# --- kindergarten groups and languages -------------------------------------------------------

# Age groups by the children's age this calendar year (as groups are formed for a school year).
_AGE_GROUPS: tuple[tuple[int, Callable[[], str]], ...] = (
    (1, lambda: _("Nursery group")),
    (2, lambda: _("Junior group")),
    (3, lambda: _("Middle group")),
    (4, lambda: _("Senior group")),
)
_KIND_GROUPS: dict[str, Callable[[], str]] = {
    "correctional": lambda: _("Correctional group"),
    "sanatorium": lambda: _("Sanatorium group"),
}


def age_group_name(birth_year: int, kind: str = "general", *, year: int | None = None) -> str:
    """ "Средняя группа" / "Ортаңғы топ" for children born in `birth_year`."""
    if kind in _KIND_GROUPS:
        return _KIND_GROUPS[kind]()
    age = (year or clock.now().year) - birth_year
    for up_to, name in _AGE_GROUPS:
        if age <= up_to:
            return name()
    return _("Pre-school group")


def language_name(code: str) -> str:
    """A teaching language in running text: "казахский язык" / "қазақ тілі"."""
    factory = {"kk": lambda: _("Kazakh language"), "ru": lambda: _("Russian language")}.get(
        str(code)
    )
    return factory() if factory else str(code)


def language_word(code: str) -> str:
    """A language inside a sentence, short and lower-case: "(русский)", "(қазақ тілі)"."""
    return {"kk": _("Kazakh"), "ru": _("Russian")}.get(str(code), str(code)).lower()


def group_label(name: str, birth_year: int | None, language: str, kind: str = "general") -> str:
    """The one way a group is shown: "Средняя группа №3, 2021 г.р., казахский язык" /
    "Ортаңғы топ №3, 2021 ж.т., қазақ тілі". The stored name is a short code ("№3") or a
    proper name ("Ботақан", quoted); a name repeating the age group is left out."""
    title = age_group_name(birth_year, kind) if birth_year else _("Group")
    name = (name or "").strip()
    if name and title.split()[0].lower() not in name.lower():
        title += f" {name}" if len(name) <= 4 or name.startswith("№") else f" «{name}»"
    if not birth_year:
        return _("{group}, {language}").format(group=title, language=language_name(language))
    return _("{group}, born in {year}, {language}").format(
        group=title, year=birth_year, language=language_name(language)
    )


def years_text(years: int) -> str:
    """An age with the right plural: "1 год", "3 года", "5 лет" / "1 жас"."""
    return ngettext("{n} year", "{n} years", years).format(n=years)


def age_text(born: date, today: date, language: str) -> str:
    """A child's age as a parent says it: months under one year ("8 месяцев", "8 ай"), never
    "0 лет"; whole years from one year on ("1 год", "3 года")."""
    months = full_months(born, today)
    return months_text(months, language) if months < 12 else years_text(months // 12)


# --- benefits ---------------------------------------------------------------------------------

EXTRAORDINARY = tuple(int(c) for c in BenefitCategory if c.stream is Stream.extraordinary)
FIRST_PRIORITY = tuple(int(c) for c in BenefitCategory if c.stream is Stream.first_priority)

# Lambdas: gettext runs when the text is shown, in the reader's language.
BENEFIT_NAMES: dict[int, Callable[[], str]] = {
    1: lambda: _("Children of military servicemen"),
    2: lambda: _("Children of employees of special state bodies"),
    3: lambda: _(
        "Children of law-enforcement employees (including those who died, perished or went "
        "missing in service)"
    ),
    4: lambda: _("Children of employees of the state courier service"),
    5: lambda: _("Children of parents with disabilities"),
    6: lambda: _("Children without parental care"),
    7: lambda: _("Orphans"),
    8: lambda: _("Children from large families"),
    9: lambda: _("Children with special educational needs (for inclusive and sanatorium groups)"),
    10: lambda: _("Children from families raising a child with a disability"),
    11: lambda: _("Children whose legal representatives are teachers"),
}


def benefit_name(category: int | None) -> str:
    if category is None:
        return _("None")
    return BENEFIT_NAMES[int(category)]()


# --- queues and applications ------------------------------------------------------------------


def queue_label(birth_year: int, language: str) -> str:
    """The specific queue of a kindergarten, e.g. "2022 г.р., русский" / "2022 ж.т., орыс"."""
    return _("{year} birth year, {language}").format(
        year=birth_year, language=language_word(language)
    )


def queue_type_name(queue_type: str) -> str:
    return _("correctional queue") if queue_type == "correctional" else _("general queue")


def referral_mode_text(mode: str, from_date: str | None, language: str) -> str:
    if mode == "from_date" and from_date:
        return _("From {date}").format(date=fmt_date(date.fromisoformat(from_date), language))
    return _("Immediately, when a seat appears")


def application_status(status: str, archive_reason: str | None = None) -> str:
    if status == "active":
        return _("In the queue")
    if status == "stop_listed":
        return _("In the stop-list")
    return {
        "enrolled": _("Archived: enrolled"),
        "withdrawn": _("Archived: withdrawn"),
        "aged_out": _("Archived: aged out"),
        "annulled": _("Archived: annulled"),
    }.get(archive_reason or "", _("Archived"))


def referral_status(status: str) -> str:
    return {
        "awaiting_benefit_confirmation": _("Awaiting benefit confirmation"),
        "awaiting_enrollment": _("Awaiting enrollment in the kindergarten"),
        "enrolled": _("Enrolled"),
        "expired": _("Expired"),
        "declined": _("Declined"),
        "revoked": _("Revoked"),
        "annulled": _("Annulled"),
        "departed": _("Left the kindergarten"),
    }.get(status, status)


# --- documents and people ---------------------------------------------------------------------


def documents_to_bring(queue_type: str = "general", benefit: int | None = None) -> list[str]:
    """DOMAIN.md: what the parent takes to the kindergarten with the referral."""
    labels = {
        "referral": _("the referral"),
        "parent_identity": _("an identity document of a parent"),
        "birth_certificate": _("the child's birth certificate"),
        "vaccination_card_065": _("vaccination card form 065/у"),
        "health_certificate_027": _("health certificate form 027/у"),
        "pmpk_conclusion": _("PMPK conclusion (for children with special educational needs)"),
        "photo_3x4": _("a 3×4 photo of the child"),
        "digital_signature": _("the parent's digital signature (ЭЦП)"),
        "bank_account": _("a bank account number"),
        "email": _("an e-mail address"),
    }
    return [labels.get(code, code) for code in documents_for(queue_type, benefit)]


def sex_name(sex: str) -> str:
    return _("Boy") if sex == "male" else _("Girl") if sex == "female" else "—"


def complaint_category(category: str) -> str:
    return {
        "corruption": _("Report of corruption"),
        "kindergarten": _("Complaint about a kindergarten"),
        "department": _("Complaint about the education department"),
    }.get(category, category)


def complaint_status(status: str) -> str:
    return {
        "registered": _("registered, waiting to be taken into work"),
        "in_work": _("in work"),
        "answered": _("answered"),
    }.get(status, status)
