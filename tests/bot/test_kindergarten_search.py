"""Parents and staff find kindergartens as they type them: lower case, ё, Kazakh letters typed
on a Russian keyboard, number and name in any order; a search that finds nothing lets them type
again; the nearest kindergartens always open on their first page."""

from __future__ import annotations

import copy
import gettext
from functools import cache
from typing import Any

from aiogram_dialog import ShowMode, StartMode

from bot.dialogs.states import SubmissionSG
from core.models import Applicant, City, Kindergarten, Ownership, Phone, StaffRole
from core.platform import clock
from core.platform.catalogs import LOCALES_DIR
from tests.fixtures.bot import Parent
from tests.fixtures.e2e_cabinet import t
from tests.fixtures.seats import make_city
from tests.fixtures.worker import make_staff

CENTRE = (51.128, 71.430)
NOT_FOUND = (
    "Nothing found for «{query}». Send another part of the name or the number, or go back "
    "and view the whole list."
)
NOTHING_MATCHES = "No kindergarten matches «{query}». Send a part of its name or its number."


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    return gettext.translation("messages", LOCALES_DIR, languages=[language], fallback=True)


def said(msgid: str, language: str, **params: object) -> str:
    """The text as the reader sees it (the English source until the catalogs have it)."""
    return _catalog(language).gettext(msgid).format(**params)


def names(parent: Parent) -> list[str]:
    """The kindergarten names of the list rows (a row goes on with languages, free seats)."""
    return [label.split(" · ")[0] for label in parent.buttons()]


async def _kindergarten(city: City, name_ru: str, name_kk: str, north_m: float = 0) -> Kindergarten:
    return await Kindergarten.create(
        city=city,
        name_ru=name_ru,
        name_kk=name_kk,
        ownership=Ownership.state,
        address_ru="ул. Абая, 1",
        address_kk="Абай к-сі, 1",
        latitude=CENTRE[0] + north_m / 111_000,
        longitude=CENTRE[1],
        languages="kk,ru",
    )


async def _demo_names(city: City) -> None:
    await _kindergarten(city, "Детский сад №16 «Акку»", "№16 «Аққу» балабақшасы", 5_000)
    await _kindergarten(city, "Ясли-сад №40 «Аққу»", "№40 «Аққу» бөбекжай-бақшасы", 6_000)
    await _kindergarten(city, "Ясли-сад №11 «Солнышко»", "№11 «Күнсәуле» бөбекжай-бақшасы", 7_000)
    await _kindergarten(city, "Ясли-сад №14 «Аленушка»", "№14 «Ақбөбек» бөбекжай-бақшасы", 8_000)
    await _kindergarten(city, "Ясли-сад №27 «Самал»", "№27 «Самал» бөбекжай-бақшасы", 9_000)


# --- "Kindergartens" in the main menu ---------------------------------------------------------


async def test_a_kazakh_parent_typing_akku_finds_both_akku_kindergartens(bot_app: Any) -> None:
    await _demo_names(await make_city())
    parent = Parent(bot_app, 3101, "kk")
    await parent.send(t("Kindergartens", "kk"))
    await parent.send("акку")
    assert names(parent) == ["№16 «Аққу» балабақшасы", "№40 «Аққу» бөбекжай-бақшасы"]


async def test_a_russian_parent_finds_solnyshko_in_lower_case_and_alyonushka_with_yo(
    bot_app: Any,
) -> None:
    await _demo_names(await make_city())
    parent = Parent(bot_app, 3102, "ru")
    await parent.send(t("Kindergartens", "ru"))
    await parent.send("солнышко")
    assert names(parent) == ["Ясли-сад №11 «Солнышко»"]
    await parent.send("Алёнушка")
    assert names(parent) == ["Ясли-сад №14 «Аленушка»"]
    await parent.send("27 самал")
    assert names(parent) == ["Ясли-сад №27 «Самал»"]


async def test_nothing_found_in_the_directory_lets_the_parent_type_again(bot_app: Any) -> None:
    await _demo_names(await make_city())
    parent = Parent(bot_app, 3103, "ru")
    await parent.send(t("Kindergartens", "ru"))
    answer = await parent.send("Салтанат")
    assert "«Салтанат»" in answer and names(parent) == []
    await parent.send("Салнышко")  # one typo
    assert names(parent) == ["Ясли-сад №11 «Солнышко»"]


# --- the submission wizard's step 2 -----------------------------------------------------------


async def _wizard_at(bot_app: Any, user: int, language: str, state: Any) -> Parent:
    """The wizard at `state` of step 2, with a chosen child, as step 1 leaves it."""
    applicant = await Applicant.create(telegram_user_id=user, chat_id=user, language=language)
    for n in (1, 2):
        await Phone.create(
            applicant=applicant, number=f"+7701{user:06d}{n}", verified_at=clock.now()
        )
    year = clock.now().year - 3
    child = {
        "index": 0,
        "child_id": None,
        "iin": "",
        "name": "Сейткали Алихан",
        "birth": f"{year}-03-01",
        "age": 3,
        "too_old": False,
        "legal": True,
    }
    data = {"queue_type": "general", "children": [child], "child": 0, "choices": []}
    app, session = bot_app
    bg = app.dispatcher.workflow_data["dialog_bg_factory"].bg(app.bot, user, user)
    async with bg.fg() as manager:
        i18n = manager.middleware_data["i18n"]
        with i18n.context(), i18n.use_locale(language):
            await manager.start(state, mode=StartMode.RESET_STACK, show_mode=ShowMode.NO_UPDATE)
            manager.dialog_data.update(copy.deepcopy(data))
            if manager.current_context().state != state:
                await manager.switch_to(state)
            manager.show_mode = ShowMode.SEND
            await manager.show()
    parent = Parent(bot_app, user, language)
    parent.seen = session.take()
    return parent


async def test_the_wizard_finds_akku_for_a_kazakh_parent_and_solnyshko_for_a_russian_one(
    bot_app: Any,
) -> None:
    await _demo_names(await make_city())
    kazakh = await _wizard_at(bot_app, 3201, "kk", SubmissionSG.kg_search)
    await kazakh.send("акку")
    assert names(kazakh)[:2] == ["№16 «Аққу» балабақшасы", "№40 «Аққу» бөбекжай-бақшасы"]
    russian = await _wizard_at(bot_app, 3202, "ru", SubmissionSG.kg_search)
    await russian.send("солнышко")
    assert names(russian)[0] == "Ясли-сад №11 «Солнышко»"
    russian = await _wizard_at(bot_app, 3203, "ru", SubmissionSG.kg_search)
    await russian.send("Алёнушка")
    assert names(russian)[0] == "Ясли-сад №14 «Аленушка»"


async def test_the_prompts_own_example_finds_a_kindergarten_of_the_demo_city(
    bot_app: Any,
) -> None:
    await _demo_names(await make_city())
    parent = await _wizard_at(bot_app, 3204, "ru", SubmissionSG.kg_search)
    prompt = "\n".join(str(getattr(m, "text", "")) for m in parent.seen)
    assert "«Самал»" in prompt  # the example, in either catalog state
    await parent.send("Самал")
    assert names(parent)[0] == "Ясли-сад №27 «Самал»"


async def test_nothing_found_in_the_wizard_keeps_the_search_step_for_another_name(
    bot_app: Any,
) -> None:
    await _demo_names(await make_city())
    parent = await _wizard_at(bot_app, 3205, "ru", SubmissionSG.kg_search)
    answer = await parent.send("Салтанат")
    assert said(NOT_FOUND, "ru", query="Салтанат") in answer
    await parent.send("акку")  # typed straight away, no button needed
    assert names(parent)[:2] == ["Детский сад №16 «Акку»", "Ясли-сад №40 «Аққу»"]


async def test_the_nearest_open_on_their_first_page_after_the_list_was_paged(
    bot_app: Any,
) -> None:
    city = await make_city()
    nearest = await _kindergarten(city, "Ясли-сад №99 «Ближний»", "№99 «Ближний»", 50)
    for n in range(1, 14):
        await _kindergarten(city, f"Ясли-сад №{n}", f"№{n} бөбекжай", 1_000 + 100 * n)
    parent = await _wizard_at(bot_app, 3206, "ru", SubmissionSG.kg_results)
    await parent.press(">")  # page 2 of the whole list
    assert nearest.name_ru not in parent.buttons()
    await parent.press("Назад")
    await parent.press("Ближайшие")
    parent.seen = await parent.chat.send_location(*CENTRE)
    assert parent.buttons()[0].startswith(nearest.name_ru), parent.buttons()


# --- staff ------------------------------------------------------------------------------------


async def test_staff_find_a_kindergarten_in_lower_case_and_are_told_nothing_matches(
    bot_app: Any,
) -> None:
    city = await make_city()
    await _demo_names(city)
    elsewhere = await make_city("almaty")
    await _kindergarten(elsewhere, "Ясли-сад №1 «Береке»", "№1 «Береке» бөбекжай-бақшасы")
    await make_staff(3301, StaffRole.operator, city=city)
    staff = Parent(bot_app, 3301, "ru")
    await staff.send("/release самал 27")
    assert staff.buttons()[0] == "Ясли-сад №27 «Самал»"
    await staff.send("/release құлыншақ")  # nothing of that name anywhere
    answer = "\n".join(str(getattr(m, "text", "")) for m in staff.seen)
    assert said(NOTHING_MATCHES, "ru", query="құлыншақ") in answer
    assert t("No kindergarten in your scope matches this.", "ru") not in answer
    await staff.send("/release береке")  # another city's kindergarten: truly out of scope
    answer = "\n".join(str(getattr(m, "text", "")) for m in staff.seen)
    assert t("No kindergarten in your scope matches this.", "ru") in answer
