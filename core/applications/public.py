"""Public status of one application by its number (the /start deep link), no login."""

from __future__ import annotations

from core.applications.submission import PublicApplication, public_lookup
from core.models import Application
from core.platform.settings import Settings


async def lookup_number(number: int, settings: Settings) -> PublicApplication | None:
    """The public view of application `number`, or None when there is no such application."""
    application = await Application.get_or_none(number=number).prefetch_related("child__person")
    if application is None:
        return None
    iin = application.child.person.iin
    if not iin:  # a child without an IIN: the number alone is not enough to show it publicly
        return None
    for found in await public_lookup(iin, settings):
        if found.number == number:
            return found
    return None
