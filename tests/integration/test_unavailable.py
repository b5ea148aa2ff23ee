"""No healthy zone -> UNAVAILABLE; a zone that never answers -> DEADLINE_EXCEEDED within
the caller's deadline. A separate etcd holds a knowledge base whose only zones are dead:
one refuses connections, one accepts them and never answers (like a frozen process)."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from router.app import Router
from tests.integration.conftest import aio_channel, router_config
from twinteller.devcluster.local_cluster import Layout, LocalCluster, free_port
from twinteller.etcd import keys
from twinteller.knowledge.schema import Faq, Snapshot
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lonely_etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    local = LocalCluster(Path(tmp_path_factory.mktemp("lonely")), Layout.free())
    local.start_etcd()
    local.wait_etcd_ready(30)
    yield local
    local.stop()


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A TCP port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


async def publish(etcd: LocalCluster, zones: dict[str, str]) -> None:
    async with etcd.store() as store:
        for name, endpoint in zones.items():
            await store.put(keys.zone(name), json.dumps({"zone": name, "endpoint": endpoint}))
        snapshot = Snapshot("1", {"card_arrival": Faq("card_arrival", "Card has not arrived", "It is on its way.")})
        await store.put(keys.kb_version("1"), snapshot.to_json())
        await store.put(keys.ACTIVE_VERSION, "1")


async def clear(etcd: LocalCluster) -> None:
    async with etcd.store() as store:
        entries, _ = await store.get_prefix(keys.ZONES)
        for entry in entries:
            await store.delete(entry.key)


class RouterUnderTest:
    def __init__(self, router: Router, stub: pb_grpc.AssistantStub, etcd: LocalCluster) -> None:
        self.router = router
        self.stub = stub
        self.etcd = etcd

    async def with_zones(self, zones: dict[str, str]) -> None:
        """Register `zones` and wait until this router's watch has seen them."""
        await publish(self.etcd, zones)
        async with asyncio.timeout(10):
            while set(self.router.zones.zones) != set(zones):
                await asyncio.sleep(0.05)


@pytest.fixture
async def router_on(lonely_etcd: LocalCluster, tmp_path: Path) -> AsyncIterator[RouterUnderTest]:
    config = router_config(lonely_etcd, tmp_path, "lonely")
    await publish(lonely_etcd, {})
    async with Router(config) as router, aio_channel(lonely_etcd, config.listen) as channel:
        yield RouterUnderTest(router, pb_grpc.AssistantStub(channel), lonely_etcd)
    await clear(lonely_etcd)


def request() -> pb.ConverseRequest:
    return pb.ConverseRequest(session_id=uuid.uuid4().hex, turn_id="1", text="where is my card")


async def test_no_registered_zone_is_unavailable(router_on: RouterUnderTest) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await router_on.stub.Converse(request(), timeout=5)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "no zone" in (error.value.details() or "")


async def test_only_dead_zones_is_unavailable(router_on: RouterUnderTest) -> None:
    await router_on.with_zones({"a": f"127.0.0.1:{free_port()}", "b": f"127.0.0.1:{free_port()}"})
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await router_on.stub.Converse(request(), timeout=5)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    details = error.value.details() or ""
    assert "zone a" in details and "zone b" in details  # both were tried


async def test_a_silent_zone_cannot_hold_a_turn_past_its_deadline(router_on: RouterUnderTest, black_hole: str) -> None:
    await router_on.with_zones({"a": black_hole})
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await router_on.stub.Converse(request(), timeout=0.8)
    assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
