"""The kindergarten card found in the directory, and the way back to the list."""

from __future__ import annotations

from typing import Any

from core.models import Kindergarten
from tests.fixtures.bot import Parent
from tests.fixtures.seats import make_city


async def test_the_kindergarten_card_has_a_back_button_to_the_list(bot_app: Any) -> None:
    city = await make_city()
    kindergarten = await Kindergarten.create(
        city=city,
        name_ru="Ясли-сад №7 «Балапан»",
        name_kk="№7 «Балапан» бөбекжай-бақшасы",
        ownership="state",
        address_ru="ул. Абая, 1",
        address_kk="Абай к-сі, 1",
        latitude=51.13,
        longitude=71.43,
        languages="kk,ru",
    )
    parent = Parent(bot_app, 313, "ru")
    await parent.send("Детские сады")
    await parent.send("балапан")
    card = await parent.press(kindergarten.name_ru)
    assert "Языки обучения: казахский, русский" in card
    back = await parent.press("Назад")
    assert "Найдено детских садов: 1" in back
