"""router.zones.budget.RetryBudget: the token bucket that pays for retries and hedges (fake clock, no sleeping)."""

from __future__ import annotations

import pytest

from router.zones.budget import RetryBudget


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def budget(clock: FakeClock, *, ratio: float = 0.25, min_per_s: float = 0.0, burst: float = 3.0) -> RetryBudget:
    return RetryBudget(ratio=ratio, min_per_s=min_per_s, burst=burst, clock=clock)


def drain(b: RetryBudget) -> int:
    """Withdraw until refused; how many withdrawals were granted."""
    granted = 0
    while b.withdraw():
        granted += 1
        assert granted < 1000, "the bucket never ran dry"
    return granted


def test_starts_full_so_a_fresh_router_can_fail_over_at_once() -> None:
    b = budget(FakeClock(), burst=3.0)
    assert b.tokens == 3.0
    assert [b.withdraw() for _ in range(3)] == [True, True, True]
    assert b.denied == 0


def test_withdraw_past_the_bucket_is_denied_and_counted() -> None:
    b = budget(FakeClock(), burst=2.0)
    assert drain(b) == 2
    assert b.denied == 1
    assert not b.withdraw()
    assert not b.withdraw()
    assert b.denied == 3


def test_each_withdrawal_takes_exactly_one_token() -> None:
    b = budget(FakeClock(), burst=3.0)
    assert b.withdraw()
    assert b.tokens == 2.0
    assert b.withdraw()
    assert b.tokens == 1.0


def test_denied_withdrawals_never_drive_tokens_negative() -> None:
    b = budget(FakeClock(), burst=2.0)
    drain(b)
    for _ in range(10):
        assert not b.withdraw()
    assert b.tokens == 0.0
    # Nothing was borrowed: one token's worth of deposits is enough again.
    for _ in range(4):
        b.deposit()
    assert b.withdraw()


def test_deposit_adds_ratio_of_a_token_per_turn() -> None:
    b = budget(FakeClock(), ratio=0.25, burst=3.0)
    drain(b)
    for _ in range(3):
        b.deposit()
    assert b.tokens == pytest.approx(0.75)
    assert not b.withdraw()  # three quarters of a token buys nothing
    b.deposit()
    assert b.tokens == pytest.approx(1.0)
    assert b.withdraw()
    assert not b.withdraw()


def test_deposits_are_capped_at_burst() -> None:
    b = budget(FakeClock(), ratio=0.25, burst=2.0)
    for _ in range(100):
        b.deposit()
    assert b.tokens == 2.0
    drain(b)
    for _ in range(100):
        b.deposit()
    assert b.tokens == 2.0
    assert drain(b) == 2


def test_min_per_s_refills_over_time() -> None:
    clock = FakeClock()
    b = budget(clock, ratio=0.0, min_per_s=2.0, burst=5.0)
    drain(b)
    clock.advance(0.25)
    assert b.tokens == pytest.approx(0.5)
    assert not b.withdraw()
    clock.advance(0.25)
    assert b.withdraw()
    assert b.tokens == pytest.approx(0.0)


def test_time_refill_is_capped_at_burst_after_a_long_quiet_spell() -> None:
    clock = FakeClock()
    b = budget(clock, ratio=0.0, min_per_s=2.0, burst=5.0)
    drain(b)
    clock.advance(3600.0)
    assert b.tokens == 5.0
    assert drain(b) == 5


def test_time_refill_and_deposits_add_up() -> None:
    clock = FakeClock()
    b = budget(clock, ratio=0.5, min_per_s=1.0, burst=5.0)
    drain(b)
    clock.advance(0.5)
    b.deposit()
    assert b.tokens == pytest.approx(1.0)
    assert b.withdraw()


def test_no_refill_without_time_passing_or_deposits() -> None:
    b = budget(FakeClock(), ratio=0.5, min_per_s=10.0, burst=3.0)
    drain(b)
    assert b.tokens == 0.0
    assert not b.withdraw()


def test_zero_budget_denies_everything() -> None:
    clock = FakeClock()
    b = budget(clock, ratio=0.5, min_per_s=0.0, burst=0.0)
    assert b.tokens == 0.0
    b.deposit()
    clock.advance(60.0)
    assert not b.withdraw()
    assert b.denied == 1
    assert b.tokens == 0.0
