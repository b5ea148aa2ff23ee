"""router/observability/traffic.py: per-minute turn counts, written to etcd as whole buckets."""

from __future__ import annotations

from collections import Counter

import pytest

from router.observability.traffic import TrafficRecorder
from tests.helpers.memory_store import MemoryStore
from twinteller.errors import StoreError
from twinteller.etcd import keys
from twinteller.knowledge.turn_counts import Bucket
from twinteller.v1 import assistant_pb2 as pb

ROUTER = "router-1"
LEASE = 4242


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


MINUTE = 28_333_333  # Unix time // 60, late 2023
START = MINUTE * 60 + 5.0


def _recorder(store: MemoryStore, clock: Clock) -> TrafficRecorder:
    return TrafficRecorder(store, ROUTER, retention_s=7 * 86400, clock=clock)


def _response(intent: str, action: int, zone: str) -> pb.ConverseResponse:
    return pb.ConverseResponse(session_id="s", turn_id="t", intent=intent, action=action, zone=zone)  # type: ignore[arg-type]


def _bucket(store: MemoryStore, minute: int) -> Bucket:
    return Bucket.from_json(store.data[keys.traffic(minute, ROUTER)].value)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(first_lease=LEASE)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


async def test_turns_counted_per_key_and_written(store: MemoryStore, clock: Clock) -> None:
    recorder = _recorder(store, clock)
    recorder.observe("app", _response("card_arrival", pb.ANSWER, "zone-a"))
    clock.now += 20
    recorder.observe("app", _response("card_arrival", pb.ANSWER, "zone-a"))
    recorder.observe("web", _response("card_arrival", pb.ANSWER, "zone-a"))
    recorder.observe("app", _response("card_arrival", pb.ANSWER, "zone-b"))
    recorder.observe("app", _response("", pb.FALLBACK, "zone-a"))
    recorder.observe("ivr", _response("card_arrival", pb.CLARIFY, "zone-a"))
    await recorder.flush()

    assert [key for key, _, _ in store.puts] == [keys.traffic(MINUTE, ROUTER)]
    assert store.puts[0][2] == LEASE  # on the pool's lease
    bucket = _bucket(store, MINUTE)
    assert bucket.minute == MINUTE
    assert bucket.counts == Counter(
        {
            ("card_arrival", "ANSWER", "app", "zone-a"): 2,
            ("card_arrival", "ANSWER", "web", "zone-a"): 1,
            ("card_arrival", "ANSWER", "app", "zone-b"): 1,
            ("", "FALLBACK", "app", "zone-a"): 1,
            ("card_arrival", "CLARIFY", "ivr", "zone-a"): 1,
        }
    )
    # The lease outlives the retention (one grant, kept for an hour of writes).
    assert len(store.grants) == 1 and store.grants[0] >= 7 * 86400


async def test_each_minute_has_its_own_bucket(store: MemoryStore, clock: Clock) -> None:
    recorder = _recorder(store, clock)
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    clock.now = (MINUTE + 1) * 60  # the next minute's first instant
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    await recorder.flush()
    assert sorted(key for key, _, _ in store.puts) == [keys.traffic(MINUTE, ROUTER), keys.traffic(MINUTE + 1, ROUTER)]
    assert _bucket(store, MINUTE).counts == Counter({("balance", "ANSWER", "app", "zone-a"): 1})
    assert _bucket(store, MINUTE + 1).counts == Counter({("balance", "ANSWER", "app", "zone-a"): 2})


async def test_unknown_channel_is_other(store: MemoryStore, clock: Clock) -> None:
    recorder = _recorder(store, clock)
    recorder.observe("kiosk-7", _response("balance", pb.ANSWER, "zone-a"))
    recorder.observe("fax", _response("balance", pb.ANSWER, "zone-a"))
    recorder.observe("", _response("balance", pb.ANSWER, "zone-a"))
    await recorder.flush()
    assert _bucket(store, MINUTE).counts == Counter(
        {("balance", "ANSWER", "other", "zone-a"): 2, ("balance", "ANSWER", "", "zone-a"): 1}
    )


async def test_bucket_rewritten_whole_while_its_minute_lasts(store: MemoryStore, clock: Clock) -> None:
    recorder = _recorder(store, clock)
    turn = ("balance", "ANSWER", "app", "zone-a")
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    await recorder.flush()
    assert _bucket(store, MINUTE).counts == Counter({turn: 2})

    clock.now += 30  # same minute
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    recorder.observe("web", _response("top_up", pb.ANSWER, "zone-b"))
    await recorder.flush()
    assert len(store.puts) == 2
    assert store.puts[1][0] == keys.traffic(MINUTE, ROUTER)
    assert _bucket(store, MINUTE).counts == Counter({turn: 3, ("top_up", "ANSWER", "web", "zone-b"): 1})


async def test_nothing_new_nothing_written(store: MemoryStore, clock: Clock) -> None:
    recorder = _recorder(store, clock)
    await recorder.flush()
    assert store.puts == []
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    await recorder.flush()
    await recorder.flush()
    assert len(store.puts) == 1


async def test_past_minutes_forgotten_once_written(store: MemoryStore, clock: Clock) -> None:
    recorder = _recorder(store, clock)
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    await recorder.flush()
    assert recorder.buckets.held() == {MINUTE}  # its minute still lasts: kept

    clock.now += 60
    recorder.observe("app", _response("top_up", pb.ANSWER, "zone-a"))
    await recorder.flush()
    assert recorder.buckets.held() == {MINUTE + 1}  # written already, minute over: gone
    assert [key for key, _, _ in store.puts] == [keys.traffic(MINUTE, ROUTER), keys.traffic(MINUTE + 1, ROUTER)]


async def test_past_minute_written_once_more_then_forgotten(store: MemoryStore, clock: Clock) -> None:
    recorder = _recorder(store, clock)
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    await recorder.flush()
    clock.now += 50  # the minute's last seconds, then over before the next flush
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    clock.now += 10
    await recorder.flush()
    assert _bucket(store, MINUTE).counts == Counter({("balance", "ANSWER", "app", "zone-a"): 2})
    assert recorder.buckets.held() == set()
    await recorder.flush()
    assert len(store.puts) == 2


async def test_failed_put_keeps_counts_for_the_next_flush(store: MemoryStore, clock: Clock) -> None:
    recorder = _recorder(store, clock)
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    await recorder.flush()  # the lease is granted while etcd answers

    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    store.down = True
    with pytest.raises(StoreError):
        await recorder.flush()
    clock.now += 60  # the minute ends while etcd is away: its counts must not be dropped
    recorder.observe("app", _response("top_up", pb.ANSWER, "zone-a"))
    with pytest.raises(StoreError):
        await recorder.flush()
    assert len(store.puts) == 1

    store.down = False
    await recorder.flush()
    assert _bucket(store, MINUTE).counts == Counter({("balance", "ANSWER", "app", "zone-a"): 2})
    assert _bucket(store, MINUTE + 1).counts == Counter({("top_up", "ANSWER", "app", "zone-a"): 1})
    assert recorder.buckets.held() == {MINUTE + 1}


async def test_failed_lease_grant_keeps_counts(store: MemoryStore, clock: Clock) -> None:
    recorder = _recorder(store, clock)
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    store.down = True
    with pytest.raises(StoreError):
        await recorder.flush()
    store.down = False
    await recorder.flush()
    assert _bucket(store, MINUTE).counts == Counter({("balance", "ANSWER", "app", "zone-a"): 1})


async def test_turn_during_a_write_is_written_next_time(store: MemoryStore, clock: Clock) -> None:
    """A turn answered while the bucket's put is in flight (the put awaits etcd, turns keep
    being served) is in no write yet: the next flush must write it, even once the minute
    is over."""
    recorder = _recorder(store, clock)
    recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    store.during["put"] = lambda: recorder.observe("app", _response("balance", pb.ANSWER, "zone-a"))
    await recorder.flush()
    assert _bucket(store, MINUTE).counts == Counter({("balance", "ANSWER", "app", "zone-a"): 1})

    clock.now += 60
    await recorder.flush()
    assert _bucket(store, MINUTE).counts == Counter({("balance", "ANSWER", "app", "zone-a"): 2})
    assert recorder.buckets.held() == set()


async def test_turns_counted_per_reply_language(store: MemoryStore, clock: Clock) -> None:
    recorder = _recorder(store, clock)
    for language in ("zh-Hant", "zh-Hant", "en", ""):  # "" : a legacy reply of no known language
        response = _response("card_arrival", pb.ANSWER, "zone-a")
        response.language = language
        recorder.observe("app", response)
    await recorder.flush()
    bucket = _bucket(store, MINUTE)
    assert bucket.languages == {"zh-Hant": 2, "en": 1}
    assert sum(bucket.counts.values()) == 4
    old = Bucket.from_json(b'{"minute": 1, "counts": [["a", "ANSWER", "app", "zone-a", 3]]}')
    assert old.languages == {} and old.counts == {("a", "ANSWER", "app", "zone-a"): 3}
