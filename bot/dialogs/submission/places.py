"""Kindergartens for the wizard's step 2, from `core.views.directory`, and their cards as text."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.utils.i18n import gettext as _

from bot.texts.formats import esc, fmt_decimal, fmt_money
from bot.texts.labels import language_word, queue_label
from core.models.enums import GroupKind, QueueType
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.seats.eligibility import kinds_for
from core.views import directory
from core.views.directory import KindergartenBrief, KindergartenCard

RESULTS_LIMIT = 60  # name search
NEAREST_LIMIT = 12
LIST_LIMIT = 1000  # the whole city, paged on screen by ScrollingGroup


@dataclass(frozen=True)
class Card:
    """What the wizard shows of one kindergarten (a view over `core.views.directory`'s records)."""

    id: int
    names: tuple[str, str]  # kk, ru
    addresses: tuple[str, str]
    distance_m: float | None = None
    full: KindergartenCard | None = None  # loaded with `card()`; search results are brief
    brief: KindergartenBrief | None = None  # a list row: languages, free seats (bot.texts.rows)

    @property
    def city_id(self) -> int:
        return self._full().city_id

    @property
    def languages(self) -> list[str]:
        return list(self.full.languages) if self.full else []

    def name(self, locale: str) -> str:
        return _pick(self.names, locale)

    def address(self, locale: str) -> str:
        return _pick(self.addresses, locale)

    def render(self, locale: str, birth_year: int) -> str:
        """The card: ownership, languages, address, hours, cost, free seats, queue size."""
        full = self._full()
        ownership = (
            _("State organisation") if full.ownership == "state" else _("Private organisation")
        )
        cost = (
            _("free")
            if not full.monthly_cost
            else _("{amount} tenge a month").format(amount=fmt_money(full.monthly_cost, locale))
        )
        free = sum(seat.seats for seat in full.free_seats)
        free_year = sum(seat.seats for seat in full.free_seats if seat.birth_year == birth_year)
        queues = [q for q in full.queues if q.birth_year == birth_year]
        lines = [
            f"<b>{esc(self.name(locale))}</b>",
            f"<i>{esc(ownership)}</i>",
            esc(
                _("Languages: {languages}").format(
                    languages=", ".join(language_word(code) for code in full.languages)
                )
            ),
            esc(_("Address: {address}").format(address=self.address(locale))),
            esc(_("Hours: {hours}").format(hours=full.hours)),
            esc(_("Cost: {cost}").format(cost=cost)),
            esc(_("Free seats: {seats}").format(seats=free))
            + (
                esc(_(" (for {year} birth year: {seats})").format(year=birth_year, seats=free_year))
                if free
                else ""
            ),
            esc(_("Queue: {count} people").format(count=full.queue_size)),
        ]
        for queue in queues:
            lines.append(
                "  • "
                + esc(
                    _("{queue}: {count} in the queue").format(
                        queue=queue_label(queue.birth_year, queue.language),
                        count=queue.applications,
                    )
                )
            )
        if full.phone:
            lines.append(esc(_("Phone: {phones}").format(phones=full.phone)))
        if self.distance_m is not None:
            lines.append(
                esc(
                    _("Distance: {distance}").format(
                        distance=distance_text(self.distance_m, locale)
                    )
                )
            )
        return "\n".join(lines)

    def _full(self) -> KindergartenCard:
        if self.full is None:
            raise LookupError("a brief card has no details: load it with card()")
        return self.full


def distance_text(meters: float, locale: str) -> str:
    if meters < 1000:
        return _("{meters} m").format(meters=int(round(meters, -1)))
    km = fmt_decimal(round(meters / 1000, 1), locale)
    return _("{km} km").format(km=km)


def special_groups(queue_type: str | None) -> list[GroupKind] | None:
    """The correctional queue is offered only kindergartens with a group that takes it (a
    general application may choose any kindergarten of the city)."""
    return kinds_for(queue_type) if queue_type == QueueType.correctional else None


def nothing_found(query: str) -> str:
    """The answer to a name search that found nothing; the search step stays open."""
    return _(
        "Nothing found for «{query}». Send another part of the name or the number, or go back "
        "and view the whole list."
    ).format(query=esc(query))


async def search(
    query: str, settings: Settings, queue_type: str | None = None, cohort: int | None = None
) -> list[Card]:
    """Kindergartens whose name matches (`core.views.search`: case, ё, Kazakh letters, word
    order, a typo), best first."""
    city_id = await directory.default_city_id(settings)
    if city_id is None:
        return []
    page = await directory.search(
        city_id,
        query,
        page=0,
        page_size=RESULTS_LIMIT,
        group_kinds=special_groups(queue_type),
        cohort=cohort,
    )
    return [_brief(row) for row in page.items]


async def nearest(
    latitude: float,
    longitude: float,
    settings: Settings,
    queue_type: str | None = None,
    cohort: int | None = None,
) -> list[Card]:
    city_id = await directory.default_city_id(settings)
    if city_id is None:
        return []
    rows = await directory.nearest(
        city_id,
        latitude,
        longitude,
        limit=NEAREST_LIMIT,
        group_kinds=special_groups(queue_type),
        cohort=cohort,
    )
    return [_brief(row) for row in rows]


async def all_in_city(
    settings: Settings, queue_type: str | None = None, cohort: int | None = None
) -> list[Card]:
    city_id = await directory.default_city_id(settings)
    if city_id is None:
        return []
    page = await directory.search(
        city_id,
        "",
        page=0,
        page_size=LIST_LIMIT,
        group_kinds=special_groups(queue_type),
        cohort=cohort,
    )
    return [_brief(row) for row in page.items]


async def card(kindergarten_id: int, settings: Settings) -> Card | None:
    try:
        full = await directory.card(int(kindergarten_id))
    except DomainError:
        return None
    return Card(
        id=full.id,
        names=(full.name_kk, full.name_ru),
        addresses=(full.address_kk, full.address_ru),
        full=full,
    )


def _pick(pair: tuple[str, str], locale: str) -> str:
    kk, ru = pair
    return (kk or ru) if locale == "kk" else (ru or kk)


def _brief(row: KindergartenBrief) -> Card:
    return Card(
        id=row.id,
        names=(row.name_kk, row.name_ru),
        addresses=(row.address_kk, row.address_ru),
        distance_m=row.distance_m,
        brief=row,
    )
