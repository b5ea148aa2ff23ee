"""The model-version canary: a trained version serves a share of *new* conversations beside
the active one, until it is promoted, aborted by hand, or aborted by the leader's guard.

`release/canary` (one etcd key) holds the state. A new conversation goes to the canary if
its session id hashes below the percentage (a hash of its own, so that the canary's share
and the legacy cutover's are drawn independently); every conversation keeps the version
it began with (its context says which) for as long as that version is served:

- RUNNING: the active version and the canary;
- PROMOTED: the canary is the active version now, and conversations begun on the old one
  finish on it (it stays loaded, as the previous version);
- ABORTED: only the active version: the canary's conversations move back.

Routers count each version's turns per 10 s slot (`release/stats/<slot>/<router>`); the
guard (router/release/guard.py) adds up all routers' slots since the canary began and
aborts it when `regressed` says the canary does worse than the active version.

How the guard decides (`regressed`): for each bad outcome (fallback, handoff, an answer
asked again right after it was given, an error, a low rating), the canary's rate must
exceed the active version's by more than `margin` (absolute), *and* by a one-sided
two-proportion z statistic of at least `z` (3.0: about one chance in 700 per look that
equal versions differ this much by chance), once each version has `min_turns` turns
(`min_ratings` for ratings). Latency: the canary's p99 more than `latency_factor` times
the active's, plus 20 ms, over `min_turns` turns each. Both conditions keep a small
sample's noise from aborting a good version, and a large sample's trivial difference too.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace

from twinteller.errors import InvalidArgument
from twinteller.migration.cutover import SystemCounts

RUNNING, PROMOTED, ABORTED = "RUNNING", "PROMOTED", "ABORTED"
STATES = (RUNNING, PROMOTED, ABORTED)
SLOT_S = 10
GUARD_ACTOR = "canary-guard"
# A p99 within this of the active's is never judged slower, however small both are.
LATENCY_SLACK_MS = 20.0


@dataclass(frozen=True)
class Thresholds:
    min_turns: int = 100
    min_ratings: int = 30
    margin: float = 0.05
    z: float = 3.0
    latency_factor: float = 2.0

    def validated(self) -> Thresholds:
        if not 1 <= self.min_turns <= 1_000_000:
            raise InvalidArgument("thresholds.min_turns: must be within 1..1000000")
        if not 1 <= self.min_ratings <= 1_000_000:
            raise InvalidArgument("thresholds.min_ratings: must be within 1..1000000")
        if not 0.0 <= self.margin <= 1.0:
            raise InvalidArgument("thresholds.margin: must be within 0..1")
        if not 0.0 <= self.z <= 10.0:
            raise InvalidArgument("thresholds.z: must be within 0..10")
        if not 1.0 <= self.latency_factor <= 100.0:
            raise InvalidArgument("thresholds.latency_factor: must be within 1..100")
        return self


@dataclass(frozen=True)
class Canary:
    version: str  # the version on trial
    baseline: str  # the active version when the canary began
    percent: int
    state: str = RUNNING
    started_at: float = 0.0
    updated_at: float = 0.0
    updated_by: str = ""
    reason: str = ""  # why it was aborted (or promoted)
    thresholds: Thresholds = field(default_factory=Thresholds)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Canary:
        data = json.loads(raw)
        data["thresholds"] = Thresholds(**data.get("thresholds", {}))
        return cls(**data)

    def validated(self) -> Canary:
        if not self.version or self.version == self.baseline:
            raise InvalidArgument("version: a trained version other than the active one")
        if not 1 <= self.percent <= 99:
            raise InvalidArgument("canary_percent: must be within 1..99 (0 deploys to everyone, promote ends it)")
        if self.state not in STATES:
            raise InvalidArgument(f"state: one of {', '.join(STATES)}")
        self.thresholds.validated()
        return self

    def serving(self, active: str) -> set[str]:
        """The versions a conversation that began on one may stay on."""
        if self.state == RUNNING:
            return {active, self.version}
        if self.state == PROMOTED:
            return {active, self.baseline}
        return {active}

    def ended(self, state: str, actor: str, reason: str, at: float) -> Canary:
        return replace(self, state=state, updated_by=actor, updated_at=at, reason=reason)


def share(session_id: str) -> int:
    """The session's place 0..99 in the canary's share (salted: not the cutover's)."""
    digest = hashlib.sha256(b"canary:" + session_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


def choose(session_id: str, began_on: str, has_turns: bool, canary: Canary | None, active: str) -> str:
    """The model version for a conversation's next turn: the one it began on while that is
    served; a conversation older than the canary stays on the active version; a new one
    joins the canary if its share falls below the percentage."""
    if began_on and canary is not None and began_on in canary.serving(active):
        return began_on
    if canary is None or canary.state != RUNNING or has_turns:
        return active
    return canary.version if share(session_id) < canary.percent else active


@dataclass
class VersionCounts(SystemCounts):
    """One version's turns: SystemCounts' asked/fallbacks/errors/latency, and the other
    outcomes the guard and the per-version figures need."""

    clarifies: int = 0
    handoffs: int = 0
    rephrases: int = 0  # an answer's intent asked again at once (a wrong-answer proxy)
    ratings: int = 0
    low_ratings: int = 0  # 1 or 2 of 5

    def answered_turn(self, action: str, *, rephrase: bool, latency_s: float) -> None:
        self.observe(served=True, fallback=action == "FALLBACK", error=False, latency_s=latency_s)
        self.clarifies += action == "CLARIFY"
        self.handoffs += action == "HANDOFF"
        self.rephrases += rephrase

    def failed_turn(self) -> None:
        self.observe(served=False, fallback=False, error=True, latency_s=None)

    def rated(self, rating: int) -> None:
        self.ratings += 1
        self.low_ratings += rating <= 2

    def add(self, other: SystemCounts) -> None:
        super().add(other)
        if isinstance(other, VersionCounts):
            self.clarifies += other.clarifies
            self.handoffs += other.handoffs
            self.rephrases += other.rephrases
            self.ratings += other.ratings
            self.low_ratings += other.low_ratings

    def rates(self) -> dict[str, tuple[int, int]]:
        """Each bad outcome -> (count, out of)."""
        return {
            "fallback": (self.fallbacks, self.answered),
            "clarify": (self.clarifies, self.answered),
            "handoff": (self.handoffs, self.answered),
            "rephrase": (self.rephrases, self.answered),
            "error": (self.errors, self.asked),
            "low rating": (self.low_ratings, self.ratings),
        }


@dataclass
class VersionSlot:
    """One router's turns per model version in one 10 s slot (or the sum of many)."""

    slot: int
    versions: dict[str, VersionCounts] = field(default_factory=dict)

    def of(self, version: str) -> VersionCounts:
        counts = self.versions.get(version)
        if counts is None:
            counts = self.versions[version] = VersionCounts()
        return counts

    def add(self, other: VersionSlot) -> None:
        for version, counts in other.versions.items():
            self.of(version).add(counts)

    def to_json(self) -> bytes:
        data = {"slot": self.slot, "versions": {v: asdict(c) for v, c in self.versions.items()}}
        return json.dumps(data).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> VersionSlot:
        data = json.loads(raw)
        return cls(int(data["slot"]), {v: VersionCounts(**c) for v, c in data["versions"].items()})


def total(slots: Iterable[VersionSlot]) -> VersionSlot:
    summed = VersionSlot(0)
    for slot in slots:
        summed.add(slot)
    return summed


def z_statistic(bad_a: int, n_a: int, bad_b: int, n_b: int) -> float:
    """One-sided two-proportion z statistic of rate a above rate b (pooled variance)."""
    p_a, p_b = bad_a / n_a, bad_b / n_b
    pooled = (bad_a + bad_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if spread == 0.0:
        return math.inf if p_a > p_b else 0.0
    return (p_a - p_b) / spread


# Rates counted over ratings need `min_ratings`; the rest `min_turns`.
RATED = {"low rating"}


def regressed(thresholds: Thresholds, canary: VersionCounts, active: VersionCounts) -> str:
    """Why the canary should be aborted, or "" if it should not (module docstring)."""
    theirs = active.rates()
    for what, (bad, n) in canary.rates().items():
        if what == "clarify":
            continue  # a figure to read, not a failure: clarifying may be the better answer
        bad_b, n_b = theirs[what]
        needed = thresholds.min_ratings if what in RATED else thresholds.min_turns
        if min(n, n_b) < needed:
            continue
        difference = bad / n - bad_b / n_b
        score = z_statistic(bad, n, bad_b, n_b)
        if difference > thresholds.margin and score >= thresholds.z:
            return (
                f"{what} rate {bad / n:.1%} over {n} against the active version's {bad_b / n_b:.1%} over {n_b}"
                f" (more by {difference:.1%} > {thresholds.margin:.1%}, z {min(score, 99.0):.1f} >= {thresholds.z})"
            )
    if min(sum(canary.latency), sum(active.latency)) >= thresholds.min_turns:
        mine, base = canary.percentile_ms(0.99), active.percentile_ms(0.99)
        if mine > base * thresholds.latency_factor + LATENCY_SLACK_MS:
            times = thresholds.latency_factor
            return f"p99 latency {mine:.0f} ms against the active version's {base:.0f} ms (over {times}x)"
    return ""
