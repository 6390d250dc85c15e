"""The one-time code SMS, in the reader's language: it names the service and warns not to share
the code, and fits one SMS segment (Cyrillic is UCS-2: 70 characters with the code)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _


def code_sms_text() -> str:
    """The code SMS with a `{code}` slot (filled by `core.people.otp.OtpService.request`)."""
    return _("Indigo kindergarten queue: code {code}. Do not tell it to anyone.")
