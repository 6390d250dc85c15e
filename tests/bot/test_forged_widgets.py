"""Every window of every dialog, parents' and staff's, pressed with buttons it never showed.

Callback data is user input: a forged `benefit_pick:8` once chose a first-priority benefit the
registry had not found, `kg_pick:abc` crashed. Each window is opened for a real user with
realistic data (a family with an application and a referral, free seats, a staff member in
scope), then every widget it declares is pressed with ids it did not show: unlisted values,
another family's ids, `abc`, 10**30, an empty id, 70 characters, the ids of a sibling widget,
and the buttons its `when=` hid. Each press must leave the conversation exactly as it was and
be answered with the polite "this button is outdated", never "something went wrong".

The windows are opened through aiogram-dialog's foreground manager (start the state, put the
dialog data the earlier windows would have put, show it): every window of every registered
dialog is reached the same way, and a test fails when a new window is neither walked nor listed
in UNREACHED with the reason.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Router
from aiogram.fsm.state import State
from aiogram_dialog import Dialog, ShowMode, StartMode
from aiogram_dialog.utils import CB_SEP, join_reply_callback
from aiogram_dialog.widgets.kbd import Calendar, Keyboard, ScrollingGroup, Select

from bot.dialogs.common import SHOWN_KEY, outdated_button_text
from bot.dialogs.foresight import ForesightSG
from bot.dialogs.states import (
    BenefitChangeSG,
    CabinetSG,
    ComplaintSG,
    ExchangeSG,
    ExtensionSG,
    ReceiptsSG,
    RecoverySG,
    ReferralModeSG,
    ReferralSG,
    SettingsSG,
    SubmissionSG,
    VerifySG,
)
from bot.i18n import make_i18n
from bot.staff.states import (
    BenefitListSG,
    BenefitRejectSG,
    BroadcastSG,
    DismissalSG,
    ExchangeStaffSG,
    ReferralActionSG,
    ReleaseSG,
    ReportsSG,
    StaffComplaintSG,
    StaffRolesSG,
)
from core.complaints import filing
from core.ledger import receipts
from core.models import Phone, StaffMember, StaffRole
from core.people import staff as staff_service
from core.platform import clock
from core.platform.settings import Settings
from core.referrals import take
from core.seats import releases
from indigo.app import App
from tests.fixtures.bot import Chatter, RecordingSession, texts
from tests.fixtures.cabinet import Family, add_notifications, make_family
from tests.fixtures.seats import make_city, make_group, make_kindergarten
from tests.fixtures.worker import make_staff

PARENT, PARENT_KK, SEEKER, APPLYING, STAFF, STRANGER = 7101, 7102, 7103, 7104, 7105, 7199
SUPERADMIN = 7106
SOMETHING_WRONG = ("что-то пошло не так", "бірдеңе дұрыс болмады", "something went wrong")

# Windows the walk does not open, with the reason.
UNREACHED: dict[str, str] = {
    "AiogramDialogStates:ABOUT": "aiogram-dialog's own 'about' dialog: setup_dialogs registers "
    "it, the bot never starts it, so no user can have it open",
}


@dataclass
class Visit:
    """One window opened for one user: how the earlier windows would have left the dialog."""

    state: State
    user: int = PARENT
    start_data: dict[str, Any] | None = None
    dialog_data: dict[str, Any] = field(default_factory=dict)
    forged: dict[str, list[str]] = field(default_factory=dict)  # widget id -> extra ids


@dataclass
class World:
    family: Family
    seeker: Family
    stranger: Family
    staff: StaffMember
    ids: dict[str, int]

    def foreign(self) -> list[str]:
        """Ids that exist but belong to somebody else: another family's application (its id
        and number), a kindergarten of another city (out of the staff member's scope)."""
        s = self.stranger
        return [str(s.application.id), str(s.application.number), str(self.ids["elsewhere"])]


async def make_world(settings: Settings) -> World:
    family = await make_family(PARENT, "ru")
    await make_family(PARENT_KK, "kk", city=family.city)
    # The parent holds a referral (cabinet's referral windows) and a page of events.
    group = await make_group(family.kindergarten, birth_year=family.application.birth_year)
    await releases.release_seats(
        group.id, 1, actor="staff:test", settings=settings, window=timedelta(0)
    )
    referral = await take.take_seat(
        family.application.id, group.id, actor="test", settings=settings
    )
    await add_notifications(family.parent, 12)
    # Another parent with free seats in general access (the referral dialog).
    seeker_kg = await make_kindergarten(family.city, 2)
    seeker = await make_family(SEEKER, "ru", city=family.city, kindergarten=seeker_kg)
    seats = await make_group(seeker_kg, birth_year=seeker.application.birth_year)
    release = await releases.release_seats(
        seats.id, 2, actor="staff:test", settings=settings, window=timedelta(0)
    )
    applying = await make_family(APPLYING, "ru", city=family.city, verified_phones=2)
    stranger = await make_family(STRANGER, "ru", city=family.city)
    staff = await make_staff(STAFF, StaffRole.operator, city=family.city)
    await make_staff(SUPERADMIN, StaffRole.superadmin)
    elsewhere = await make_kindergarten(await make_city("almaty"), 9)
    phone = await Phone.filter(applicant_id=family.parent.id).first()
    assert phone is not None
    # The referral issued above is an entry of the application in the public log.
    entries = await receipts.receipts_for_applicant(family.parent.id, family.application.id)
    complaint = await filing.file_complaint(
        family.parent,
        "kindergarten",
        "Жалоба",
        settings,
        kindergarten_id=family.kindergarten.id,
    )
    ids = {
        "complaint": complaint.id,
        "application": family.application.id,
        "referral": referral.id,
        "group": group.id,
        "kindergarten": family.kindergarten.id,
        "city": family.city.id,
        "seeker_application": seeker.application.id,
        "seeker_kindergarten": seeker_kg.id,
        "seeker_group": seats.id,
        "release": release.id,
        "applying_child": await _child_id(applying),
        "phone": phone.id,
        "elsewhere": elsewhere.id,
        "receipt": entries[0].seq,
    }
    return World(family, seeker, stranger, staff, ids)


async def _child_id(family: Family) -> int:
    await family.application.fetch_related("child")
    return int(family.application.child.id)


def visits(w: World) -> list[Visit]:
    i = w.ids
    application = {"application_id": i["application"]}
    referral = {"referral_id": i["referral"]}
    seeker = {"application_id": i["seeker_application"]}
    complaint = {"category": "kindergarten", "kindergarten_id": i["kindergarten"]}
    child = {
        "index": 0,
        "child_id": i["applying_child"],
        "iin": "230301500017",
        "name": "Сейткали Алихан",
        "birth": "2023-03-01",
        "age": 3,
        "too_old": False,
        "legal": True,
    }
    too_old = {**child, "index": 1, "name": "Сейткали Аружан", "too_old": True, "age": 8}
    wizard = {
        "queue_type": "general",
        "parent_iin": "900412412345",
        "request_id": "req-1",
        "family_status": "ready",
        "children": [child, too_old],
        "child": 0,
        "choices": [{"id": i["kindergarten"], "language": "ru", "city_id": i["city"]}],
        "gov_benefits": [],
        "parent_name": "Сейткали Айгерим",
    }
    released = {"kindergarten_id": i["kindergarten"], "group_id": i["group"]}
    texts_typed = {"text_kk": "Ертең", "text_ru": "Завтра", "audience": {}, "count": 1}
    decided = {"application_id": i["application"], "number": 1}
    acted = {"referral_id": i["referral"], "number": "NP-1"}
    picked = {"reason": {"code": "documents_not_provided", "text": ""}}
    s = SubmissionSG
    return [
        # The personal cabinet.
        Visit(CabinetSG.main),
        Visit(CabinetSG.applications),
        Visit(CabinetSG.application, dialog_data=application),
        Visit(CabinetSG.withdraw_confirm, dialog_data=application),
        Visit(CabinetSG.referrals),
        Visit(CabinetSG.referral, dialog_data=referral),
        Visit(CabinetSG.decline_confirm, dialog_data=referral),
        Visit(CabinetSG.extend_confirm, dialog_data=referral),
        Visit(CabinetSG.feed, dialog_data={"page": 0}),
        # Proof in the public log, from the application card.
        Visit(ReceiptsSG.receipts, start_data=application),
        Visit(ReceiptsSG.receipt, start_data=application, dialog_data={"seq": i["receipt"]}),
        # Why the place moved, chances, chart (issue 17), from the application card.
        Visit(ForesightSG.moved, start_data=application),
        Visit(ForesightSG.chances, start_data=application),
        Visit(ForesightSG.method, start_data=application),
        # The extension questionnaire (outside the campaign: "Fill in" is hidden).
        Visit(ExtensionSG.intro),
        Visit(ExtensionSG.kindergartens),
        Visit(ExtensionSG.ownership),
        Visit(ExtensionSG.language, forged={"lang": ["en"]}),
        Visit(ExtensionSG.payment, forged={"pay": ["1"]}),
        Visit(ExtensionSG.activities),
        Visit(ExtensionSG.activities_other),
        Visit(ExtensionSG.digital),
        Visit(ExtensionSG.digital_other),
        Visit(ExtensionSG.extend),
        Visit(ExtensionSG.done),
        Visit(ExtensionSG.view),
        # Access recovery.
        Visit(RecoverySG.intro),
        Visit(RecoverySG.parent_iin),
        Visit(RecoverySG.child_iin, dialog_data={"parent_iin": "900412412345"}),
        Visit(RecoverySG.consent, dialog_data={"parent_iin": "900412412345", "request_id": "r"}),
        Visit(RecoverySG.code, dialog_data={"phone": "+77010000001"}),
        Visit(RecoverySG.done, dialog_data={"numbers": "№1"}),
        # Getting a referral: the seeker has free seats, one of them offered.
        Visit(ReferralSG.application, user=SEEKER),
        Visit(ReferralSG.search, user=SEEKER, dialog_data=seeker),
        Visit(ReferralSG.kindergartens, user=SEEKER, dialog_data=seeker),
        Visit(
            ReferralSG.groups,
            user=SEEKER,
            dialog_data={**seeker, "kindergarten_id": i["seeker_kindergarten"]},
        ),
        Visit(
            ReferralSG.confirm,
            user=SEEKER,
            dialog_data={**seeker, "group_id": i["seeker_group"]},
        ),
        Visit(ReferralSG.issued, dialog_data=referral),
        Visit(
            ReferralSG.decline_offer,
            user=SEEKER,
            dialog_data={**seeker, "release_id": i["release"]},
        ),
        # Settings and phone verification (in Kazakh: the refusal is in the reader's language).
        Visit(SettingsSG.main, user=PARENT_KK),
        Visit(SettingsSG.language, user=PARENT_KK, forged={"lang": ["en"]}),
        Visit(SettingsSG.channel, user=PARENT_KK),
        Visit(SettingsSG.phones, forged={"phone": [str(i["phone"] + 1000)]}),
        Visit(SettingsSG.new_phone, user=PARENT_KK),
        Visit(SettingsSG.code, user=PARENT_KK, dialog_data={"new_phone": "+77010000009"}),
        Visit(SettingsSG.sign_out, user=PARENT_KK),
        # Adding or changing a benefit later, from the application card.
        Visit(
            BenefitChangeSG.choose, start_data=application, forged={"benefit_change": ["8", "1"]}
        ),
        Visit(BenefitChangeSG.upload, start_data=application, dialog_data={"chosen": 1}),
        Visit(
            BenefitChangeSG.done,
            start_data=application,
            dialog_data={"outcome_category": None, "outcome": None},
        ),
        # Changing the referral date mode, from the application card.
        Visit(ReferralModeSG.choose, start_data=application),
        Visit(ReferralModeSG.date, start_data=application),
        Visit(ReferralModeSG.done, start_data=application),
        Visit(VerifySG.phone, start_data={"need": 2}),
        Visit(VerifySG.code, start_data={"need": 2}, dialog_data={"phone": "+77010000009"}),
        # The submission wizard, window by window.
        Visit(s.start, user=APPLYING),
        Visit(s.parent_iin, user=APPLYING, dialog_data=wizard),
        Visit(s.family_wait, user=APPLYING, dialog_data={**wizard, "family_status": "refused"}),
        Visit(s.child, user=APPLYING, dialog_data=wizard),
        Visit(s.nc_last_name, user=APPLYING, dialog_data=wizard),
        Visit(s.nc_first_name, user=APPLYING, dialog_data=wizard),
        Visit(s.nc_middle_name, user=APPLYING, dialog_data=wizard),
        Visit(s.nc_birth, user=APPLYING, dialog_data=wizard),
        Visit(s.nc_sex, user=APPLYING, dialog_data=wizard),
        Visit(s.nc_certificate, user=APPLYING, dialog_data=wizard),
        Visit(
            s.nc_confirm,
            user=APPLYING,
            dialog_data={
                **wizard,
                "no_iin": {"last_name": "Ли", "first_name": "Ан", "birth": "2023-01-05"},
            },
        ),
        Visit(s.kindergartens, user=APPLYING, dialog_data=wizard),
        Visit(s.kg_search, user=APPLYING, dialog_data=wizard),
        Visit(s.kg_location, user=APPLYING, dialog_data=wizard),
        Visit(s.kg_results, user=APPLYING, dialog_data={**wizard, "kg_mode": "list"}),
        Visit(
            s.kg_card,
            user=APPLYING,
            dialog_data={**wizard, "kg_current": i["seeker_kindergarten"]},
            forged={"kg_lang": ["en", "kk"]},
        ),
        Visit(s.referral_mode, user=APPLYING, dialog_data=wizard),
        Visit(s.referral_date, user=APPLYING, dialog_data=wizard, forged={"ref_calendar": ["0"]}),
        # Only the benefits the registry found are offered: 8 was not found.
        Visit(s.benefit, user=APPLYING, dialog_data=wizard, forged={"benefit_pick": ["8", "9"]}),
        Visit(s.benefit_upload, user=APPLYING, dialog_data={**wizard, "benefit": 1}),
        Visit(s.pmpk_upload, user=APPLYING, dialog_data={**wizard, "queue_type": "correctional"}),
        Visit(s.contacts, user=APPLYING, dialog_data=wizard, forged={"channel": ["email"]}),
        Visit(s.review, user=APPLYING, dialog_data=wizard),
        Visit(
            s.done,
            user=APPLYING,
            dialog_data={
                **wizard,
                "number": 1,
                "place": 1,
                "total": 1,
                "birth_year": 2023,
                "submitted_at": clock.now().isoformat(),
            },
        ),
        Visit(s.resume, user=APPLYING),
        Visit(s.cancel_confirm, user=APPLYING, dialog_data={**wizard, "return_to": s.child.state}),
        # Exchange of places: the parent's (SEEKER holds no place) and the department's.
        Visit(ExchangeSG.places, user=SEEKER),
        Visit(ExchangeSG.place, dialog_data=referral),
        Visit(ExchangeSG.kindergartens, dialog_data={**referral, "chosen": []}),
        Visit(ExchangeSG.confirm, dialog_data={**referral, "chosen": [i["kindergarten"]]}),
        Visit(ExchangeStaffSG.main, user=STAFF),
        Visit(ExchangeStaffSG.dates, user=STAFF),
        Visit(ExchangeStaffSG.confirm_offers, user=STAFF),
        # Staff: the seat release, the broadcast, the benefit refusal.
        Visit(ReleaseSG.kindergarten, user=STAFF, start_data={"search": ""}),
        Visit(ReleaseSG.group, user=STAFF, dialog_data=released),
        Visit(ReleaseSG.count, user=STAFF, dialog_data=released, forged={"cnt": ["1000000"]}),
        Visit(ReleaseSG.window, user=STAFF, dialog_data={**released, "count": 1}),
        Visit(ReleaseSG.confirm, user=STAFF, dialog_data={**released, "count": 1, "days": -1}),
        Visit(BroadcastSG.text_kk, user=STAFF),
        Visit(BroadcastSG.text_ru, user=STAFF, dialog_data={"text_kk": "Ертең"}),
        Visit(BroadcastSG.audience, user=STAFF, dialog_data=texts_typed),
        Visit(
            BroadcastSG.choice,
            user=STAFF,
            dialog_data={**texts_typed, "key": "kindergarten", "search": ""},
        ),
        Visit(BroadcastSG.confirm, user=STAFF, dialog_data=texts_typed),
        # Staff decisions: the benefit (confirm; reject with a reason), enrol and revoke.
        *(
            Visit(state, user=STAFF, start_data=decided, dialog_data=picked)
            for state in (
                BenefitRejectSG.confirm,
                BenefitRejectSG.reason,
                BenefitRejectSG.reason_text,
                BenefitRejectSG.reject_confirm,
            )
        ),
        # /benefits: the page of claims, its filters, one claim's card.
        Visit(BenefitListSG.claims, user=STAFF),
        Visit(BenefitListSG.kindergarten, user=STAFF),
        Visit(BenefitListSG.age, user=STAFF),
        Visit(BenefitListSG.status, user=STAFF, forged={"st": ["pending", "rejected"]}),
        Visit(BenefitListSG.claim, user=STAFF, dialog_data=application),
        *(
            Visit(state, user=STAFF, start_data=acted, dialog_data=picked)
            for state in (
                ReferralActionSG.enroll_confirm,
                ReferralActionSG.revoke_reason,
                ReferralActionSG.revoke_text,
                ReferralActionSG.revoke_confirm,
            )
        ),
        # /dismiss: why the child left, the typed reason, the preview, another date.
        *(
            Visit(state, user=STAFF, start_data=acted, dialog_data=picked)
            for state in (
                DismissalSG.reason,
                DismissalSG.reason_text,
                DismissalSG.confirm,
                DismissalSG.left_on,
            )
        ),
        # /protocol and /broadcasts pages; /staff (a superadmin grants and removes roles).
        Visit(
            ReportsSG.protocol,
            user=STAFF,
            start_data={"kind": "seats", "day": None, "city_id": i["city"]},
        ),
        Visit(ReportsSG.broadcasts, user=STAFF),
        Visit(StaffRolesSG.members, user=SUPERADMIN),
        *(
            Visit(state, user=SUPERADMIN, dialog_data={"person": STAFF, "role": "operator"})
            for state in (
                StaffRolesSG.member,
                StaffRolesSG.person,
                StaffRolesSG.role,
                StaffRolesSG.city,
                StaffRolesSG.kindergarten,
                StaffRolesSG.confirm,
                StaffRolesSG.remove_confirm,
            )
        ),
        # Complaints: the parent's list and filing; the operator's list, card and answer.
        Visit(ComplaintSG.mine),
        Visit(ComplaintSG.view, dialog_data={"view_id": i["complaint"]}),
        Visit(ComplaintSG.category),
        Visit(ComplaintSG.anonymous, dialog_data={"category": "corruption"}),
        Visit(ComplaintSG.kindergarten, dialog_data={"category": "kindergarten"}),
        Visit(ComplaintSG.subject, dialog_data={"category": "department"}),
        Visit(ComplaintSG.text, dialog_data=complaint),
        Visit(ComplaintSG.attachment, dialog_data=complaint),
        Visit(ComplaintSG.confirm, dialog_data={**complaint, "text": "Жалоба", "file": None}),
        Visit(ComplaintSG.done, dialog_data={"filed": {"number": 1}}),
        Visit(StaffComplaintSG.complaints, user=STAFF),
        *(
            Visit(state, user=STAFF, dialog_data={"complaint_id": i["complaint"], "answer": "Ок"})
            for state in (
                StaffComplaintSG.complaint,
                StaffComplaintSG.answer,
                StaffComplaintSG.answer_confirm,
            )
        ),
    ]


@pytest.fixture
async def world(bot_app: tuple[App, RecordingSession], settings: Settings) -> World:
    return await make_world(settings)


async def test_every_window_refuses_every_button_it_did_not_show(
    bot_app: tuple[App, RecordingSession], world: World
) -> None:
    app, session = bot_app
    walked: set[str] = set()
    for visit in visits(world):
        dialog = _dialog_of(app, visit.state)
        intent = await _open(app, visit)
        before = await _snapshot(app, visit.user)
        assert before is not None and before[0] == visit.state.state, visit.state
        chat = Chatter(app, session, visit.user, "ru")
        language = "kk" if visit.user == PARENT_KK else "ru"
        expected = _in(language, outdated_button_text)
        for data in _forged(dialog, visit, before[4], world):
            said = "\n".join(texts(await chat.press(f"{intent}{CB_SEP}{data}")))
            where = f"{visit.state.state} <- {data[:40]!r}"
            assert expected in said, f"{where}: {said!r}"
            assert not any(wrong in said for wrong in SOMETHING_WRONG), f"{where}: {said!r}"
            after = await _snapshot(app, visit.user)
            assert after is not None and after[:4] == before[:4], where
        walked.add(str(visit.state.state))
    every = {str(state.state) for d in _dialogs(app.dispatcher) for state in d.windows}
    assert every - walked - set(UNREACHED) == set(), "windows nobody walked"
    assert walked & set(UNREACHED) == set(), "walked windows still listed as unreached"


async def test_a_forged_first_priority_benefit_is_not_chosen(
    bot_app: tuple[App, RecordingSession], world: World
) -> None:
    """The review's attack: step 3 lists only the benefits the registry found (none here);
    `benefit_pick:8` is refused and the wizard still has no benefit."""
    app, session = bot_app
    (visit,) = [v for v in visits(world) if v.state == SubmissionSG.benefit]
    intent = await _open(app, visit)
    chat = Chatter(app, session, visit.user, "ru")
    for data in ("benefit_pick:8", "benefit_pick:abc", f"benefit_pick:{10**30}"):
        said = "\n".join(texts(await chat.press(f"{intent}{CB_SEP}{data}")))
        assert "Эта кнопка устарела" in said, said
        assert not any(wrong in said for wrong in SOMETHING_WRONG), said
    after = await _snapshot(app, visit.user)
    assert after is not None and after[0] == SubmissionSG.benefit.state
    assert "benefit" not in after[1]


async def test_a_forged_reply_keyboard_press_is_answered_in_the_chat(
    bot_app: tuple[App, RecordingSession], world: World
) -> None:
    """The location window has a reply keyboard: its "buttons" are texts carrying hidden
    callback data, so a forged one is answered with a message (a reply keyboard press has no
    query to answer), and the window's own Back still works."""
    app, session = bot_app
    (visit,) = [v for v in visits(world) if v.state == SubmissionSG.kg_location]
    intent = await _open(app, visit)
    before = await _snapshot(app, visit.user)
    chat = Chatter(app, session, visit.user, "ru")
    for data in ("kg_done", "no_such_widget", "kg_remove:abc"):
        said = texts(await chat.send(join_reply_callback("Далее", f"{intent}{CB_SEP}{data}")))
        assert any("Эта кнопка устарела" in text for text in said), said
        assert not any(wrong in t for t in said for wrong in SOMETHING_WRONG), said
        after = await _snapshot(app, visit.user)
        assert after is not None and before is not None and after[:4] == before[:4], data
    await chat.send(join_reply_callback("⬅️ Назад", f"{intent}{CB_SEP}back_kindergartens"))
    moved = await _snapshot(app, visit.user)
    assert moved is not None and moved[0] == SubmissionSG.kindergartens.state


# --- opening a window and reading the conversation -----------------------------------------------


async def _open(app: App, visit: Visit) -> str:
    """Start the window's dialog for the user with the data the earlier windows would have
    left, show it, and return the intent id its buttons carry."""
    bg = app.dispatcher.workflow_data["dialog_bg_factory"].bg(app.bot, visit.user, visit.user)
    async with bg.fg() as manager:
        # For updates the staff router's IsStaff filter puts the member there; do as it does.
        member = await staff_service.staff_for(visit.user)
        if member is not None:
            manager.middleware_data["staff"] = member
        # This task is not the dispatcher's: enter the reader's language for rendering.
        i18n = manager.middleware_data["i18n"]
        with i18n.context(), i18n.use_locale(manager.middleware_data.get("locale") or "ru"):
            await manager.start(
                visit.state,
                data=visit.start_data,
                mode=StartMode.RESET_STACK,
                show_mode=ShowMode.NO_UPDATE,
            )
            manager.dialog_data.update(copy.deepcopy(visit.dialog_data))
            if manager.current_context().state != visit.state:  # an on_start that moved on
                await manager.switch_to(visit.state)
            manager.show_mode = ShowMode.SEND
            await manager.show()
        return str(manager.current_context().id)


async def _snapshot(app: App, user: int) -> tuple[Any, ...] | None:
    """The conversation as the user left it (state, dialog data, widget data without the record
    of what was shown, the depth of the dialog stack), then that record, for the forged
    presses."""
    bg = app.dispatcher.workflow_data["dialog_bg_factory"].bg(app.bot, user, user)
    async with bg.fg() as manager:
        if not manager.has_context():
            return None
        context = manager.current_context()
        widgets = {k: v for k, v in context.widget_data.items() if k != SHOWN_KEY}
        shown = context.widget_data.get(SHOWN_KEY) or {}
        return (
            context.state.state,
            copy.deepcopy(context.dialog_data),
            copy.deepcopy(widgets),
            len(manager.current_stack().intents),
            list(shown.get("data", [])),
        )


def _forged(dialog: Dialog, visit: Visit, shown: list[str], world: World) -> Iterator[str]:
    """Callback data the window did not show: for every item widget (Select, Radio,
    Multiselect, ScrollingGroup pages, Calendar) malformed, oversized, empty, unlisted and
    other users' ids, and its sibling widgets' ids; every button `when=` hid; a widget the
    window does not have."""
    window = dialog.windows[visit.state]
    items, buttons = _declared(window.keyboard)
    shown_set = set(shown)
    suffixes = sorted({d.split(":", 1)[1] for d in shown if ":" in d})[:3]
    for widget_id in items:
        candidates = [
            "abc",
            str(10**30),
            "",
            "99999999",
            "9" * 70,
            *world.foreign(),
            *visit.forged.get(widget_id, []),
            *suffixes,  # what another widget of the window (or a hidden one) lists
        ]
        for item in dict.fromkeys(candidates):
            if f"{widget_id}:{item}" not in shown_set:
                yield f"{widget_id}:{item}"
    for widget_id in buttons:
        if widget_id not in shown_set:
            yield widget_id  # hidden by `when=` (or never shown in this state)
    yield "no_such_widget"
    if "" not in shown_set:  # a calendar's blank cells do show "" (pressing one does nothing)
        yield ""


def _declared(keyboard: Any) -> tuple[list[str], list[str]]:
    """The window's item widgets and single buttons, however nested."""
    items: list[str] = []
    buttons: list[str] = []

    def walk(widget: Any) -> None:
        if widget is None:
            return
        widget_id = getattr(widget, "widget_id", None)
        if isinstance(widget, Select | ScrollingGroup | Calendar) and widget_id:
            items.append(widget_id)
        elif isinstance(widget, Keyboard) and widget_id and not hasattr(widget, "buttons"):
            buttons.append(widget_id)
        for child in (*getattr(widget, "buttons", ()), *getattr(widget, "widgets", ())):
            walk(child)

    walk(keyboard)
    return items, buttons


def _in(language: str, text: Callable[[], str]) -> str:
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale(language):
        return text()


def _dialogs(router: Router) -> Iterator[Dialog]:
    if isinstance(router, Dialog):
        yield router
    for child in router.sub_routers:
        yield from _dialogs(child)


def _dialog_of(app: App, state: State) -> Dialog:
    for dialog in _dialogs(app.dispatcher):
        if state in dialog.windows:
            return dialog
    raise LookupError(f"no registered dialog has {state}")
