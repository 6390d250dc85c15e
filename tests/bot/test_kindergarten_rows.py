"""List rows a parent chooses from (kk and ru) show the teaching languages and the free seats
(in the wizard: of the child's birth year), and a name typed in Latin letters finds the same
kindergartens."""

from __future__ import annotations

from typing import Any

import pytest

from bot.dialogs.states import SubmissionSG
from core.models import Language
from core.platform import clock
from core.platform.settings import Settings
from core.seats.releases import release_seats
from tests.bot.test_kindergarten_search import CENTRE, _kindergarten, _wizard_at
from tests.fixtures.bot import Parent
from tests.fixtures.e2e_cabinet import t
from tests.fixtures.seats import make_city, make_group

LANGUAGES = {"ru": "каз, рус", "kk": "қаз, орыс"}
ONLY_KAZAKH = {"ru": "каз", "kk": "қаз"}
FREE = {"ru": "свободно: {count}", "kk": "бос орын: {count}"}


async def _two_kindergartens(settings: Settings) -> tuple[Any, Any]:
    """Самал teaches in both languages and has 2 free seats for 3-year-olds and 1 for
    4-year-olds; Балапан teaches in Kazakh only and has none."""
    city = await make_city()
    samal = await _kindergarten(city, "Ясли-сад №27 «Самал»", "№27 «Самал» бөбекжай-бақшасы", 500)
    balapan = await _kindergarten(city, "Ясли-сад №24 «Балапан»", "№24 «Балапан» бөбекжайы", 900)
    balapan.languages = "kk"
    await balapan.save()
    year = clock.now().year - 3
    for birth_year, seats in ((year, 2), (year - 1, 1)):
        group = await make_group(samal, birth_year=birth_year, language=Language.ru)
        await release_seats(group.id, seats, actor="staff:1", settings=settings)
    return samal, balapan


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_directory_rows_show_languages_and_free_seats(
    bot_app: Any, settings: Settings, language: str
) -> None:
    samal, balapan = await _two_kindergartens(settings)
    parent = Parent(bot_app, 3401 if language == "ru" else 3402, language)
    await parent.send(t("Kindergartens", language))
    await parent.send(t("Show all kindergartens", language))
    name = "name_kk" if language == "kk" else "name_ru"
    assert parent.buttons() == [
        f"{getattr(balapan, name)} · {ONLY_KAZAKH[language]}",
        f"{getattr(samal, name)} · {LANGUAGES[language]} · {FREE[language].format(count=3)}",
    ]


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_wizard_rows_show_the_free_seats_of_the_childs_birth_year(
    bot_app: Any, settings: Settings, language: str
) -> None:
    samal, _balapan = await _two_kindergartens(settings)
    name = samal.name_kk if language == "kk" else samal.name_ru
    row = f"{name} · {LANGUAGES[language]} · {FREE[language].format(count=2)}"
    user = 3403 if language == "ru" else 3404
    parent = await _wizard_at(bot_app, user, language, SubmissionSG.kg_search)
    await parent.send("Samal")  # Latin letters
    assert parent.buttons()[0] == row

    nearby = await _wizard_at(bot_app, user + 10, language, SubmissionSG.kg_location)
    nearby.seen = await nearby.chat.send_location(*CENTRE)
    first = nearby.buttons()[0]
    assert first.startswith(f"{name} · ") and first.endswith(
        f" · {LANGUAGES[language]} · {FREE[language].format(count=2)}"
    ), first
