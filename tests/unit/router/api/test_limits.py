"""Per-client limits (router/api/limits.py): a token bucket of turns and a cap on calls in
flight, per client, with the wait before a retry; clients kept in a bounded table."""

from __future__ import annotations

import pytest

from router.api.limits import ClientLimits, client_of
from twinteller.errors import ResourceExhausted


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate() -> None:
    clock = Clock()
    limits = ClientLimits(rate_per_s=10, burst=3, max_in_flight=0, clock=clock)
    for _ in range(3):
        limits.take("10.0.0.1")
    with pytest.raises(ResourceExhausted, match="retry in 100 ms") as refused:
        limits.take("10.0.0.1")
    assert refused.value.retry_after_s == pytest.approx(0.1)
    limits.take("10.0.0.2")  # another client has its own bucket
    clock.now += 0.11
    limits.take("10.0.0.1")  # one token back after 1/rate
    with pytest.raises(ResourceExhausted):
        limits.take("10.0.0.1")
    clock.now += 60
    for _ in range(3):  # refilled to the burst, never beyond
        limits.take("10.0.0.1")
    with pytest.raises(ResourceExhausted):
        limits.take("10.0.0.1")


def test_calls_in_flight() -> None:
    limits = ClientLimits(rate_per_s=0, burst=0, max_in_flight=2)
    with limits.in_flight("a"), limits.in_flight("a"):
        with pytest.raises(ResourceExhausted, match="at most 2 calls in flight"), limits.in_flight("a"):
            pass
        with limits.in_flight("b"):
            pass
    with limits.in_flight("a"), limits.in_flight("a"):  # released when the calls ended
        pass


def test_a_call_that_fails_releases_its_place() -> None:
    limits = ClientLimits(rate_per_s=0, burst=0, max_in_flight=1)
    with pytest.raises(RuntimeError), limits.in_flight("a"):
        raise RuntimeError("the turn failed")
    with limits.in_flight("a"):
        pass


def test_no_limits_when_zero() -> None:
    limits = ClientLimits(rate_per_s=0, burst=0, max_in_flight=0)
    for _ in range(10_000):
        limits.take("a")
    with limits.in_flight("a"), limits.in_flight("a"):
        pass


def test_the_client_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("router.api.limits.MAX_CLIENTS", 3)
    limits = ClientLimits(rate_per_s=1, burst=1, max_in_flight=0)
    for host in ("a", "b", "c", "d"):
        limits.take(host)
    limits.take("a")  # "a" was forgotten (least recently seen): a fresh bucket


class Peer:
    def __init__(self, peer: str) -> None:
        self._peer = peer

    def peer(self) -> str:
        return self._peer


@pytest.mark.parametrize(
    ("peer", "client"),
    [("ipv4:10.0.0.7:53211", "10.0.0.7"), ("ipv6:[::1]:5000", "::1"), ("unix:/tmp/sock", "/tmp/sock")],
)
def test_the_client_is_the_peer_host(peer: str, client: str) -> None:
    assert client_of(Peer(peer)) == client  # type: ignore[arg-type]
