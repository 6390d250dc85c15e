"""Logging set-up that keeps personal data out of every log line.

Libraries log what they see (Tortoise's DEBUG log prints query parameters, aiohttp access logs
print paths), so masking happens once, where every record is made: 12-digit numbers (IINs)
and Kazakhstan phone numbers are masked before any handler sees the text.
"""

from __future__ import annotations

import logging
import re

_IIN = re.compile(r"(?<!\d)(\d{2})\d{8}(\d{2})(?!\d)")
_PHONE = re.compile(r"(?<!\d)(\+?[78])[\s(-]*7\d{2}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*(\d{2})(?!\d)")

_installed = False


def mask_pii(text: str) -> str:
    text = _PHONE.sub(lambda m: f"{m.group(1)}7*******{m.group(2)}", text)
    return _IIN.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)


def install_pii_masking() -> None:
    """Mask IINs and phones in every log record from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def masked_record(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            text = record.getMessage()
        except Exception:  # a broken format string: leave it to logging's own error path
            return record
        record.msg, record.args = mask_pii(text), None
        return record

    logging.setLogRecordFactory(masked_record)
    _installed = True


def setup_logging(verbose: bool = False) -> None:
    install_pii_masking()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
