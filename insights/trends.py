"""Trending issues and satisfaction, from what every router recorded in etcd.

Trending: a name (an intent, or an unrecognised-query cluster) whose share of all turns in
the last `window` minutes rose against its share in the `baseline` minutes before. The
expected count is the window's total turns times the baseline share (with one extra
count of smoothing, so a name never seen before can trend); the score is
(count - expected) / sqrt(expected + 1), a Poisson z-score. A name trends with at least
`min_count` turns in the window, a score of at least `min_score`, and twice what was
expected. Shares, not counts: when all traffic doubles, nothing trends.
"""

from __future__ import annotations

import datetime
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from twinteller.knowledge.insights_document import Rating, Trend


@dataclass(frozen=True)
class TrendPolicy:
    window_min: int = 15
    baseline_min: int = 24 * 60
    min_count: int = 5
    min_score: float = 3.0
    min_ratio: float = 2.0


def rising(
    kind: str,
    window: Counter[str],
    baseline: Counter[str],
    window_total: int,
    baseline_total: int,
    policy: TrendPolicy,
    names: dict[str, str] | None = None,
) -> list[Trend]:
    """The names whose window count rose against their baseline share, highest score first."""
    out = []
    for name, count in window.items():
        share = (baseline.get(name, 0) + 1) / (baseline_total + 1)
        expected = window_total * share
        score = (count - expected) / math.sqrt(expected + 1)
        if count >= policy.min_count and score >= policy.min_score and count >= policy.min_ratio * expected:
            label = (names or {}).get(name, name)
            out.append(Trend(kind, name, label, count, baseline.get(name, 0), round(expected, 2), round(score, 2)))
    return sorted(out, key=lambda t: (-t.score, t.name))


def split(
    events: Iterable[tuple[float, str, int]], now: float, policy: TrendPolicy
) -> tuple[Counter[str], Counter[str]]:
    """(window, baseline) counts of (time, name, count) events."""
    window_start = now - policy.window_min * 60
    baseline_start = window_start - policy.baseline_min * 60
    window: Counter[str] = Counter()
    baseline: Counter[str] = Counter()
    for at, name, count in events:
        if at >= window_start:
            window[name] += count
        elif at >= baseline_start:
            baseline[name] += count
    return window, baseline


def satisfaction(feedback: Iterable[dict[str, object]]) -> list[Rating]:
    """Mean rating and share satisfied (4 or 5) per intent, channel, model version, UTC day
    and reply language."""
    groups: dict[tuple[str, str], list[int]] = {}
    for record in feedback:
        rating = int(record["rating"])  # type: ignore[call-overload]
        day = datetime.datetime.fromtimestamp(float(record["at"]), datetime.UTC).date().isoformat()  # type: ignore[arg-type]
        for by, key in (
            ("intent", record.get("intent", "")),
            ("channel", record.get("channel", "")),
            ("model_version", record.get("model_version", "")),
            ("day", day),
            ("language", record.get("language", "")),
        ):
            if by == "language" and not key:
                continue  # feedback on a turn answered before replies had a language
            groups.setdefault((by, str(key)), []).append(rating)
    return [
        Rating(by, key, len(r), round(sum(r) / len(r), 3), round(sum(1 for x in r if x >= 4) / len(r), 3))
        for (by, key), r in sorted(groups.items())
    ]
