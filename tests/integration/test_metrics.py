"""The Prometheus endpoint of a router after real traffic: turns by zone, channel, intent
and action, RPCs by status code, latency histograms, model calls, feedback; and the
per-minute traffic counts each router writes to etcd for the trends."""

from __future__ import annotations

import asyncio
import time
import urllib.request
import uuid

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from twinteller.devcluster.local_cluster import LocalCluster
from twinteller.etcd import keys
from twinteller.knowledge.turn_counts import Bucket
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=10) as reply:
        assert reply.headers.get_content_type() == "text/plain"
        text = reply.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_after_real_traffic(cluster: LocalCluster) -> None:
    url = cluster.layout.metrics_url("a")
    before = scrape(url)
    session = f"metrics-{uuid.uuid4().hex[:8]}"
    with cluster.channel("a") as channel:
        stub = pb_grpc.AssistantStub(channel)

        def say(turn: str, text: str, channel_name: str) -> pb.ConverseResponse:
            request = pb.ConverseRequest(session_id=session, turn_id=turn, text=text, channel=channel_name)
            return stub.Converse(request, timeout=10)

        answered = [say(f"t{n}", "my card still hasn't arrived", "ivr") for n in range(3)]
        replayed = say("t0", "my card still hasn't arrived", "ivr")  # a retry: not a new turn
        fallback = say("t3", "what is the airspeed of a swallow", "app")
        odd_channel = say("t4", "my card still hasn't arrived", "pigeon-post")
        with pytest.raises(grpc.RpcError):
            stub.Converse(pb.ConverseRequest(session_id=session, turn_id="", text="no turn id"), timeout=10)
        stub.Feedback(pb.FeedbackRequest(session_id=session, turn_id="t1", rating=4), timeout=10)
    after = scrape(url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert {r.intent for r in answered} == {"card_arrival"} and replayed.turn_id == "t0"
    zone = answered[0].zone
    assert all(r.zone == zone for r in answered)
    turns = "twinteller_turns_total"
    assert delta(turns, zone=zone, channel="ivr", intent="card_arrival", action="ANSWER") == 3
    assert delta(turns, zone=fallback.zone, channel="app", intent="", action="FALLBACK") == 1
    assert delta(turns, zone=odd_channel.zone, channel="other", intent="card_arrival", action="ANSWER") == 1
    assert not [k for k in after if k[0] == turns and ("channel", "pigeon-post") in k[1]]  # labels stay bounded
    converse = "twinteller.v1.Assistant/Converse"
    assert delta("twinteller_rpc_total", method=converse, code="OK") == 6
    assert delta("twinteller_rpc_total", method=converse, code="INVALID_ARGUMENT") == 1
    assert delta("twinteller_rpc_seconds_count", method=converse) == 7
    assert delta("twinteller_model_calls_total", zone=zone, outcome="ok") >= 3
    assert delta("twinteller_feedback_total", intent="card_arrival", channel="ivr", rating="4") == 1
    assert value(after, "twinteller_degraded") == 0

    # The same turns, counted per minute in etcd under this router's id.
    async def buckets() -> list[Bucket]:
        async with cluster.store() as store:
            entries, _ = await store.get_prefix(keys.TRAFFIC)
        return [Bucket.from_json(e.value) for e in entries if e.key.endswith("/router-a")]

    deadline = time.monotonic() + 15
    wanted = ("card_arrival", "ANSWER", "other", odd_channel.zone)
    while not any(b.counts[wanted] for b in asyncio.run(buckets())):
        assert time.monotonic() < deadline, "router a wrote no traffic counts within 15 s"
        time.sleep(0.5)
