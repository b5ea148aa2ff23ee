"""Capped exponential backoff with full jitter, for every retry, watch and lease loop."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial: float = 0.05
    maximum: float = 2.0
    multiplier: float = 2.0
    _attempt: int = field(default=0, init=False)

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * (self.multiplier**self._attempt))
        if ceiling < self.maximum:  # stop growing the exponent once capped: no overflow
            self._attempt += 1
        # Full jitter: spread retries of many clients so they do not hit etcd in waves.
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self._attempt = 0

    async def sleep(self) -> None:
        await asyncio.sleep(self.next_delay())


async def every(
    interval_s: float,
    step: Callable[[], Awaitable[object]],
    *,
    expected: tuple[type[Exception], ...],
    log: logging.Logger,
    what: str,
) -> None:
    """Run `step` every `interval_s` until cancelled; after an `expected` error (logged as
    `what`), back off with jitter, up to 30 s, before the next try (the leader's guards)."""
    backoff = Backoff(initial=interval_s, maximum=30.0)
    while True:
        try:
            await step()
            backoff.reset()
            await asyncio.sleep(interval_s)
        except expected as e:
            log.warning("%s: %s", what, e)
            await backoff.sleep()
