"""The states of every conversation, one StatesGroup per dialog, in one place so a dialog can
start another (and the menu can start any) without importing its windows."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class SubmissionSG(StatesGroup):
    start = State()  # first state: what the main menu "Встать в очередь" starts
    parent_iin = State()
    family_wait = State()
    child = State()
    nc_last_name = State()  # a child without IIN (not in the registry): child_no_iin.py
    nc_first_name = State()
    nc_middle_name = State()
    nc_birth = State()
    nc_sex = State()
    nc_certificate = State()
    nc_confirm = State()
    kindergartens = State()
    kg_search = State()
    kg_location = State()
    kg_results = State()
    kg_card = State()
    referral_mode = State()
    referral_date = State()
    benefit = State()
    benefit_upload = State()
    pmpk_upload = State()
    contacts = State()
    review = State()
    done = State()
    resume = State()  # "continue where you stopped" / "start again" (a draft is kept)
    cancel_confirm = State()  # Cancel asks before the answers are thrown away


class CabinetSG(StatesGroup):
    main = State()
    applications = State()
    application = State()
    withdraw_confirm = State()
    referrals = State()
    referral = State()
    decline_confirm = State()
    feed = State()
    extend_confirm = State()


class ExtensionSG(StatesGroup):
    intro = State()
    kindergartens = State()
    ownership = State()
    language = State()
    payment = State()
    activities = State()
    activities_other = State()
    digital = State()
    digital_other = State()
    extend = State()
    done = State()
    view = State()


class RecoverySG(StatesGroup):
    intro = State()
    parent_iin = State()
    child_iin = State()
    consent = State()
    code = State()
    done = State()


class ReferralSG(StatesGroup):
    application = State()
    search = State()
    kindergartens = State()
    groups = State()
    confirm = State()
    issued = State()
    decline_offer = State()


class SettingsSG(StatesGroup):
    main = State()
    language = State()
    channel = State()
    phones = State()
    new_phone = State()
    code = State()
    sign_out = State()  # "Выйти" in the cabinet: confirm, then every phone needs a new code


class VerifySG(StatesGroup):
    phone = State()
    code = State()


class BenefitChangeSG(StatesGroup):
    """Add, change or remove the benefit of an application from the cabinet."""

    choose = State()
    upload = State()
    done = State()


class ReferralModeSG(StatesGroup):
    """Change the referral mode of an application from the cabinet (immediately / from a date)."""

    choose = State()
    date = State()
    done = State()


class ReceiptsSG(StatesGroup):
    """Proof in the public log: an application's receipts, then one of them."""

    receipts = State()
    receipt = State()


class ComplaintSG(StatesGroup):
    """A complaint or a report of corruption: the parent's list, then filing one step by step."""

    mine = State()  # the parent's complaints, "File a complaint"
    view = State()  # one of them: status, deadline, the answer
    category = State()
    anonymous = State()  # corruption only: anonymous or not
    kindergarten = State()  # a kindergarten complaint: which of the family's kindergartens
    subject = State()  # optional: which application or referral it is about
    text = State()
    attachment = State()  # optional photo or PDF
    confirm = State()
    done = State()


class ExchangeSG(StatesGroup):
    """Exchange of places: the child's place, the kindergartens wanted, the request, the offer."""

    places = State()  # the children's places (one: skipped)
    place = State()  # one place: its request and offer, the actions
    kindergartens = State()  # pick kindergartens in order of preference
    confirm = State()  # the request before it is sent
