"""insights/trends.py: rising shares, the window/baseline split, satisfaction groups."""

from __future__ import annotations

import datetime
import math
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from insights.trends import TrendPolicy, rising, satisfaction, split
from twinteller.knowledge.insights_document import Rating, Trend

POLICY = TrendPolicy()  # min_count 5, min_score 3.0, min_ratio 2.0


def _rising(
    window: dict[str, int], baseline: dict[str, int], policy: TrendPolicy = POLICY, **kw: object
) -> list[Trend]:
    return rising(
        "intent",
        Counter(window),
        Counter(baseline),
        sum(window.values()),
        sum(baseline.values()),
        policy,
        **kw,  # type: ignore[arg-type]
    )


# --- rising -------------------------------------------------------------------------------


def test_a_name_whose_share_rises_trends() -> None:
    baseline = {"card_arrival": 10, "balance": 590, "top_up": 400}  # card_arrival: 1% of turns
    window = {"card_arrival": 20, "balance": 48, "top_up": 32}  # now 20%, the others keep their ratio
    trends = _rising(window, baseline)
    assert [t.name for t in trends] == ["card_arrival"]
    trend = trends[0]
    expected = 100 * 11 / 1001  # the window's 100 turns at the (smoothed) baseline share
    assert trend == Trend(
        kind="intent",
        name="card_arrival",
        label="card_arrival",
        window_count=20,
        baseline_count=10,
        expected=round(expected, 2),
        score=round((20 - expected) / math.sqrt(expected + 1), 2),
    )
    assert trend.score > 10  # a twentyfold rise over a tiny expectation is a strong signal


def test_uniform_growth_does_not_trend() -> None:
    baseline = {"balance": 500, "top_up": 300, "card_arrival": 195, "pin": 5}
    window = {name: 2 * n for name, n in baseline.items()}  # every count doubles, every share stays
    assert _rising(window, baseline) == []
    tenfold = {name: 10 * n for name, n in baseline.items()}
    assert _rising(tenfold, baseline) == []


def test_a_name_never_seen_in_the_baseline_can_trend() -> None:
    baseline = {"balance": 600, "top_up": 399}
    window = {"balance": 60, "top_up": 40, "crypto_scam": 12}
    trends = _rising(window, baseline)
    assert [t.name for t in trends] == ["crypto_scam"]
    assert trends[0].baseline_count == 0
    assert trends[0].expected == round(112 / 1000, 2)  # one count of smoothing over 999 + 1


def test_min_count_gates() -> None:
    baseline = {"balance": 9999}  # "new" has share 1 / 10000 in the baseline
    window4 = {"balance": 96, "new": 4}
    window5 = {"balance": 95, "new": 5}
    # Score (4 - 0.01) / sqrt(1.01) ~ 3.97 and ratio 400 both pass: only the count is short.
    assert _rising(window4, baseline) == []
    assert [t.name for t in _rising(window5, baseline)] == ["new"]
    # The threshold is the policy's.
    assert [t.name for t in _rising(window4, baseline, TrendPolicy(min_count=4))] == ["new"]


def test_min_score_gates() -> None:
    # "x" keeps 4 of 1000 baseline turns: expected 4 in a window of 1000.
    baseline = {"x": 3, "rest": 996}
    below = _rising({"x": 10, "rest": 990}, baseline)  # score 6 / sqrt(5) ~ 2.68, ratio 2.5
    above = _rising({"x": 11, "rest": 989}, baseline)  # score 7 / sqrt(5) ~ 3.13
    assert below == []
    assert [(t.name, t.score) for t in above] == [("x", round(7 / math.sqrt(5), 2))]
    assert _rising({"x": 10, "rest": 990}, baseline, TrendPolicy(min_score=2.6)) != []


def test_min_ratio_gates() -> None:
    # "x" keeps 100 of 1000 baseline turns: expected 100 in a window of 1000.
    baseline = {"x": 99, "rest": 900}
    below = _rising({"x": 199, "rest": 801}, baseline)  # score 99 / sqrt(101) ~ 9.9, ratio 1.99
    at = _rising({"x": 200, "rest": 800}, baseline)  # exactly twice what was expected
    assert below == []
    assert [(t.name, t.expected, t.window_count) for t in at] == [("x", 100.0, 200)]
    assert _rising({"x": 199, "rest": 801}, baseline, TrendPolicy(min_ratio=1.5)) != []


def test_sorted_by_score_then_name() -> None:
    baseline = {"rest": 9996, "a": 1, "b": 1, "c": 1}
    window = {"rest": 100, "a": 8, "b": 30, "c": 15, "d": 15}
    trends = _rising(window, baseline)
    scores = [t.score for t in trends]
    assert scores == sorted(scores, reverse=True)
    assert [t.name for t in trends] == ["b", "d", "c", "a"]  # d, never seen, beats c's equal count


def test_ties_are_ordered_by_name() -> None:
    baseline = {"rest": 9999}
    trends = _rising({"rest": 100, "zeta": 9, "alpha": 9}, baseline)
    assert [t.name for t in trends] == ["alpha", "zeta"]
    assert trends[0].score == trends[1].score


def test_names_give_labels_and_kind_is_kept() -> None:
    trends = rising(
        "cluster",
        Counter({"c-0123456789": 12, "c-other": 1}),
        Counter({"c-other": 999}),
        13,
        999,
        POLICY,
        names={"c-0123456789": "lost card abroad"},
    )
    assert [(t.kind, t.name, t.label) for t in trends] == [("cluster", "c-0123456789", "lost card abroad")]


def test_empty_window() -> None:
    assert _rising({}, {"a": 10}) == []


# --- split --------------------------------------------------------------------------------


def test_split_boundaries() -> None:
    policy = TrendPolicy(window_min=15, baseline_min=60)
    now = 1_700_000_000.0
    window_start = now - 15 * 60
    baseline_start = window_start - 60 * 60
    events = [
        (now, "a", 1),
        (window_start, "a", 2),  # the window's first instant: in the window
        (window_start - 0.001, "a", 4),  # just before: the baseline
        (baseline_start, "b", 8),  # the baseline's first instant
        (baseline_start - 0.001, "b", 16),  # older than the baseline: dropped
        (now - 7200, "c", 32),  # long ago: dropped
        (now - 60, "b", 64),
    ]
    window, baseline = split(events, now, policy)
    assert window == Counter({"a": 3, "b": 64})
    assert baseline == Counter({"a": 4, "b": 8})
    assert "c" not in window and "c" not in baseline


def test_split_sums_counts_and_accepts_an_iterator() -> None:
    policy = TrendPolicy(window_min=1, baseline_min=10)
    now = 10_000.0
    window, baseline = split(iter([(now - 1, "x", 3), (now - 2, "x", 4), (now - 120, "x", 5)]), now, policy)
    assert window == Counter({"x": 7})
    assert baseline == Counter({"x": 5})


# --- satisfaction ---------------------------------------------------------------------------


def _ts(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.UTC).timestamp()


def test_satisfaction_groups() -> None:
    feedback: list[dict[str, object]] = [
        {
            "rating": 5,
            "at": _ts(2024, 3, 1, 23, 59, 59),
            "intent": "card_arrival",
            "channel": "app",
            "model_version": "1",
        },
        {"rating": 2, "at": _ts(2024, 3, 2), "intent": "card_arrival", "channel": "web", "model_version": "2"},
        {"rating": 4, "at": _ts(2024, 3, 2, 12), "intent": "balance", "channel": "app", "model_version": "2"},
        {"rating": 3, "at": _ts(2024, 3, 2, 13), "intent": "balance", "model_version": "2"},  # no channel
    ]
    ratings = satisfaction(feedback)
    assert ratings == [
        Rating("channel", "", 1, 3.0, 0.0),
        Rating("channel", "app", 2, 4.5, 1.0),
        Rating("channel", "web", 1, 2.0, 0.0),
        Rating("day", "2024-03-01", 1, 5.0, 1.0),
        Rating("day", "2024-03-02", 3, 3.0, round(1 / 3, 3)),
        Rating("intent", "balance", 2, 3.5, 0.5),
        Rating("intent", "card_arrival", 2, 3.5, 0.5),
        Rating("model_version", "1", 1, 5.0, 1.0),
        Rating("model_version", "2", 3, 3.0, round(1 / 3, 3)),
    ]


@pytest.fixture
def shanghai_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("shanghai_local_time")
def test_satisfaction_day_is_utc_and_means_round() -> None:
    # 23:30 UTC is already the next day in Shanghai (the local time here): the UTC day counts.
    at = _ts(2024, 12, 31, 23, 30)
    assert time.localtime(at).tm_mday == 1  # the local zone really is east of UTC
    ratings = satisfaction(
        [
            {"rating": 4, "at": at, "intent": "a", "channel": "app", "model_version": "1"},
            {"rating": 4, "at": at, "intent": "a", "channel": "app", "model_version": "1"},
            {"rating": 5, "at": at, "intent": "a", "channel": "app", "model_version": "1"},
        ]
    )
    by_day = [r for r in ratings if r.by == "day"]
    assert by_day == [Rating("day", "2024-12-31", 3, round(13 / 3, 3), 1.0)]
    assert by_day[0].mean == pytest.approx(4.333)


def test_satisfaction_empty() -> None:
    assert satisfaction([]) == []


def test_satisfaction_per_reply_language() -> None:
    at = _ts(2024, 3, 2)
    ratings = satisfaction(
        [
            {"rating": 5, "at": at, "intent": "a", "language": "zh-Hant"},
            {"rating": 1, "at": at, "intent": "a", "language": "zh-Hant"},
            {"rating": 4, "at": at, "intent": "a", "language": "en"},
            {"rating": 2, "at": at, "intent": "a"},  # before replies had a language: no group
        ]
    )
    assert [r for r in ratings if r.by == "language"] == [
        Rating("language", "en", 1, 4.0, 1.0),
        Rating("language", "zh-Hant", 2, 3.0, 0.5),
    ]
