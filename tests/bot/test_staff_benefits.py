"""Pending benefits as staff see them under /benefits."""

from __future__ import annotations

from typing import Any

import pytest

from core.models import BenefitStatus, Language, Stream
from core.platform.settings import Settings
from tests.fixtures.bot import Parent
from tests.fixtures.e2e_cabinet import t
from tests.fixtures.seats import make_application, make_city, make_kindergarten
from tests.fixtures.worker import make_staff


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_pending_benefits_name_the_category_not_its_number(
    bot_app: Any, settings: Settings, language: str
) -> None:
    """/benefits said "category 4": staff had to know the numbering to judge the document."""
    city = await make_city()
    kindergarten = await make_kindergarten(city)
    application = await make_application(
        city=city, choices=[(kindergarten, Language.ru)], stream=Stream.extraordinary
    )
    application.benefit_category = 4
    application.benefit_status = BenefitStatus.pending
    await application.save()
    await make_staff(906)

    shown = await Parent(bot_app, 906, language).send("/benefits")

    name = t("Children of employees of the state courier service", language)
    assert f"№{application.number}" in shown and name in shown
    assert "категория 4" not in shown and "санаты 4" not in shown
