"""Limits and switches of the Bot API emulator (changeable at run time by the control API)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class TelegramConfig:
    # The bot: requests with another token get 401 Unauthorized. None accepts any token.
    token: str | None = None
    bot_username: str = "indigo_sandbox_bot"
    bot_first_name: str = "Indigo"
    # Telegram's limits, as users notice them.
    max_text_length: int = 4096
    max_caption_length: int = 1024
    max_callback_data_bytes: int = 64
    global_per_second: float = 30.0  # messages per second over all chats
    per_chat_per_second: float = 1.0  # steady rate in one chat ...
    per_chat_burst: int = 5  # ... after a short burst of this many messages
    rate_limits: bool = True
    # Chats exist once the user wrote to the bot; with False any positive id is a private chat
    # (benchmarks sending to many seeded users).
    known_chats_only: bool = True
    # getUpdates long polling: the longest wait the server grants (Telegram: 50 s).
    max_poll_timeout: float = 50.0
    # Webhook delivery: retry a failed update after base * 2**attempt seconds, capped.
    webhook_retry_base: float = 0.5
    webhook_retry_max: float = 30.0
    webhook_timeout: float = 10.0
    # Callback queries answered later than this get "query is too old".
    callback_answer_timeout: float = 300.0
    # Check every reply against the Bot API specification; a mismatch is a 500 (bug finder).
    validate: bool = False

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name: f for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}")
            current = getattr(self, name)
            if isinstance(current, bool) or current is None:
                setattr(self, name, value)
            elif isinstance(current, int | float):
                setattr(self, name, type(current)(value))
            else:
                setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
