"""Per-client limits on a real router (in-process, joined to the test cluster, with tight
limits): a client past its rate gets RESOURCE_EXHAUSTED with the wait in
`grpc-retry-pushback-ms` and is served again after it; a client with a call already in
flight beyond its cap is refused while another client is not."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from router.app import Router
from tests.integration.conftest import aio_channel, router_config
from twinteller.devcluster.local_cluster import LocalCluster
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration


@pytest.fixture
async def tight(cluster: LocalCluster, tmp_path: Path) -> AsyncIterator[str]:
    config = router_config(
        cluster, tmp_path, "limited", client_rate_per_s=2.0, client_burst=3.0, client_max_in_flight=1
    )
    async with Router(config):
        yield config.listen


def turn(session: str, n: int) -> pb.ConverseRequest:
    return pb.ConverseRequest(session_id=session, turn_id=str(n), text="where is my card")


async def test_past_its_rate_a_client_is_told_to_wait(tight: str, cluster: LocalCluster) -> None:
    session = uuid.uuid4().hex
    async with aio_channel(cluster, tight) as channel:
        stub = pb_grpc.AssistantStub(channel)
        for n in range(3):  # the burst
            await stub.Converse(turn(session, n), timeout=10)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Converse(turn(session, 3), timeout=10)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "rate limit" in (refused.value.details() or "")
        pushback = dict(refused.value.trailing_metadata() or ())["grpc-retry-pushback-ms"]
        assert 1 <= int(pushback) <= 500
        await asyncio.sleep(int(pushback) / 1000 + 0.05)
        again = await stub.Converse(turn(session, 3), timeout=10)  # the refused turn was not applied
        assert again.turn_id == "3" and again.reply


async def test_one_call_in_flight_per_client(tight: str, cluster: LocalCluster) -> None:
    session = uuid.uuid4().hex
    async with aio_channel(cluster, tight) as channel:
        stub = pb_grpc.AssistantStub(channel)
        gate = asyncio.Event()

        async def slowly() -> AsyncIterator[pb.ConverseRequest]:
            yield turn(session, 1)
            await gate.wait()  # the call stays open, holding the client's one place

        call = stub.StreamConverse(slowly(), timeout=20)
        first = await call.read()
        assert first.turn_id == "1"
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Converse(turn(uuid.uuid4().hex, 1), timeout=10)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "in flight" in (refused.value.details() or "")
        gate.set()  # the request stream ends: the call ends
        assert await call.read() == grpc.aio.EOF
    await asyncio.sleep(0.6)  # a token back
    async with aio_channel(cluster, tight) as channel:  # the place was given back
        assert (await pb_grpc.AssistantStub(channel).Converse(turn(uuid.uuid4().hex, 1), timeout=10)).reply
