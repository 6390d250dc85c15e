"""Every conversation open in a chat gets its own intent id.

aiogram-dialog (2.6) makes an intent id from the current second plus one of 100 random numbers
(`aiogram_dialog.api.entities.stack.new_int_id`), and keeps each conversation's data under
`aiogd:context:<intent id>` per chat. A conversation started from another one within the same
second (the cabinet opening the referral-date dialog, a dialog starting another in `on_start`)
draws the parent's id once in 100: the new data overwrites the parent's, and "Back"/"Done" finds
no conversation to return to, so the parent gets "This button is outdated" and the main menu.
`unique_intent_ids()` makes `Stack.push` draw again until the id is not already on the stack.
"""

from __future__ import annotations

from aiogram.fsm.state import State
from aiogram_dialog.api.entities import Context, Data, Stack

_library_push = Stack.push


def unique_intent_ids() -> None:
    """Install the unique push (idempotent: every Dispatcher built in a process calls it)."""
    Stack.push = _push_unique  # type: ignore[method-assign]


def _push_unique(self: Stack, state: State, data: Data) -> Context:
    # The library's push with its checks (the stack limit); a repeated id is taken back and
    # drawn again. Ends: the stack holds at most 100 intents, and the second moves on.
    while True:
        context = _library_push(self, state, data)
        if self.intents.count(context.id) == 1:
            return context
        self.intents.pop()
