"""Replay of the public log: rebuild the queue from its leaves and check every priority offer
and every referral against the published rules (docs/rules.md, docs/public-log.md).

Pure: it takes the leaves' JSON objects in log order and returns a report; fetching and hash
checks are `verifier.client`'s. The rules replayed are the service's (`core.queue.order`,
`core.seats.eligibility`, `core.seats.offers`, `core.referrals.take`), restated here from the
public documents so that an outsider's copy decides, not the service's:

- distribution order of a queue: extraordinary first, then first-priority and general
  interleaved `ratio` to one; inside a stream by the public ordering key;
- a release of N seats with a priority window is offered to the first N eligible applications
  of its kindergarten's queue (queue type of the group, birth year in the group's cohorts,
  the kindergarten chosen in the group's language); eligible = active, not waiting for a later
  "from date", of referral age, its child holding no live referral, not holding an open offer of
  the same group, not excluded by the release (the application that returned the seat);
- a seat taken before its release's window end needs an open offer of that release, unless the
  release had seats open to general access at once, or a seat whose offer ended during the
  window (declined, lapsed, or its child took a referral elsewhere): nobody holds it any more;
- a referral goes only to an application the rules allow at that moment (status, age, mode,
  queue type, cohort, city, one live referral per child). After general access anyone of the
  cohort may take a seat, first come first served: no order to check there.

Twins are a batch (docs/rules.md, rule 32): the first twin in the queue brings its eligible
twins along, whatever kindergarten they chose; a twin's `offer.created` leaf names that sibling
(`twin_of`), and the replay accepts it only when the sibling was rightly offered the same release
and the twin may take a seat of the group. Known limit: the log does not say who is a twin
otherwise, so a batch passed over for want of seats would show as a jump.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any, TypeVar

T = TypeVar("T")

LIVE = "live"
LIVE_STATUSES = ("awaiting_enrollment", "awaiting_benefit_confirmation", LIVE)
# A referral closed this way gives its seat back in the same transaction (a re-release). Not so a
# departure (`referral.departed`: an enrolled child left): the kindergarten releases the seat
# later, if at all, as a plain `seats.released` replayed like any other.
RETURNING = ("referral.declined", "referral.revoked", "referral.expired")
STREAMS = 3  # extraordinary, first-priority, general (the key's first element)


@dataclass(frozen=True)
class Rules:
    """The published parameters of the rules (settings of the service, docs/rules.md)."""

    ratio: int = 3  # first_priority_ratio
    min_age_years: int = 2  # referral_min_age_years
    max_age_years: int = 6  # max_child_age_years
    tz: tzinfo = timezone(timedelta(hours=5))  # the city's local time (Asia/Almaty: UTC+5)


@dataclass(frozen=True)
class Finding:
    """One thing the rules did not allow, at a leaf."""

    seq: int
    # queue_jump | priority_seat_without_offer | not_eligible | key_changed | exchange | unknown
    check: str
    detail: str

    def __str__(self) -> str:
        return f"leaf {self.seq}: {self.check}: {self.detail}"


@dataclass
class ReplayReport:
    events: int = 0
    releases_checked: int = 0
    offers_checked: int = 0
    referrals_checked: int = 0
    batches_passed_over: int = 0  # twins a release was too small for (they keep their place)
    exchanges_checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def jumps(self) -> int:
        return len(self.findings)

    @property
    def ok(self) -> bool:
        return not self.findings

    def lines(self) -> list[str]:
        out = [
            f"events replayed: {self.events}",
            f"releases checked: {self.releases_checked}",
            f"offers checked: {self.offers_checked}",
            f"referrals checked: {self.referrals_checked}",
            f"twin batches passed over: {self.batches_passed_over}",
            f"exchanges checked: {self.exchanges_checked}",
            f"queue jumps found: {self.jumps}",
        ]
        out.extend(f"  {finding}" for finding in self.findings[:50])
        return out


@dataclass
class _App:
    tag: str
    status: str = "active"
    cohort: int = 0
    queue: str = "general"
    key: tuple[Any, ...] = ()
    city: Any = None
    child: str | None = None
    mode: str = "immediately"
    from_date: date | None = None
    choices: set[tuple[Any, str | None]] = field(default_factory=set)


@dataclass
class _Release:
    id: Any
    group: Any
    kg: Any
    city: Any
    years: list[int]
    queue: str
    language: str | None
    seats: int
    at: datetime
    window_end: datetime
    general_open: int
    excluded: set[str]
    expected: list[str]  # eligible applications in distribution order at the release
    offers: dict[str, str] = field(default_factory=dict)  # app tag -> offer status
    twin_of: dict[str, str] = field(default_factory=dict)  # twin offered -> its batch's head
    # a batch the release says it passed over (too big for the seats left): head -> its twins
    passed_over: dict[str, list[str]] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)  # holding an open offer of the group at release
    taken_general: int = 0
    seq: int = 0
    declined: int = 0  # offers that ended during the window (declined, lapsed, unusable)
    reopened: int = 0  # seats the log says opened to general access (seat.general_access)

    def general_seats(self) -> int:
        """Seats of the release anyone eligible may take before the window ends."""
        return self.general_open + max(self.declined, self.reopened)


class Replay:
    """The queue rebuilt leaf by leaf; `feed` each leaf's object, then `finish`."""

    def __init__(self, rules: Rules | None = None) -> None:
        self.rules = rules or Rules()
        self.report = ReplayReport()
        self.apps: dict[str, _App] = {}
        self.releases: dict[Any, _Release] = {}
        self.referrals: dict[str, tuple[str, str]] = {}  # tag -> (app tag, status)
        self.live_children: dict[str, int] = {}  # child (or app) tag -> live referrals
        self._pending: _Release | None = None  # release whose offers are being written
        self._returning: tuple[str, Any] | None = None  # (app, group) of a returned seat
        # exchange of places: per exchange, the places given up and taken ((app tag, group))
        self.gave: dict[int, list[tuple[str, Any]]] = {}
        self.got: dict[int, list[tuple[str, Any, Any]]] = {}  # (app tag, group, kg)
        self.exchanges_done: set[int] = set()

    # --- feeding ----------------------------------------------------------------------------

    def feed(self, leaf: Mapping[str, Any]) -> None:
        action = str(leaf.get("action", ""))
        seq = int(leaf.get("seq", -1))
        if self._pending is not None and not (
            action == "offer.created" and leaf.get("release") == self._pending.id
        ):
            self._close_release(self._pending)
            self._pending = None
        self.report.events += 1
        at = _time(leaf.get("at"))
        returning = self._returning
        self._returning = None
        self._check_key(leaf, action, seq)
        if action.startswith("application."):
            self._application(leaf, action)
            if action == "application.stop_listed":
                self._returning = returning  # an expired referral: stop-listed, then re-released
        elif action.startswith("benefit."):
            app = self._app(leaf)
            if app is not None:
                if "key" in leaf:
                    app.key = tuple(leaf["key"])
                # A benefit leaf's "status" is the benefit decision ("confirmed"), not the
                # application's: a confirmed application stays active in the queue.
        elif action == "seats.released":
            self._release(leaf, seq, at, returning)
        elif action == "seat.returned":
            self._returning = returning  # the re-release follows in the same transaction
        elif action == "offer.created":
            self._offer_created(leaf, seq)
        elif action in ("offer.declined", "offer.lapsed"):
            tag = leaf.get("app")
            release = self.releases.get(leaf.get("release")) or self._open_offer_of(
                str(tag), at, running=action == "offer.declined"
            )
            if release is not None and tag in release.offers:
                self._close_offer(release, str(tag), action.split(".", 1)[1], at)
        elif action == "seat.general_access":
            release = self.releases.get(leaf.get("release"))
            if release is not None:
                release.reopened += int(leaf.get("seats", 1))
        elif action == "referral.issued":
            self._referral_issued(leaf, seq, at)
        elif action == "exchange.carried_out":
            self._exchange_carried_out(leaf, seq)
        elif action.startswith("referral."):
            self._referral_status(leaf, action)
            if action == "referral.exchanged":
                self._place_given(leaf, seq)
            if action in RETURNING:
                # `core.referrals.records.return_seat`: the seat is released again, and the
                # application that returned it is not offered it (exclude_application_ids).
                self._returning = (str(leaf.get("app")), leaf.get("group"))

    def finish(self) -> ReplayReport:
        if self._pending is not None:
            self._close_release(self._pending)
            self._pending = None
        for exchange in sorted(set(self.got) - self.exchanges_done):
            self._find(-1, "exchange", f"exchange {exchange}: referrals issued, never carried out")
        return self.report

    # --- exchange of places -----------------------------------------------------------------

    def _place_given(self, leaf: Mapping[str, Any], seq: int) -> None:
        """`referral.exchanged`: the application gives its place up in an exchange."""
        exchange = _exchange_of(leaf)
        if exchange is None:
            self._find(seq, "exchange", f"place of {leaf.get('app')} exchanged in no exchange")
            return
        self.gave.setdefault(exchange, []).append((str(leaf.get("app")), leaf.get("group")))

    def _exchange_referral(self, leaf: Mapping[str, Any], seq: int, tag: str) -> None:
        """A referral of an exchange (no release): only for an application that gave its own
        place up in that exchange, once."""
        exchange = _exchange_of(leaf)
        assert exchange is not None
        gave = [t for t, _ in self.gave.get(exchange, [])]
        got = [t for t, _, _ in self.got.get(exchange, [])]
        if exchange in self.exchanges_done or gave.count(tag) <= got.count(tag):
            self._find(
                seq,
                "exchange",
                f"referral to {tag} by exchange {exchange} without a place given up in it",
            )
        self.got.setdefault(exchange, []).append((tag, leaf.get("group"), leaf.get("kg")))

    def _exchange_carried_out(self, leaf: Mapping[str, Any], seq: int) -> None:
        """The places taken are the places given up, no more (an exchange creates no seat),
        and as many as the exchange says it moved."""
        self.report.exchanges_checked += 1
        exchange = _int_or_none(leaf.get("exchange"))
        if exchange is None:
            self._find(seq, "exchange", "an exchange without its number")
            return
        self.exchanges_done.add(exchange)
        gave = sorted(str(g) for _, g in self.gave.get(exchange, []))
        got = sorted(str(g) for _, g, _ in self.got.get(exchange, []))
        moves = sorted(str(m[1]) for m in leaf.get("moves", []) if isinstance(m, list) and m[1:])
        size = _int_or_none(leaf.get("size"))
        if gave != got or (moves and moves != got) or (size is not None and size != len(got)):
            self._find(
                seq,
                "exchange",
                f"exchange {exchange}: groups given up {gave}, taken {got}, size {size}",
            )

    # --- applications -----------------------------------------------------------------------

    def _application(self, leaf: Mapping[str, Any], action: str) -> None:
        tag = leaf.get("app")
        if not tag:
            return
        app = self.apps.get(str(tag))
        if app is None:
            app = self.apps[str(tag)] = _App(tag=str(tag))
        if "status" in leaf:
            app.status = str(leaf["status"])
        elif action == "application.registered":
            app.status = "active"
        if "cohort" in leaf:
            app.cohort = int(leaf["cohort"])
        if "queue" in leaf:
            app.queue = str(leaf["queue"])
        if "key" in leaf:
            app.key = tuple(leaf["key"])
        if "city" in leaf:
            app.city = leaf["city"]
        if "child" in leaf:
            app.child = str(leaf["child"])
        if "mode" in leaf:
            app.mode = str(leaf["mode"])
        if "from" in leaf:
            app.from_date = date.fromisoformat(str(leaf["from"])[:10]) if leaf["from"] else None
        if "choices" in leaf:
            languages = list(leaf.get("languages") or [])
            app.choices = {
                _choice([c, languages[i]] if i < len(languages) and not isinstance(c, list) else c)
                for i, c in enumerate(leaf["choices"])
            }

    def _check_key(self, leaf: Mapping[str, Any], action: str, seq: int) -> None:
        """An application's ordering key may change only as the rules change it: its submission
        time never (a restored or re-prioritised application keeps its original time), and its
        stream rank improves only by a benefit decision (`benefit.*`). A leaf restating a known
        application's key otherwise is a rewritten history (the replay would follow it)."""
        app = self._app(leaf)
        if app is None or not app.key or "key" not in leaf or action == "application.registered":
            return
        new = tuple(leaf["key"])
        if new[1:] != app.key[1:]:
            self._find(
                seq,
                "key_changed",
                f"{action} of {app.tag}: submission time {list(app.key[1:])} restated as "
                f"{list(new[1:])}",
            )
        elif (
            new
            and app.key
            and not action.startswith("benefit.")
            and _rank(new) < _rank(app.key)
            and leaf.get("stream") == "application"
        ):
            # A worse rank may appear before its benefit.rejected leaf (a batch's leaves read
            # the application once, after the transaction); a better one only by a benefit.
            self._find(
                seq,
                "key_changed",
                f"{action} of {app.tag}: stream rank {_rank(app.key)} restated as {_rank(new)} "
                "without a benefit decision",
            )

    def _app(self, leaf: Mapping[str, Any]) -> _App | None:
        tag = leaf.get("app")
        return self.apps.get(str(tag)) if tag else None

    def _child(self, app: _App) -> str:
        return app.child or app.tag

    def problem(self, app: _App, at: datetime) -> str | None:
        """Why this application may not receive a referral at `at` (None: it may): the rule of
        `core.seats.eligibility.application_problem` plus the child's live referral."""
        today = at.astimezone(self.rules.tz).date()
        if app.status == "stop_listed":
            return "stop_listed"
        if app.status != "active":
            return "not_active"
        if app.mode == "from_date" and (app.from_date is None or app.from_date > today):
            return "mode_from_date"
        age = today.year - app.cohort
        if age < self.rules.min_age_years:
            return "child_too_young"
        if age >= self.rules.max_age_years:
            return "child_turns_six"
        if self.live_children.get(self._child(app), 0) > 0:
            return "already_has_referral"
        return None

    # --- releases and offers ----------------------------------------------------------------

    def _release(
        self,
        leaf: Mapping[str, Any],
        seq: int,
        at: datetime,
        returning: tuple[str, Any] | None = None,
    ) -> None:
        cohort: Any = leaf.get("cohort")
        if isinstance(cohort, list) and cohort:
            first, last = int(cohort[0]), int(cohort[-1])
        elif cohort is not None:
            first = last = int(cohort)
            last = int(leaf.get("cohort_last", first))  # a mixed-age group
        else:
            first, last = 0, -1
        years = list(range(first, last + 1))
        window_end = _time(leaf.get("window_end")) if leaf.get("window_end") else at
        seats = int(leaf.get("seats", 0))
        # "at" is cut to the second: a window end within that second is no window (nobody was
        # addressed, the seats opened to everyone at once), as is a release opened all at once.
        if window_end - at < timedelta(seconds=1) or int(leaf.get("at_once", 0)) >= seats > 0:
            window_end = at
        language = leaf.get("language")
        release = _Release(
            id=leaf.get("release"),
            group=leaf.get("group"),
            kg=leaf.get("kg"),
            city=leaf.get("city"),
            years=years,
            queue=str(leaf.get("queue", "general")),
            language=str(language) if language is not None else None,
            seats=seats,
            at=at,
            window_end=window_end,
            general_open=int(leaf.get("at_once", seats if window_end <= at else -1)),
            excluded={str(t) for t in leaf.get("excluded", [])}
            | (
                {returning[0]}
                if returning is not None and returning[1] == leaf.get("group")
                else set()
            ),
            expected=[],
            seq=seq,
            passed_over={
                str(head): [str(t) for t in twins] for head, twins in leaf.get("passed_over", [])
            },
        )
        if window_end > at:
            release.expected = self._eligible_order(release, at)
        self.releases[release.id] = release
        self._pending = release

    def _offer_created(self, leaf: Mapping[str, Any], seq: int) -> None:
        release = self.releases.get(leaf.get("release"))
        tag = str(leaf.get("app"))
        self.report.offers_checked += 1
        if release is None:
            self._find(seq, "unknown", f"offer of unknown release {leaf.get('release')}")
            return
        release.offers[tag] = "open"
        if leaf.get("twin_of"):
            release.twin_of[tag] = str(leaf["twin_of"])

    def _open_offer_of(self, tag: str, at: datetime, *, running: bool) -> _Release | None:
        """The release whose open offer the application holds (the latest one), for leaves
        that do not name it; `running`: only a release whose window still runs."""
        found = [
            release
            for release in self.releases.values()
            if release.offers.get(tag) == "open" and (not running or release.window_end > at)
        ]
        return max(found, key=lambda r: r.seq) if found else None

    @staticmethod
    def _close_offer(release: _Release, tag: str, status: str, at: datetime) -> None:
        """An offer ends (declined, lapsed, or unusable once the child holds a referral): if it
        was open during the window, the seat it held is nobody's and opens to general access
        at once (`core.seats.offers.open_unheld_seats`)."""
        if release.offers.get(tag) == "open" and at < release.window_end:
            release.declined += 1
        release.offers[tag] = status

    def _close_release(self, release: _Release) -> None:
        """Check a release's addressees: the first eligible ones of its queue, none skipped."""
        self.report.releases_checked += 1
        addressed = list(release.offers)
        if release.general_open < 0:  # not told: the seats nobody was addressed for
            release.general_open = max(0, release.seats - len(addressed))
        if release.window_end <= release.at:
            if addressed:
                self._find(
                    release.seq, "queue_jump", f"release {release.id}: offers without window"
                )
            return
        wanted = self._wanted(release)
        for tag in addressed:
            if tag in wanted:
                continue
            head = release.twin_of.get(tag)
            if head is not None and head in wanted:
                why = f"a twin of {head}, not eligible for the group"
            elif head is not None:
                why = f"a twin of {head}, who was not first in the queue"
            elif tag in release.expected:
                continue  # in the queue, but not first: the application skipped is named below
            else:
                why = "not an eligible application of the kindergarten's queue"
            self._find(release.seq, "queue_jump", f"release {release.id}: offer to {tag}, {why}")
        for tag, position in wanted.items():
            if tag not in release.offers:
                self._find(
                    release.seq,
                    "queue_jump",
                    f"release {release.id}: eligible application {tag} "
                    f"(place {position} of the queue) skipped",
                )

    def _wanted(self, release: _Release) -> dict[str, int]:
        """The release's addressees by the rules (tag -> place in the queue): its queue's first
        eligible applications, each bringing the twins the log says were offered with it
        (`twin_of`) when they may take a seat in the group; a batch larger than the seats left
        is passed over (`core.seats.offers.addressees_for`)."""
        batches: dict[str, list[str]] = {}
        for twin, head in release.twin_of.items():
            if self._twin_fits(release, twin):
                batches.setdefault(head, []).append(twin)
        wanted: dict[str, int] = {}
        passed: set[str] = set()  # twins of a batch passed over: they were not considered alone
        for position, tag in enumerate(release.expected, start=1):
            if len(wanted) >= release.seats:
                break
            if tag in wanted or tag in release.twin_of or tag in passed:
                continue  # came along with its twin (or is a twin: only its head brings it)
            if tag in release.passed_over:
                # The release says this batch was passed over. True only if its twins that
                # may take a seat of the group, with it, need more seats than are left;
                # otherwise it is wanted like any other, and its absence is a finding.
                twins = release.passed_over[tag]
                fitting = [t for t in twins if t not in wanted and self._twin_fits(release, t)]
                if 1 + len(fitting) > release.seats - len(wanted):
                    self.report.batches_passed_over += 1
                    passed.update(twins)
                    continue
            members = [tag, *(t for t in batches.get(tag, []) if t not in wanted)]
            if len(members) > release.seats - len(wanted):
                continue  # twins need more seats than are left: they keep their place
            wanted.update((member, position) for member in members)
        return wanted

    def _twin_fits(self, release: _Release, tag: str) -> bool:
        """A twin comes along only if it could take a seat of the group itself (the rule of
        `core.seats.eligibility.eligible_twins`); its kindergarten choice does not matter."""
        app = self.apps.get(tag)
        return (
            app is not None
            and app.queue == release.queue
            and app.cohort in release.years
            and tag not in release.held
            and tag not in release.excluded
            and self.problem(app, release.at) is None
        )

    def _eligible_order(self, release: _Release, at: datetime) -> list[str]:
        """The release queue's eligible applications in distribution order (as
        `core.seats.offers.addressees_for`: ineligible ones skipped, keeping the others' order)."""
        held = release.held = {
            tag
            for other in self.releases.values()
            if other.group == release.group and other.window_end > at
            for tag, status in other.offers.items()
            if status == "open"
        }
        cohort = [
            app
            for app in self.apps.values()
            if app.status == "active"
            and app.queue == release.queue
            and app.cohort in release.years
            and any(
                kg == release.kg and (release.language is None or lang in (None, release.language))
                for kg, lang in app.choices
            )
        ]
        order = distribution(cohort, self.rules.ratio)
        return [
            app.tag
            for app in order
            if app.tag not in held
            and app.tag not in release.excluded
            and self.problem(app, at) is None
        ]

    # --- referrals --------------------------------------------------------------------------

    def _referral_issued(self, leaf: Mapping[str, Any], seq: int, at: datetime) -> None:
        self.report.referrals_checked += 1
        tag = str(leaf.get("app"))
        app = self.apps.get(tag)
        release = self.releases.get(leaf.get("release"))
        if app is None:
            self._find(seq, "unknown", f"referral to an application not in the log ({tag})")
            return
        if release is None and "release" in leaf:
            self._find(
                seq, "unknown", f"referral of a seat of unknown release {leaf.get('release')}"
            )
        elif release is None and _exchange_of(leaf) is not None:
            self._exchange_referral(leaf, seq, tag)
        elif release is None:
            pass  # a referral loaded from before the log (no seat release to check it against)
        else:
            why = self.problem(app, at)
            if why is None and app.queue != release.queue:
                why = "group_kind_mismatch"
            if why is None and app.cohort not in release.years:
                why = "birth_year_mismatch"
            if why is None and None not in (app.city, release.city) and app.city != release.city:
                why = "city_mismatch"
            if why is not None:
                self._find(seq, "not_eligible", f"referral to {tag} ({why})")
            elif at < release.window_end and release.offers.get(tag) != "open":
                if release.taken_general < release.general_seats():
                    release.taken_general += 1
                else:
                    self._find(
                        seq,
                        "priority_seat_without_offer",
                        f"{tag} took a seat of release {release.id} during its priority "
                        "window without an offer",
                    )
            elif at >= release.window_end or release.offers.get(tag) != "open":
                release.taken_general += 1
            if release.offers.get(tag) == "open":
                release.offers[tag] = "taken"
        # Other open offers of the child cannot be used while the referral lives.
        for other in self.releases.values():
            if other.offers.get(tag) == "open":
                self._close_offer(other, tag, "lapsed", at)
        referral = str(leaf.get("referral", f"seq{seq}"))
        status = str(leaf.get("status", LIVE))
        if status not in LIVE_STATUSES:
            # imported as it stood (an enrolment of a past season): the child holds no live one
            self.referrals[referral] = (tag, status)
            return
        self.referrals[referral] = (tag, LIVE)
        child = self._child(app)
        self.live_children[child] = self.live_children.get(child, 0) + 1

    def _referral_status(self, leaf: Mapping[str, Any], action: str) -> None:
        referral = str(leaf.get("referral"))
        found = self.referrals.get(referral)
        status = str(leaf.get("status", action.split(".", 1)[1]))
        if found is None:
            return
        tag, current = found
        live_now = status in LIVE_STATUSES or (status in ("extended", "benefit_confirmed"))
        app = self.apps.get(tag)
        child = self._child(app) if app is not None else tag
        if current == LIVE and not live_now:
            self.live_children[child] = max(0, self.live_children.get(child, 0) - 1)
            self.referrals[referral] = (tag, status)
        elif current != LIVE and live_now and action.endswith(".undone"):
            # staff undid the enrolment, revocation or annulment: the referral lives again
            self.live_children[child] = self.live_children.get(child, 0) + 1
            self.referrals[referral] = (tag, LIVE)

    def _find(self, seq: int, check: str, detail: str) -> None:
        self.report.findings.append(Finding(seq, check, detail))


def replay(leaves: Iterable[Mapping[str, Any]], rules: Rules | None = None) -> ReplayReport:
    """Replay leaves (their JSON objects, in log order) and report what the rules did not allow."""
    state = Replay(rules)
    for leaf in leaves:
        state.feed(leaf)
    return state.finish()


def distribution(apps: Sequence[_App], ratio: int) -> list[_App]:
    """Distribution order (`core.queue.order.interleave`): extraordinary, then first-priority
    and general interleaved (one first-priority, then `ratio` general)."""
    streams: list[list[_App]] = [[] for _ in range(STREAMS)]
    for app in apps:
        rank = int(app.key[0]) if app.key else STREAMS - 1
        streams[min(max(rank, 0), STREAMS - 1)].append(app)
    for stream in streams:
        stream.sort(key=lambda a: tuple(_sortable(part) for part in a.key[1:]))
    return interleave(streams, ratio)


def interleave(streams: Sequence[Sequence[T]], ratio: int) -> list[T]:
    extraordinary, firsts, generals = (list(s) for s in streams)
    out: list[T] = list(extraordinary)
    i = j = 0
    while i < len(firsts) or j < len(generals):
        if ratio == 0:
            out.extend(firsts[i:])
            out.extend(generals[j:])
            break
        if i < len(firsts):
            out.append(firsts[i])
            i += 1
        take = min(ratio, len(generals) - j)
        out.extend(generals[j : j + take])
        j += take
    return out


def _rank(key: Sequence[Any]) -> int:
    try:
        return int(key[0])
    except (IndexError, TypeError, ValueError):
        return STREAMS - 1


def _sortable(part: Any) -> tuple[int, Any]:
    if isinstance(part, int | float):
        return (0, part)
    return (1, str(part))


def _choice(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, list | tuple):
        return (value[0], str(value[1]) if len(value) > 1 and value[1] is not None else None)
    return (value, None)


def _time(value: Any) -> datetime:
    if not value:
        return datetime.min.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _exchange_of(leaf: Mapping[str, Any]) -> int | None:
    """The exchange a referral leaf belongs to: its `exchange`, or a reason "exchange N"."""
    if leaf.get("exchange") is not None:
        return _int_or_none(leaf.get("exchange"))
    reason = str(leaf.get("reason") or "")
    if reason.startswith("exchange "):
        return _int_or_none(reason.split(" ", 1)[1])
    return None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
