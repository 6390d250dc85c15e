"""/benefits at city scale: the walkthrough's operator had 32 pending claims and got 10 messages,
then Telegram's flood limit and nothing; the newest claims were out of reach. Now it is one
message edited in place: a page of claims, ◀ 1/4 ▶, filters and typed search, and a claim's
card opens the decision."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.models import (
    Application,
    BenefitStatus,
    City,
    Kindergarten,
    Language,
    StaffMember,
    StaffRole,
    Stream,
)
from core.platform import clock
from core.platform.settings import Settings
from core.referrals.take import take_seat
from core.seats import releases
from core.views.staff_lists import ClaimStatus, natural_key, pending_benefits
from tests.bot.test_staff import Staff
from tests.bot.test_staff_actions import said
from tests.fixtures.seats import (
    make_application,
    make_city,
    make_group,
    make_kindergarten,
    make_parent,
)
from tests.fixtures.worker import make_staff

OPERATOR = 940


async def _claims(count: int, city: City, kindergartens: list[Kindergarten]) -> list[Application]:
    """`count` pending extraordinary-benefit claims, oldest first, spread over kindergartens."""
    start = clock.now() - timedelta(days=100)
    made = []
    for i in range(count):
        kindergarten = kindergartens[i % len(kindergartens)]
        application = await make_application(
            city=city,
            choices=[(kindergarten, Language.ru)],
            applicant=await make_parent(),
            stream=Stream.extraordinary,
            benefit_status=BenefitStatus.pending,
            submitted_at=start + timedelta(hours=i),
        )
        made.append(application)
    return made


async def _city_of_32(settings: Settings) -> tuple[list[Kindergarten], list[Application]]:
    city = await make_city()
    kindergartens = [await make_kindergarten(city, n) for n in (10, 3, 27)]
    claims = await _claims(32, city, kindergartens)
    await make_staff(OPERATOR, StaffRole.operator, city=city)
    return kindergartens, claims


def _sends(staff: Staff) -> int:
    return sum(1 for r in staff.seen if r.__api_method__ in {"sendMessage", "sendDocument"})


async def test_32_pending_claims_are_one_message_with_page_1_of_4(
    bot_app: Any, settings: Settings
) -> None:
    _kgs, claims = await _city_of_32(settings)
    staff = Staff(bot_app, OPERATOR)

    shown = await staff.send("/benefits")

    assert _sends(staff) == 1, [r.__api_method__ for r in staff.seen]
    assert "32" in shown and "1/4" in staff.labels()
    assert f"№{claims[0].number}" in shown  # the oldest first
    assert f"№{claims[8].number}" not in shown
    assert "А***А А***" in shown and "Ахметова" not in shown


async def test_the_next_page_edits_the_same_message(bot_app: Any, settings: Settings) -> None:
    _kgs, claims = await _city_of_32(settings)
    staff = Staff(bot_app, OPERATOR)
    await staff.send("/benefits")

    shown = await staff.press("▶")

    methods = [r.__api_method__ for r in staff.seen]
    assert "sendMessage" not in methods and "editMessageText" in methods, methods
    assert f"№{claims[8].number}" in shown and f"№{claims[0].number}" not in shown
    assert "2/4" in staff.labels()
    for _page in range(2):
        shown = await staff.press("▶")
    assert f"№{claims[31].number}" in shown and "▶" not in staff.labels()  # the newest reachable


async def test_a_typed_number_finds_one_claim(bot_app: Any, settings: Settings) -> None:
    _kgs, claims = await _city_of_32(settings)
    staff = Staff(bot_app, OPERATOR)
    await staff.send("/benefits")

    shown = await staff.send(str(claims[30].number))

    rows = [label for label in staff.labels() if label.startswith("1. №")]
    assert rows == [f"1. №{claims[30].number} А***А А***"], staff.labels()
    assert f"№{claims[0].number}" not in shown
    shown = await staff.press(said("Show all"))
    assert "1/4" in staff.labels()


async def test_a_referral_number_finds_its_claim_first_with_its_deadline(
    bot_app: Any, settings: Settings
) -> None:
    """A referral waiting for the confirmation is annulled after 5 working days: its claim comes
    first, with the referral number and the working days left, and is found by that number."""
    kgs, claims = await _city_of_32(settings)
    group = await make_group(kgs[0], birth_year=claims[20].birth_year)
    await releases.release_seats(
        group.id, 1, actor="staff:test", settings=settings, window=timedelta(0)
    )
    referral = await take_seat(claims[20].id, group.id, actor="parent", settings=settings)
    staff = Staff(bot_app, OPERATOR)

    shown = await staff.send("/benefits")
    assert staff.labels()[0] == f"1. №{claims[20].number} А***А А***"
    assert referral.number in shown

    await staff.send(referral.number)
    assert [x for x in staff.labels() if x.startswith("1. ")] == [
        f"1. №{claims[20].number} А***А А***"
    ]
    rows, total = await pending_benefits(await _operator(), 0, 10, status=ClaimStatus.no_referral)
    assert total == 31 and claims[20].id not in {r.application_id for r in rows}


async def test_the_kindergarten_filter_narrows_the_list_in_natural_order(
    bot_app: Any, settings: Settings
) -> None:
    _kgs, claims = await _city_of_32(settings)  # №10, №3, №27 in this order of creation
    staff = Staff(bot_app, OPERATOR)
    await staff.send("/benefits")

    await staff.press(said("Kindergarten"))
    picker = [label for label in staff.labels() if "№" in label]
    assert picker == ["Ясли-сад №3 (11)", "Ясли-сад №10 (11)", "Ясли-сад №27 (10)"], picker
    shown = await staff.press("Ясли-сад №27")

    in_27 = [c for i, c in enumerate(claims) if i % 3 == 2]
    assert ": 10" in shown and "1/2" in staff.labels()
    assert f"№{in_27[0].number}" in shown and f"№{claims[0].number}" not in shown


async def test_tapping_a_claim_opens_the_decision(bot_app: Any, settings: Settings) -> None:
    _kgs, claims = await _city_of_32(settings)
    staff = Staff(bot_app, OPERATOR)
    await staff.send("/benefits")

    card = await staff.press(f"2. №{claims[1].number}")
    assert f"{claims[1].number}" in card and said("No document is attached.") in card
    asked = await staff.press("Подтвердить")
    assert f"{claims[1].number}" in asked
    assert (await Application.get(id=claims[1].id)).benefit_status == BenefitStatus.pending
    done = await staff.press("Подтвердить")

    assert (await Application.get(id=claims[1].id)).benefit_status == BenefitStatus.confirmed
    assert "подтверждена" in done
    # The list comes back below the outcome, without the decided claim.
    assert "31" in done and f"№{claims[1].number} " not in "\n".join(staff.labels())


async def test_forged_pages_and_claims_are_answered_as_outdated(
    bot_app: Any, settings: Settings
) -> None:
    _kgs, claims = await _city_of_32(settings)
    other_city = await make_city("almaty")
    elsewhere = await make_kindergarten(other_city, 5)
    stranger = await make_application(
        city=other_city,
        choices=[(elsewhere, Language.ru)],
        stream=Stream.extraordinary,
        benefit_status=BenefitStatus.pending,
    )
    staff = Staff(bot_app, OPERATOR)
    await staff.send("/benefits")

    for forged in (
        staff.widget("claim", claims[20].id),  # a claim of another page
        staff.widget("claim", stranger.id),  # another city's
        staff.widget("claim", "abc"),
        staff.widget("claim", 10**30),
    ):
        assert "Эта кнопка устарела" in await staff.forge(forged), forged
    assert (
        "Эта кнопка устарела"
        in await staff.forge(staff.widget("prev", "").removesuffix(":"))  # ◀ on page 1
    )
    assert (await Application.get(id=stranger.id)).benefit_status == BenefitStatus.pending
    assert "1/4" in staff.labels()


async def test_a_kindergarten_admin_sees_only_their_kindergarten(
    bot_app: Any, settings: Settings
) -> None:
    kgs, claims = await _city_of_32(settings)
    await make_staff(941, StaffRole.kindergarten_admin, kindergarten=kgs[1])
    staff = Staff(bot_app, 941)

    shown = await staff.send("/benefits")

    assert "11" in shown and "1/2" in staff.labels()
    assert f"№{claims[1].number}" in shown and f"№{claims[0].number}" not in shown


def test_kindergartens_sort_by_their_number() -> None:
    names = [
        "Детский сад №40",
        "Ясли-сад №2",
        "Детский сад №3",
        "Детский сад «Самал»",
        "Ясли-сад №10",
        "№7 бөбекжай-бақша",
        "Ясли-сад №1",
    ]
    assert sorted(names, key=natural_key) == [
        "Ясли-сад №1",
        "Ясли-сад №2",
        "Детский сад №3",
        "№7 бөбекжай-бақша",
        "Ясли-сад №10",
        "Детский сад №40",
        "Детский сад «Самал»",
    ]


async def _operator() -> StaffMember:
    return await StaffMember.get(telegram_user_id=OPERATOR)


async def test_the_release_picker_lists_kindergartens_by_number(
    bot_app: Any, settings: Settings
) -> None:
    """The walkthrough: "Детский сад №3, №7 … №40, Ясли-сад №1, №2": not by number."""
    city = await make_city()
    for n in (10, 2, 1):
        await make_kindergarten(city, n)
    await Kindergarten.create(
        city=city,
        name_ru="Детский сад №3",
        name_kk="№3 балабақша",
        ownership="state",
        address_ru="ул. Абая, 3",
        address_kk="Абай к-сі, 3",
        latitude=51.13,
        longitude=71.43,
    )
    await make_staff(OPERATOR, StaffRole.operator, city=city)
    staff = Staff(bot_app, OPERATOR)

    await staff.send("/release")

    assert [x for x in staff.labels() if "№" in x] == [
        "Ясли-сад №1",
        "Ясли-сад №2",
        "Детский сад №3",
        "Ясли-сад №10",
    ]
