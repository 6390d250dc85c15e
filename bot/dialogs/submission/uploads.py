"""Documents the parent sends in the wizard (benefit, PMPK conclusion, birth certificate): a
photo, or a PDF or image file."""

from __future__ import annotations

from aiogram.types import Message


def upload_of(message: Message) -> tuple[str, str, str] | None:
    """(file_id, mime type, file name) of a photo or a PDF/image document; None otherwise."""
    if message.photo:
        return message.photo[-1].file_id, "image/jpeg", ""
    document = message.document
    if document is not None:
        mime = (document.mime_type or "").lower()
        name = document.file_name or ""
        if mime == "application/pdf" or mime.startswith("image/") or name.lower().endswith(".pdf"):
            return document.file_id, mime or "application/pdf", name
    return None
