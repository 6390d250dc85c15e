""" "Выйти" really logs out (kk and ru): the cabinet and the referral refuse until the phone is
confirmed with a new code, and say why; then everything is there again."""

from __future__ import annotations

import pytest

from core.models import Applicant, Phone
from core.people import applicants
from core.people.otp import OtpService
from core.platform.settings import Settings
from tests.bot.test_phone_confirmation import Gov, Sms
from tests.fixtures.bot import Parent, reply_keyboard
from tests.fixtures.e2e_cabinet import applicant_of, file_application, t

PHONE = "+77011239876"
BROKEN = "Sorry, something went wrong. Please try again, or press /start to begin anew."
ASK = (
    "Log out? Your applications stay in the queue; notifications about them will come by SMS "
    "to the family's phone number. To open the cabinet again, you will confirm your phone with "
    "a new code."
)
SIGNED_OUT = (
    "You have logged out. To open your applications again, confirm your phone with a new code."
)


@pytest.mark.parametrize("language", ["ru", "kk"])
async def test_a_parent_who_logged_out_must_confirm_the_phone_again(
    bot_app: tuple, settings: Settings, language: str
) -> None:
    app, _session = bot_app
    sms = Sms()
    app.dispatcher.workflow_data["otp"] = OtpService(app.redis, app.settings, sms, Gov())  # type: ignore[arg-type]
    user_id = 337 if language == "ru" else 338
    parent = Parent(bot_app, user_id, language)
    await parent.send("/start")
    applicant = await applicant_of(user_id)
    await applicants.verify_phone(applicant, PHONE)
    application = await file_application(applicant, settings)

    said = await parent.send(t("Personal cabinet", language))
    assert t("Choose a section.", language) in said
    said = await parent.press(t("Exit", language))
    assert t("Yes, log out", language) in parent.buttons()
    # Before and after "Yes": the notices go on, by SMS to the family's number.
    assert "SMS" in said and t(ASK, language) in said
    said = await parent.press(t("Yes, log out", language))
    assert (
        t(
            "You have logged out. Your applications stay in the queue; notifications about "
            "them will now come by SMS to the family's phone number, not to this chat. To open "
            "the cabinet again, you will confirm your phone with a new code.",
            language,
        )
        in said
    )
    assert not await Phone.exists(applicant=applicant, verified_at__isnull=False)

    # The cabinet and the referral refuse, say why, and offer the phone confirmation.
    for caption in ("Personal cabinet", "Get a referral"):
        said = await parent.send(t(caption, language))
        assert t(SIGNED_OUT, language) in said
        assert t("Choose a section.", language) not in said
        assert str(application.number) not in said
        # "Cancel" on the phone screen leaves with a word, not "something went wrong".
        cancel = [label for row in reply_keyboard(parent.seen) or [] for label in row][-1]
        said = await parent.send(cancel)
        assert t("Phone confirmation is cancelled.", language) in said
        assert t(BROKEN, language) not in said

    # A new code opens the cabinet again, with the application in it.
    await parent.send(t("Personal cabinet", language))
    await parent.send(PHONE)
    code = "".join(ch for ch in sms.sent[-1] if ch.isdigit())[-6:]
    said = await parent.send(code)
    assert t("Choose a section.", language) in said
    said = await parent.press(t("My applications", language))
    assert f"№{application.number}" in " ".join(parent.buttons())
    assert (await Applicant.get(id=applicant.id)).id == application.applicant_id
