"""router/admin/cluster_service.py over the in-memory store: each correction is checked
against the clusters the worker last wrote and kept as a rule with an audit record; bad
requests name their field and write nothing; deleting a rule undoes it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from router.admin.cluster_service import ClusterService
from router.api.auth import Tokens
from tests.helpers.memory_store import MemoryStore
from twinteller.errors import FailedPrecondition, InvalidArgument, NotFound
from twinteller.etcd import keys
from twinteller.knowledge.cluster_rules import Rule
from twinteller.knowledge.insights_document import LATEST, Cluster, Document, Member, Split
from twinteller.v1 import knowledge_pb2 as kpb


def members(prefix: str, n: int) -> list[Member]:
    return [Member(f"{prefix}{i}", f"{prefix} question {i}", float(i), "app") for i in range(n)]


def service() -> tuple[ClusterService, MemoryStore]:
    store = MemoryStore(revision=10)
    big = Cluster("c-big", "points score", 6, 0.0, 5.0, [], members("k", 6), split=Split(["k4", "k5"], 0.4))
    small = Cluster("c-small", "cheque", 3, 0.0, 2.0, [], members("s", 3))
    store.put_now(keys.insights(LATEST), Document(1.0, [big, small]).to_json())
    return ClusterService(store, Tokens({})), store


def rules(store: MemoryStore) -> list[Rule]:
    return [Rule.from_json(v.value) for k, v in sorted(store.data.items()) if k.startswith(keys.CLUSTER_RULES)]


def audit(store: MemoryStore) -> list[dict[str, object]]:
    return [json.loads(v.value) for k, v in sorted(store.data.items()) if k.startswith(keys.KB_AUDIT)]


async def test_a_split_without_members_takes_the_suggested_split() -> None:
    clusters, store = service()
    reply = await clusters.split_cluster(kpb.SplitClusterRequest(cluster_id="c-big", reason="two needs"), "ann")
    assert reply.kind == "split" and list(reply.member_keys) == ["k4", "k5"] and reply.by == "ann"
    [rule] = rules(store)
    assert (rule.id, rule.cluster, rule.members, rule.reason) == (reply.id, "c-big", ("k4", "k5"), "two needs")
    assert [a["action"] for a in audit(store)] == ["cluster split"]


async def test_a_split_of_named_members() -> None:
    clusters, _ = service()
    reply = await clusters.split_cluster(
        kpb.SplitClusterRequest(cluster_id="c-big", member_keys=["k0", "k0", "k1"]), "ann"
    )
    assert list(reply.member_keys) == ["k0", "k1"]


@pytest.mark.parametrize(
    ("request_", "error", "field"),
    [
        (kpb.SplitClusterRequest(), InvalidArgument, "cluster_id"),
        (kpb.SplitClusterRequest(cluster_id="c-gone"), NotFound, "cluster_id"),
        (kpb.SplitClusterRequest(cluster_id="c-big", member_keys=["s0"]), InvalidArgument, "member_keys"),
        (kpb.SplitClusterRequest(cluster_id="c-big", member_keys=[f"k{i}" for i in range(6)]), InvalidArgument,
         "member_keys"),
        (kpb.SplitClusterRequest(cluster_id="c-small"), FailedPrecondition, "cluster_id"),
        (kpb.SplitClusterRequest(cluster_id="c-big", reason="x" * 501), InvalidArgument, "reason"),
    ],
)  # fmt: skip
async def test_bad_splits_name_the_field_and_write_nothing(
    request_: kpb.SplitClusterRequest, error: type[Exception], field: str
) -> None:
    clusters, store = service()
    with pytest.raises(error, match=field):
        await clusters.split_cluster(request_, "ann")
    assert rules(store) == [] and audit(store) == []


async def test_merge_move_and_dismiss() -> None:
    clusters, store = service()
    merged = await clusters.merge_clusters(
        kpb.MergeClustersRequest(cluster_id="c-big", other_cluster_id="c-small"), "ann"
    )
    assert (merged.kind, merged.cluster_id, merged.other_cluster_id) == ("merge", "c-big", "c-small")
    moved = await clusters.move_cluster_member(kpb.MoveClusterMemberRequest(member_key="s1", cluster_id="c-big"), "ann")
    assert (moved.kind, list(moved.member_keys)) == ("move", ["s1"])
    dismissed = await clusters.dismiss_cluster(kpb.DismissClusterRequest(cluster_id="c-small", reason="noise"), "bob")
    [rule] = [r for r in rules(store) if r.id == dismissed.id]
    assert rule.members == ("s0", "s1", "s2") and rule.texts == tuple(f"s question {i}" for i in range(3))
    assert [a["action"] for a in audit(store)] == ["cluster merge", "cluster move", "cluster dismiss"]
    listed = await clusters.list_cluster_rules()
    assert [r.id for r in listed.rules] == [merged.id, moved.id, dismissed.id]  # oldest first


@pytest.mark.parametrize(
    ("call", "request_", "field"),
    [
        ("merge", kpb.MergeClustersRequest(cluster_id="c-big", other_cluster_id="c-big"), "other_cluster_id"),
        ("merge", kpb.MergeClustersRequest(cluster_id="c-big"), "other_cluster_id"),
        ("move", kpb.MoveClusterMemberRequest(member_key="k1", cluster_id="c-big"), "cluster_id"),
        ("move", kpb.MoveClusterMemberRequest(cluster_id="c-big"), "member_key"),
        ("move", kpb.MoveClusterMemberRequest(member_key="nope", cluster_id="c-big"), "member_key"),
        ("dismiss", kpb.DismissClusterRequest(cluster_id="c-gone"), "cluster_id"),
    ],
)
async def test_bad_corrections_name_the_field(call: str, request_: Any, field: str) -> None:
    clusters, store = service()
    method = {
        "merge": clusters.merge_clusters,
        "move": clusters.move_cluster_member,
        "dismiss": clusters.dismiss_cluster,
    }
    with pytest.raises((InvalidArgument, NotFound), match=field):
        await method[call](request_, "ann")
    assert rules(store) == []


async def test_deleting_a_rule_undoes_it_and_is_audited() -> None:
    clusters, store = service()
    rule = await clusters.dismiss_cluster(kpb.DismissClusterRequest(cluster_id="c-small"), "ann")
    await clusters.delete_cluster_rule(kpb.DeleteClusterRuleRequest(id=rule.id), "bob")
    assert rules(store) == []
    assert [a["action"] for a in audit(store)] == ["cluster dismiss", "cluster rule deleted"]
    with pytest.raises(NotFound, match="id"):
        await clusters.delete_cluster_rule(kpb.DeleteClusterRuleRequest(id=rule.id), "bob")
    with pytest.raises(InvalidArgument, match="id"):
        await clusters.delete_cluster_rule(kpb.DeleteClusterRuleRequest(), "bob")
