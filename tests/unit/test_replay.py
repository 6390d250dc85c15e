"""The public-log replay on hand-built leaves: a fair history passes, a queue jump is named."""

from __future__ import annotations

from typing import Any

from verifier.replay import Rules, replay

KG = 7
GROUP = 70
RULES = Rules(ratio=3)


def _app(
    seq: int, tag: str, *, tier: int = 2, at: str, kg: int = KG, cohort: int = 2022
) -> dict[str, Any]:
    return {
        "v": 1,
        "seq": seq,
        "at": at,
        "action": "application.registered",
        "stream": "application",
        "app": tag,
        "status": "active",
        "cohort": cohort,
        "queue": "general",
        "tier": ["extraordinary", "first", "none"][tier],
        "key": [tier, at, seq],
        "city": 1,
        "child": f"child-{tag}",
        "mode": "immediately",
        "from": None,
        "choices": [[kg, "ru"]],
    }


def _history(addressee: str, taker: str) -> list[dict[str, Any]]:
    """Three applications of 2022 choose the kindergarten; one seat is released with a day's
    window; `addressee` is offered it and `taker` takes it."""
    return [
        _app(0, "a", at="2025-01-10T05:00:00Z"),
        _app(1, "b", at="2025-01-11T05:00:00Z"),
        _app(2, "c", at="2025-01-12T05:00:00Z"),
        {
            "v": 1,
            "seq": 3,
            "at": "2025-09-01T05:00:00Z",
            "action": "seats.released",
            "stream": "seat_release",
            "release": 1,
            "kg": KG,
            "group": GROUP,
            "city": 1,
            "cohort": [2022, 2022],
            "queue": "general",
            "language": "ru",
            "seats": 1,
            "window_end": "2025-09-02T05:00:00Z",
            "at_once": 0,
            "excluded": [],
        },
        {
            "v": 1,
            "seq": 4,
            "at": "2025-09-01T05:00:00Z",
            "action": "offer.created",
            "stream": "offer",
            "app": addressee,
            "release": 1,
        },
        {
            "v": 1,
            "seq": 5,
            "at": "2025-09-01T08:00:00Z",
            "action": "referral.issued",
            "stream": "referral",
            "app": taker,
            "referral": "r1",
            "release": 1,
            "group": GROUP,
            "kg": KG,
        },
    ]


def test_the_first_in_line_offered_and_referred_is_no_jump() -> None:
    report = replay(_history("a", "a"), RULES)

    assert report.ok, report.lines()
    assert report.events == 6
    assert report.referrals_checked == 1
    assert report.offers_checked == 1


def test_an_offer_to_the_second_in_line_is_a_queue_jump_naming_the_skipped_application() -> None:
    report = replay(_history("b", "b"), RULES)

    assert report.jumps == 1
    assert report.findings[0].check == "queue_jump"
    assert "a" in report.findings[0].detail and "skipped" in report.findings[0].detail


def test_a_priority_seat_taken_without_an_offer_is_found() -> None:
    report = replay(_history("a", "c"), RULES)

    assert [f.check for f in report.findings] == ["priority_seat_without_offer"]


def test_a_stop_listed_application_is_passed_over_without_a_jump() -> None:
    leaves = _history("b", "b")
    stop = {
        "v": 1,
        "seq": 3,
        "at": "2025-08-01T05:00:00Z",
        "action": "application.stop_listed",
        "stream": "application",
        "app": "a",
        "status": "stop_listed",
    }
    leaves = [*leaves[:3], stop, *leaves[3:]]

    assert replay(leaves, RULES).ok


def test_an_extraordinary_application_comes_before_an_earlier_general_one() -> None:
    leaves = _history("x", "x")
    leaves.insert(3, _app(9, "x", tier=0, at="2025-06-01T05:00:00Z"))

    assert replay(leaves, RULES).ok
    leaves[4 + 1]["app"] = "a"  # the offer goes to the earlier general application instead
    leaves[-1]["app"] = "a"

    report = replay(leaves, RULES)
    assert [f.check for f in report.findings] == ["queue_jump"]
    assert "x (place 1 of the queue) skipped" in report.findings[0].detail


def test_a_referral_to_a_child_too_old_is_not_eligible() -> None:
    leaves = _history("a", "a")
    leaves[3]["cohort"] = [2019, 2019]
    leaves[3]["window_end"] = leaves[3]["at"]  # no window: general access at once
    leaves[3]["at_once"] = 1
    del leaves[4]
    leaves[0]["cohort"] = 2019

    report = replay(leaves, RULES)
    assert [f.check for f in report.findings] == ["not_eligible"]
    assert "child_turns_six" in report.findings[0].detail


def _leaf(seq: int, action: str, app: str, **facts: Any) -> dict[str, Any]:
    stream = action.split(".", 1)[0]
    stream = {"benefit": "application", "offer": "offer"}.get(stream, stream)
    leaf = {"v": 1, "seq": seq, "at": "2025-08-01T05:00:00Z", "action": action, "stream": stream}
    return leaf | {"app": app, **facts}


def test_a_leaf_restating_an_earlier_submission_time_is_a_changed_key() -> None:
    leaves = _history("a", "a")
    restored = _leaf(3, "application.restored", "c", status="active")
    restored["key"] = [2, "2024-01-01T00:00:00Z", 2]  # c moved before a and b
    leaves.insert(3, restored)

    report = replay(leaves, RULES)

    assert report.findings[0].check == "key_changed"  # (then c is first in line: a jump)
    assert "submission time" in report.findings[0].detail


def test_a_better_stream_rank_without_a_benefit_decision_is_a_changed_key() -> None:
    leaves = _history("a", "a")
    restored = _leaf(3, "application.restored", "c", status="active")
    restored["key"] = [0, "2025-01-12T05:00:00Z", 2]  # extraordinary, same submission time
    leaves.insert(3, restored)

    report = replay(leaves, RULES)

    assert report.findings[0].check == "key_changed"
    assert "stream rank 2 restated as 0 without a benefit decision" in report.findings[0].detail


def test_a_confirmed_benefit_keeps_the_application_in_the_queue_ahead_of_general_ones() -> None:
    leaves = _history("c", "c")
    confirmed = _leaf(3, "benefit.confirmed", "c", status="confirmed", tier="first")
    confirmed["key"] = [1, "2025-01-12T05:00:00Z", 2]  # first priority from now on
    leaves.insert(3, confirmed)

    report = replay(leaves, RULES)

    assert report.ok, report.lines()  # no changed key, and c is still active: first in line


def _twins(
    offers: list[tuple[str, str | None]], *, twin_cohort: int = 2022
) -> list[dict[str, Any]]:
    """a, b, c choose the kindergarten; t, the twin of one of them, chose another; a release of
    two seats is offered as `offers` says ((app, twin_of))."""
    leaves = _history("a", "a")[:4]
    leaves.insert(3, _app(9, "t", at="2025-01-09T05:00:00Z", kg=KG + 1, cohort=twin_cohort))
    leaves[4]["seats"] = 2
    for seq, (app, twin_of) in enumerate(offers, start=10):
        offer = _leaf(seq, "offer.created", app, release=1)
        offer["at"] = leaves[4]["at"]
        if twin_of is not None:
            offer["twin_of"] = twin_of
        leaves.append(offer)
    return leaves


def test_a_twin_offered_with_its_sibling_first_in_line_is_no_jump() -> None:
    report = replay(_twins([("a", None), ("t", "a")]), RULES)

    assert report.ok, report.lines()
    assert report.offers_checked == 2


def test_a_twin_offered_with_a_sibling_not_first_in_line_is_a_jump() -> None:
    report = replay(_twins([("b", None), ("t", "b")]), RULES)

    details = [f.detail for f in report.findings]
    assert {f.check for f in report.findings} == {"queue_jump"}, details
    assert any("offer to t, a twin of b, who was not first in the queue" in d for d in details)
    assert any("a (place 1 of the queue) skipped" in d for d in details)


def test_a_twin_that_may_not_take_a_seat_of_the_group_does_not_come_along() -> None:
    report = replay(_twins([("a", None), ("t", "a")], twin_cohort=2019), RULES)

    details = [f.detail for f in report.findings]
    assert any("offer to t, a twin of a, not eligible for the group" in d for d in details)
    assert any("b (place 2 of the queue) skipped" in d for d in details)


def test_an_offer_to_an_application_of_another_kindergarten_is_still_a_jump() -> None:
    report = replay(_twins([("a", None), ("t", None)]), RULES)

    details = [f.detail for f in report.findings]
    assert any("offer to t, not an eligible application" in d for d in details), details


def _passed_over(seats: int, offered: list[str]) -> list[dict[str, Any]]:
    """a and its twin t (who chose another kindergarten) head the queue; the release of `seats`
    says it passed their batch over and offers `offered`."""
    leaves = _twins([(app, None) for app in offered])
    leaves[4]["seats"] = seats
    leaves[4]["passed_over"] = [["a", ["t"]]]
    return leaves


def test_twins_passed_over_by_a_release_too_small_for_both_keep_their_place() -> None:
    report = replay(_passed_over(1, ["b"]), RULES)

    assert report.ok, report.lines()
    assert report.batches_passed_over == 1
    assert "twin batches passed over: 1" in report.lines()


def test_a_batch_said_passed_over_while_the_seats_suffice_is_a_jump() -> None:
    report = replay(_passed_over(2, ["b", "c"]), RULES)

    details = [f.detail for f in report.findings]
    assert any("a (place 1 of the queue) skipped" in d for d in details), details
    assert report.batches_passed_over == 0


def test_a_seat_whose_addressee_took_a_referral_elsewhere_is_open_to_everyone() -> None:
    """a is offered the seat of release 1, then takes a seat of release 2 (open to everyone at
    once): the offer can no longer be used, so the seat it held opens at once and c may take it
    before the window ends."""
    leaves = _history("a", "c")
    other = dict(leaves[3], seq=40, release=2, group=GROUP + 1, at="2025-09-01T06:00:00Z")
    other.update(window_end="2025-09-01T06:00:00Z", at_once=1)
    elsewhere = dict(leaves[5], seq=41, app="a", referral="r0", release=2, group=GROUP + 1)
    elsewhere["at"] = "2025-09-01T06:30:00Z"
    leaves[5:5] = [other, elsewhere]

    report = replay(leaves, RULES)

    assert report.ok, report.lines()
    assert report.referrals_checked == 2


def _swap(*, second_taker: str = "b", second_group: int = GROUP + 1) -> list[dict[str, Any]]:
    """a holds a place in GROUP + 1 and b in GROUP; exchange 5 swaps them."""
    leaves = [_app(0, "a", at="2025-01-10T05:00:00Z"), _app(1, "b", at="2025-01-11T05:00:00Z")]
    leaves.append(_app(2, "x", at="2025-01-12T05:00:00Z"))
    for seq, (app, group) in enumerate((("a", GROUP + 1), ("b", GROUP)), start=3):
        leaves.append(
            _leaf(seq, "referral.issued", app, referral=f"r{app}", group=group, kg=KG)
            | {"status": "enrolled"}
        )
    moves = [("a", GROUP + 1, "a", GROUP), ("b", GROUP, second_taker, second_group)]
    seq = 10
    for gave_app, gave_group, got_app, got_group in moves:
        leaves.append(
            _leaf(seq, "referral.exchanged", gave_app, referral=f"r{gave_app}", group=gave_group)
            | {"status": "exchanged", "reason": "exchange 5"}
        )
        leaves.append(
            _leaf(seq + 1, "referral.issued", got_app, referral=f"n{got_app}", group=got_group)
            | {"status": "awaiting_enrollment", "kg": KG, "exchange": 5}
        )
        seq += 2
    leaves.append(
        {
            "v": 1,
            "seq": seq,
            "at": "2025-09-01T05:00:00Z",
            "action": "exchange.carried_out",
            "stream": "exchange",
            "exchange": 5,
            "size": 2,
            "moves": [[KG, GROUP], [KG, second_group]],
        }
    )
    return leaves


def test_an_exchange_that_swaps_the_places_given_up_is_fair() -> None:
    report = replay(_swap(), RULES)

    assert report.ok, report.lines()
    assert report.exchanges_checked == 1


def test_an_exchange_referral_to_a_family_that_gave_no_place_is_found() -> None:
    report = replay(_swap(second_taker="x"), RULES)

    details = [f.detail for f in report.findings]
    assert [f.check for f in report.findings] == ["exchange"], details
    assert "referral to x by exchange 5 without a place given up in it" in details[0]


def test_an_exchange_handing_out_a_group_nobody_gave_up_is_found() -> None:
    report = replay(_swap(second_group=GROUP + 7), RULES)

    assert [f.check for f in report.findings] == ["exchange"], report.lines()
