from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from core.settings import Settings
from sandbox.stack import Stack, run_stack
from tests.fixtures_e2e_cabinet import sms_code, t

pytestmark = pytest.mark.e2e


@pytest.fixture
async def stack(settings: Settings, db: None, redis: object) -> AsyncIterator[Stack]:
    async with run_stack(settings=settings, worker=False) as running:
        yield running


@pytest.mark.parametrize("n", range(12))
async def test_probe(stack: Stack, n: int, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="aiogram_dialog")
    caplog.set_level(logging.DEBUG, logger="aiogram")
    lang, user_id = "ru", 720003
    parent = stack.client(user_id, language_code=lang, phone="+77071234501")
    await parent.send("/start")
    await parent.expect()
    await parent.send(t("Personal cabinet", lang))
    await parent.expect()
    await parent.press(t("Share my contact", lang))
    await parent.send(await sms_code(stack, "+77071234501"))
    try:
        await parent.expect(t("Choose a section.", lang), timeout=4)
    except AssertionError:
        for m in await parent.messages(include_deleted=True):
            print("MSG", m.seq, m.message_id, m.deleted, repr(m.text[:60]), m.buttons)
        raise
