"""The retry budget: how many extra model calls (retries and hedges) the router may make.

Retrying and hedging turn one slow or failed call into two; when a whole zone is sick that
could double the load on the survivor exactly when it can least take it. So extra calls are
paid from a token bucket (the scheme of Finagle's RetryBudget and gRPC's retry throttling):
every turn deposits `ratio` of a token, a small floor of `min_per_s` tokens a second keeps a
quiet router able to fail over, each retry or hedge withdraws a whole token, and the bucket
holds at most `burst` tokens (enough for every call in flight to one zone to fail at once).
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RetryBudget:
    def __init__(
        self, *, ratio: float, min_per_s: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ratio = ratio
        self._min_per_s = min_per_s
        self._burst = burst
        self._clock = clock
        self._tokens = burst  # start full: a fresh router can fail over at once
        self._updated = clock()
        self.denied = 0  # extra calls refused since start (for logs and tests)

    def _refill(self, amount: float) -> None:
        now = self._clock()
        amount += (now - self._updated) * self._min_per_s
        self._updated = now
        self._tokens = min(self._burst, self._tokens + amount)

    def deposit(self) -> None:
        """One first attempt was made."""
        self._refill(self._ratio)

    def withdraw(self) -> bool:
        """May we make one extra call now? Takes a token if so."""
        self._refill(0.0)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        self.denied += 1
        return False

    @property
    def tokens(self) -> float:
        self._refill(0.0)
        return self._tokens
