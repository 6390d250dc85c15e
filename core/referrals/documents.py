"""What the parent brings to the kindergarten with a referral (DOMAIN.md); the bot translates
the codes.

The parents' memo lists "Заключение психолого-медико-педагогической консультации (для детей с
особыми образовательными потребностями)": every child with special educational needs brings the
PMPK conclusion, so the correctional queue and benefit 9 (special educational needs) in the
general queue alike (docs/rules.md, rule 40).
"""

from __future__ import annotations

from core.models import BenefitCategory, QueueType

DOCUMENTS = (
    "referral",
    "parent_identity",
    "birth_certificate",
    "vaccination_card_065",
    "health_certificate_027",
    "photo_3x4",
    "digital_signature",
    "bank_account",
    "email",
)
# The memo's order: the PMPK conclusion comes right after the health certificate.
SPECIAL_NEEDS_DOCUMENTS = (*DOCUMENTS[:5], "pmpk_conclusion", *DOCUMENTS[5:])
# Kept for callers that import the old name.
CORRECTIONAL_DOCUMENTS = SPECIAL_NEEDS_DOCUMENTS


def has_special_needs(queue_type: QueueType | str, benefit: int | None = None) -> bool:
    """A child in the correctional queue, or one holding benefit 9, has special educational
    needs."""
    return queue_type == QueueType.correctional or benefit == BenefitCategory.special_needs


def documents_for(queue_type: QueueType | str, benefit: int | None = None) -> tuple[str, ...]:
    """The documents to bring; `benefit` is the application's benefit category (if any)."""
    return SPECIAL_NEEDS_DOCUMENTS if has_special_needs(queue_type, benefit) else DOCUMENTS
