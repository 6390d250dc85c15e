"""Which audit entries are leaves of the public log, and what a leaf says.

A leaf is canonical JSON: {"v": 1, "seq", "at", "action", "stream", ...public facts}. Public facts
are ids of places and releases, cohorts, queue types, benefit tiers, ordering keys, statuses and
reason codes; people and applications appear only as salted tags (HMAC with `ledger_salt`), so
nobody without the salt can link a leaf to an application number or a child.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.models import AuditEntry, Stream

VERSION = 1

# audit action -> the leaf's stream; every other action is not queue-changing.
LEAF_STREAMS: dict[str, str] = {
    "application.registered": "application",
    "application.withdrawn": "application",
    "application.stop_listed": "application",
    "application.restored": "application",
    "application.archived": "application",
    "benefit.confirmed": "application",
    "benefit.rejected": "application",
    "benefit.changed": "application",
    "application.enrolment_undone": "application",
    "application.stop_list_undone": "application",
    "benefit.confirmed.undone": "application",
    "benefit.rejected.undone": "application",
    "seats.released": "seat_release",
    "seats.general_access_announced": "seat_release",
    # staff undo a release (core.referrals.undo.undo_release): its free seats are withdrawn
    "seats.released.undone": "seat_release",
    "offer.created": "offer",
    "offer.declined": "offer",
    "offer.lapsed": "offer",
    "referral.issued": "referral",
    "referral.benefit_confirmed": "referral",
    "referral.extended": "referral",
    "referral.enrolled": "referral",
    "referral.declined": "referral",
    "referral.expired": "referral",
    "referral.revoked": "referral",
    "referral.annulled": "referral",
    # staff undo a decision (core.referrals.undo): the referral is live again
    "referral.enrolled.undone": "referral",
    "referral.revoked.undone": "referral",
    "referral.annulled.undone": "referral",
    "referral.benefit_confirmed.undone": "referral",
    # an enrolled child left the kindergarten (core.referrals.departures), and its undo
    "referral.departed": "referral",
    "referral.departed.undone": "referral",
    # exchange of places (core.exchange.cycles): the place given up, and the cycle carried out
    "referral.exchanged": "referral",
    "exchange.carried_out": "exchange",
}

TIERS: dict[int, str] = {
    int(Stream.extraordinary): "extraordinary",
    int(Stream.first_priority): "first",
    int(Stream.general): "none",
}


@dataclass(frozen=True)
class AppFacts:
    """The public ordering facts of an application (read once per batch)."""

    stream: int
    submitted_at: datetime
    birth_year: int
    queue_type: str
    child: str  # what the child tag commits to: the IIN, or "id:<child id>" without one


def is_leaf(action: str) -> bool:
    return action in LEAF_STREAMS


def tag(salt: str, kind: str, value: object) -> str:
    """The salted commitment to an application ("app"), referral or child: 32 hex digits."""
    digest = hmac.new(salt.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def application_id_of(entry: AuditEntry) -> int | None:
    """The application an entry is about, if any."""
    if entry.entity == "application":
        return _int(entry.entity_id)
    return _int((entry.after or {}).get("application_id"))


def canonical(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def iso_seconds(at: datetime) -> str:
    return at.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_micro(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ordering_key(facts: AppFacts) -> list[Any]:
    """[stream rank (0 extraordinary, 1 first priority, 2 general), submitted_at]: the order
    inside a cohort (core.queue.order); exact ties are broken by the unpublished number."""
    return [facts.stream, iso_micro(facts.submitted_at)]


def leaf_for(
    entry: AuditEntry,
    facts: Mapping[int, AppFacts] | None = None,
    *,
    salt: str,
    seq: int = 0,
) -> dict[str, Any] | None:
    """The leaf object of an audit entry, None when the action does not change the queue.
    `facts`: the applications' ordering facts by id (missing ones are left out)."""
    stream = LEAF_STREAMS.get(entry.action)
    if stream is None:
        return None
    after: dict[str, Any] = entry.after or {}
    leaf: dict[str, Any] = {
        "v": VERSION,
        "seq": seq,
        "at": iso_seconds(entry.at),
        "action": entry.action,
        "stream": stream,
    }
    app_id = application_id_of(entry)
    if app_id is not None:
        leaf["app"] = tag(salt, "app", app_id)
        known = (facts or {}).get(app_id)
        if known is not None:
            leaf["cohort"] = known.birth_year
            leaf["queue"] = known.queue_type
            leaf["tier"] = TIERS.get(known.stream, "none")
            leaf["key"] = ordering_key(known)
            if stream == "application":
                # one child's general and correctional applications share the child tag
                leaf["child"] = tag(salt, "child", known.child)
    if stream == "application":
        _application_facts(leaf, entry.action, after)
    elif stream == "referral":
        leaf["referral"] = tag(salt, "referral", entry.entity_id)
        _copy(leaf, after, status="status", group="group_id", kg="kindergarten_id")
        _copy(leaf, after, release="release_id", reason="reason", exchange="exchange_id")
    elif stream == "offer":
        _copy(leaf, after, release="release_id", status="status")
        twin_of = _int(after.get("twin_of"))
        if twin_of is not None:
            # a twin offered along with its sibling (one batch): the sibling's application tag
            leaf["twin_of"] = tag(salt, "app", twin_of)
    elif stream == "exchange":
        leaf["exchange"] = _int(entry.entity_id)
        _copy(leaf, after, size="size", moves="moves")
    elif stream == "seat_release":
        leaf["release"] = _int(entry.entity_id)
        _release_facts(leaf, after)
        passed = after.get("twins_passed_over")
        if passed:
            # twins whose batch needed more seats than were left (core.seats.offers): the head
            # and the twins it would bring, so a replay knows why they were not addressed
            leaf["passed_over"] = [
                [tag(salt, "app", head), [tag(salt, "app", twin) for twin in twins]]
                for head, twins in passed
            ]
    return leaf


def _application_facts(leaf: dict[str, Any], action: str, after: Mapping[str, Any]) -> None:
    if action.startswith("application."):
        _copy(leaf, after, status="status")
    if action == "benefit.rejected":
        leaf["tier"] = "none"
    elif action == "benefit.confirmed":
        leaf["status"] = "confirmed"
    if after.get("reason") is not None:
        leaf["reason"] = str(after["reason"])
    choices = after.get("choices")
    if isinstance(choices, list):
        leaf["choices"] = [c[0] if isinstance(c, list) else c for c in choices]
        # the kindergarten queue is per teaching language (verifier.replay)
        leaf["languages"] = [c[1] if isinstance(c, list) and len(c) > 1 else None for c in choices]
    if action == "application.registered":
        # what makes it eligible for an offer (core.seats.eligibility): city, "from a date"
        _copy(leaf, after, city="city_id", mode="referral_mode", **{"from": "referral_from"})


def _release_facts(leaf: dict[str, Any], after: Mapping[str, Any]) -> None:
    _copy(leaf, after, kg="kindergarten_id", group="group_id", cohort="birth_year", seats="seats")
    _copy(leaf, after, window_end="priority_end_at")
    _copy(leaf, after, language="language", at_once="general_access_at_once")
    _copy(leaf, after, withdrawn="withdrawn", kept="referrals_kept")
    last = after.get("last_birth_year")
    if last is not None and last != after.get("birth_year"):
        leaf["cohort_last"] = last  # a mixed-age group: cohorts cohort..cohort_last
    kind = after.get("kind")
    if kind is not None:
        leaf["queue"] = "correctional" if kind == "correctional" else "general"


def _copy(leaf: dict[str, Any], after: Mapping[str, Any], **names: str) -> None:
    for public, source in names.items():
        value = after.get(source)
        if value is not None:
            leaf[public] = value


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
