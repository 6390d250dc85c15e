"""What the parent brings to the kindergarten with a referral (DOMAIN.md); the bot translates
the codes. The correctional queue also brings the PMPK conclusion."""

from __future__ import annotations

from core.models import QueueType

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
CORRECTIONAL_DOCUMENTS = (*DOCUMENTS[:5], "pmpk_conclusion", *DOCUMENTS[5:])


def documents_for(queue_type: QueueType | str) -> tuple[str, ...]:
    return CORRECTIONAL_DOCUMENTS if queue_type == QueueType.correctional else DOCUMENTS
