"""The cutover's shared counts (twinteller/migration/cutover.py): slots round-trip through JSON and
add up across routers, latency percentiles come from the histogram, the state is checked,
and `regressed` says when twinteller does worse than the legacy by more than a margin."""

from __future__ import annotations

import pytest

from twinteller.errors import InvalidArgument
from twinteller.migration.cutover import LEGACY, TWINTELLER, Cutover, Slot, SystemCounts, regressed, rolled_back, total


def counts(asked: int, fallbacks: int = 0, errors: int = 0, latency_s: float = 0.01) -> SystemCounts:
    c = SystemCounts()
    for n in range(asked):
        c.observe(served=False, fallback=n < fallbacks, error=fallbacks <= n < fallbacks + errors, latency_s=latency_s)
    return c


def slot(twinteller: SystemCounts, legacy: SystemCounts, number: int = 1) -> Slot:
    s = Slot(number)
    s.systems = {TWINTELLER: twinteller, LEGACY: legacy}
    return s


def test_slot_json_round_trip() -> None:
    s = slot(counts(5, fallbacks=1), counts(5, errors=2), number=17)
    s.compared, s.agreed = 3, 2
    s.differences[("LOST", "card_arrival", "ANSWER")] += 2
    assert Slot.from_json(s.to_json()) == s


def test_slots_add_up() -> None:
    a = slot(counts(4, fallbacks=1), counts(4))
    b = slot(counts(6, errors=3), counts(6, fallbacks=6))
    a.differences[("", "balance", "ANSWER")] = 1
    b.differences[("", "balance", "ANSWER")] = 2
    summed = total([a, b])
    assert summed.systems[TWINTELLER].asked == 10 and summed.systems[TWINTELLER].errors == 3
    assert summed.systems[LEGACY].fallbacks == 6
    assert summed.differences[("", "balance", "ANSWER")] == 3


def test_rates_count_fallbacks_among_answers_and_errors_among_asks() -> None:
    c = counts(10, fallbacks=2, errors=5)
    assert c.answered == 5 and c.fallback_rate == pytest.approx(2 / 5) and c.error_rate == pytest.approx(0.5)
    assert SystemCounts().fallback_rate == 0.0 and SystemCounts().error_rate == 0.0


def test_percentiles_from_the_histogram() -> None:
    c = SystemCounts()
    for ms in [3] * 50 + [40] * 49 + [900]:
        c.observe(served=True, fallback=False, error=False, latency_s=ms / 1000)
    assert 2 <= c.percentile_ms(0.5) <= 5  # inside the 2-5 ms bucket
    assert 20 <= c.percentile_ms(0.9) <= 50
    assert 500 <= c.percentile_ms(1.0) <= 1000
    assert SystemCounts().percentile_ms(0.5) == 0.0


def test_a_failed_call_has_no_latency() -> None:
    c = SystemCounts()
    c.observe(served=False, fallback=True, error=True, latency_s=3.0)
    assert sum(c.latency) == 0 and c.errors == 1 and c.fallbacks == 0


def test_regression_by_fallbacks() -> None:
    state = Cutover(enabled=True, twinteller_percent=50, fallback_margin=0.1, min_turns=10)
    assert "fallback rate 50.0%" in regressed(state, slot(counts(20, fallbacks=10), counts(20, fallbacks=2)))
    assert regressed(state, slot(counts(20, fallbacks=4), counts(20, fallbacks=2))) == ""  # within the margin


def test_regression_by_errors() -> None:
    state = Cutover(enabled=True, twinteller_percent=10, error_margin=0.05, min_turns=10)
    assert "error rate" in regressed(state, slot(counts(20, errors=4), counts(20)))


@pytest.mark.parametrize(
    "state",
    [
        Cutover(enabled=False, twinteller_percent=50, min_turns=1),
        Cutover(enabled=True, twinteller_percent=0, min_turns=1),  # nothing to roll back
        Cutover(enabled=True, twinteller_percent=50, min_turns=30),  # too few turns to judge
    ],
)
def test_no_judgement_without_cause(state: Cutover) -> None:
    assert regressed(state, slot(counts(20, fallbacks=20), counts(20))) == ""


def test_rollback_keeps_the_shadow_on() -> None:
    back = rolled_back(Cutover(enabled=True, twinteller_percent=50), "worse", 123.0)
    assert (back.enabled, back.twinteller_percent, back.updated_by, back.reason, back.updated_at) == (
        True,
        0,
        "cutover-guard",
        "worse",
        123.0,
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"twinteller_percent": 101}, "twinteller_percent"),
        ({"twinteller_percent": -1}, "twinteller_percent"),
        ({"fallback_margin": 1.5}, "fallback_margin"),
        ({"error_margin": -0.1}, "error_margin"),
        ({"window_s": 5}, "window_s"),
        ({"min_turns": 0}, "min_turns"),
        ({"reason": "x" * 600}, "reason"),
    ],
)
def test_bad_states_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        Cutover(**fields).validated()  # type: ignore[arg-type]


def test_state_json_round_trip() -> None:
    state = Cutover(enabled=True, twinteller_percent=30, reason="第一步", updated_by="ops", updated_at=5.0)
    assert Cutover.from_json(state.to_json()) == state
