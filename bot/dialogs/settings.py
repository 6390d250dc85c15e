"""Настройки: language, notification channel, and phone numbers (a new number needs a code);
and "Выйти" from the cabinet: after it every phone needs a new code."""

from __future__ import annotations

from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Cancel, Column, Row, SwitchTo

from bot.dialogs import common
from bot.dialogs.common import Tr, Window, pick_list
from bot.dialogs.states import SettingsSG
from bot.keyboards import main_menu
from bot.texts.formats import phone_text
from bot.texts.labels import language_word
from bot.texts.reasons import error_text
from bot.texts.sms import code_sms_text
from bot.texts.typed import clean_typed
from core.applications import drafts
from core.people import applicants
from core.people.otp import extract_code
from core.platform.errors import DomainError
from core.views import cabinet


def channel_name(code: str) -> str:
    return {"telegram": _("Telegram"), "sms": _("SMS")}.get(code, code)


async def main_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    applicant = dialog_manager.middleware_data["applicant"]
    await applicant.refresh_from_db(fields=["language", "channel"])
    phones = await cabinet.phones_of(applicant.id)
    return {
        "language": language_word(str(applicant.language)),
        "channel": channel_name(str(applicant.channel)),
        "phones": ", ".join(phone_text(p.number) for p in phones if p.verified) or "—",
    }


# --- language and channel -------------------------------------------------------------------


async def languages_getter(**kwargs: Any) -> dict[str, Any]:
    return {"items": [("kk", "Қазақ тілі"), ("ru", "Русский язык")]}


async def on_language(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    applicant = manager.middleware_data["applicant"]
    await applicants.set_language(applicant, item_id)
    applicant.language = item_id
    get_i18n().current_locale = item_id  # this answer already speaks the new language
    manager.middleware_data["locale"] = item_id
    await common.reply(callback, _("The language is changed."), reply_markup=main_menu())
    await manager.switch_to(SettingsSG.main, show_mode=ShowMode.SEND)


async def channels_getter(**kwargs: Any) -> dict[str, Any]:
    return {"items": [("telegram", channel_name("telegram")), ("sms", channel_name("sms"))]}


async def on_channel(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    await cabinet.set_channel(common.applicant_id(manager), item_id)
    await manager.switch_to(SettingsSG.main)


# --- phones: replace one with a new number proven by a code ---------------------------------


async def phones_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    phones = await cabinet.phones_of(common.applicant_id(dialog_manager))
    items = [
        (str(p.id), phone_text(p.number) + ("" if p.verified else " " + _("(not verified)")))
        for p in phones
    ]
    return {"items": items}


async def on_phone(
    callback: CallbackQuery, widget: Any, manager: DialogManager, item_id: str
) -> None:
    manager.dialog_data["old_phone_id"] = int(item_id)
    await manager.switch_to(SettingsSG.new_phone)


async def on_add_phone(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    manager.dialog_data.pop("old_phone_id", None)
    await manager.switch_to(SettingsSG.new_phone)


async def on_new_phone(message: Message, widget: Any, manager: DialogManager) -> None:
    typed = message.contact.phone_number if message.contact else clean_typed(message.text)
    applicant = common.applicant_id(manager)
    otp = manager.middleware_data["otp"]
    try:  # a landline or a number already confirmed is refused with its reason
        await applicants.refuse_confirmed_again(applicant, typed)
        sent = await otp.request(applicant, typed, code_sms_text())
    except DomainError as error:
        await message.answer(error_text(error))
        return
    manager.dialog_data["new_phone"] = sent.phone
    await manager.switch_to(SettingsSG.code)


async def code_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    return {"phone": phone_text(dialog_manager.dialog_data.get("new_phone", ""))}


async def on_code(message: Message, widget: Any, manager: DialogManager) -> None:
    applicant = common.applicant_id(manager)
    number = manager.dialog_data["new_phone"]
    code = extract_code(clean_typed(message.text), common.settings_of(manager).otp_length)
    if code is None:  # no code in it: nothing is tried, no attempt is used up
        await message.answer(_("Please type the code from the SMS: 6 digits."))
        return
    try:
        await manager.middleware_data["otp"].verify(applicant, number, code)
        old = manager.dialog_data.get("old_phone_id")
        if old is not None:
            await applicants.replace_phone(applicant, old, number)
    except DomainError as error:
        await message.answer(error_text(error))
        return
    await message.answer(_("The number {phone} is confirmed.").format(phone=phone_text(number)))
    await manager.switch_to(SettingsSG.main, show_mode=ShowMode.SEND)


# --- "Выйти": access ends until a new phone code ----------------------------------------------


async def on_sign_out(callback: CallbackQuery, widget: Any, manager: DialogManager) -> None:
    """Unconfirm the phones, void the codes already sent, close every conversation."""
    applicant = common.applicant_id(manager)
    await applicants.sign_out(applicant)
    await manager.middleware_data["otp"].forget(applicant)
    # An unfinished application holds the family's data: it goes with the access.
    await drafts.drop(manager.middleware_data["redis"], applicant)
    await manager.reset_stack(remove_keyboard=False)
    state = manager.middleware_data.get("state")
    if state is not None:
        await state.clear()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    await common.reply(
        callback,
        _(
            "You have logged out. Your applications stay in the queue; notifications about "
            "them will now come by SMS to the family's phone number, not to this chat. To open "
            "the cabinet again, you will confirm your phone with a new code."
        ),
        reply_markup=main_menu(),
    )


def make_dialog() -> Dialog:
    """The settings, fresh for each Dispatcher."""
    return Dialog(
        Window(
            Tr("Settings"),
            Tr("Language: {language}"),
            Tr("Notifications: {channel}"),
            Tr("Phone numbers: {phones}"),
            Column(
                SwitchTo(Tr("Language"), id="lang", state=SettingsSG.language),
                SwitchTo(Tr("Notification channel"), id="chan", state=SettingsSG.channel),
                SwitchTo(Tr("Phone numbers"), id="phones", state=SettingsSG.phones),
                Cancel(Tr("Back")),
            ),
            common.hint(),
            getter=main_getter,
            state=SettingsSG.main,
        ),
        Window(
            Tr("Choose the language."),
            Column(
                pick_list("lang_sel", "items", on_language),
            ),
            SwitchTo(Tr("Back"), id="back_l", state=SettingsSG.main),
            common.hint(),
            getter=languages_getter,
            state=SettingsSG.language,
        ),
        Window(
            Tr("How should we send you notifications?"),
            Column(
                pick_list("chan_sel", "items", on_channel),
            ),
            SwitchTo(Tr("Back"), id="back_c", state=SettingsSG.main),
            common.hint(),
            getter=channels_getter,
            state=SettingsSG.channel,
        ),
        Window(
            Tr("Your phone numbers. Choose one to replace it with a new number."),
            Column(
                pick_list("phone_sel", "items", on_phone),
            ),
            Button(Tr("Add a number"), id="add_phone", on_click=on_add_phone),
            SwitchTo(Tr("Back"), id="back_p", state=SettingsSG.main),
            common.hint(),
            getter=phones_getter,
            state=SettingsSG.phones,
        ),
        Window(
            Tr("Type the new phone number, e.g. +7 701 123 45 67. We will send a code to it."),
            MessageInput(on_new_phone, content_types=[ContentType.TEXT, ContentType.CONTACT]),
            *common.text_input(on_new_phone)[1:],
            SwitchTo(Tr("Back"), id="back_np", state=SettingsSG.phones),
            state=SettingsSG.new_phone,
        ),
        Window(
            Tr(
                "Log out? Your applications stay in the queue; notifications about them will "
                "come by SMS to the family's phone number. To open the cabinet again, you will "
                "confirm your phone with a new code."
            ),
            Row(
                Button(Tr("Yes, log out"), id="sign_out_yes", on_click=on_sign_out),
                Cancel(Tr("No")),
            ),
            common.hint(),
            state=SettingsSG.sign_out,
        ),
        Window(
            Tr("We sent a code to {phone}. Type it here."),
            *common.text_input(on_code),
            SwitchTo(Tr("Back"), id="back_code", state=SettingsSG.new_phone),
            getter=code_getter,
            state=SettingsSG.code,
        ),
    )
