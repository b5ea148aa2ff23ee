"""Release safety through the real cluster (README "Releases"): conversation test suites
stored through the admin API and run through the real routers against a version loaded in
both zones but not active; the deploy gate refusing a deliberately broken version (two FAQs'
training questions swapped, then trained by the real trainer) with its failing turns named,
and an approver's override letting it through as a canary, which the leader's guard then
aborts by itself under customers who ask again when answered wrongly; and a good version's
canary at 10 % then 50 % then promoted under load, with no failed turn and no conversation
switching versions. Bad input changes nothing."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator

import grpc
import pytest

from tests.integration.conftest import APPROVER_TOKEN, EDITOR_TOKEN
from tests.integration.test_lifecycle import finish
from twinteller.devcluster.load import ConversationLoad
from twinteller.devcluster.local_cluster import LOCAL_ADMIN_TOKEN, LocalCluster
from twinteller.release.results import RunResult
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc

pytestmark = pytest.mark.integration
ADMIN = [("authorization", f"Bearer {LOCAL_ADMIN_TOKEN}")]
EDITOR = [("authorization", f"Bearer {EDITOR_TOKEN}")]
APPROVER = [("authorization", f"Bearer {APPROVER_TOKEN}")]
SWAPPED = ("card_arrival", "lost_or_stolen_card")

SUITE = """
suite: cards-release
description: card questions that must keep working
cases:
  - name: card not arrived
    turns:
      - text: I am still waiting on my card?
        expect: {action: ANSWER, intent: card_arrival}
  - name: lost wallet
    turns:
      - text: I lost my wallet and all my cards were in it.
        expect: {intent: lost_or_stolen_card}
  - name: pin then top-up
    turns:
      - text: I have exceeded the number of PIN attempts
        expect: {intent: pin_blocked, language: en}
      - text: Top-up is not working
        expect: {intent: top_up_failed}
"""

# What the guard test's customers ask: questions of the swapped FAQs (answered wrongly by the
# broken version) and of others; each question's FAQ, so a customer can tell a wrong answer.
ASKED = {
    "card_arrival": ["my card still hasn't arrived", "when will my new card get here?", "is my card on its way?"],
    "lost_or_stolen_card": ["someone stole my card", "I think I lost my card", "my card was stolen yesterday"],
    "top_up_failed": ["my top up failed", "the top-up did not go through"],
    "pin_blocked": ["my pin is blocked", "I typed the wrong PIN too many times"],
}


@pytest.fixture(scope="module")
def admin(cluster: LocalCluster) -> Iterator[kpb_grpc.KnowledgeStub]:
    with cluster.channel("a") as channel:
        yield kpb_grpc.KnowledgeStub(channel)


def refused(call: object, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.RpcError) as raised:
        call()  # type: ignore[operator]
    assert raised.value.code() == code, raised.value.details()
    return str(raised.value.details())


def train(admin: kpb_grpc.KnowledgeStub) -> str:
    return finish(admin, admin.Train(kpb.TrainRequest(), metadata=ADMIN, timeout=10), 300, lambda: None).version


def run_tests(admin: kpb_grpc.KnowledgeStub, version: str = "") -> RunResult:
    response = admin.RunTests(kpb.RunTestsRequest(version=version), metadata=ADMIN, timeout=300)
    return RunResult.from_dict(json.loads(response.result))


def release(admin: kpb_grpc.KnowledgeStub) -> kpb.Release:
    return admin.GetRelease(kpb.GetReleaseRequest(), metadata=ADMIN, timeout=10)


@pytest.fixture(scope="module")
def broken(admin: kpb_grpc.KnowledgeStub) -> Iterator[str]:
    """A version trained with the swapped FAQs' training questions exchanged; the base is
    restored at once (only the trained version is broken)."""
    originals = [admin.GetFaq(kpb.GetFaqRequest(id=i), metadata=ADMIN, timeout=10) for i in SWAPPED]
    first, second = (kpb.Faq() for _ in SWAPPED)
    first.CopyFrom(originals[0])
    second.CopyFrom(originals[1])
    first.ClearField("questions")
    first.questions.extend(originals[1].questions)
    second.ClearField("questions")
    second.questions.extend(originals[0].questions)
    try:
        for faq in (first, second):
            admin.PutFaq(kpb.PutFaqRequest(faq=faq), metadata=ADMIN, timeout=10)
        version = train(admin)
    finally:
        for original in originals:
            current = admin.GetFaq(kpb.GetFaqRequest(id=original.id), metadata=ADMIN, timeout=10)
            original.revision = current.revision
            admin.PutFaq(kpb.PutFaqRequest(faq=original), metadata=ADMIN, timeout=10)
    yield version


def test_suites_are_refused_whole_when_malformed_or_naming_an_unknown_faq(admin: kpb_grpc.KnowledgeStub) -> None:
    before = admin.ListTestSuites(kpb.ListTestSuitesRequest(), metadata=ADMIN, timeout=10).suites
    bad = {
        "suite: x\ncases: [\n": "content: not valid YAML",
        SUITE.replace("expect: {action: ANSWER", "expcet: {action: ANSWER"): "expcet",
        SUITE.replace("intent: top_up_failed", "intent: no_such_faq"): "no_such_faq",
    }
    for content, named in bad.items():
        request = kpb.PutTestSuitesRequest(content=content.encode(), filename="s.yaml")
        details = refused(lambda r=request: admin.PutTestSuites(r, metadata=ADMIN, timeout=10),
                          grpc.StatusCode.INVALID_ARGUMENT)  # fmt: skip
        assert named in details
    editor_put = kpb.PutTestSuitesRequest(content=SUITE.encode(), filename="s.yaml")
    refused(lambda: admin.PutTestSuites(editor_put, metadata=EDITOR, timeout=10), grpc.StatusCode.PERMISSION_DENIED)
    assert admin.ListTestSuites(kpb.ListTestSuitesRequest(), metadata=ADMIN, timeout=10).suites == before
    refused(lambda: admin.RunTests(kpb.RunTestsRequest(suites=["nope"]), metadata=ADMIN, timeout=10),
            grpc.StatusCode.NOT_FOUND)  # fmt: skip


def test_the_gate_refuses_a_broken_version_and_the_guard_aborts_its_overridden_canary(
    cluster: LocalCluster, admin: kpb_grpc.KnowledgeStub, broken: str
) -> None:
    written = admin.PutTestSuites(kpb.PutTestSuitesRequest(content=SUITE.encode(), filename="s.yaml"),
                                  metadata=ADMIN, timeout=10)  # fmt: skip
    assert [s.cases for s in written.suites] == [3]
    on_active = run_tests(admin)
    assert on_active.pass_rate == 1.0, on_active.failing()
    on_broken = run_tests(admin, broken)
    assert on_broken.version == broken and on_broken.pass_rate < 1.0
    failing = "\n".join(on_broken.failing())
    assert "card not arrived / turn 1" in failing and "lost wallet / turn 1" in failing
    assert "pin then top-up" not in failing  # the FAQs left alone still pass

    # The gate: refused with the failing turns; nothing deployed.
    details = refused(lambda: admin.Deploy(kpb.DeployRequest(version=broken), metadata=ADMIN, timeout=300),
                      grpc.StatusCode.FAILED_PRECONDITION)  # fmt: skip
    assert "card not arrived / turn 1" in details and "override" in details
    override = kpb.DeployRequest(version=broken, canary_percent=50, override_reason="known gap, canary guards it")
    refused(lambda: admin.Deploy(override, metadata=ADMIN, timeout=10), grpc.StatusCode.PERMISSION_DENIED)
    for bad, code in (
        (kpb.DeployRequest(version="999", canary_percent=10), grpc.StatusCode.NOT_FOUND),
        (kpb.DeployRequest(version=broken, canary_percent=150), grpc.StatusCode.INVALID_ARGUMENT),
    ):
        refused(lambda b=bad: admin.Deploy(b, metadata=ADMIN, timeout=10), code)
    assert not release(admin).HasField("canary") or release(admin).canary.state != "RUNNING"

    # An approver's override lets it through, as a canary the guard watches.
    override.thresholds.min_turns = 20
    proposal = admin.ProposeChange(kpb.ProposeChangeRequest(deploy=override, reason="try it on half"),
                                   metadata=EDITOR, timeout=10)  # fmt: skip
    started = time.monotonic()
    applied = admin.ApproveProposal(kpb.DecideProposalRequest(id=proposal.id), metadata=APPROVER, timeout=300)
    assert applied.state == kpb.APPLIED, applied.result
    assert release(admin).canary.state == "RUNNING"
    audit = admin.ListAudit(kpb.ListAuditRequest(limit=20), metadata=ADMIN, timeout=10).entries
    assert any(e.action == "canary" and any("gate overridden" in i for i in e.ids) for e in audit)

    customers = Customers(cluster)
    with customers:
        deadline = time.monotonic() + 120
        while release(admin).canary.state == "RUNNING":
            assert time.monotonic() < deadline, f"not aborted: {release(admin)}"
            time.sleep(0.5)
        aborted_in = time.monotonic() - started
    state = release(admin)
    assert state.canary.state == "ABORTED" and state.canary.updated_by == "canary-guard"
    assert "rephrase" in state.canary.reason or "low rating" in state.canary.reason, state.canary.reason
    exposed = customers.exposed(broken)
    print(f"\nguard: canary of {broken} aborted {aborted_in:.1f}s after it began; {exposed:.0%} of"
          f" {customers.conversations()} conversations met it; {state.canary.reason}")  # fmt: skip
    assert customers.failures == []
    # After the abort every new conversation gets the active version.
    with cluster.channel("b") as channel:
        stub = pb_grpc.AssistantStub(channel)
        for _ in range(10):
            request = pb.ConverseRequest(session_id=uuid.uuid4().hex, turn_id="1", text="my pin is blocked")
            reply = stub.Converse(request, timeout=10)
            assert reply.model_version == state.active_version


def test_a_canary_at_10_then_50_then_promoted_under_load(cluster: LocalCluster, admin: kpb_grpc.KnowledgeStub) -> None:
    active = release(admin).active_version
    good = train(admin)
    routers = [cluster.layout.router_target(z) for z in cluster.layout.routers]
    try:
        with ConversationLoad(routers, cluster.tls, workers=2, turns_per_session=6, max_s=300) as load:
            load.wait_turns(10)
            for percent in (10, 50):
                job = admin.Deploy(kpb.DeployRequest(version=good, canary_percent=percent), metadata=ADMIN, timeout=300)
                assert job.kind == "canary" and job.state == kpb.SUCCEEDED, job.message
                assert release(admin).canary.percent == percent
                load.wait_turns(len(load.records()) + 40, timeout=60)
            promoted = admin.PromoteCanary(kpb.PromoteCanaryRequest(), metadata=ADMIN, timeout=10)
            assert promoted.active_version == good and promoted.canary.state == "PROMOTED"
            load.wait_turns(len(load.records()) + 40, timeout=60)
        records = load.records()
        assert [r.error for r in load.failures()] == []
        by_session: dict[str, set[str]] = defaultdict(set)
        for record in records:
            by_session[record.session_id].add(record.model_version)
        assert [s for s, versions in by_session.items() if len(versions) > 1] == []
        served = {v for versions in by_session.values() for v in versions}
        assert served == {active, good}, served  # both versions served conversations
        # Routers write their per-version counts every 5 s, in 10 s slots: wait for them.
        deadline = time.monotonic() + 30
        while not all(f.turns > 0 for f in release(admin).versions if f.version in (good, active)):
            assert time.monotonic() < deadline, release(admin)
            time.sleep(1)
    finally:
        # Back to the version the other tests expect (the rollback also ends the canary's pins).
        if release(admin).active_version != active:
            finish(admin, admin.Rollback(kpb.RollbackRequest(), metadata=ADMIN, timeout=10), 120, lambda: None)
    assert not release(admin).HasField("canary")


class Customers:
    """Conversations that ask about one of `ASKED`'s FAQs and, answered with another, ask
    again in other words and rate the answer 1 (else 5): how customers meet a wrong answer.
    Bounded: 2 threads, at most 150 s."""

    def __init__(self, cluster: LocalCluster) -> None:
        self._cluster = cluster
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.first_versions: dict[str, str] = {}
        self.failures: list[str] = []
        self._threads = [threading.Thread(target=self._work, args=(z,), daemon=True) for z in ("a", "b")]

    def __enter__(self) -> Customers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=20)

    def conversations(self) -> int:
        return len(self.first_versions)

    def exposed(self, version: str) -> float:
        with self._lock:
            return sum(v == version for v in self.first_versions.values()) / max(1, len(self.first_versions))

    def _work(self, zone: str) -> None:
        started = time.monotonic()
        needs = itertools.cycle(ASKED.items())
        with self._cluster.channel(zone) as channel:
            stub = pb_grpc.AssistantStub(channel)
            while not self._stop.is_set() and time.monotonic() - started < 150:
                intent, questions = next(needs)
                session = f"customer-{uuid.uuid4().hex[:12]}"
                try:
                    for turn, question in enumerate(questions[:2], start=1):
                        request = pb.ConverseRequest(session_id=session, turn_id=str(turn), text=question)
                        reply = stub.Converse(request, timeout=10)
                        with self._lock:
                            self.first_versions.setdefault(session, reply.model_version)
                        right = reply.intent == intent
                        feedback = pb.FeedbackRequest(session_id=session, turn_id=str(turn), rating=5 if right else 1)
                        stub.Feedback(feedback, timeout=10)
                        if right:
                            break
                except grpc.RpcError as e:
                    with self._lock:
                        self.failures.append(f"{e.code().name}: {e.details()}")  # type: ignore[attr-defined]
                self._stop.wait(0.02)
