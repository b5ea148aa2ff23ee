"""Operations against the live cluster: `locate` finds every turn of a conversation that
went through both routers (masked text, intent, zone, version, latency, trace id), by
session or by time and channel, with no card number or e-mail in clear in its output or on
disk; `inspect` passes a healthy cluster and flags injected risks (a zone whose Triton
hangs, an FAQ about to expire, a latency objective the cluster cannot meet)."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import grpc
import pytest

from tests.helpers.command import TWINTELLER
from tests.integration.test_lifecycle import AUTH
from twinteller.cli.certificates import issue
from twinteller.devcluster.local_cluster import LOCAL_ADMIN_TOKEN, PROJECT_ROOT, LocalCluster
from twinteller.internal import replication_pb2 as rpb
from twinteller.internal import replication_pb2_grpc as rpb_grpc
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc
from twinteller.v1 import operations_pb2 as opb
from twinteller.v1 import operations_pb2_grpc as opb_grpc

pytestmark = pytest.mark.integration
CARD = "4111 1111 1111 1111"
EMAIL = "jo.bloggs@example.com"


def command(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TWINTELLER_ADMIN_TOKEN": LOCAL_ADMIN_TOKEN}
    argv = [TWINTELLER, name, *args]
    return subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_locate_finds_every_turn_of_a_conversation(
    cluster: LocalCluster, stubs: dict[str, pb_grpc.AssistantStub]
) -> None:
    session = f"complaint-{uuid.uuid4().hex[:8]}"
    texts = [f"my card {CARD} has not arrived", "and how long does that take?", f"thanks, write to {EMAIL}"]
    started = time.time()
    replies = []
    for n, text in enumerate(texts, 1):
        request = pb.ConverseRequest(session_id=session, turn_id=str(n), text=text, channel="ivr")
        replies.append(stubs["a" if n % 2 else "b"].Converse(request, timeout=10))

    found = command("locate", "--etcd", cluster.layout.etcd, "--session", session, "--json")
    assert found.returncode == 0, found.stderr
    rows = [json.loads(line) for line in found.stdout.splitlines()]
    assert [r["turn_id"] for r in rows] == ["1", "2", "3"]
    for row, reply in zip(rows, replies, strict=True):
        assert (row["intent"], row["zone"], row["model_version"], row["trace_id"]) == (
            reply.intent,
            reply.zone,
            reply.model_version,
            reply.trace_id,
        )
        assert row["action"] == pb.Action.Name(reply.action) and row["channel"] == "ivr"
        assert row["latency_ms"] > 0 and row["error"] == ""
    assert {r["router"] for r in rows} == {"router-a", "router-b"}
    assert "[card]" in rows[0]["text"] and "[email]" in rows[2]["text"]
    for clear in (CARD, EMAIL):
        assert clear not in found.stdout
        for path in cluster.run_dir.glob("turns-router-*.sqlite3*"):
            assert clear.encode() not in path.read_bytes(), path

    readable = command("locate", "--etcd", cluster.layout.etcd, "--session", session)
    assert readable.returncode == 0 and readable.stdout.count(session) == 3 and replies[0].trace_id in readable.stdout

    by_time = command("locate", "--etcd", cluster.layout.etcd, "--since", str(started - 1),
                      "--channel", "ivr", "--json")  # fmt: skip
    assert {json.loads(line)["session_id"] for line in by_time.stdout.splitlines()} >= {session}
    other_channel = command("locate", "--etcd", cluster.layout.etcd, "--since", str(started - 1),
                            "--channel", "web", "--json")  # fmt: skip
    assert session not in other_channel.stdout

    nothing = command("locate", "--etcd", cluster.layout.etcd, "--session", "no-such-session")
    assert nothing.returncode == 1 and "0 turn(s)" in nothing.stderr
    assert command("locate", "--etcd", cluster.layout.etcd).returncode == 2  # neither session nor time


def test_inspection_passes_a_healthy_cluster(cluster: LocalCluster, stubs: dict[str, pb_grpc.AssistantStub]) -> None:
    cluster.heal()  # healthy is the premise: not a Triton still restarting after an earlier test's load
    for _ in range(5):  # some traffic in the window
        stubs["a"].Converse(
            pb.ConverseRequest(session_id=uuid.uuid4().hex, turn_id="1", text="where is my card"), timeout=10
        )
    report = command("inspect", "--etcd", cluster.layout.etcd, "--model-repo", str(PROJECT_ROOT / "model_repo"))
    assert report.returncode == 0, report.stdout
    lines = report.stdout.splitlines()
    assert not [line for line in lines if line.startswith("[RISK]")], report.stdout
    for expected in ("zone a at", "zone b at", "3 member(s)", "router router-a: SERVING", "leader router-", "p99"):
        assert any(expected in line and line.startswith("[OK") for line in lines), (expected, report.stdout)
    # The certificate each live server presents, from a TLS handshake with it.
    served = [line for line in lines if line.startswith("[OK  ] certificates") and " at " in line]
    for expected in ("router router-a at", "router router-b at", "zone a at", "zone b at", "etcd etcd-3 at"):
        assert any(expected in line and "expires" in line for line in served), (expected, report.stdout)


def test_inspection_flags_injected_risks(cluster: LocalCluster, tmp_path: Path) -> None:
    short_lived = issue(tmp_path / "short", days=3).cert("router")  # renewal overdue
    with cluster.channel("a") as channel:
        admin = kpb_grpc.KnowledgeStub(channel)
        original = admin.GetFaq(kpb.GetFaqRequest(id="card_arrival"), metadata=AUTH, timeout=10)
        expiring = kpb.Faq()
        expiring.CopyFrom(original)
        expiring.expires_at = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
        admin.PutFaq(kpb.PutFaqRequest(faq=expiring), metadata=AUTH, timeout=10)
        pid = cluster.triton_pid("b")
        os.kill(pid, signal.SIGSTOP)  # hung: its agent deregisters zone b within a second or two
        try:
            deadline = time.monotonic() + 10
            while "b" in cluster.registered_zones() and time.monotonic() < deadline:
                time.sleep(0.2)
            report = command("inspect", "--etcd", cluster.layout.etcd, "--slo-p99-ms", "0.001",
                             "--cert", str(short_lived))  # fmt: skip
        finally:
            os.kill(pid, signal.SIGCONT)
            current = admin.GetFaq(kpb.GetFaqRequest(id="card_arrival"), metadata=AUTH, timeout=10)
            original.revision = current.revision
            admin.PutFaq(kpb.PutFaqRequest(faq=original), metadata=AUTH, timeout=10)
    assert report.returncode == 1, report.stdout
    lines = report.stdout.splitlines()
    assert any(line.startswith("[RISK]") and "zone b is not registered" in line for line in lines), report.stdout
    assert any(line.startswith("[WARN]") and "card_arrival" in line for line in lines), report.stdout
    assert any(line.startswith("[RISK]") and "p99" in line for line in lines), report.stdout
    assert any(line.startswith("[WARN]") and str(short_lived) in line for line in lines), report.stdout
    assert "FAILED" in lines[-1]
    cluster.wait_zones_registered({"a", "b"}, 60)


def test_each_routers_turn_log_is_copied_to_the_other_sites_router(
    cluster: LocalCluster, stubs: dict[str, pb_grpc.AssistantStub]
) -> None:
    """Router a's turns are in router b's log too (and the other way round), so a site lost
    takes none of them out of `locate`; only a router may append to another's log."""
    session = f"copied-{uuid.uuid4().hex[:8]}"
    for n, zone in enumerate("ab", 1):
        stubs[zone].Converse(pb.ConverseRequest(session_id=session, turn_id=str(n), text="lost my card"), timeout=10)
    metadata = (("authorization", f"Bearer {LOCAL_ADMIN_TOKEN}"),)
    for zone in "ab":
        operations = opb_grpc.OperationsStub(cluster.channel(zone))
        deadline = time.monotonic() + 15
        while True:
            rows = operations.LocateTurns(
                opb.LocateTurnsRequest(session_id=session), metadata=metadata, timeout=5
            ).turns
            if len(rows) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert [(r.turn_id, r.router) for r in rows] == [("1", "router-a"), ("2", "router-b")], zone
    forged = rpb.AppendTurnsRequest(origin="router-x", turns=[opb.TurnRecord(session_id=session, turn_id="9")])
    with pytest.raises(grpc.RpcError) as refused:
        rpb_grpc.TurnReplicationStub(cluster.channel("a")).Append(forged, timeout=5)  # a client certificate
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
