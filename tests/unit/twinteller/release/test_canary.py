"""twinteller.release.canary: a new conversation's share of the canary (its own hash, not
the cutover's), the version each turn goes to (a conversation keeps the one it began on
while that is served), the canary state's checks and JSON, the per-version counts and
slots, and `regressed`, the guard's verdict (margin and z statistic over enough turns)."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from router.conversation.sessions import Context
from router.migration.shadow import assign
from twinteller.errors import InvalidArgument
from twinteller.migration.cutover import TWINTELLER, SystemCounts
from twinteller.release.canary import (
    ABORTED,
    PROMOTED,
    RUNNING,
    Canary,
    Thresholds,
    VersionCounts,
    VersionSlot,
    choose,
    regressed,
    share,
    total,
    z_statistic,
)

ACTIVE, CANARY = "v7", "v8"
IDS = [f"session-{n}" for n in range(10_000)]


def canary(percent: int = 10, state: str = RUNNING, **changes: object) -> Canary:
    """A canary of v8 beside v7 (the active version when it began)."""
    return replace(Canary(CANARY, ACTIVE, percent, state, started_at=1000.0), **changes)  # type: ignore[arg-type]


def session_with_share(below: int | None = None, at_least: int | None = None) -> str:
    for session_id in IDS:
        place = share(session_id)
        if (below is None or place < below) and (at_least is None or place >= at_least):
            return session_id
    raise AssertionError("no such session id")


def cutover_bucket(session_id: str) -> int:
    """The session's place 0..99 in the legacy cutover's share, found through `assign` itself:
    the smallest percentage that gives the conversation to twinteller, less one."""
    low, high = 1, 100  # assign(..., 100) is always twinteller
    while low < high:
        middle = (low + high) // 2
        if assign(session_id, Context(), middle) == TWINTELLER:
            high = middle
        else:
            low = middle + 1
    return low - 1


# --- share -------------------------------------------------------------------------------------


def test_share_is_stable_and_pinned() -> None:
    # Worked out by hand from sha256(b"canary:" + id): a change of hash or salt would move
    # conversations' shares between routers of two releases.
    assert [share(s) for s in ("alice", "session-1", "会话-7")] == [54, 53, 37]
    assert [share(s) for s in IDS[:200]] == [share(s) for s in IDS[:200]]


def test_share_spreads_uniformly_over_the_hundred_places() -> None:
    places = [share(s) for s in IDS]
    assert min(places) == 0 and max(places) == 99
    tenths = Counter(p // 10 for p in places)
    assert sorted(tenths) == list(range(10))
    for tenth, n in tenths.items():
        assert 850 <= n <= 1150, (tenth, n)  # 1000 expected, sd ~30


def test_share_is_not_the_cutovers_hash() -> None:
    ids = IDS[:1000]
    same = sum(share(s) == cutover_bucket(s) for s in ids)
    assert same < 50  # ~10 by chance; all 1000 if the two were one hash
    # Drawn independently: at 50% each, about a quarter of conversations get both.
    both = sum(share(s) < 50 and assign(s, Context(), 50) == TWINTELLER for s in ids)
    assert 200 <= both <= 300


def test_cutover_bucket_helper_agrees_with_the_unsalted_hash() -> None:
    # The helper really finds the cutover's places: "alice" is 1, "session-1" 96 (by hand).
    assert cutover_bucket("alice") == 1
    assert cutover_bucket("session-1") == 96


# --- choose ------------------------------------------------------------------------------------


def test_a_new_conversation_joins_the_canary_iff_its_share_is_below_the_percentage() -> None:
    state = canary(percent=10)
    chosen = {s: choose(s, "", False, state, ACTIVE) for s in IDS}
    assert set(chosen.values()) == {ACTIVE, CANARY}
    for session_id, version in chosen.items():
        assert (version == CANARY) == (share(session_id) < 10), session_id
    on_canary = sum(v == CANARY for v in chosen.values())
    assert 850 <= on_canary <= 1150


@pytest.mark.parametrize("percent", [1, 50, 99])
def test_the_canarys_share_of_new_conversations_follows_the_percentage(percent: int) -> None:
    on_canary = sum(choose(s, "", False, canary(percent=percent), ACTIVE) == CANARY for s in IDS)
    assert abs(on_canary - percent * 100) <= 200


def test_no_canary_serves_the_active_version() -> None:
    below = session_with_share(below=10)
    assert choose(below, "", False, None, ACTIVE) == ACTIVE
    assert choose(below, "", True, None, ACTIVE) == ACTIVE
    assert choose(below, "v3", True, None, ACTIVE) == ACTIVE


def test_while_running_a_conversation_stays_on_the_version_it_began_on() -> None:
    state = canary(percent=10)
    # Began on the canary, though its share is now outside the percentage.
    outside = session_with_share(at_least=10)
    assert choose(outside, CANARY, True, state, ACTIVE) == CANARY
    # Began on the active version, though its share is inside.
    inside = session_with_share(below=10)
    assert choose(inside, ACTIVE, True, state, ACTIVE) == ACTIVE


def test_after_promotion_a_conversation_finishes_on_the_old_version() -> None:
    promoted = canary(state=PROMOTED)
    inside, outside = session_with_share(below=10), session_with_share(at_least=10)
    # v8 is the active version now; v7 (the baseline) stays loaded for those begun on it.
    assert choose(outside, ACTIVE, True, promoted, CANARY) == ACTIVE
    assert choose(inside, CANARY, True, promoted, CANARY) == CANARY
    # A version served by neither moves to the active one.
    assert choose(inside, "v6", True, promoted, CANARY) == CANARY
    # New conversations all go to the (new) active version: the canary is over.
    assert choose(inside, "", False, promoted, CANARY) == CANARY
    assert choose(outside, "", False, promoted, CANARY) == CANARY


def test_after_an_abort_the_canarys_conversations_move_back_to_the_active_version() -> None:
    aborted = canary(state=ABORTED)
    inside = session_with_share(below=10)
    assert choose(inside, CANARY, True, aborted, ACTIVE) == ACTIVE
    assert choose(inside, ACTIVE, True, aborted, ACTIVE) == ACTIVE
    assert choose(inside, "", False, aborted, ACTIVE) == ACTIVE


def test_a_conversation_older_than_the_canary_stays_on_the_active_version() -> None:
    inside = session_with_share(below=10)
    assert choose(inside, "", False, canary(percent=10), ACTIVE) == CANARY  # as a new one it would join
    assert choose(inside, "", True, canary(percent=10), ACTIVE) == ACTIVE


def test_raising_the_percentage_moves_no_conversation_that_has_begun() -> None:
    sessions = IDS[:1000]
    began = {s: choose(s, "", False, canary(percent=10), ACTIVE) for s in sessions}
    on_active = [s for s, v in began.items() if v == ACTIVE]
    # Some of them would join the canary at 50% as new conversations: the case that matters.
    assert sum(share(s) < 50 for s in on_active) > 300

    raised = canary(percent=50)
    after = {s: choose(s, began[s], True, raised, ACTIVE) for s in sessions}

    assert after == began


# --- the canary state --------------------------------------------------------------------------


@pytest.mark.parametrize("percent", [0, 100, -1, 250])
def test_a_percentage_outside_1_to_99_is_refused(percent: int) -> None:
    with pytest.raises(InvalidArgument, match="canary_percent"):
        canary(percent=percent).validated()


@pytest.mark.parametrize("percent", [1, 99])
def test_a_percentage_within_1_to_99_is_taken(percent: int) -> None:
    assert canary(percent=percent).validated().percent == percent


def test_an_unknown_state_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="state"):
        canary(state="PAUSED").validated()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_turns", 0),
        ("min_turns", 1_000_001),
        ("min_ratings", 0),
        ("margin", -0.01),
        ("margin", 1.5),
        ("z", -1.0),
        ("z", 10.5),
        ("latency_factor", 0.5),
        ("latency_factor", 101.0),
    ],
)
def test_thresholds_out_of_range_are_refused_naming_the_field(field: str, value: Any) -> None:
    bad = canary(thresholds=replace(Thresholds(), **{field: value}))
    with pytest.raises(InvalidArgument, match=rf"thresholds\.{field}"):
        bad.validated()


def test_the_default_thresholds_are_valid() -> None:
    assert Thresholds().validated() == Thresholds(100, 30, 0.05, 3.0, 2.0)


def test_the_canary_survives_a_json_round_trip() -> None:
    state = Canary(
        "v8",
        "v7",
        25,
        ABORTED,
        1000.5,
        2000.25,
        "ops@example.com",
        "rephrases: à revoir",
        Thresholds(50, 10, 0.1, 2.5, 3.0),
    )
    raw = state.to_json()
    assert json.loads(raw)["thresholds"]["min_turns"] == 50
    assert Canary.from_json(raw) == state


def test_a_canary_stored_without_thresholds_reads_with_the_defaults() -> None:
    raw = json.dumps({"version": "v8", "baseline": "v7", "percent": 5}).encode()
    assert Canary.from_json(raw) == Canary("v8", "v7", 5, RUNNING, thresholds=Thresholds())


def test_ended_keeps_the_trial_and_records_who_why_and_when() -> None:
    state = canary(percent=20, updated_by="ops", updated_at=1000.0)
    ended = state.ended(ABORTED, "canary-guard", "too many rephrases", 5000.0)
    assert ended == replace(
        state, state=ABORTED, updated_by="canary-guard", reason="too many rephrases", updated_at=5000.0
    )
    assert state.state == RUNNING  # not changed in place


def test_serving_per_state() -> None:
    assert canary(state=RUNNING).serving(ACTIVE) == {ACTIVE, CANARY}
    assert canary(state=PROMOTED).serving(CANARY) == {CANARY, ACTIVE}
    assert canary(state=ABORTED).serving(ACTIVE) == {ACTIVE}


# --- counts per version ------------------------------------------------------------------------


def counts(
    turns: int,
    *,
    fallbacks: int = 0,
    clarifies: int = 0,
    handoffs: int = 0,
    rephrases: int = 0,
    errors: int = 0,
    latency_s: float = 0.02,
) -> VersionCounts:
    """`turns` asked: the first `errors` failed, then fallbacks, clarifies, handoffs answered; the
    first `rephrases` answered ones were asked again."""
    c = VersionCounts()
    for n in range(turns):
        if n < errors:
            c.failed_turn()
            continue
        k = n - errors
        action = (
            "FALLBACK"
            if k < fallbacks
            else "CLARIFY"
            if k < fallbacks + clarifies
            else "HANDOFF"
            if k < fallbacks + clarifies + handoffs
            else "ANSWER"
        )
        c.answered_turn(action, rephrase=k < rephrases, latency_s=latency_s)
    return c


def rated(c: VersionCounts, ratings: int, low: int) -> VersionCounts:
    for n in range(ratings):
        c.rated(1 if n < low else 5)
    return c


def test_version_counts_count_each_outcome_over_what_it_is_out_of() -> None:
    c = counts(10, fallbacks=1, clarifies=2, handoffs=3, rephrases=4, errors=2)
    c.rated(1)
    c.rated(2)
    c.rated(3)
    c.rated(5)

    assert c.asked == 10 and c.answered == 8 and c.errors == 2
    assert c.rates() == {
        "fallback": (1, 8),
        "clarify": (2, 8),
        "handoff": (3, 8),
        "rephrase": (4, 8),
        "error": (2, 10),
        "low rating": (2, 4),
    }
    assert sum(c.latency) == 8  # failed turns have no latency


def test_adding_version_counts_adds_every_field() -> None:
    a = rated(counts(10, fallbacks=1, clarifies=1, handoffs=1, rephrases=1, errors=1), 3, 1)
    b = rated(counts(20, fallbacks=2, clarifies=3, handoffs=4, rephrases=5, errors=6, latency_s=0.3), 4, 2)

    a.add(b)

    assert a.rates() == {
        "fallback": (3, 23),
        "clarify": (4, 23),
        "handoff": (5, 23),
        "rephrase": (6, 23),
        "error": (7, 30),
        "low rating": (3, 7),
    }
    assert sum(a.latency) == 23
    assert b.rates()["handoff"] == (4, 14)  # the other is left as it was


def test_adding_plain_system_counts_adds_what_they_have() -> None:
    a = counts(10, handoffs=2, rephrases=3)
    plain = SystemCounts()
    plain.observe(served=True, fallback=True, error=False, latency_s=0.01)
    plain.observe(served=False, fallback=False, error=True, latency_s=None)

    a.add(plain)

    assert (a.asked, a.fallbacks, a.errors, a.answered) == (12, 1, 1, 11)
    assert (a.handoffs, a.rephrases, a.clarifies, a.ratings) == (2, 3, 0, 0)
    assert sum(a.latency) == 11


def test_a_version_slot_survives_a_json_round_trip() -> None:
    slot = VersionSlot(123_456)
    slot.versions[ACTIVE] = rated(counts(10, fallbacks=1, rephrases=2, errors=1), 5, 2)
    slot.versions[CANARY] = counts(3, handoffs=1, latency_s=0.7)

    back = VersionSlot.from_json(slot.to_json())

    assert back == slot
    assert isinstance(back.versions[CANARY], VersionCounts)
    assert back.of(CANARY).handoffs == 1


def test_of_creates_the_counts_of_an_unseen_version_once() -> None:
    slot = VersionSlot(1)
    slot.of("v9").rated(1)
    slot.of("v9").rated(5)
    assert slot.versions["v9"].ratings == 2


def test_total_adds_up_slots_version_by_version() -> None:
    one, two, three = VersionSlot(1), VersionSlot(2), VersionSlot(3)
    one.versions[ACTIVE] = counts(10, fallbacks=1)
    two.versions[ACTIVE] = counts(5, fallbacks=2)
    two.versions[CANARY] = counts(4, rephrases=4)
    three.versions["v6"] = counts(1)

    summed = total([one, two, three])

    assert set(summed.versions) == {ACTIVE, CANARY, "v6"}
    assert summed.of(ACTIVE).rates()["fallback"] == (3, 15)
    assert summed.of(CANARY).rates()["rephrase"] == (4, 4)
    assert summed.of("v6").asked == 1
    assert one.of(ACTIVE).asked == 10  # the slots read are not changed
    assert total([]).versions == {}


# --- z statistic -------------------------------------------------------------------------------


def test_z_statistic_against_a_hand_computed_value() -> None:
    # 30/100 against 10/100: pooled 0.2, spread sqrt(0.2 * 0.8 * 0.02) = 0.04 * sqrt(2),
    # z = 0.2 / (0.04 * sqrt(2)) = 5 / sqrt(2).
    assert z_statistic(30, 100, 10, 100) == pytest.approx(5 / math.sqrt(2))
    # One-sided: the other way round it is negative.
    assert z_statistic(10, 100, 30, 100) == pytest.approx(-5 / math.sqrt(2))
    # Unequal samples: 3/10 against 1/10 (pooled 0.2, spread sqrt(0.16 * 0.2)).
    assert z_statistic(3, 10, 1, 10) == pytest.approx(0.2 / math.sqrt(0.032))
    assert z_statistic(20, 50, 10, 150) == pytest.approx((0.4 - 1 / 15) / math.sqrt(0.15 * 0.85 * (1 / 50 + 1 / 150)))


@pytest.mark.parametrize(("bad_a", "bad_b"), [(0, 0), (40, 60)])
def test_z_statistic_without_variance_is_zero(bad_a: int, bad_b: int) -> None:
    # No bad outcomes on either side, or all bad on both: nothing to tell them apart.
    assert z_statistic(bad_a, 40, bad_b, 60) == 0.0


# --- regressed ---------------------------------------------------------------------------------

RULES = Thresholds(min_turns=100, min_ratings=30, margin=0.05, z=3.0, latency_factor=2.0)


def test_equal_versions_do_not_regress() -> None:
    assert regressed(RULES, counts(1000, fallbacks=50, rephrases=30), counts(1000, fallbacks=50, rephrases=30)) == ""


def test_many_rephrases_abort_naming_the_rate() -> None:
    reason = regressed(RULES, counts(100, rephrases=40), counts(100, rephrases=2))
    assert reason.startswith("rephrase rate 40.0% over 100")
    assert "2.0% over 100" in reason


@pytest.mark.parametrize(("mine", "theirs"), [(99, 100), (100, 99)])
def test_nothing_is_judged_before_min_turns_on_each_side(mine: int, theirs: int) -> None:
    assert regressed(RULES, counts(mine, rephrases=mine // 2), counts(theirs)) == ""
    assert regressed(RULES, counts(100, rephrases=50), counts(100)) != ""  # at min_turns it is


@pytest.mark.parametrize(
    ("kind", "named"),
    [("fallbacks", "fallback"), ("handoffs", "handoff"), ("rephrases", "rephrase"), ("errors", "error")],
)
def test_each_bad_outcome_can_abort(kind: str, named: str) -> None:
    reason = regressed(RULES, counts(200, **{kind: 60}), counts(200, **{kind: 4}))
    assert reason.startswith(f"{named} rate 30.0%")


def test_the_active_version_doing_worse_is_no_regression() -> None:
    assert regressed(RULES, counts(200, fallbacks=4), counts(200, fallbacks=60)) == ""


def test_a_difference_within_the_margin_does_not_abort_however_sure() -> None:
    # 7% against 3% over 100,000 turns each: z ~ 40, but 4 points is under the 5 point margin.
    mine, theirs = counts(100_000, rephrases=7_000), counts(100_000, rephrases=3_000)
    assert z_statistic(7_000, 100_000, 3_000, 100_000) > 30
    assert regressed(RULES, mine, theirs) == ""
    assert regressed(replace(RULES, margin=0.03), mine, theirs).startswith("rephrase")


def test_a_difference_over_the_margin_in_a_small_sample_does_not_abort() -> None:
    # 30% against 10% over 10 turns each: 20 points, but z ~ 1.1.
    rules = replace(RULES, min_turns=10)
    mine, theirs = counts(10, fallbacks=3), counts(10, fallbacks=1)
    assert regressed(rules, mine, theirs) == ""
    assert regressed(replace(rules, z=1.0), mine, theirs).startswith("fallback")


def test_clarifying_more_never_aborts() -> None:
    assert regressed(RULES, counts(1000, clarifies=900), counts(1000)) == ""


def test_low_ratings_need_min_ratings_on_each_side() -> None:
    assert regressed(RULES, rated(counts(200), 29, 20), rated(counts(200), 100, 2)) == ""
    assert regressed(RULES, rated(counts(200), 100, 70), rated(counts(200), 29, 0)) == ""
    reason = regressed(RULES, rated(counts(200), 30, 20), rated(counts(200), 30, 0))
    assert reason.startswith("low rating rate 66.7% over 30")


def test_ratings_do_not_need_min_turns() -> None:
    # Ratings are judged on their own count, whatever the number of turns.
    reason = regressed(RULES, rated(counts(10), 40, 30), rated(counts(10), 40, 1))
    assert reason.startswith("low rating")


def test_a_p99_latency_over_the_factor_aborts() -> None:
    # All the active's turns take 20 ms (p99 ~ 19.9 ms), the canary's 300 ms (~ 497 ms).
    reason = regressed(RULES, counts(100, latency_s=0.3), counts(100, latency_s=0.02))
    assert reason.startswith("p99 latency")
    assert "497 ms" in reason and "20 ms" in reason


def test_a_p99_latency_within_the_factor_and_slack_does_not_abort() -> None:
    # 30 ms against 20 ms (p99 ~ 49.7 against ~ 19.9): over twice, but within twice plus 20 ms.
    assert regressed(RULES, counts(100, latency_s=0.03), counts(100, latency_s=0.02)) == ""


def test_latency_is_not_judged_before_min_turns() -> None:
    assert regressed(RULES, counts(99, latency_s=0.3), counts(100, latency_s=0.02)) == ""
    assert regressed(RULES, counts(100, latency_s=0.3), counts(99, latency_s=0.02)) == ""
