"""Releasing seats as staff through the sandbox: every step answers once, without an error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.models import StaffRole
from core.people.staff import add_staff
from core.platform.settings import Settings
from devtools.stack import Stack, run_stack
from tests.fixtures.e2e_cabinet import city_and_kindergarten
from tests.fixtures.seats import make_group

STAFF_ID = 900000001


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    async with run_stack(settings=settings, worker=False) as running:
        yield running


@pytest.mark.e2e
async def test_staff_release_buttons_do_not_end_in_something_went_wrong(stack: Stack) -> None:
    """Every staff button press answered itself and then got a second automatic answer, which
    Telegram refuses: the staff member saw "something went wrong" after each step."""
    _, kindergarten = await city_and_kindergarten()
    await make_group(kindergarten, name="Средняя группа")
    await add_staff(STAFF_ID, StaffRole.superadmin, by="test")
    staff = stack.client(STAFF_ID, language_code="ru")
    await staff.send("/release")
    await staff.expect("Выберите детский сад")
    await staff.press(kindergarten.name_ru)
    await staff.expect("Выберите группу")
    await staff.press(next(label for label in (await staff.messages())[-1].buttons))
    await staff.expect("Сколько мест")
    await staff.press("1")
    await staff.expect("Приоритетный срок")
    texts = [message.text for message in await staff.messages()]
    assert not any("что-то пошло не так" in text for text in texts), texts
