"""Replacing the legacy bot, through the real cluster and the reference legacy bot (its own
process; router a reaches it over HTTP/JSON, router b over gRPC): the rule file migrated
losslessly with its report, the log replayed through both systems, the shadow report, a
0 -> 10 -> 50 -> 100 % cutover under load, the guard's rollback on an injected
regression, and the legacy bot killed mid-shadow. No turn fails, no conversation switches
system (but the one whose system died)."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from tests.integration.test_lifecycle import AUTH, finish
from twinteller.devcluster.load import QUESTIONS, ConversationLoad, TurnRecord
from twinteller.devcluster.local_cluster import PROJECT_ROOT, LocalCluster
from twinteller.migration.plan import faq_id, rule_tag
from twinteller.migration.rules import parse
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc
from twinteller.v1 import migration_pb2 as mpb
from twinteller.v1 import migration_pb2_grpc as mpb_grpc

pytestmark = pytest.mark.integration
RULES = PROJECT_ROOT / "legacy" / "data" / "rules.json"
LOG = PROJECT_ROOT / "legacy" / "data" / "conversations.jsonl"
# Seconds for a cutover change to reach every router (watch) and for counts to reach etcd.
PROPAGATE_S = 1.0
FLUSH_S = 6.0


@pytest.fixture(scope="module")
def channel(cluster: LocalCluster) -> Iterator[grpc.Channel]:
    with cluster.channel("a") as opened:
        yield opened


@pytest.fixture(scope="module")
def migrations(channel: grpc.Channel) -> mpb_grpc.MigrationStub:
    return mpb_grpc.MigrationStub(channel)


@pytest.fixture(scope="module")
def admin(channel: grpc.Channel) -> kpb_grpc.KnowledgeStub:
    return kpb_grpc.KnowledgeStub(channel)


def set_cutover(migrations: mpb_grpc.MigrationStub, **fields: Any) -> mpb.Cutover:
    state = migrations.UpdateCutover(
        mpb.UpdateCutoverRequest(cutover=mpb.Cutover(**fields)),
        metadata=AUTH,
        timeout=10,  # type: ignore[arg-type]
    )
    time.sleep(PROPAGATE_S)
    return state


@pytest.fixture(scope="module")
def migrated(
    cluster: LocalCluster, admin: kpb_grpc.KnowledgeStub, migrations: mpb_grpc.MigrationStub
) -> Iterator[mpb.ImportLegacyRulesResponse]:
    """The legacy rules imported, trained and deployed; afterwards the knowledge base, the
    model version and the cutover are put back as they were."""
    before = admin.Export(kpb.ExportRequest(format=kpb.JSON), metadata=AUTH, timeout=30).content
    request = mpb.ImportLegacyRulesRequest(rules=RULES.read_bytes(), logs=LOG.read_bytes())
    reply = migrations.ImportLegacyRules(request, metadata=AUTH, timeout=120)
    try:
        trained = finish(admin, admin.Train(kpb.TrainRequest(), metadata=AUTH, timeout=10), 300, lambda: None)
        finish(
            admin,
            admin.Deploy(kpb.DeployRequest(version=trained.version), metadata=AUTH, timeout=10),
            240,
            lambda: None,
        )
        yield reply
    finally:
        set_cutover(migrations, enabled=False, reason="migration tests done")
        restore = kpb.ImportRequest(format=kpb.JSON, content=before, replace=True)
        admin.Import(restore, metadata=AUTH, timeout=60)
        finish(admin, admin.Rollback(kpb.RollbackRequest(), metadata=AUTH, timeout=10), 60, lambda: None)


def test_a_broken_rule_file_is_refused_and_a_dry_run_writes_nothing(
    cluster: LocalCluster, admin: kpb_grpc.KnowledgeStub, migrations: mpb_grpc.MigrationStub
) -> None:
    for bad in (b"not json", b"[]", b'{"rules": 5}', b"\xff\xfe"):
        with pytest.raises(grpc.RpcError) as e:
            migrations.ImportLegacyRules(mpb.ImportLegacyRulesRequest(rules=bad), metadata=AUTH, timeout=60)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "rules" in e.value.details()  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as e:
        migrations.ImportLegacyRules(mpb.ImportLegacyRulesRequest(rules=RULES.read_bytes()), timeout=60)
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]

    bad_log = LOG.read_bytes()[:2000] + b"\n{broken\n"
    request = mpb.ImportLegacyRulesRequest(rules=RULES.read_bytes(), logs=bad_log, dry_run=True)
    reply = migrations.ImportLegacyRules(request, metadata=AUTH, timeout=120)
    assert reply.migrated and any("line" in p for p in reply.log_problems)
    assert not admin.ListFaqs(kpb.ListFaqsRequest(tag="legacy"), metadata=AUTH, timeout=10).faqs


def test_every_rule_becomes_an_entry_or_is_reported(
    migrated: mpb.ImportLegacyRulesResponse, admin: kpb_grpc.KnowledgeStub
) -> None:
    raw = json.loads(RULES.read_bytes())["rules"]
    book, _ = parse(RULES.read_bytes())
    by_rule = {m.rule: m for m in migrated.migrated}
    problems = {p.rule: p.reason for p in migrated.problems}
    assert len(by_rule) + len(problems) == len(raw)  # nothing silently left out
    assert "does not compile" in problems["BROKEN_BALANCE"] and "answer" in problems["EMPTY_ANSWER"]
    assert migrated.log_lines == len(LOG.read_text(encoding="utf-8").splitlines())
    for rule in book.rules:
        item = by_rule[rule.id]
        faq = admin.GetFaq(kpb.GetFaqRequest(id=item.faq_id), metadata=AUTH, timeout=10)
        assert faq.answer.encode() == rule.answer.encode()  # byte for byte
        assert rule_tag(rule.id) in faq.tags and faq.id == faq_id(rule.id)
        assert faq.enabled == (rule.enabled and not item.overlaps and not item.catch_all)
        assert len(faq.questions) == item.pattern_questions + item.log_questions > 0
        if item.overlaps:  # the entry that already answers it now says so
            existing = admin.GetFaq(kpb.GetFaqRequest(id=item.overlaps), metadata=AUTH, timeout=10)
            assert rule_tag(rule.id) in existing.tags
    # The rule the old bot fell back on for everything about cards is no new intent.
    assert by_rule["CARD_GENERIC"].catch_all and not by_rule["CARD_GENERIC"].enabled
    assert by_rule["OLD_PROMO"].enabled is False  # disabled in the legacy: disabled here
    assert any(m.overlaps for m in migrated.migrated) and any(m.enabled for m in migrated.migrated)
    audit = admin.ListAudit(kpb.ListAuditRequest(limit=50), metadata=AUTH, timeout=10).entries
    assert any(a.action == "legacy import" and faq_id("LOST_CARD") in a.ids for a in audit)


def test_the_log_replayed_through_both_systems(
    migrated: mpb.ImportLegacyRulesResponse, migrations: mpb_grpc.MigrationStub
) -> None:
    report = migrations.ReplayLegacyLog(mpb.ReplayLegacyLogRequest(logs=LOG.read_bytes()), metadata=AUTH, timeout=300)
    lines = len(LOG.read_text(encoding="utf-8").splitlines())
    assert report.turns == lines and report.failed == 0
    assert report.legacy_changed == 0  # the same rules answer as they did when the log was written
    assert sum(d.count for d in report.differences) == report.turns - report.agreed
    assert 0.0 < report.agreement < 1.0 and report.differences[0].examples
    # Each group is one (rule, intent, action) pair, most frequent first.
    counts = [d.count for d in report.differences]
    assert counts == sorted(counts, reverse=True)
    assert len({(d.legacy_rule, d.twinteller_intent, d.twinteller_action) for d in report.differences}) == len(counts)


def _log_turns(count: int) -> list[dict[str, str]]:
    lines = [json.loads(line) for line in LOG.read_text(encoding="utf-8").splitlines()]
    return lines[:count]


def test_shadow_serves_the_legacy_and_reports_the_comparison(
    cluster: LocalCluster, migrated: mpb.ImportLegacyRulesResponse, migrations: mpb_grpc.MigrationStub
) -> None:
    set_cutover(migrations, enabled=True, twinteller_percent=0, reason="shadow test")
    started = time.time()
    logged = _log_turns(40)
    stubs = [pb_grpc.AssistantStub(cluster.channel(z)) for z in ("a", "b")]
    for n, line in enumerate(logged):
        request = pb.ConverseRequest(session_id=uuid.uuid4().hex, turn_id="1", text=line["text"], channel="app")
        reply = stubs[n % 2].Converse(request, timeout=10)  # router a: HTTP adapter, b: gRPC adapter
        assert reply.system == "legacy" and reply.model_version == "legacy"
        assert reply.reply == line["answer"]  # the legacy's answer, byte for byte
        assert reply.action == (pb.ANSWER if line["rule"] else pb.FALLBACK)
    time.sleep(FLUSH_S)
    window = int(time.time() - started) + 2
    report = migrations.GetShadowReport(mpb.GetShadowReportRequest(window_s=window), metadata=AUTH, timeout=10)
    assert report.compared == len(logged) and report.legacy.served == len(logged) and report.twinteller.served == 0
    assert report.legacy.asked == report.twinteller.asked == len(logged)
    assert report.twinteller.p50_ms > 0 and report.legacy.p50_ms > 0 and report.legacy.errors == 0
    assert sum(d.count for d in report.differences) == report.compared - report.agreed
    assert all(d.examples for d in report.differences)
    legacy_fallbacks = sum(1 for line in logged if not line["rule"])
    assert report.legacy.fallbacks == legacy_fallbacks


def _by_session(records: list[TurnRecord]) -> dict[str, list[TurnRecord]]:
    sessions: dict[str, list[TurnRecord]] = defaultdict(list)
    for record in records:
        sessions[record.session_id].append(record)
    return sessions


def test_cutover_0_10_50_100_under_load_never_moves_a_conversation(
    cluster: LocalCluster, migrated: mpb.ImportLegacyRulesResponse, migrations: mpb_grpc.MigrationStub
) -> None:
    routers = [cluster.layout.router_target(z) for z in cluster.layout.routers]
    stages: list[tuple[int, float, float]] = []  # percent, in force from .. until (time.monotonic())
    with ConversationLoad(
        routers, cluster.tls, retry=False, workers=4, interval_s=0.05, turns_per_session=4, max_s=120
    ) as load:
        for percent in (0, 10, 50, 100):
            set_cutover(migrations, enabled=True, twinteller_percent=percent, reason=f"cutover test {percent}%")
            since = time.monotonic()  # set_cutover waited for every router to see it
            time.sleep(5)
            stages.append((percent, since, time.monotonic()))
        load.wait_turns(len(load.records()) + 20)
    records = load.records()
    assert [r.error for r in load.failures()] == []
    sessions = _by_session(records)
    for session, turns in sessions.items():
        assert len({t.system for t in turns}) == 1, f"{session} switched systems: {[t.system for t in turns]}"
    # Conversations begun at 0 % are the legacy's, at 100 % twinteller's; 10 and 50 mix.
    begun: dict[int, list[str]] = defaultdict(list)
    for turns in sessions.values():
        first = min(turns, key=lambda t: t.started)
        for percent, since, until in stages:
            if since <= first.started < until:
                begun[percent].append(first.system)
    assert set(begun[0]) == {"legacy"} and set(begun[100]) == {"twinteller"}
    assert {"legacy", "twinteller"} == set(begun[10]) | set(begun[50])
    assert len(records) > 200


def test_guard_rolls_back_to_the_legacy_on_a_regression(
    cluster: LocalCluster,
    migrated: mpb.ImportLegacyRulesResponse,
    migrations: mpb_grpc.MigrationStub,
    admin: kpb_grpc.KnowledgeStub,
) -> None:
    set_cutover(migrations, enabled=True, twinteller_percent=50, fallback_margin=0.2, min_turns=20, window_s=120,
                reason="guard test")  # fmt: skip
    routers = [cluster.layout.router_target(z) for z in cluster.layout.routers]
    # The injected regression: a knowledge manager's bad lexicon edit turns every question
    # of the load into a word no model knows, so twinteller falls back on all of them.
    for question in QUESTIONS:
        entry = kpb.LexiconEntry(term=question, canonical="zorblax")
        admin.PutLexiconEntry(kpb.PutLexiconEntryRequest(entry=entry), metadata=AUTH, timeout=10)
    try:
        with ConversationLoad(routers, cluster.tls, retry=False, workers=3, interval_s=0.05, max_s=90) as load:
            deadline = time.monotonic() + 60
            state = migrations.GetCutover(mpb.GetCutoverRequest(), metadata=AUTH, timeout=10)
            while state.twinteller_percent and time.monotonic() < deadline:
                time.sleep(0.5)
                state = migrations.GetCutover(mpb.GetCutoverRequest(), metadata=AUTH, timeout=10)
        assert state.twinteller_percent == 0 and state.enabled, "the guard did not roll back"
        assert state.updated_by == "cutover-guard" and "fallback rate" in state.reason
        assert [r.error for r in load.failures()] == []
        audit = admin.ListAudit(kpb.ListAuditRequest(limit=20), metadata=AUTH, timeout=10).entries
        assert any(a.actor == "cutover-guard" and a.action == "cutover rollback" for a in audit)
    finally:
        for question in QUESTIONS:
            admin.DeleteLexiconEntry(kpb.DeleteLexiconEntryRequest(term=question), metadata=AUTH, timeout=10)


def test_the_legacy_bot_killed_mid_shadow_costs_no_turn(
    cluster: LocalCluster, migrated: mpb.ImportLegacyRulesResponse, migrations: mpb_grpc.MigrationStub
) -> None:
    set_cutover(migrations, enabled=True, twinteller_percent=0, reason="legacy failure test")
    routers = [cluster.layout.router_target(z) for z in cluster.layout.routers]
    try:
        with ConversationLoad(routers, cluster.tls, retry=False, workers=4, interval_s=0.05, max_s=60) as load:
            load.wait_turns(40)
            assert {r.system for r in load.records()} == {"legacy"}
            cluster.kill("legacy")
            killed = time.monotonic()
            time.sleep(4)
        assert [r.error for r in load.failures()] == []
        after = [r for r in load.records() if r.started > killed + 0.5]
        assert len(after) > 40 and {r.system for r in after} == {"twinteller"}
    finally:
        cluster.restart("legacy")
        cluster.wait_legacy_ready(30)
