"""twinteller.etcd.store.Store's choice of member: calls go round the members, and one that
failed a call (dead, cut off, without a leader) is tried last for AVOID_S. The members'
clients are never connected here: each call's operation is a fake that takes the client."""

from __future__ import annotations

import aetcd.exceptions
import pytest

from twinteller.errors import StoreError
from twinteller.etcd import store as store_module
from twinteller.etcd.store import Store

ENDPOINTS = "127.0.0.1:1,127.0.0.2:2,127.0.0.3:3"


def host(client: object) -> str:
    return str(client._host)  # type: ignore[attr-defined]


async def test_calls_go_round_the_members() -> None:
    store = Store(ENDPOINTS, None)
    used = []

    async def op(client: object) -> str:
        used.append(host(client))
        return "ok"

    for _ in range(6):
        await store._call("get", op)
    assert used == ["127.0.0.1", "127.0.0.2", "127.0.0.3"] * 2


async def test_a_member_that_failed_is_tried_last_until_avoid_s_has_passed() -> None:
    store = Store(ENDPOINTS, None)
    used = []

    async def no_leader_on_the_first(client: object) -> str:
        used.append(host(client))
        if host(client) == "127.0.0.1":
            raise aetcd.exceptions.ConnectionFailedError("etcdserver: no leader")
        return "ok"

    assert await store._call("get", no_leader_on_the_first) == "ok"
    assert used == ["127.0.0.1", "127.0.0.2"]  # retried at once on the next member
    used.clear()
    for _ in range(6):
        await store._call("get", no_leader_on_the_first)
    assert "127.0.0.1" not in used
    store._avoid_until = {k: t - store_module.AVOID_S for k, t in store._avoid_until.items()}  # time is up
    for _ in range(3):
        await store._call("get", no_leader_on_the_first)
    assert "127.0.0.1" in used  # tried again once the time is up


async def test_a_silent_member_costs_a_third_of_the_budget_then_the_next_answers() -> None:
    store = Store(ENDPOINTS, None, timeout=0.9)
    used = []

    async def silent_first(client: object) -> str:
        used.append(host(client))
        if host(client) == "127.0.0.1":
            await store_module.asyncio.sleep(10)
        return "ok"

    assert await store._call("get", silent_first) == "ok"
    assert used == ["127.0.0.1", "127.0.0.2"]


async def test_every_member_failing_ends_in_a_store_error_within_the_budget() -> None:
    store = Store(ENDPOINTS, None, timeout=0.3)

    async def down(client: object) -> str:
        raise aetcd.exceptions.ConnectionFailedError("connection refused")

    with pytest.raises(StoreError, match="etcd get failed"):
        await store._call("get", down)


async def test_an_error_that_is_not_transient_is_not_retried() -> None:
    store = Store(ENDPOINTS, None)
    used = []

    async def bad_request(client: object) -> str:
        used.append(host(client))
        raise aetcd.exceptions.InvalidArgumentError("bad")

    with pytest.raises(StoreError):
        await store._call("get", bad_request)
    assert len(used) == 1
