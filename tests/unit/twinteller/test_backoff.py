"""twinteller.backoff: capped exponential growth with jitter, and `every` (a step repeated,
riding out the errors it expects)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from twinteller import backoff as backoff_module
from twinteller.backoff import Backoff, every


@pytest.fixture
def ceiling_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the jitter pick the top of its range, so delays are the ceilings."""
    monkeypatch.setattr(backoff_module.random, "uniform", lambda low, high: high)


@pytest.fixture
def floor_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backoff_module.random, "uniform", lambda low, high: low)


def test_delays_grow_then_cap(ceiling_only: None) -> None:
    b = Backoff(initial=0.1, maximum=1.0, multiplier=2.0)
    delays = [b.next_delay() for _ in range(7)]
    assert delays == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])


def test_multiplier_used(ceiling_only: None) -> None:
    b = Backoff(initial=1.0, maximum=100.0, multiplier=3.0)
    assert [b.next_delay() for _ in range(5)] == pytest.approx([1.0, 3.0, 9.0, 27.0, 81.0])


def test_lower_jitter_bound_is_half_the_ceiling(floor_only: None) -> None:
    b = Backoff(initial=0.1, maximum=1.0, multiplier=2.0)
    assert [b.next_delay() for _ in range(6)] == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.5, 0.5])


def test_jitter_within_half_ceiling_and_ceiling() -> None:
    ceilings = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0, 2.0]
    seen_first: set[float] = set()
    for _ in range(50):
        b = Backoff(initial=0.05, maximum=2.0, multiplier=2.0)
        for ceiling in ceilings:
            delay = b.next_delay()
            assert ceiling / 2 <= delay <= ceiling
        b.reset()
        seen_first.add(b.next_delay())
    # Real jitter: not one fixed value.
    assert len(seen_first) > 1


def test_never_exceeds_maximum() -> None:
    b = Backoff(initial=0.3, maximum=0.5, multiplier=10.0)
    assert all(b.next_delay() <= 0.5 for _ in range(200))


def test_reset_starts_over(ceiling_only: None) -> None:
    b = Backoff(initial=0.1, maximum=5.0, multiplier=2.0)
    for _ in range(5):
        b.next_delay()
    assert b.next_delay() == pytest.approx(3.2)
    b.reset()
    assert [b.next_delay() for _ in range(3)] == pytest.approx([0.1, 0.2, 0.4])


def test_long_outage_keeps_returning_capped_delays() -> None:
    b = Backoff(initial=0.1, maximum=2.0)
    for _ in range(1100):
        assert b.next_delay() <= 2.0


async def test_sleep_waits_and_advances(ceiling_only: None) -> None:
    b = Backoff(initial=0.001, maximum=0.002, multiplier=2.0)
    await b.sleep()
    await b.sleep()
    # Two attempts used: the next ceiling is the cap.
    assert b.next_delay() == pytest.approx(0.002)


async def test_every_repeats_the_step_and_rides_out_expected_errors() -> None:
    calls: list[int] = []

    async def step() -> None:
        calls.append(len(calls))
        if len(calls) in (2, 3):
            raise ValueError("etcd away")
        if len(calls) == 6:
            raise asyncio.CancelledError  # the election stops the guard

    with pytest.raises(asyncio.CancelledError):
        await every(0.001, step, expected=(ValueError,), log=logging.getLogger("test"), what="guard")
    assert len(calls) == 6  # two failures logged and retried, not fatal

    async def broken() -> None:
        raise KeyError("not expected")

    with pytest.raises(KeyError):
        await every(0.001, broken, expected=(ValueError,), log=logging.getLogger("test"), what="guard")
