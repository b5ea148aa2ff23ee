"""Replacing the legacy bot: the cutover state every router follows, and the comparison
counts they share through etcd.

`cutover` (one etcd key) says whether turns are shadowed (asked to both systems and
compared) and which share of new conversations twinteller serves; each conversation keeps
the system it started with (router/migration/shadow.py). Routers count the comparisons per 10 s
slot (`cutover/stats/<slot>/<router>`): what each system was asked, answered, fell back
on, failed at, how fast, and which (legacy rule, twinteller intent) pairs disagreed. The
report (`report`) and the guard that rolls back (`regressed`) read the same slots, so
they judge all routers' turns, not one process's.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace

from twinteller.errors import InvalidArgument

SLOT_S = 10
TWINTELLER = "twinteller"
LEGACY = "legacy"
SYSTEMS = (TWINTELLER, LEGACY)
# Latency histogram bucket upper bounds, in milliseconds; the last bucket is open.
LATENCY_BOUNDS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


@dataclass(frozen=True)
class Cutover:
    enabled: bool = False
    twinteller_percent: int = 0
    fallback_margin: float = 0.1
    error_margin: float = 0.02
    window_s: int = 300
    min_turns: int = 50
    updated_by: str = ""
    updated_at: float = 0.0
    reason: str = ""

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Cutover:
        return cls(**json.loads(raw))

    def validated(self) -> Cutover:
        if not 0 <= self.twinteller_percent <= 100:
            raise InvalidArgument("twinteller_percent: must be within 0..100")
        for name in ("fallback_margin", "error_margin"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InvalidArgument(f"{name}: must be within 0..1")
        if not 10 <= self.window_s <= 86_400:
            raise InvalidArgument("window_s: must be within 10..86400")
        if self.min_turns < 1:
            raise InvalidArgument("min_turns: must be at least 1")
        if len(self.reason.encode()) > 512:
            raise InvalidArgument("reason: at most 512 bytes")
        return self


@dataclass
class SystemCounts:
    asked: int = 0
    served: int = 0
    fallbacks: int = 0
    errors: int = 0
    latency: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS_MS) + 1))

    def add(self, other: SystemCounts) -> None:
        self.asked += other.asked
        self.served += other.served
        self.fallbacks += other.fallbacks
        self.errors += other.errors
        self.latency = [a + b for a, b in zip(self.latency, other.latency, strict=True)]

    def observe(self, *, served: bool, fallback: bool, error: bool, latency_s: float | None) -> None:
        self.asked += 1
        self.served += served
        self.fallbacks += fallback and not error
        self.errors += error
        if latency_s is not None and not error:
            self.latency[bisect.bisect_left(LATENCY_BOUNDS_MS, latency_s * 1000)] += 1

    @property
    def answered(self) -> int:
        return self.asked - self.errors

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.answered if self.answered else 0.0

    @property
    def error_rate(self) -> float:
        return self.errors / self.asked if self.asked else 0.0

    def percentile_ms(self, q: float) -> float:
        """The q-quantile of the latency, interpolated inside its bucket (0 with no data)."""
        total = sum(self.latency)
        if not total:
            return 0.0
        rank = q * total
        seen = 0
        for index, count in enumerate(self.latency):
            if count and seen + count >= rank:
                low = LATENCY_BOUNDS_MS[index - 1] if index else 0.0
                high = LATENCY_BOUNDS_MS[index] if index < len(LATENCY_BOUNDS_MS) else 2 * LATENCY_BOUNDS_MS[-1]
                return low + (high - low) * (rank - seen) / count
            seen += count
        return float(LATENCY_BOUNDS_MS[-1])


Pair = tuple[str, str, str]  # legacy rule, twinteller intent, twinteller action


@dataclass
class Slot:
    """One router's comparisons in one 10 s slot (or the sum of many)."""

    slot: int
    compared: int = 0
    agreed: int = 0
    systems: dict[str, SystemCounts] = field(default_factory=lambda: {s: SystemCounts() for s in SYSTEMS})
    differences: Counter[Pair] = field(default_factory=Counter)

    def add(self, other: Slot) -> None:
        self.compared += other.compared
        self.agreed += other.agreed
        for name in SYSTEMS:
            self.systems[name].add(other.systems[name])
        self.differences.update(other.differences)

    def to_json(self) -> bytes:
        data = {
            "slot": self.slot,
            "compared": self.compared,
            "agreed": self.agreed,
            "systems": {name: asdict(counts) for name, counts in self.systems.items()},
            "differences": [[*pair, n] for pair, n in sorted(self.differences.items())],
        }
        return json.dumps(data, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Slot:
        data = json.loads(raw)
        systems = {name: SystemCounts(**data["systems"][name]) for name in SYSTEMS}
        differences: Counter[Pair] = Counter({(r, i, a): int(n) for r, i, a, n in data["differences"]})
        return cls(int(data["slot"]), int(data["compared"]), int(data["agreed"]), systems, differences)


def total(slots: Iterable[Slot]) -> Slot:
    summed = Slot(0)
    for slot in slots:
        summed.add(slot)
    return summed


def regressed(cutover: Cutover, seen: Slot) -> str:
    """Why twinteller should stop taking new conversations, or "" if it should not: over
    `seen` (the turns since the last change), its fallback or error rate exceeds the
    legacy's by more than the margin, once both were asked `min_turns` times."""
    if not cutover.enabled or cutover.twinteller_percent == 0:
        return ""
    mine, theirs = seen.systems[TWINTELLER], seen.systems[LEGACY]
    if min(mine.asked, theirs.asked) < cutover.min_turns:
        return ""
    for what, ours, legacy, margin in (
        ("fallback", mine.fallback_rate, theirs.fallback_rate, cutover.fallback_margin),
        ("error", mine.error_rate, theirs.error_rate, cutover.error_margin),
    ):
        if ours - legacy > margin:
            return (
                f"twinteller's {what} rate {ours:.1%} exceeds the legacy's {legacy:.1%} by more than"
                f" {margin:.1%} over {mine.asked} turns"
            )
    return ""


def rolled_back(cutover: Cutover, reason: str, at: float) -> Cutover:
    return replace(cutover, twinteller_percent=0, updated_by="cutover-guard", updated_at=at, reason=reason)
