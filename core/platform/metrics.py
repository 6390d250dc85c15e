"""Prometheus metrics of the service (exposed by `webhooks/` at GET /metrics)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from core.models import InboxEvent, InboxStatus, Notification, NotificationStatus

UPDATES = Counter("indigo_updates_total", "Telegram updates handled", ["update_type", "result"])
HANDLER_LATENCY = Histogram(
    "indigo_handler_seconds",
    "Time to handle one Telegram update",
    ["update_type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEBHOOK_REJECTS = Counter(
    "indigo_webhook_rejects_total", "Webhook requests rejected", ["source", "reason"]
)
CALLBACKS = Counter(
    "indigo_callbacks_total", "Provider callbacks received", ["source", "type", "status"]
)
OUTBOX_DEPTH = Gauge("indigo_outbox_depth", "Notifications waiting to be sent")
INBOX_FAILED = Gauge("indigo_inbox_failed", "Provider callbacks whose processing failed")
# SMS codes (core.people.otp). Alert on `indigo_otp_breaker_open_until_seconds > time()`: the
# city-wide circuit breaker refuses every new code until then (a moment, so it stays true
# across processes and needs no refresh).
OTP_SENT = Counter("indigo_otp_sms_total", "One-time code SMS handed to the SMS gateway")
OTP_REFUSED = Counter(
    "indigo_otp_refused_total", "One-time code requests refused before any SMS", ["reason"]
)
OTP_BREAKER_TRIPS = Counter(
    "indigo_otp_breaker_trips_total", "Times the city-wide code SMS circuit breaker opened"
)
OTP_BREAKER_OPEN_UNTIL = Gauge(
    "indigo_otp_breaker_open_until_seconds",
    "Unix time until which no new code SMS are sent (the circuit breaker); 0: never opened",
)
OTP_BREAKER_OPEN = Gauge(
    "indigo_otp_breaker_open", "1 while this process last saw the code SMS circuit breaker open"
)
PUBLIC_CHECK_REFUSED = Counter(
    "indigo_public_check_refused_total", "Public queue look-ups refused by the per-user limit"
)

CONTENT_TYPE = CONTENT_TYPE_LATEST


async def refresh_gauges() -> None:
    """Read the depths that live in the database (at scrape time)."""
    OUTBOX_DEPTH.set(await Notification.filter(status=NotificationStatus.pending).count())
    INBOX_FAILED.set(await InboxEvent.filter(status=InboxStatus.failed).count())


def render() -> bytes:
    return generate_latest()
