"""Insights through the real cluster: unrecognised queries clustered by the insights worker
and turned into an FAQ that a new deployed version answers; a trend from a synthetic
traffic shift; satisfaction from real feedback."""

from __future__ import annotations

import asyncio
import datetime
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TypeVar

import grpc
import pytest

from tests.helpers.command import TWINTELLER
from twinteller.devcluster.local_cluster import LOCAL_ADMIN_TOKEN, PROJECT_ROOT, LocalCluster
from twinteller.etcd import keys
from twinteller.knowledge.turn_counts import Bucket
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc

pytestmark = pytest.mark.integration
AUTH = [("authorization", f"Bearer {LOCAL_ADMIN_TOKEN}")]
T = TypeVar("T")

CAR_INSURANCE = [
    "how much does car insurance cost with you",
    "can I get car insurance through the bank",
    "do you sell vehicle insurance",
    "I want to insure my car with you",
    "car insurance quote please",
    "what does your motor insurance cover",
]
MORTGAGE = [
    "what mortgage rates do you offer",
    "can I get a mortgage to buy a house",
    "how do I apply for a mortgage",
    "I want to remortgage my house",
    "what is your fixed rate mortgage deal",
    "how much mortgage can I borrow",
]


@pytest.fixture
def stubs(cluster: LocalCluster) -> Iterator[tuple[pb_grpc.AssistantStub, kpb_grpc.KnowledgeStub]]:
    with cluster.channel("a") as channel:
        yield pb_grpc.AssistantStub(channel), kpb_grpc.KnowledgeStub(channel)


def until(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"no {what} within {timeout}s"
        time.sleep(1.0)


def ask(assistant: pb_grpc.AssistantStub, text: str, channel: str = "app") -> pb.ConverseResponse:
    request = pb.ConverseRequest(session_id=uuid.uuid4().hex, turn_id="1", text=text, channel=channel)
    return assistant.Converse(request, timeout=10)


def finish(admin: kpb_grpc.KnowledgeStub, job: kpb.Job) -> kpb.Job:
    def done() -> kpb.Job | None:
        current = admin.GetJob(kpb.GetJobRequest(id=job.id), metadata=AUTH, timeout=10)
        return None if current.state in (kpb.QUEUED, kpb.RUNNING) else current

    finished = until(done, 240, f"end of job {job.id}")
    assert finished.state == kpb.SUCCEEDED, finished.message
    return finished


def test_unrecognised_queries_cluster_and_become_a_deployed_faq(
    cluster: LocalCluster, stubs: tuple[pb_grpc.AssistantStub, kpb_grpc.KnowledgeStub]
) -> None:
    assistant, admin = stubs
    for text in CAR_INSURANCE + MORTGAGE:  # each the first turn of its own conversation
        ask(assistant, text)

    def clusters_of_both() -> dict[str, kpb.UnrecognisedCluster] | None:
        found = admin.ListClusters(kpb.ListClustersRequest(), metadata=AUTH, timeout=10).clusters
        by_topic = {}
        for name, texts in (("car", CAR_INSURANCE), ("mortgage", MORTGAGE)):
            holding = [c for c in found if {m.text for m in c.members} & set(texts)]
            if len(holding) != 1 or len({m.text for m in holding[0].members} & set(texts)) < 4:
                return None
            by_topic[name] = holding[0]
        return by_topic

    topics = until(clusters_of_both, 60, "clusters of car-insurance and mortgage questions")
    car, mortgage = topics["car"], topics["mortgage"]
    assert car.id != mortgage.id  # two topics, two clusters
    assert not {m.text for m in car.members} & set(MORTGAGE)
    assert "mortgage" in mortgage.label and "insurance" in car.label
    assert mortgage.first_seen <= mortgage.last_seen and mortgage.size >= 4
    assert set(mortgage.representatives) <= {m.text for m in mortgage.members}
    assert mortgage.proposed_id.startswith("new_") and not mortgage.suggested_faq  # no FAQ is about mortgages

    faq_id = f"mortgages-{uuid.uuid4().hex[:6]}"
    faq = kpb.Faq(id=faq_id, title="Mortgages", answer="We do not offer mortgages yet.", enabled=True)
    created = admin.CreateFaqFromCluster(
        kpb.CreateFaqFromClusterRequest(cluster_id=mortgage.id, faq=faq), metadata=AUTH, timeout=10
    )
    try:
        assert set(created.questions) == {m.text for m in mortgage.members}
        trail = admin.ListAudit(kpb.ListAuditRequest(limit=5), metadata=AUTH, timeout=10).entries
        assert ("create from cluster", [faq_id, mortgage.id]) in [(e.action, list(e.ids)) for e in trail]
        with pytest.raises(grpc.RpcError) as again:  # its queries left the log with it
            admin.CreateFaqFromCluster(
                kpb.CreateFaqFromClusterRequest(cluster_id=mortgage.id, faq=faq), metadata=AUTH, timeout=10
            )
        assert again.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ABORTED)  # type: ignore[attr-defined]

        trained = finish(admin, admin.Train(kpb.TrainRequest(), metadata=AUTH, timeout=10))
        finish(admin, admin.Deploy(kpb.DeployRequest(version=trained.version), metadata=AUTH, timeout=10))
        try:

            def answered() -> pb.ConverseResponse | None:
                reply = ask(assistant, "how can I apply for a mortgage?")
                return reply if reply.intent == faq_id else None

            answer = until(answered, 15, "an answer from the new FAQ")
            assert answer.reply == "We do not offer mortgages yet." and answer.model_version == trained.version
        finally:
            finish(admin, admin.Rollback(kpb.RollbackRequest(), metadata=AUTH, timeout=10))
    finally:
        admin.DeleteFaq(kpb.DeleteFaqRequest(id=faq_id), metadata=AUTH, timeout=10)

    # The other action: the car-insurance queries become training questions of an existing entry.
    original = admin.GetFaq(kpb.GetFaqRequest(id="card_acceptance"), metadata=AUTH, timeout=10)
    try:
        adopted = admin.AdoptCluster(
            kpb.AdoptClusterRequest(cluster_id=car.id, faq_id="card_acceptance"), metadata=AUTH, timeout=10
        )
        assert set(original.questions) < set(adopted.questions)
        assert {m.text for m in car.members} <= set(adopted.questions)
    finally:
        current = admin.GetFaq(kpb.GetFaqRequest(id="card_acceptance"), metadata=AUTH, timeout=10)
        original.revision = current.revision
        admin.PutFaq(kpb.PutFaqRequest(faq=original), metadata=AUTH, timeout=10)


def test_cluster_actions_refuse_what_cannot_be_done(
    stubs: tuple[pb_grpc.AssistantStub, kpb_grpc.KnowledgeStub],
) -> None:
    _, admin = stubs
    with pytest.raises(grpc.RpcError) as unknown:
        admin.AdoptCluster(kpb.AdoptClusterRequest(cluster_id="c-nope", faq_id="card_arrival"), metadata=AUTH)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as anonymous:
        admin.ListClusters(kpb.ListClustersRequest(), timeout=10)
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]


def test_a_traffic_shift_is_trending(
    cluster: LocalCluster, stubs: tuple[pb_grpc.AssistantStub, kpb_grpc.KnowledgeStub]
) -> None:
    """A day of synthetic history (a router that no longer runs) where swallowed cards are
    rare, then real turns about them now: the intent trends, across routers."""
    assistant, admin = stubs
    now_minute = int(time.time() // 60)
    history = {}
    for minute in range(now_minute - 120, now_minute - 20):
        bucket = Bucket(minute)
        bucket.counts[("card_arrival", "ANSWER", "app", "a")] = 30
        bucket.counts[("balance_not_updated_after_bank_transfer", "ANSWER", "app", "b")] = 30
        history[keys.traffic(minute, "synthetic-router")] = bucket.to_json()

    async def write(puts: dict[str, bytes], deletes: tuple[str, ...] = ()) -> None:
        async with cluster.store() as store:
            await store.commit(absent=[], unchanged={}, puts=puts, deletes=deletes)

    asyncio.run(write(history))
    try:
        for n in range(10):
            reply = ask(assistant, "the atm swallowed my card" if n % 2 else "the cash machine kept my card")
            assert reply.intent == "card_swallowed"

        def trend() -> kpb.Trend | None:
            trends = admin.ListTrends(kpb.ListTrendsRequest(), metadata=AUTH, timeout=10).trends
            return next((t for t in trends if t.kind == "intent" and t.name == "card_swallowed"), None)

        rising = until(trend, 30, "a trend for card_swallowed")
        assert rising.window_count >= 10 and rising.score >= 3 and rising.window_count >= 2 * rising.expected
        trends = admin.ListTrends(kpb.ListTrendsRequest(), metadata=AUTH, timeout=10).trends
        assert "balance_not_updated_after_bank_transfer" not in {t.name for t in trends}  # common before, not now
    finally:
        asyncio.run(write({}, tuple(history)))


def test_satisfaction_per_channel_and_intent(stubs: tuple[pb_grpc.AssistantStub, kpb_grpc.KnowledgeStub]) -> None:
    assistant, admin = stubs
    channel = f"survey-{uuid.uuid4().hex[:6]}"
    for text, rating in (("my card still hasn't arrived", 5), ("my card still hasn't arrived", 4), ("hi", 1)):
        reply = ask(assistant, text, channel)
        feedback = pb.FeedbackRequest(session_id=reply.session_id, turn_id="1", rating=rating)
        assistant.Feedback(feedback, timeout=10)

    def mine() -> kpb.Rating | None:
        ratings = admin.GetSatisfaction(kpb.GetSatisfactionRequest(), metadata=AUTH, timeout=10).ratings
        return next((r for r in ratings if r.by == "channel" and r.key == channel and r.count == 3), None)

    rating = until(mine, 30, f"ratings of channel {channel}")
    assert rating.mean == pytest.approx(10 / 3, abs=0.001) and rating.satisfied == pytest.approx(2 / 3, abs=0.001)
    ratings = admin.GetSatisfaction(kpb.GetSatisfactionRequest(), metadata=AUTH, timeout=10).ratings
    arrival = next(r for r in ratings if r.by == "intent" and r.key == "card_arrival")
    assert arrival.count >= 2 and 1 <= arrival.mean <= 5
    assert {"intent", "channel", "model_version", "day"} <= {r.by for r in ratings}
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    assert any(r.by == "day" and r.key == today and r.count >= 3 for r in ratings)


def test_insights_from_the_command_line(cluster: LocalCluster) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TWINTELLER_ADMIN_TOKEN": LOCAL_ADMIN_TOKEN}
    target = cluster.layout.router_target("b")

    def admin_cli(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [TWINTELLER, "admin", "--target", target, *args]
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)

    satisfaction = admin_cli("satisfaction")
    assert satisfaction.returncode == 0 and "survey-" in satisfaction.stdout  # the test above's channel
    assert admin_cli("trends").returncode == 0
    clusters = admin_cli("clusters")
    assert clusters.returncode == 0
    refused = admin_cli("adopt", "c-nope", "card_arrival")
    assert refused.returncode == 1 and refused.stderr.startswith("NOT_FOUND")
