"""Domain errors: a reason code and parameters, never translated text (the bot translates)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal a user should understand; `reason` is a stable code, `params` fill the text."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, **{self.params!r})"
