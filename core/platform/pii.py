"""The one masked form of each piece of personal data: an IIN and a phone for logs and
prompts, a name for the public look-up and the public registers."""

from __future__ import annotations


def mask_iin(value: str) -> str:
    """For logs: never an IIN in clear."""
    return value[:2] + "*" * 8 + value[-2:] if len(value) == 12 else "***"


def mask_phone(phone: str) -> str:
    """+7701*****67: the operator code stays, so the parent recognises which phone."""
    return phone[:5] + "*" * max(len(phone) - 7, 0) + phone[-2:] if len(phone) > 7 else "***"


def mask_name(last: str, first: str, middle: str = "") -> str:
    """Public form of a name: "Аскаров Руслан Жанович" -> "А***В Р*** Ж."."""
    parts = []
    last = (last or "").strip().upper()
    if last:
        parts.append(last[0] + "***" + (last[-1] if len(last) > 1 else ""))
    first = (first or "").strip().upper()
    if first:
        parts.append(first[0] + "***")
    middle = (middle or "").strip().upper()
    if middle:
        parts.append(middle[0] + ".")
    return " ".join(parts)
