"""Buttons answered outside a dialog (the kindergarten directory, the language picker, staff's
benefit list) are typed CallbackData with bounded fields: a forged, huge or malformed payload is
answered as an outdated button, never "something went wrong" (security review #6: `kgc:9…9:0`
overflowed a database integer)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.bot import Chatter

FORGED = [
    "kgc:99999999999999999999:0",
    "kgc:abc:0",
    "kgc:1:99999999999",
    "kgp:-5",
    "kgp:99999999999999999999",
    "kgm:0",
    "kgb:abc",
    "lang:en",
    "lang:",
    "sben:ok:99999999999999999999",
    "sben:drop:1",
    "proof:99999999999999999999",
    "proof:abc",
    "proof:-1",
]
# A parent pressing a staff button hears that it is for staff (the staff gate answers first).
EXPECTED = {"sben": "только для сотрудников"}


@pytest.mark.parametrize("data", FORGED)
async def test_a_forged_plain_button_is_answered_as_outdated(bot_app: Any, data: str) -> None:
    app, session = bot_app
    parent = Chatter(app, session, 4401, "ru")
    seen = await parent.press(data)
    answers = [str(getattr(method, "text", "") or "") for method in seen]
    said = " ".join(answers)
    assert "что-то пошло не так" not in said
    assert EXPECTED.get(data.split(":")[0], "устарела") in said
