"""Personal data (IIN, phone numbers) never reaches the logs in clear, even on failures."""

import logging
from typing import Any

import pytest

from core.platform.logs import install_pii_masking, mask_pii
from tests.fixtures.bot import Chatter
from tests.fixtures.queue import two_applications_in_one_cohort

PHONE = "+77015550123"


async def test_iins_and_phones_stay_out_of_the_logs(
    bot_app: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    iin, _ = await two_applications_in_one_cohort()
    app, session = bot_app
    parent = Chatter(app, session, 5501, "ru")
    install_pii_masking()  # what every entry point does (indigo.cli.main -> setup_logging)
    caplog.set_level(logging.DEBUG)

    await parent.send("/start")
    await parent.send("Проверить очередь")
    await parent.send(iin)  # a real look-up
    await parent.send("Проверить очередь")
    await parent.send(iin[:-1] + str((int(iin[-1]) + 1) % 10))  # a refused one
    await parent.send("Личный кабинет")
    # The gov gateway is not configured here: the phone check fails inside the service.
    await parent.send_contact(PHONE)
    await parent.send(PHONE)

    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    assert caplog.records, "the flow should have logged something"
    assert iin not in logged
    assert iin[:-1] not in logged
    assert PHONE.removeprefix("+") not in logged and "7015550123" not in logged


def test_masking_keeps_enough_to_debug_but_not_the_number() -> None:
    assert mask_pii("iin=061211600012 phone +7 701 555 01 23") == (
        "iin=06********12 phone +77*******23"
    )
    assert mask_pii("order 1292001 at 2026") == "order 1292001 at 2026"
