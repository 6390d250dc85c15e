"""Notification texts as a parent reads them, in Kazakh and Russian."""

from datetime import UTC, datetime

from bot.notifications.render import render


def test_a_priority_offer_names_its_deadline_in_local_time() -> None:
    params = {
        "number": 1292001,
        "priority_end_at": datetime(2026, 11, 23, 4, 0, tzinfo=UTC).isoformat(),
    }
    text = render("seat_offered", params, "ru")
    assert "#1292001" in text and "23 ноября 2026" in text and "09:00" in text  # UTC+5


def test_a_general_access_offer_says_first_come_first_served() -> None:
    params = {"number": 1292001, "general_access": True}
    assert "получит тот, кто займёт первым" in render("seat_offered", params, "ru")
    assert "кім бірінші алса" in render("seat_offered", params, "kk")
    assert "until" not in render("seat_offered", params, "ru")


def test_the_group_is_named_as_the_bot_names_it_in_the_readers_language() -> None:
    params = {
        "number": 1292001,
        "kindergarten": "Ясли-сад №1",
        "group": "№3",
        "language": "kk",
        "group_birth_year": 2023,
        "group_kind": "general",
    }
    assert "2023 г.р., казахский язык" in render("seat_offered", params, "ru")
    assert "2023 ж.т., қазақ тілі" in render("seat_offered", params, "kk")
