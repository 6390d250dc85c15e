"""The queue submission wizard ("Встать в очередь"), window after window as the parent meets it.

Start (queue type + two consents) → [phone verification subdialog if fewer than
`min_verified_phones`] → Step 1: parent IIN → waiting for consent by SMS from 1414 (the gov
callback moves the wizard on by itself, see `family.subscribe`) → children found (or a child
without IIN typed in) → Step 2: kindergartens (name search / nearest / list → card → queue
language), referral mode → Step 3: benefit (+ document), PMPK conclusion for the correctional
queue → Step 4: notifications → the statement for review → Submit → number and position.

Each window's getter and handlers are in the module of its step, named below.
"""

from __future__ import annotations

from aiogram.enums import ContentType
from aiogram.fsm.state import State
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import (
    Button,
    Checkbox,
    Column,
    RequestLocation,
    Row,
    ScrollingGroup,
    SwitchTo,
)
from aiogram_dialog.widgets.markup.reply_keyboard import ReplyKeyboardFactory
from aiogram_dialog.widgets.text import Format

from bot.dialogs import common, receipts
from bot.dialogs.common import Tr, Window, pick_list, radio
from bot.dialogs.states import SubmissionSG as S
from bot.dialogs.submission import (
    benefits,
    child_no_iin,
    consent,
    drafts,
    family,
    kindergartens,
    replies,
    review,
)
from bot.dialogs.submission.calendar import LocalCalendar

STEP1 = Tr("<b>Step 1 of 4</b> · Parent and child")
STEP2 = Tr("<b>Step 2 of 4</b> · Choice of kindergartens")
STEP3 = Tr("<b>Step 3 of 4</b> · Benefits (can be skipped)")
STEP3_DOCUMENTS = Tr("<b>Step 3 of 4</b> · Documents")
STEP4 = Tr("<b>Step 4 of 4</b> · Notifications and review")


def windows() -> list[Window]:
    """The windows in the order the parent meets them (fresh windows on every call)."""
    return [
        # Start: the queue and both consents of the source form.
        Window(
            Tr("<b>Joining the queue</b>"),
            Tr(
                "An electronic application to the queue for a place in state and private "
                "kindergartens.\n\nTick both boxes, then choose the queue."
            ),
            Tr(
                "\n📱 Confirmed phone numbers needed to apply: {need}.",
                when="phones_note",
            ),
            Checkbox(
                Tr("☑️ I consent to the use of my contact details for notifications"),
                Tr("⬜ I consent to the use of my contact details for notifications"),
                id="consent_notify",
            ),
            Checkbox(
                Tr("☑️ I have read and accept the offer agreement of the portal"),
                Tr("⬜ I have read and accept the offer agreement of the portal"),
                id="consent_offer",
            ),
            Button(Tr("Join the general queue"), id="q_general", on_click=consent.on_queue_chosen),
            Button(
                Tr("Join the correctional queue"), id="q_corr", on_click=consent.on_queue_chosen
            ),
            cancel(),
            wrong_content(),
            state=S.start,
            getter=consent.start_getter,
            on_process_result=consent.on_phones_verified,
        ),
        # Step 1: the parent's IIN, then the family request.
        Window(
            STEP1,
            Tr(
                "\nSend the IIN of the parent (legal representative): 12 digits.\n\n"
                "<i>Important: a request for access to your personal data will be sent. You "
                "consent by answering the SMS from 1414 on your phone.</i>"
            ),
            TextInput(id="parent_iin", on_success=family.on_parent_iin),
            MessageInput(replies.on_text_expected),
            nav(S.start),
            state=S.parent_iin,
        ),
        Window(
            STEP1,
            Tr(
                "\n⏳ Consent awaited: confirm the SMS from <b>1414</b> on your phone.\n"
                "As soon as the state database answers, I will show the children found.",
                when="pending",
            ),
            Tr(
                "\n❌ Consent to share family data was not given, so the children cannot be "
                "found. Send the IIN again to make a new request.",
                when="refused",
            ),
            Button(
                Tr("🔄 Check"), id="check_family", on_click=family.on_check_family, when="pending"
            ),
            Button(
                Tr("🔄 Ask for consent again"),
                id="ask_again",
                on_click=family.on_ask_again,
                when="refused",
            ),
            # "Send the IIN again" (the refused text) is taken here too, not only a button.
            TextInput(id="parent_iin_again", on_success=family.on_parent_iin),
            wrong_content(),
            nav(S.parent_iin),
            state=S.family_wait,
            getter=family.family_wait_getter,
        ),
        Window(
            STEP1,
            Tr(
                "\nThe consent you gave earlier is still valid: no new SMS from 1414 is needed.",
                when="consent_reused",
            ),
            Tr("\nLegal representative status: confirmed.\nChildren found: {count}"),
            Tr("\nChoose the child to put in the queue.", when="has_children"),
            Tr(
                "\n⛔ — cannot be put in the queue (age, legal representation, or already in "
                "this queue).",
                when="has_children",
            ),
            Column(
                pick_list("child_pick", "children", family.on_child_chosen),
            ),
            Button(
                Tr("The child is not in the list (no IIN)"),
                id="nc_start",
                on_click=child_no_iin.on_no_iin,
            ),
            wrong_content(),
            nav(S.parent_iin),
            state=S.child,
            getter=family.children_getter,
        ),
        # Step 1 for a child without IIN (not a citizen): typed in, with the birth certificate.
        Window(
            STEP1,
            Tr(
                "\nA child without an IIN. Send the child's <b>last name</b> as in the birth "
                "certificate."
            ),
            TextInput(id="nc_last", on_success=child_no_iin.on_last_name),
            MessageInput(replies.on_text_expected),
            nav(S.child),
            state=S.nc_last_name,
        ),
        Window(
            STEP1,
            Tr("\nSend the child's <b>first name</b>."),
            TextInput(id="nc_first", on_success=child_no_iin.on_first_name),
            MessageInput(replies.on_text_expected),
            nav(S.nc_last_name),
            state=S.nc_first_name,
        ),
        Window(
            STEP1,
            Tr("\nSend the child's <b>middle name</b>, or skip it if there is none."),
            TextInput(id="nc_middle", on_success=child_no_iin.on_middle_name),
            MessageInput(replies.on_text_expected),
            Button(Tr("Skip ➡️"), id="nc_skip_middle", on_click=child_no_iin.on_skip_middle_name),
            nav(S.nc_first_name),
            state=S.nc_middle_name,
        ),
        Window(
            STEP1,
            Tr("\nSend the child's <b>date of birth</b> as DD.MM.YYYY, for example 05.03.2022."),
            TextInput(id="nc_birth", on_success=child_no_iin.on_birth_date),
            MessageInput(replies.on_text_expected),
            nav(S.nc_middle_name),
            state=S.nc_birth,
        ),
        Window(
            STEP1,
            Tr("\nThe child's sex:"),
            Row(
                Button(Tr("Boy"), id="nc_boy", on_click=child_no_iin.on_sex),
                Button(Tr("Girl"), id="nc_girl", on_click=child_no_iin.on_sex),
            ),
            wrong_content(),
            nav(S.nc_birth),
            state=S.nc_sex,
        ),
        Window(
            STEP1,
            Tr("\nUpload the child's <b>birth certificate</b>: a photo or a PDF file."),
            MessageInput(
                child_no_iin.on_certificate, content_types=[ContentType.PHOTO, ContentType.DOCUMENT]
            ),
            MessageInput(replies.on_document_expected),
            nav(S.nc_sex),
            state=S.nc_certificate,
        ),
        Window(
            STEP1,
            Tr(
                "\nChild: <b>{child_name}</b>\nDate of birth: {child_birth}\nSex: {child_sex}\n"
                "Birth certificate: uploaded ✅\n\n"
                "The state registry cannot confirm legal representation for a child without an "
                "IIN: confirm it yourself. Giving false information is punishable by law."
            ),
            Checkbox(
                Tr("☑️ I am the child's legal representative"),
                Tr("⬜ I am the child's legal representative"),
                id=child_no_iin.DECLARATION,
            ),
            Button(Tr("Next ➡️"), id="nc_done", on_click=child_no_iin.on_confirm),
            wrong_content(),
            nav(S.nc_certificate),
            state=S.nc_confirm,
            getter=child_no_iin.confirm_getter,
        ),
        # Step 2: up to four kindergartens, each with its queue (birth year + language).
        Window(
            STEP2,
            Tr(
                "\nChild: {child_name}\n"
                "You can choose up to {max} kindergartens, in order of preference.\n"
            ),
            Format("{chosen}"),
            Row(
                Button(Tr("🔎 By name"), id="kg_by_name", on_click=kindergartens.on_find_by_name),
                Button(Tr("📍 Nearest"), id="kg_nearby", on_click=kindergartens.on_find_nearby),
            ),
            Button(Tr("☰ View as a list"), id="kg_list", on_click=kindergartens.on_list_all),
            Column(
                pick_list("kg_remove", "removable", kindergartens.on_remove_choice),
            ),
            Button(Tr("Next ➡️"), id="kg_done", on_click=kindergartens.on_kindergartens_done),
            wrong_content(),
            nav(S.child),
            state=S.kindergartens,
            getter=kindergartens.kindergartens_getter,
        ),
        Window(
            STEP2,
            # The example finds something in the demo city (devtools/seed.py: №3, №27 «Самал»).
            Tr("\nSend a part of the kindergarten's name or its number, e.g. «Самал» or «15»."),
            TextInput(id="kg_name", on_success=kindergartens.on_kg_name),
            MessageInput(replies.on_text_expected),
            nav(S.kindergartens),
            state=S.kg_search,
        ),
        Window(
            STEP2,
            Tr(
                "\nShare your location with the button below: "
                "I will list the nearest kindergartens."
            ),
            RequestLocation(Tr("📍 Send my location")),
            MessageInput(kindergartens.on_location, content_types=[ContentType.LOCATION]),
            MessageInput(replies.on_location_expected),
            Button(Tr("⬅️ Back"), id="back_kindergartens", on_click=kindergartens.on_location_back),
            cancel(),
            markup_factory=ReplyKeyboardFactory(resize_keyboard=True, one_time_keyboard=True),
            state=S.kg_location,
        ),
        Window(
            STEP2,
            Format("\n{title}"),
            Tr("Nothing found. Try another name or view the list.", when="nothing"),
            ScrollingGroup(
                pick_list("kg_pick", "items", kindergartens.on_kg_opened),
                id=kindergartens.KG_SCROLL,
                width=1,
                height=6,
                hide_on_single_page=True,
            ),
            wrong_content(),
            nav(S.kindergartens),
            state=S.kg_results,
            getter=kindergartens.kg_results_getter,
        ),
        Window(
            STEP2,
            Format("\n{card}"),
            Tr("\nChoose the queue to join in this kindergarten:", when="queues"),
            Column(
                pick_list("kg_lang", "queues", kindergartens.on_queue_language),
            ),
            wrong_content(),
            nav(S.kg_results),
            state=S.kg_card,
            getter=kindergartens.kg_card_getter,
        ),
        Window(
            STEP2,
            Tr("\nWhen should the referral be issued?\nNow: {mode}"),
            Button(
                Tr("Immediately, when a seat appears"),
                id="ref_now",
                on_click=kindergartens.on_referral_now,
            ),
            SwitchTo(Tr("📅 From a date"), id="ref_date", state=S.referral_date),
            wrong_content(),
            nav(S.kindergartens),
            state=S.referral_mode,
            getter=kindergartens.referral_getter,
        ),
        Window(
            STEP2,
            Tr(
                "\nChoose the date from which the child may get a referral. The application keeps "
                "its place, but no seat is offered before that date."
            ),
            LocalCalendar(
                id="ref_calendar", on_click=kindergartens.on_referral_date, tz_of=common.tz_of
            ),
            wrong_content(),
            nav(S.referral_mode),
            state=S.referral_date,
        ),
        # Step 3: one benefit (optional); extraordinary ones need a document.
        Window(
            STEP3,
            Tr(
                "\nA benefit gives a priority position in the queue. You can choose only one "
                "benefit; it can also be added later.\n"
            ),
            Format("{benefits}"),
            Tr("\nChosen: <b>{selected}</b>"),
            Column(
                pick_list("benefit_pick", "selectable", benefits.on_benefit_chosen),
            ),
            Button(Tr("No benefit"), id="no_benefit", on_click=benefits.on_no_benefit),
            Button(Tr("Next ➡️"), id="benefit_done", on_click=benefits.on_benefit_done),
            wrong_content(),
            nav(S.referral_mode),
            state=S.benefit,
            getter=benefits.benefit_getter,
        ),
        Window(
            STEP3,
            Tr(
                "\nUpload the document confirming the benefit «{benefit_name}»: "
                "a photo or a PDF file."
            ),
            MessageInput(
                benefits.on_benefit_document,
                content_types=[ContentType.PHOTO, ContentType.DOCUMENT],
            ),
            MessageInput(replies.on_document_expected),
            nav(S.benefit),
            state=S.benefit_upload,
            getter=benefits.benefit_upload_getter,
        ),
        Window(
            STEP3_DOCUMENTS,  # the PMPK conclusion is required: not "can be skipped"
            Tr(
                "\nThe correctional queue needs the PMPK conclusion (referral of the "
                "psychological, medical and pedagogical consultation). Upload a photo or a PDF."
            ),
            Tr("\n✅ The document is uploaded.", when="uploaded"),
            MessageInput(
                benefits.on_pmpk_document, content_types=[ContentType.PHOTO, ContentType.DOCUMENT]
            ),
            MessageInput(replies.on_document_expected),
            Button(Tr("Next ➡️"), id="pmpk_done", on_click=benefits.on_pmpk_done),
            nav(S.benefit),
            state=S.pmpk_upload,
            getter=benefits.pmpk_getter,
        ),
        # Step 4: notifications, then the statement for review.
        Window(
            STEP4,
            Tr("\nHow should we notify you about the application, and in which language?"),
            Row(
                radio("channel", "channels"),
            ),
            Row(
                radio("notify_lang", "languages"),
            ),
            SwitchTo(Tr("Next ➡️"), id="contacts_done", state=S.review),
            wrong_content(),
            nav(S.benefit),
            state=S.contacts,
            getter=review.contacts_getter,
        ),
        Window(
            Tr("<b>Thank you!</b> Your application is ready. Please check it:\n"),
            Format("{statement}"),
            Button(Tr("✅ Submit the application"), id="submit", on_click=review.on_submit),
            wrong_content(),
            nav(S.contacts),
            state=S.review,
            getter=review.review_getter,
        ),
        Window(
            Tr(
                "✅ <b>Your application has been sent to the unified queue!</b>\n\n"
                "Application number: <b>#{number}</b>\nSubmitted: {submitted}\n"
                "Position in the city queue ({birth_year} birth year): <b>{place}</b> of "
                "{total}\n\n"
                "Follow the application in the personal cabinet."
            ),
            Button(Tr("Proof in the public log"), id="proof", on_click=receipts.on_open_by_number),
            Button(Tr("🏠 Main menu"), id="finish", on_click=replies.on_finish),
            wrong_content(),
            state=S.done,
            getter=review.done_getter,
        ),
        # No lost work: the draft offered back, and Cancel confirmed.
        Window(
            Tr("📝 <b>You have an unfinished application.</b>"),
            Tr("\nChild: {child}", when="has_child"),
            Tr("\nSaved: {saved}", when="has_saved"),
            Tr("\n\nContinue where you stopped, or start again?"),
            Button(Tr("▶️ Continue where I stopped"), id="resume", on_click=drafts.on_continue),
            Button(Tr("🔄 Start again"), id="start_again", on_click=drafts.on_start_again),
            wrong_content(),
            state=S.resume,
            getter=drafts.resume_getter,
        ),
        Window(
            Tr(
                "Cancel the application? The answers you have given will be deleted and the "
                "application will not be submitted."
            ),
            Button(
                Tr("✖️ Yes, cancel the application"),
                id="cancel_yes",
                on_click=drafts.on_cancel_confirmed,
            ),
            Button(
                Tr("⬅️ No, back to the application"),
                id="cancel_no",
                on_click=drafts.on_back_to_wizard,
            ),
            wrong_content(),
            state=S.cancel_confirm,
        ),
    ]


def back(to: State) -> SwitchTo:
    return SwitchTo(Tr("⬅️ Back"), id=f"back_{str(to.state).split(':')[1]}", state=to)


def cancel() -> Button:
    return Button(Tr("✖️ Cancel"), id="cancel", on_click=drafts.on_cancel)


def nav(to: State) -> Row:
    return Row(back(to), cancel())


def wrong_content() -> MessageInput:
    """Anything a window does not expect (a sticker, a photo, text where buttons are)."""
    return MessageInput(replies.on_buttons_expected)
