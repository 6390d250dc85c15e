"""The documents a parent is told to bring with a referral (parents' memo, docs/rules.md #40)."""

from __future__ import annotations

from core.models import BenefitCategory, QueueType
from core.referrals.documents import documents_for


def test_a_child_in_the_correctional_queue_brings_the_pmpk_conclusion() -> None:
    assert "pmpk_conclusion" in documents_for(QueueType.correctional)
    assert "pmpk_conclusion" in documents_for("correctional", BenefitCategory.large_family)


def test_a_child_with_special_needs_in_the_general_queue_brings_the_pmpk_conclusion() -> None:
    # Memo: "Заключение психолого-медико-педагогической консультации (для детей с особыми
    # образовательными потребностями)" - benefit 9 is exactly that group.
    codes = documents_for(QueueType.general, BenefitCategory.special_needs)
    assert "pmpk_conclusion" in codes
    assert codes.index("pmpk_conclusion") == codes.index("health_certificate_027") + 1


def test_other_children_in_the_general_queue_do_not_bring_it() -> None:
    assert "pmpk_conclusion" not in documents_for(QueueType.general)
    assert "pmpk_conclusion" not in documents_for("general", BenefitCategory.large_family)
    assert "pmpk_conclusion" not in documents_for("general", None)


def test_every_child_brings_the_memo_list() -> None:
    for codes in (documents_for("general"), documents_for("correctional")):
        for code in (
            "referral",
            "parent_identity",
            "birth_certificate",
            "vaccination_card_065",
            "health_certificate_027",
            "photo_3x4",
            "digital_signature",
            "bank_account",
            "email",
        ):
            assert code in codes
