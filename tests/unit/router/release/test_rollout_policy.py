"""router/release/rollout.py, its pure parts: `refusal` (the conversation-test gate's verdict
on a candidate version against the floor and the active version) and `thresholds_of` (a
request's canary thresholds, 0 meaning the default, checked)."""

from __future__ import annotations

from typing import Any

import pytest

from router.release.rollout import refusal, thresholds_of
from twinteller.errors import InvalidArgument
from twinteller.release.canary import Thresholds
from twinteller.release.results import CaseResult, Observed, RunResult, SuiteResult, TurnResult
from twinteller.v1 import knowledge_pb2 as kpb

GOOD = Observed("ANSWER", "lost_or_stolen_card", "Freeze your card.", "en")


def case(name: str, passed: bool) -> CaseResult:
    found = () if passed else ("intent: expected 'lost_or_stolen_card', got 'greeting'",)
    return CaseResult(name, (TurnResult(0, "I lost my card", GOOD, found),))


def run(version: str, passed: int, cases: int) -> RunResult:
    """A run of `version` passing `passed` of `cases` cases (in two suites)."""
    results = [case(f"case {n}", n < passed) for n in range(cases)]
    half = cases // 2
    return RunResult(
        version, (SuiteResult("cards", tuple(results[:half])), SuiteResult("loans", tuple(results[half:])))
    )


# --- refusal -----------------------------------------------------------------------------------


def test_the_run_helper_counts_as_meant() -> None:
    r = run("v8", 7, 10)
    assert (r.passed, r.cases, r.pass_rate) == (7, 10, 0.7)


def test_below_the_floor_is_refused_whatever_the_active_version_did() -> None:
    why = refusal(run("v8", 7, 10), run("v7", 5, 10), floor=0.8)
    assert "v8" in why and "70.0%" in why and "floor 80.0%" in why


def test_below_the_floor_is_refused_with_no_active_run() -> None:
    assert "floor" in refusal(run("v8", 79, 100), None, floor=0.8)


def test_at_the_floor_is_taken() -> None:
    assert refusal(run("v8", 8, 10), None, floor=0.8) == ""


def test_fewer_passes_than_the_active_version_is_refused() -> None:
    why = refusal(run("v8", 9, 10), run("v7", 10, 10), floor=0.5)
    assert "9/10" in why and "10/10" in why and "v7" in why
    assert "floor" not in why


def test_a_smaller_share_though_more_cases_passed_is_refused() -> None:
    # Shares, not counts: 18 of 20 is less than 10 of 10 (suites may differ between the runs).
    assert refusal(run("v8", 18, 20), run("v7", 10, 10), floor=0.5) != ""


def test_as_many_passes_as_the_active_version_is_taken() -> None:
    assert refusal(run("v8", 9, 10), run("v7", 9, 10), floor=0.5) == ""


def test_more_passes_than_the_active_version_is_taken() -> None:
    assert refusal(run("v8", 10, 10), run("v7", 6, 10), floor=0.5) == ""


def test_with_no_active_run_only_the_floor_counts() -> None:
    assert refusal(run("v8", 6, 10), None, floor=0.5) == ""


def test_no_cases_pass_any_floor() -> None:
    # An empty run passes everything it was asked (pass_rate 1.0).
    assert refusal(run("v8", 0, 0), run("v7", 3, 4), floor=1.0) == ""


# --- thresholds_of -----------------------------------------------------------------------------


def test_unset_thresholds_are_the_defaults() -> None:
    assert thresholds_of(kpb.CanaryThresholds()) == Thresholds()
    assert thresholds_of(kpb.CanaryThresholds()) == Thresholds(100, 30, 0.05, 3.0, 2.0)


def test_given_thresholds_are_kept() -> None:
    raw = kpb.CanaryThresholds(min_turns=500, min_ratings=40, margin=0.1, z=2.5, latency_factor=1.5)
    assert thresholds_of(raw) == Thresholds(500, 40, 0.1, 2.5, 1.5)


def test_some_given_the_rest_default() -> None:
    assert thresholds_of(kpb.CanaryThresholds(z=4.0)) == Thresholds(z=4.0)
    assert thresholds_of(kpb.CanaryThresholds(min_ratings=7)) == Thresholds(min_ratings=7)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_turns", -1),
        ("min_turns", 2_000_000),
        ("min_ratings", -5),
        ("margin", 1.5),
        ("margin", -0.1),
        ("z", 11.0),
        ("z", -2.0),
        ("latency_factor", 0.5),
        ("latency_factor", 500.0),
    ],
)
def test_thresholds_out_of_range_are_refused(field: str, value: Any) -> None:
    with pytest.raises(InvalidArgument, match=rf"thresholds\.{field}"):
        thresholds_of(kpb.CanaryThresholds(**{field: value}))
