"""Builders for the cabinet, referral and extension conversations: a parent known to the bot
(Telegram id, language, a verified phone) with a child, an application and kindergartens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from core.models import Applicant, Application, City, Kindergarten, Language, Notification
from core.platform import clock
from core.queue.order import sync_choices
from tests.fixtures_queue import make_application, make_child, make_kindergarten, make_parent


@dataclass
class Family:
    parent: Applicant
    application: Application
    city: City
    kindergarten: Kindergarten


async def make_family(
    telegram_user_id: int,
    language: str = "ru",
    *,
    city: City | None = None,
    kindergarten: Kindergarten | None = None,
    born: date | None = None,
    verified_phones: int = 1,
    last_name: str = "Ахметов",
) -> Family:
    if city is None:
        city = await City.get_or_none(code="astana") or await City.create(
            code="astana", name_ru="Астана", name_kk="Астана"
        )
    if kindergarten is None:
        kindergarten = await make_kindergarten(city)
    parent = await make_parent(
        telegram_user_id=telegram_user_id, verified_phones=verified_phones, last_name=last_name
    )
    parent.language = Language(language)
    parent.chat_id = telegram_user_id
    await parent.save()
    born = born or date(clock.now().year - 3, 3, 1)
    child = await make_child(parent, born)
    application = await make_application(
        applicant=parent,
        child=child,
        city=city,
        submitted_at=clock.now(),
        choices=[(kindergarten, Language.ru)],
    )
    await sync_choices(application)
    return Family(parent, application, city, kindergarten)


async def add_notifications(parent: Applicant, count: int, kind: str = "broadcast") -> None:
    for n in range(count):
        params: dict[str, Any] = {"text_ru": f"Сообщение {n + 1}", "text_kk": f"Хабар {n + 1}"}
        await Notification.create(
            idempotency_key=f"test:{parent.id}:{n}",
            applicant_id=parent.id,
            kind=kind,
            params=params,
            language=parent.language,
        )
