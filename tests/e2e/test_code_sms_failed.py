"""A code SMS the operator could not deliver (sandbox numbers ending in 9999) is not left as
"sent": the delivery report reaches the parent's chat with what to do (security review #16)."""

from __future__ import annotations

import pytest

from devtools.stack import Stack
from tests.fixtures.e2e_cabinet import head, t


@pytest.mark.parametrize(("user_id", "lang"), [(730001, "kk"), (730002, "ru")], ids=["kk", "ru"])
async def test_an_undelivered_code_sms_is_reported_in_the_chat(
    stack: Stack, user_id: int, lang: str
) -> None:
    phone = f"+7707{user_id % 1000:03d}9999"
    parent = stack.client(user_id, language_code=lang, first_name="Әсел", phone=phone)
    await parent.send("/start")
    await parent.expect()
    await parent.send(t("Personal cabinet", lang))
    await parent.expect()
    await parent.press(t("Share my contact", lang))
    await parent.expect(head("We have sent an SMS with a 6-digit code to {phone}. ", lang))
    await parent.expect(
        t(
            "The SMS with your confirmation code was not delivered. Request a new code (Send "
            "the code again) or use another number.",
            lang,
        )
    )
    assert await stack.sms_inbox(phone) == []  # the operator could not deliver it
