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
    """The decision on one extraordinary benefit (the name is kept: the staff router's gate
    lists this group). Confirm: one question; reject: reason from a list or typed, then the
    question."""

    reason = State()  # the common reasons as buttons, "other", Cancel
    reason_text = State()  # "other": the typed reason the parent is told
    confirm = State()  # "Confirm benefit 3 for application #N?"
    reject_confirm = State()  # the preview of the rejection with its reason


class ReferralActionSG(StatesGroup):
    """/enroll and /revoke: a preview of what happens and to whom, then Confirm."""

    enroll_confirm = State()
    revoke_reason = State()  # the common reasons as buttons, "other", Cancel
    revoke_text = State()  # "other": the typed reason
    revoke_confirm = State()


class DismissalSG(StatesGroup):
    """/dismiss: why the child left (buttons or typed), then the preview with Confirm."""

    reason = State()  # the common reasons as buttons, "other", Cancel
    reason_text = State()  # "other": the typed reason
    confirm = State()
    left_on = State()  # "Another date": the day the child left, typed (today by default)


class BenefitListSG(StatesGroup):
    """/benefits: one message, a page of pending claims at a time; filters; one claim's card,
    whose Confirm and Reject start BenefitRejectSG on top."""

    claims = State()  # the page: rows, ◀ 1/4 ▶, filters, typed search
    kindergarten = State()  # the kindergarten filter: only those with claims, natural order
    status = State()  # a referral waits / no referral yet / all
    age = State()  # the birth years (cohorts) of the pending claims, with how many
    claim = State()  # one claim: Confirm, Reject, Back to the list


class StaffComplaintSG(StatesGroup):
    """/complaints: one message, a page of complaints in scope; one complaint's card; the answer
    typed, previewed, then sent."""

    complaints = State()  # the page: rows, ◀ 1/3 ▶, open only / all
    complaint = State()  # one complaint: text, deadline, Take, Answer, Attachment, Back
    answer = State()  # the typed answer
    answer_confirm = State()  # the preview of the answer the parent will receive


class ReportsSG(StatesGroup):
    """/protocol and /broadcasts: one message edited in place, ◀ 1/4 ▶ pages."""

    protocol = State()  # a page of the seat release or the referral register
    broadcasts = State()  # a page of broadcasts: excerpt, audience, author, status, counts


class StaffRolesSG(StatesGroup):
    """/staff (superadmins): the staff members; grant a role (person, role, scope, preview) or
    remove one (with a confirmation)."""

    members = State()  # the active staff members, a page at a time; "Grant a role"
    member = State()  # one member: Change the role, Remove the role
    person = State()  # whom: a Telegram id typed, a shared contact or a forwarded message
    role = State()
    city = State()  # an operator's city
    kindergarten = State()  # a kindergarten administrator's kindergarten (typed text searches)
    confirm = State()  # the preview of the grant
    remove_confirm = State()


class ExchangeStaffSG(StatesGroup):
    """/exchanges: the campaign at a glance, its dates, the offers sent after a question."""

    main = State()
    dates = State()
    confirm_offers = State()
