"""All configuration in one object, read from the environment and `.env` (pydantic-settings).

Domain rules that differ by region (DOMAIN.md) are settings with the documented defaults, so that
services never carry magic numbers.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Fine offline (demo, tests); a process talking to the real Telegram refuses it (below).
DEFAULT_OTP_SECRET = "change-me-in-production"
# The public log's demo signing key (base64 of an Ed25519 seed derived from a public string) and
# tag salt: fine offline, refused like OTP_SECRET by a process talking to the real Telegram.
# The key is base64(SHA-256("indigo demo ledger key")).
DEFAULT_LEDGER_SIGNING_KEY = "3PIOfmRL5+hf//vlD+OnRysNWGySmLilwpvGG3apCqc="
DEFAULT_LEDGER_SALT = "change-me-in-production-ledger"


class WindowUnit(StrEnum):
    calendar = "calendar"
    working = "working"


class OfferTimeout(StrEnum):
    keep = "keep"
    stop_list = "stop_list"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # Storage. SQLite is the embedded default; production sets a postgres:// URL.
    database_url: str = "sqlite://var/indigo.sqlite3"
    # Unset: an in-process Redis-compatible server (fakeredis), single process only.
    redis_url: str | None = None

    # Telegram.
    bot_token: str | None = None
    telegram_api_url: str | None = None  # a local Bot API server (the sandbox); None = Telegram
    telegram_webhook_url: str | None = None
    # Where readers reach the public listener (its /public page: open data, protocols, the log),
    # e.g. https://indigo.kz; unset: the origin of telegram_webhook_url (the same listener).
    public_url: str | None = None
    telegram_webhook_secret: Annotated[list[str], NoDecode] = Field(default_factory=list)
    telegram_max_connections: int = 40
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    max_body_bytes: int = 64 * 1024

    # State systems and SMS gateway.
    gov_base_url: str | None = None
    gov_api_key: str = ""
    gov_callback_secret: Annotated[list[str], NoDecode] = Field(default_factory=list)
    sms_base_url: str | None = None
    sms_api_key: str = ""
    sms_callback_secret: Annotated[list[str], NoDecode] = Field(default_factory=list)
    callback_window_seconds: int = 300
    dedup_ttl_seconds: int = 7 * 24 * 3600

    # People and places.
    staff_bootstrap_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_city: str = "astana"
    timezone: str = "Asia/Almaty"

    # Queue rules (DOMAIN.md).
    first_priority_ratio: int = Field(default=3, ge=0)
    # Positions from the Redis sorted-set index (core.position_index) when it is built.
    position_index: bool = True
    max_kindergartens: int = Field(default=4, ge=1, le=4)
    max_child_age_years: int = 6
    referral_min_age_years: int = 2
    min_verified_phones: int = Field(default=2, ge=1)
    priority_window: int = Field(default=1, ge=0)
    priority_window_unit: WindowUnit = WindowUnit.calendar
    on_offer_timeout: OfferTimeout = OfferTimeout.keep
    benefit_confirm_working_days: int = 5
    benefit_certificate_valid_days: int = 30
    referral_valid_working_days: int = 5
    referral_extension_days: int = 30
    # Exchange of places (core.exchange): working days a participant has to confirm a cycle.
    exchange_confirm_working_days: int = Field(default=3, ge=1)
    stop_list_days: int = 10
    # Staff undo their enrolment, revocation or benefit decision within this many minutes of it;
    # after that only a superadmin may (core.referrals.undo).
    staff_undo_minutes: int = Field(default=15, ge=0)
    # A complaint is answered within this many working days (the law on appeals of citizens:
    # 15 working days); overdue ones go to the superadmin (core.complaints.handling).
    complaint_answer_working_days: int = Field(default=15, ge=1)
    complaint_text_max: int = Field(default=2000, ge=100)
    # An unfinished application wizard is kept this long (core.applications.drafts).
    draft_ttl_days: int = Field(default=7, ge=1)
    # A consent to share family data (the 1414 SMS) is reused for the same parent IIN this long.
    family_consent_valid_hours: int = Field(default=24, ge=0)
    extension_opens: str = "09-01"
    extension_deadline: str = "10-01"
    general_access_notify_multiple: int = Field(default=3, ge=1)
    position_notify_step: int = Field(default=10, ge=1)

    # One-time codes.
    otp_length: int = 6
    otp_ttl_seconds: int = 300
    otp_max_attempts: int = 5
    otp_lockout_seconds: int = 900
    otp_resend_cooldown_seconds: int = 60
    otp_secret: str = DEFAULT_OTP_SECRET
    # SMS abuse (bombing a stranger's phone, pumping): codes per destination phone, per
    # applicant, and a city-wide circuit breaker; every window starts with its first code.
    otp_phone_per_hour: int = Field(default=3, ge=1)
    otp_phone_per_day: int = Field(default=10, ge=1)
    otp_applicant_per_day: int = Field(default=10, ge=1)
    otp_global_per_minute: int = Field(default=300, ge=1)
    otp_breaker_seconds: int = Field(default=600, ge=1)  # no new codes at all while open
    # The public check (no login): look-ups per Telegram user and hour.
    public_check_per_hour: int = Field(default=20, ge=1)

    # The public verifiable log (docs/public-log.md). The signing key: base64 of a 32-byte
    # Ed25519 seed, named by the origin; "name=seed,name2=seed2" during a key rotation (every
    # key signs each checkpoint, the first one is published at /log/key).
    ledger_origin: str = "indigo.kz/queue/astana"
    ledger_signing_key: str = DEFAULT_LEDGER_SIGNING_KEY
    ledger_salt: str = DEFAULT_LEDGER_SALT

    # Sending.
    send_rate_per_second: float = Field(default=30, gt=0, le=1000)
    send_per_chat_interval: float = 1.0
    send_timeout_seconds: float = Field(default=10, gt=0)  # a Bot API call; then unknown
    send_max_attempts: int = Field(default=8, ge=1)
    job_interval_seconds: float = Field(default=30, gt=0)

    # The webhooks app's HTTP bounds (the public listener faces unauthenticated peers).
    http_body_timeout_seconds: float = Field(default=5, gt=0)  # the whole body, from the headers
    http_max_connections: int = Field(default=512, ge=1)  # open connections, per process
    # A connection that sends no (complete) request for this long is closed: stalled headers too.
    http_idle_timeout_seconds: float = Field(default=15, gt=0)
    # /metrics and /readyz listen here only (a private address), never beside the callbacks.
    http_internal_host: str = "127.0.0.1"
    http_internal_port: int = 8081
    protocols_cache_seconds: float = Field(default=30, ge=0)  # the public registers' answers

    @field_validator(
        "telegram_webhook_secret", "gov_callback_secret", "sms_callback_secret", mode="before"
    )
    @classmethod
    def _secrets(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("staff_bootstrap_ids", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "asyncpg://", "psql://")):
            raise ValueError("must start with sqlite:// or postgres://")
        return value

    @field_validator("extension_opens", "extension_deadline")
    @classmethod
    def _month_day(cls, value: str) -> str:
        month, _, day = value.partition("-")
        date(2024, int(month), int(day))  # raises ValueError on a bad month or day
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_postgres(self) -> bool:
        return not self.database_url.startswith("sqlite://")

    def month_day(self, value: str, year: int) -> date:
        month, _, day = value.partition("-")
        return date(year, int(month), int(day))


UTC = UTC
ONE_DAY = timedelta(days=1)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; a bad value ends the process with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"]).upper() or "settings"
        sys.exit(f"indigo: invalid configuration: {name}: {first['msg']}")


def refuse_default_secrets(settings: Settings) -> None:
    """A service process against the real Telegram (a token, no local Bot API server such as the
    sandbox) ends with one line while OTP_SECRET is the published default: anyone could forge
    one-time codes."""
    if not settings.bot_token or settings.telegram_api_url:
        return
    if settings.otp_secret == DEFAULT_OTP_SECRET:
        sys.exit("indigo: invalid configuration: OTP_SECRET: set a secret (the default is public)")
    # The public log: a published key lets anyone sign checkpoints, a published salt lets anyone
    # link a tag to an application id.
    if DEFAULT_LEDGER_SIGNING_KEY in settings.ledger_signing_key:
        sys.exit(
            "indigo: invalid configuration: LEDGER_SIGNING_KEY: set a key (the default is public)"
        )
    if settings.ledger_salt == DEFAULT_LEDGER_SALT:
        sys.exit("indigo: invalid configuration: LEDGER_SALT: set a secret (the default is public)")


def refuse_open_webhook(settings: Settings) -> None:
    """`indigo serve` mounts the Telegram webhook: without a secret token anyone could post
    updates as any user, staff included, so the process ends with one line instead."""
    if not settings.telegram_webhook_secret:
        sys.exit(
            "indigo: invalid configuration: TELEGRAM_WEBHOOK_SECRET: set a secret token "
            "(the webhook refuses every update without it)"
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
