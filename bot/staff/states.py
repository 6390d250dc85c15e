"""The staff conversations, one StatesGroup each, windows in the order staff meet them."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class ReleaseSG(StatesGroup):
    kindergarten = State()
    group = State()
    count = State()
    window = State()  # the priority window of the first applications in the queue
    confirm = State()


class BroadcastSG(StatesGroup):
    text_kk = State()
    text_ru = State()
    audience = State()  # one button per filter, the live recipient count
    choice = State()  # one filter's values (the kindergarten list is searchable by text)
    confirm = State()


class BenefitRejectSG(StatesGroup):
    reason = State()  # the typed reason the parent is told
