"""A parent who signed out ("Выйти") is not written to in that chat any more: whoever holds the
Telegram account no longer reads the family's news there. Their applications stay in the queue,
so the notices (a seat offered, a department's broadcast) go by SMS to the family's number until
a phone is confirmed again; then the chat again."""

from __future__ import annotations

from core.models import Channel, Notification, NotificationStatus, Phone, StaffRole
from core.notifications.broadcasts import create_broadcast
from core.people import applicants
from core.platform.settings import Settings
from core.seats.releases import release_seats
from tests.fixtures import queue as fq
from tests.fixtures.seats import cohort_year, make_group
from tests.fixtures.worker import SandboxTelegram, make_staff
from tests.service.test_notice_channel import FakeSms
from tests.service.test_notification_language import _submit, deliver

TG = 8821


async def test_a_signed_out_parent_hears_of_a_free_seat_by_sms_not_in_the_chat(
    db: None, settings: Settings, telegram_sandbox: SandboxTelegram
) -> None:
    city = await fq.make_city()
    kindergarten = await fq.make_kindergarten(city, 1, languages="ru")
    parent = await _submit(settings, TG, city.id, kindergarten.id, "telegram")
    sms = FakeSms()
    await deliver(settings, telegram_sandbox.url, sms)
    assert len(telegram_sandbox.texts[TG]) == 1  # "registered", in the chat
    assert sms.sent == []

    await applicants.sign_out(parent.id)
    group = await make_group(kindergarten, birth_year=cohort_year())
    await release_seats(group.id, 1, actor="staff:1", settings=settings, window=None)
    await deliver(settings, telegram_sandbox.url, sms)
    staff = await make_staff(8829, StaffRole.operator, city=city)
    await create_broadcast(staff, "Ертең", "Завтра", {})
    await deliver(settings, telegram_sandbox.url, sms)

    assert len(telegram_sandbox.texts[TG]) == 1  # nothing more in the chat
    phone = await Phone.filter(applicant_id=parent.id).order_by("id").first()
    assert phone is not None
    said = [text for to, text in sms.sent if to == phone.number]
    assert len(said) == 2 and "орын" in said[0] and "Завтра" in said[1], said  # the chat language
    rows = await Notification.filter(applicant_id=parent.id).order_by("id")
    assert [row.channel for row in rows] == [Channel.telegram, Channel.sms, Channel.sms]


async def test_after_confirming_the_phone_again_the_notices_return_to_the_chat(
    db: None, settings: Settings, telegram_sandbox: SandboxTelegram
) -> None:
    city = await fq.make_city()
    kindergarten = await fq.make_kindergarten(city, 1, languages="ru")
    parent = await _submit(settings, TG, city.id, kindergarten.id, "telegram")
    sms = FakeSms()
    await deliver(settings, telegram_sandbox.url, sms)
    await applicants.sign_out(parent.id)
    phone = await Phone.filter(applicant_id=parent.id).order_by("id").first()
    assert phone is not None
    await applicants.verify_phone(parent, phone.number)
    group = await make_group(kindergarten, birth_year=cohort_year())
    await release_seats(group.id, 1, actor="staff:1", settings=settings, window=None)
    await deliver(settings, telegram_sandbox.url, sms)

    assert len(telegram_sandbox.texts[TG]) == 2  # "registered" and the seat offer
    assert sms.sent == []


async def test_a_notice_queued_before_the_sign_out_reaches_the_phone_not_the_chat(
    db: None, settings: Settings, telegram_sandbox: SandboxTelegram
) -> None:
    """The "registered" notice waits in the outbox while the parent presses "Выйти": the
    worker looks again when it sends, and the chat hears nothing."""
    city = await fq.make_city()
    kindergarten = await fq.make_kindergarten(city, 1, languages="ru")
    parent = await _submit(settings, TG, city.id, kindergarten.id, "telegram")
    queued = await Notification.filter(applicant_id=parent.id).order_by("id")
    assert [row.channel for row in queued] == [Channel.telegram]

    await applicants.sign_out(parent.id)
    sms = FakeSms()
    await deliver(settings, telegram_sandbox.url, sms)

    assert telegram_sandbox.texts.get(TG, []) == []
    phone = await Phone.filter(applicant_id=parent.id).order_by("id").first()
    assert phone is not None
    assert [to for to, _ in sms.sent] == [phone.number]
    rows = await Notification.filter(applicant_id=parent.id).order_by("id")
    assert [(row.channel, row.status) for row in rows] == [(Channel.sms, NotificationStatus.sent)]
