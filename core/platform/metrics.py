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

CONTENT_TYPE = CONTENT_TYPE_LATEST


async def refresh_gauges() -> None:
    """Read the depths that live in the database (at scrape time)."""
    OUTBOX_DEPTH.set(await Notification.filter(status=NotificationStatus.pending).count())
    INBOX_FAILED.set(await InboxEvent.filter(status=InboxStatus.failed).count())


def render() -> bytes:
    return generate_latest()
