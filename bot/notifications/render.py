"""Notification texts: one template per outbox kind, rendered in the recipient's language.

The worker has no Dispatcher, so it reads the shared gettext catalog with Babel directly.
Texts are HTML (the bot's parse mode); values from params are escaped. `plain()` turns a
rendered text into SMS text. Dates arrive as ISO strings and are shown in `settings.tz`.
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
BABEL_LOCALES = {"kk": "kk_KZ", "ru": "ru_RU"}
KINDS = (
    "application_registered",
    "position_changed",
    "seat_offered",
    "referral_issued",
    "referral_expiring",
    "referral_expired",
    "extension_due",
    "stop_listed",
    "restored",
    "benefit_confirmed",
    "benefit_rejected",
    "broadcast",
    "family_ready",
)


def N_(text: str) -> str:
    """Mark a string for extraction without translating it here."""
    return text


@lru_cache(maxsize=4)
def translations(language: str) -> NullTranslations:
    return Translations.load(str(LOCALES_DIR), [language], "messages")


def reload_translations() -> None:
    translations.cache_clear()


def offer_callback_data(application_id: object, release_id: object) -> str:
    """The seat_offered button: the same string as the deep-link start payload."""
    return f"ref_{application_id}_{release_id}"


def render(kind: str, params: dict[str, Any], language: str, *, tz: ZoneInfo | None = None) -> str:
    """The text of one notification in `language` (kk or ru)."""
    language = language if language in BABEL_LOCALES else "ru"
    t = translations(language)
    ctx = _Context(params, language, tz or _default_tz())
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise KeyError(f"no template for notification kind {kind!r}")
    return builder(t, ctx).strip()


def button_text(kind: str, language: str) -> str | None:
    """The label of the inline button that goes with a kind, if any."""
    if kind != "seat_offered":
        return None
    return translations(language if language in BABEL_LOCALES else "ru").gettext("Take the seat")


def plain(text: str) -> str:
    """HTML message -> SMS text."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


# --- helpers ------------------------------------------------------------------------------------


def _default_tz() -> ZoneInfo:
    from core.platform.settings import get_settings

    return get_settings().tz


class _Context:
    def __init__(self, params: dict[str, Any], language: str, tz: ZoneInfo) -> None:
        self.params = params
        self.language = language
        self.tz = tz
        self.locale = BABEL_LOCALES[language]

    def text(self, *names: str, default: str = "") -> str:
        """First present param among `names` (a `<name>_<lang>` variant wins), escaped."""
        for name in names:
            localized = self.params.get(f"{name}_{self.language}")
            if localized not in (None, ""):
                return html.escape(str(localized))
            value = self.params.get(name)
            if value not in (None, ""):
                return html.escape(str(value))
        return default

    def when(self, *names: str) -> str:
        """A date-time param in the reader's zone, to the minute."""
        for name in names:
            value = self.params.get(name)
            if not value:
                continue
            try:
                moment = datetime.fromisoformat(str(value))
            except ValueError:
                return html.escape(str(value))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=ZoneInfo("UTC"))
            return format_datetime(moment, "d MMMM y, HH:mm", tzinfo=self.tz, locale=self.locale)
        return ""

    def day(self, *names: str) -> str:
        for name in names:
            value = self.params.get(name)
            if not value:
                continue
            try:
                parsed = date.fromisoformat(str(value)[:10])
            except ValueError:
                return html.escape(str(value))
            return format_date(parsed, "d MMMM y", locale=self.locale)
        return ""

    def number(self) -> str:
        value = self.text("application_number", "number")
        return f"#{value}" if value and not value.startswith("#") else value


def _place(t: NullTranslations, ctx: _Context) -> str:
    kindergarten = ctx.text("kindergarten", "kindergarten_name")
    group = ctx.text("group", "group_name")
    lines = []
    if kindergarten:
        lines.append(t.gettext("Kindergarten: {name}").format(name=kindergarten))
    if group:
        lines.append(t.gettext("Group: {name}").format(name=_group_label(ctx, group)))
    return "\n".join(lines)


def _group_label(ctx: _Context, group: str) -> str:
    """The group as the bot shows it everywhere (bot.texts.group_label), in the reader's
    language: "Средняя группа №3, 2021 г.р., казахский язык"."""
    birth_year = ctx.params.get("group_birth_year")
    language = ctx.params.get("language")
    if not birth_year or language not in BABEL_LOCALES:
        return group
    from bot.i18n import make_i18n
    from bot.texts.labels import group_label

    i18n = _bot_i18n(make_i18n)
    with i18n.context(), i18n.use_locale(ctx.language):
        label = group_label(
            html.unescape(group),
            int(birth_year),
            str(language),
            str(ctx.params.get("group_kind") or "general"),
        )
    return html.escape(label)


@lru_cache(maxsize=1)
def _bot_i18n(factory: Any) -> Any:
    return factory()


def _application_registered(t: NullTranslations, ctx: _Context) -> str:
    text = t.gettext("Your application {number} is registered.").format(number=ctx.number())
    submitted = ctx.when("submitted_at")
    if submitted:
        text += "\n" + t.gettext("Date and time of application: {when}").format(when=submitted)
    position = ctx.text("position")
    if position:
        text += "\n" + t.gettext("Position in the queue: {position}").format(position=position)
    return text


def _position_changed(t: NullTranslations, ctx: _Context) -> str:
    text = t.gettext("The position of application {number} in the queue is now {position}.")
    text = text.format(number=ctx.number(), position=ctx.text("position", default="?"))
    previous = ctx.text("previous", "previous_position")
    if previous:
        text += "\n" + t.gettext("It was {position}.").format(position=previous)
    return text


def _seat_offered(t: NullTranslations, ctx: _Context) -> str:
    text = t.gettext("A seat is free for application {number}.").format(number=ctx.number())
    place = _place(t, ctx)
    if place:
        text += "\n" + place
    deadline = ctx.when("priority_end_at", "deadline")
    if ctx.params.get("general_access"):
        # Open to every eligible application of the city: fair means fast, and says so.
        text += "\n" + t.gettext(
            "The seat is open to everyone in the queue: the first to take it gets it."
        )
    elif deadline:
        text += "\n" + t.gettext(
            "Only you and the other applications first in line may take it until {deadline}."
        ).format(deadline=f"<b>{deadline}</b>")
    text += "\n" + t.gettext("Press the button below to get a referral.")
    return text


DOCUMENTS = (
    N_("the referral"),
    N_("an identity document of a parent"),
    N_("the child's birth certificate"),
    N_("vaccination card 065/u"),
    N_("health certificate 027/u"),
    N_("PMPK conclusion (for special needs)"),
    N_("a 3×4 photo"),
    N_("the parent's digital signature"),
    N_("a bank account number"),
    N_("an e-mail address"),
)


def _referral_issued(t: NullTranslations, ctx: _Context) -> str:
    referral = ctx.text("referral_number", "number")
    text = t.gettext("Referral {number} is issued.").format(
        number=f"<b>#{referral.lstrip('#')}</b>"
    )
    place = _place(t, ctx)
    if place:
        text += "\n" + place
    valid = ctx.when("expires_at", "valid_until")
    if valid:
        text += "\n" + t.gettext("Valid until {when}.").format(when=f"<b>{valid}</b>")
    if ctx.params.get("awaiting_benefit_confirmation"):
        text += "\n" + t.gettext(
            "The referral waits for the confirmation of the benefit by the education department."
        )
    text += "\n\n" + t.gettext("Bring to the kindergarten:")
    text += "".join(f"\n• {t.gettext(item)}" for item in DOCUMENTS)
    return text


def _referral_expiring(t: NullTranslations, ctx: _Context) -> str:
    referral = ctx.text("referral_number", "number")
    text = t.gettext("Referral {number} expires on {when}.").format(
        number=f"#{referral.lstrip('#')}", when=f"<b>{ctx.when('expires_at', 'valid_until')}</b>"
    )
    text += "\n" + t.gettext(
        "Take the documents to the kindergarten or extend the referral in your cabinet."
    )
    return text


def _referral_expired(t: NullTranslations, ctx: _Context) -> str:
    referral = ctx.text("referral_number", "number")
    text = t.gettext("Referral {number} has expired; the seat goes to other children.").format(
        number=f"#{referral.lstrip('#')}"
    )
    until = ctx.when("stop_listed_until", "until")
    if until:
        text += "\n" + t.gettext(
            "The application is on the stop-list until {when}, then it returns to the queue "
            "at its original time."
        ).format(when=until)
    return text


def _extension_due(t: NullTranslations, ctx: _Context) -> str:
    text = t.gettext("It is time to extend your applications for another year.")
    numbers = ctx.params.get("numbers") or []
    if numbers:
        text += "\n" + t.gettext("Applications: {numbers}").format(
            numbers=", ".join(f"#{html.escape(str(n))}" for n in numbers)
        )
    deadline = ctx.day("deadline")
    if deadline:
        text += "\n" + t.gettext(
            "Fill in the questionnaire in your cabinet before {date}; applications not "
            "extended by then go to the stop-list."
        ).format(date=f"<b>{deadline}</b>")
    return text


def _stop_listed(t: NullTranslations, ctx: _Context) -> str:
    text = t.gettext("Application {number} is moved to the stop-list.").format(number=ctx.number())
    reason = ctx.params.get("reason")
    if reason == "not_extended":
        text += "\n" + t.gettext("It was not extended before the deadline.")
    elif reason == "referral_expired":
        text += "\n" + t.gettext("The referral was not used in time.")
    elif reason == "benefit_not_confirmed":
        text += "\n" + t.gettext("The benefit was not confirmed in time.")
    until = ctx.when("until", "stop_listed_until")
    if until:
        text += "\n" + t.gettext("It returns to the queue automatically on {when}.").format(
            when=until
        )
    else:
        text += "\n" + t.gettext(
            "You can restore it from your cabinet; it keeps its original time."
        )
    return text


def _restored(t: NullTranslations, ctx: _Context) -> str:
    return t.gettext("Application {number} is back in the queue at its original time.").format(
        number=ctx.number()
    )


def _benefit_confirmed(t: NullTranslations, ctx: _Context) -> str:
    text = t.gettext("The benefit of application {number} is confirmed.").format(
        number=ctx.number()
    )
    referral = ctx.text("referral_number") or (
        ctx.text("number") if ctx.params.get("application_number") else ""
    )
    valid = ctx.when("expires_at")
    if referral and valid:
        text += "\n" + t.gettext("Referral {number} is valid until {when}.").format(
            number=f"#{referral.lstrip('#')}", when=f"<b>{valid}</b>"
        )
    return text


def _benefit_rejected(t: NullTranslations, ctx: _Context) -> str:
    text = t.gettext("The benefit of application {number} is not confirmed.").format(
        number=ctx.number()
    )
    reason = ctx.text("reason")
    if reason:
        text += "\n" + t.gettext("Reason: {reason}").format(reason=reason)
    return text


def _broadcast(t: NullTranslations, ctx: _Context) -> str:
    key = f"text_{ctx.language}"
    other = "text_ru" if ctx.language == "kk" else "text_kk"
    return html.escape(str(ctx.params.get(key) or ctx.params.get(other) or ""))


def _family_ready(t: NullTranslations, ctx: _Context) -> str:
    if ctx.params.get("consent") is False:
        return t.gettext(
            "The family data request was refused. You can start the application again."
        )
    return t.gettext("Your family data has arrived. Open the bot to continue the application.")


_BUILDERS = {
    "application_registered": _application_registered,
    "position_changed": _position_changed,
    "seat_offered": _seat_offered,
    "referral_issued": _referral_issued,
    "referral_expiring": _referral_expiring,
    "referral_expired": _referral_expired,
    "extension_due": _extension_due,
    "stop_listed": _stop_listed,
    "restored": _restored,
    "benefit_confirmed": _benefit_confirmed,
    "benefit_rejected": _benefit_rejected,
    "broadcast": _broadcast,
    "family_ready": _family_ready,
}


def progress_text(progress: Any, language: str) -> str:
    """A broadcast's progress message (core.broadcasts.Progress), edited in place by the worker."""
    t = translations(language if language in BABEL_LOCALES else "ru")
    status = {
        "running": t.gettext("sending"),
        "paused": t.gettext("paused"),
        "done": t.gettext("finished"),
    }.get(progress.status, progress.status)
    lines = [
        t.gettext("Broadcast #{id}: {status}").format(id=progress.broadcast_id, status=status),
        t.gettext("Sent: {count}").format(count=progress.sent),
        t.gettext("Failed: {count}").format(count=progress.failed + progress.unknown),
        t.gettext("Blocked the bot: {count}").format(count=progress.blocked),
        t.gettext("Remaining: {count}").format(count=progress.remaining),
    ]
    if progress.remaining and progress.status == "running":
        lines.append(t.gettext("Rate: {rate} per second").format(rate=round(progress.rate, 1)))
        if progress.eta_seconds is not None:
            minutes, seconds = divmod(progress.eta_seconds, 60)
            lines.append(
                t.gettext("Time left: {minutes} min {seconds} s").format(
                    minutes=minutes, seconds=seconds
                )
            )
    return "\n".join(lines)
