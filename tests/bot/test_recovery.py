"""Restoring access to an application from the personal cabinet, through the bot."""

from __future__ import annotations

from typing import Any

import pytest

from core.people import applicants
from core.platform.settings import Settings
from tests.fixtures.bot import Parent
from tests.fixtures.e2e_cabinet import applicant_of, t


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_recovery_with_a_child_iin_without_application_says_so(
    bot_app: Any, settings: Settings, language: str
) -> None:
    """The recovery asks for the child's IIN; when nothing was filed for it the parent read
    "No application with this number was found", about a number they never typed."""
    user_id = 741001 if language == "ru" else 741002
    parent = Parent(bot_app, user_id, language)
    await parent.send("/start")
    await applicants.verify_phone(await applicant_of(user_id), "+77033330001")
    await parent.send(t("Personal cabinet", language))
    await parent.press(t("Restore access to an application", language))
    await parent.press(t("Continue", language))
    await parent.send("920127433104")
    said = await parent.send("221006506598")
    assert {"ru": "ребенка с таким ИИН", "kk": "ЖСН-і бар балаға"}[language] in said
    assert t("No application with this number was found.", language) not in said
