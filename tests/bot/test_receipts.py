"""Receipts in chat (issue 19): after submitting, a parent opens "Proof in the public log" from the
cabinet, the success message or the notification, sees the entry's index and the checkpoint, and
gets a receipt file that the independent verifier accepts. Nobody gets another family's receipts.
"""

from __future__ import annotations

import base64
import gettext as gettext_module
import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import SendDocument
from aiogram.types import BufferedInputFile
from aiogram_dialog import ShowMode, StartMode

from bot.dialogs.receipts import PAGE_SIZE
from bot.dialogs.states import SubmissionSG
from bot.notifications.render import render
from core.applications.submission import SubmissionInput, submit
from core.ledger import log, receipts
from core.models import Applicant, Application, Kindergarten, Language, QueueType
from core.notifications.kinds import ApplicationRegistered
from core.platform import clock
from core.platform.errors import DomainError
from core.platform.settings import Settings
from core.referrals.lifecycle import decline_referral
from core.referrals.take import take_seat
from core.seats.releases import release_seats
from tests.fixtures.bot import Chatter, Parent, inline_buttons, texts
from tests.fixtures.queue import make_child, make_city, make_kindergarten, make_parent
from tests.fixtures.seats import make_group
from verifier import merkle, note

LOCALES = Path(__file__).resolve().parents[2] / "locales"


@cache
def _catalog(language: str) -> gettext_module.NullTranslations:
    return gettext_module.translation("messages", LOCALES, languages=[language])


def t(msgid: str, language: str, **params: object) -> str:
    """What a parent reading `language` sees for `msgid` (the catalog's text)."""
    text = _catalog(language).gettext(msgid)
    return text.format(**params) if params else text


PROOF = "Proof in the public log"


@dataclass
class Submitted:
    parent: Applicant
    application: Application
    kindergarten: Kindergarten


async def submitted(user_id: int, language: str, settings: Settings, n: int = 1) -> Submitted:
    """A parent known to the bot whose application went through the real submission (so the
    public log holds its entry)."""
    city = await make_city() if n == 1 else await make_city(f"city{n}")
    kindergarten = await make_kindergarten(city, n)
    parent = await make_parent(telegram_user_id=user_id)
    parent.language = Language(language)
    parent.chat_id = user_id
    await parent.save()
    child = await make_child(parent, date(clock.now().year - 3, 3, 1))
    application = await submit(
        SubmissionInput(
            applicant_id=parent.id,
            child_id=child.id,
            city_id=city.id,
            queue_type=QueueType.general,
            choices=[(kindergarten.id, Language.ru)],
            legal_representative=True,
        ),
        settings=settings,
        actor=f"applicant:{parent.id}",
    )
    return Submitted(parent, application, kindergarten)


def sent_receipt(seen: list[Any]) -> tuple[str, dict[str, Any]]:
    """The receipt file the bot sent: its name and its JSON."""
    documents = [m for m in seen if isinstance(m, SendDocument)]
    assert len(documents) == 1, seen
    document = documents[0].document
    assert isinstance(document, BufferedInputFile)
    return str(document.filename), json.loads(document.data)


async def assert_verifies(receipt: dict[str, Any]) -> None:
    """What `indigo-verify receipt` checks: the signed checkpoint and the leaf's inclusion."""
    checkpoint = note.verify_checkpoint(receipt["checkpoint"], log.verifier_key())
    parsed = note.parse_note(receipt["checkpoint"])
    proof = [base64.b64decode(p) for p in receipt["proof"]]
    leaf = merkle.leaf_hash(receipt["leaf"].encode())
    merkle.verify_inclusion(leaf, receipt["seq"], parsed.size, proof, parsed.root)
    assert checkpoint is not None


async def open_from_cabinet(parent: Parent, language: str, number: int) -> str:
    await parent.send(t("Personal cabinet", language))
    await parent.press(t("My applications", language))
    await parent.press(f"№{number}")
    return await parent.press(t(PROOF, language))


@pytest.mark.parametrize(("user_id", "language"), [(8101, "ru"), (8102, "kk")])
async def test_after_submitting_a_parent_opens_the_proof_and_gets_a_receipt_that_verifies(
    bot_app: Any, settings: Settings, user_id: int, language: str
) -> None:
    await submitted(user_id + 50, "ru", settings, n=2)  # an earlier entry: a real proof path
    family = await submitted(user_id, language, settings)
    number = family.application.number
    parent = Parent(bot_app, user_id, language)

    listed = await open_from_cabinet(parent, language, number)
    assert t("The entries of this application in the public log, newest first.", language) in (
        listed
    )
    entries = [caption for caption in parent.buttons() if caption.startswith("#")]
    assert len(entries) == 1, parent.buttons()
    assert t("Application registered", language) in entries[0]

    shown = await parent.press(entries[0])
    filename, receipt = sent_receipt(parent.seen)
    seq = receipt["seq"]
    assert filename == f"receipt-{number}-{seq}.json"
    assert receipt["number"] == str(number) or receipt["number"] == number
    # The message: the entry in readable form, its index, the checkpoint, how to check it.
    assert t("Application №{number}", language, number=number) in shown
    assert t("Entry: {action}", language, action=t("Application registered", language)) in shown
    assert t("Index in the log: {seq}", language, seq=seq) in shown
    size = note.parse_note(receipt["checkpoint"]).size
    assert t("Checkpoint: tree size {size}, root {root}…", language, size=size, root="")[:-1] in (
        shown
    )
    assert seq >= 1 and seq < size and receipt["proof"]
    name = family.kindergarten.name_kk if language == "kk" else family.kindergarten.name_ru
    assert name in shown
    assert "/public" in shown and f"indigo-verify receipt {filename}" in shown
    await assert_verifies(receipt)
    # The leaf is the public entry: the application's tag, never its number nor the child's
    # IIN or name (only a salted tag of the child).
    leaf = json.loads(receipt["leaf"])
    assert leaf["seq"] == seq and leaf["app"] == receipt["app"]
    await family.application.fetch_related("child__person")
    iin = family.application.child.person.iin
    assert "number" not in leaf and iin and iin not in receipt["leaf"]
    assert family.application.child.person.first_name not in receipt["leaf"]

    # Back to the list, then out to the card the parent came from.
    await parent.press(t("All receipts", language))
    assert any(caption.startswith("#") for caption in parent.buttons())


async def test_the_button_under_the_registered_notification_opens_the_receipts(
    bot_app: Any, settings: Settings
) -> None:
    family = await submitted(8103, "kk", settings)
    message = render(ApplicationRegistered(number=family.application.number), "kk")
    assert message.button is not None and message.button.text == t(PROOF, "kk")

    app, session = bot_app
    chat = Chatter(app, session, 8103, "kk")
    seen = await chat.press(message.button.callback_data)
    said = "\n".join(texts(seen))
    assert t("The entries of this application in the public log, newest first.", "kk") in said
    entries = [caption for caption, _ in inline_buttons(seen) if caption.startswith("#")]
    assert entries and t("Application registered", "kk") in entries[0]


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_another_familys_application_is_refused_in_the_parents_language(
    bot_app: Any, settings: Settings, language: str
) -> None:
    owner = await submitted(8104 if language == "ru" else 8105, "ru", settings)
    stranger = await submitted(8106 if language == "ru" else 8107, language, settings, n=2)
    app, session = bot_app
    # The notification button carries a number anyone can type: the owner's is refused.
    forged = render(ApplicationRegistered(number=owner.application.number), language).button
    assert forged is not None
    chat = Chatter(app, session, stranger.parent.telegram_user_id or 0, language)
    said = "\n".join(texts(await chat.press(forged.callback_data)))
    assert t("No application with this number was found.", language) in said
    assert t("The entries of this application in the public log, newest first.", language) not in (
        said
    )
    # And the core gives nothing for a forged id either, whatever the bot asks.
    with pytest.raises(DomainError) as refused:
        await receipts.receipts_for_applicant(stranger.parent.id, owner.application.id)
    assert refused.value.reason == "application_not_found"
    seq = (await receipts.receipts_for_applicant(owner.parent.id, owner.application.id))[0].seq
    with pytest.raises(DomainError):
        await receipts.receipt_for_applicant(stranger.parent.id, owner.application.id, seq)
    # Nor another application's entry under one's own application.
    with pytest.raises(DomainError):
        await receipts.receipt_for_applicant(stranger.parent.id, stranger.application.id, seq)


async def test_the_referral_card_lists_the_referral_before_the_submission(
    bot_app: Any, settings: Settings
) -> None:
    """After a referral event the parent finds its receipt from the referral card, newest
    first: the issued referral above the registration."""
    family = await submitted(8108, "ru", settings)
    group = await make_group(family.kindergarten, birth_year=family.application.birth_year)
    await release_seats(group.id, 1, actor="staff:test", settings=settings, window=timedelta(0))
    referral = await take_seat(family.application.id, group.id, actor="test", settings=settings)
    parent = Parent(bot_app, 8108, "ru")
    await parent.send(t("Personal cabinet", "ru"))
    await parent.press(t("My referrals", "ru"))
    await parent.press(f"№{referral.number}")
    await parent.press(t(PROOF, "ru"))
    entries = [caption for caption in parent.buttons() if caption.startswith("#")]
    issued = [n for n, caption in enumerate(entries) if t("Referral issued", "ru") in caption]
    registered = [
        n for n, caption in enumerate(entries) if t("Application registered", "ru") in caption
    ]
    assert issued and registered and issued[0] < registered[0], entries

    shown = await parent.press(entries[issued[0]])
    _, receipt = sent_receipt(parent.seen)
    assert json.loads(receipt["leaf"])["action"] == "referral.issued"
    assert t("Entry: {action}", "ru", action=t("Referral issued", "ru")) in shown
    assert family.kindergarten.name_ru in shown
    await assert_verifies(receipt)


async def test_the_success_message_opens_the_new_applications_receipts(
    bot_app: Any, settings: Settings
) -> None:
    family = await submitted(8109, "kk", settings)
    app, session = bot_app
    # The wizard's last window as the submission leaves it.
    bg = app.dispatcher.workflow_data["dialog_bg_factory"].bg(app.bot, 8109, 8109)
    async with bg.fg() as manager:
        i18n = manager.middleware_data["i18n"]
        with i18n.context(), i18n.use_locale("kk"):
            await manager.start(
                SubmissionSG.done, mode=StartMode.RESET_STACK, show_mode=ShowMode.NO_UPDATE
            )
            manager.dialog_data.update(
                number=family.application.number,
                place=1,
                total=1,
                birth_year=family.application.birth_year,
                submitted_at=clock.now().isoformat(),
            )
            if manager.current_context().state != SubmissionSG.done:  # its on_start moved on
                await manager.switch_to(SubmissionSG.done)
            manager.show_mode = ShowMode.SEND
            await manager.show()
    parent = Parent(bot_app, 8109, "kk")
    parent.seen = session.take()
    said = await parent.press(t(PROOF, "kk"))
    assert t("The entries of this application in the public log, newest first.", "kk") in said
    entries = [caption for caption in parent.buttons() if caption.startswith("#")]
    assert len(entries) == 1 and t("Application registered", "kk") in entries[0]


async def test_many_receipts_are_paged_newest_first(bot_app: Any, settings: Settings) -> None:
    family = await submitted(8110, "ru", settings)
    group = await make_group(family.kindergarten, birth_year=family.application.birth_year)
    await release_seats(group.id, 1, actor="staff:test", settings=settings, window=timedelta(0))
    for _ in range(3):  # take the seat and decline it: a referral and its seat each time
        referral = await take_seat(family.application.id, group.id, actor="test", settings=settings)
        await decline_referral(referral.id, family.parent.id, actor="applicant", settings=settings)
    every = await receipts.receipts_for_applicant(family.parent.id, family.application.id)
    assert len(every) > PAGE_SIZE
    parent = Parent(bot_app, 8110, "ru")
    await open_from_cabinet(parent, "ru", family.application.number)
    first = [caption for caption in parent.buttons() if caption.startswith("#")]
    assert [caption.split(" ")[0] for caption in first] == [
        f"#{entry.seq}" for entry in every[:PAGE_SIZE]
    ]
    assert t("Referral declined", "ru") in first[0]
    # The last page ends with the registration.
    last_page = [caption for caption in parent.buttons() if caption.startswith(">>")]
    await parent.press(last_page[0] if last_page else ">")
    rest = [caption for caption in parent.buttons() if caption.startswith("#")]
    assert rest and rest != first
    assert t("Application registered", "ru") in rest[-1]
