"""A knowledge manager's corrections to the clusters of unrecognised queries, through the
admin `twinteller.v1.Knowledge` service: split, merge, move a question, dismiss. Each is
kept as a rule (twinteller/knowledge/cluster_rules.py) that the insights worker applies
from its next round on (insights/curation.py). They change what is proposed, not the
knowledge base, so an editor makes them directly, each audited; adopting a cluster into an
FAQ is what changes the base (maker-checker).

Checked against the clusters as the worker last computed them (`insights/latest`): a
cluster or member that is not there is NOT_FOUND; a split that would take every member, a
merge of a cluster with itself, a move into the cluster it is in is INVALID_ARGUMENT
naming the field; a split without members of a cluster too small to suggest one is
FAILED_PRECONDITION.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import grpc

from router.admin.faq_service import CHANGE, SERVICE_NAME
from router.api.auth import Tokens
from router.api.boundary import boundary, checked, unary_handlers
from twinteller.errors import FailedPrecondition, InvalidArgument, NotFound
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.knowledge.cluster_rules import Rule
from twinteller.knowledge.insights_document import LATEST, Cluster, Document
from twinteller.v1 import knowledge_pb2 as kpb

MAX_REASON = 500


def rule_pb(rule: Rule) -> kpb.ClusterRule:
    return kpb.ClusterRule(
        id=rule.id, kind=rule.kind, cluster_id=rule.cluster, other_cluster_id=rule.other,
        member_keys=list(rule.members), reason=rule.reason, by=rule.by, at=rule.at,
    )  # fmt: skip


class ClusterService:
    def __init__(self, store: Store, tokens: Tokens) -> None:
        self._store = store
        self._tokens = tokens

    async def _clusters(self) -> list[Cluster]:
        entry = await self._store.get(keys.insights(LATEST))
        return Document.from_json(entry.value).clusters if entry else []

    @staticmethod
    def _find(clusters: list[Cluster], cluster_id: str, field: str) -> Cluster:
        if not cluster_id:
            raise InvalidArgument(f"{field}: required")
        found = next((c for c in clusters if c.id == cluster_id), None)
        if found is None:
            raise NotFound(f"{field}: no cluster {cluster_id!r} (see ListClusters; clusters are recomputed)")
        return found

    async def _write(self, actor: str, kind: str, reason: str, **fields: Any) -> kpb.ClusterRule:
        if len(reason) > MAX_REASON:
            raise InvalidArgument(f"reason: at most {MAX_REASON} characters")
        rule = Rule(id=f"r-{uuid.uuid4().hex[:10]}", kind=kind, reason=reason, by=actor, at=time.time(), **fields)
        ids = [rule.id, rule.cluster, *([rule.other] if rule.other else [])]
        await audited_commit(
            self._store, actor, f"cluster {kind}", ids, at=rule.at, puts={keys.cluster_rule(rule.id): rule.to_json()}
        )
        return rule_pb(rule)

    @boundary
    async def SplitCluster(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ClusterRule:
        return await self.split_cluster(checked(raw), self._tokens.actor(context, CHANGE))

    async def split_cluster(self, request: kpb.SplitClusterRequest, actor: str) -> kpb.ClusterRule:
        cluster = self._find(await self._clusters(), request.cluster_id, "cluster_id")
        members = {m.key for m in cluster.members}
        if request.member_keys:
            unknown = [k for k in request.member_keys if k not in members]
            if unknown:
                raise InvalidArgument(f"member_keys: {unknown[0]!r} is not a member of {cluster.id!r}")
            part = list(dict.fromkeys(request.member_keys))
        elif cluster.split is None:
            raise FailedPrecondition(f"cluster_id: {cluster.id!r} is too small to split; name the member_keys")
        else:
            part = cluster.split.member_keys
        if len(part) >= cluster.size:
            raise InvalidArgument("member_keys: a split must leave at least one member in the cluster")
        return await self._write(actor, "split", request.reason, cluster=cluster.id, members=tuple(part))

    @boundary
    async def MergeClusters(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ClusterRule:
        return await self.merge_clusters(checked(raw), self._tokens.actor(context, CHANGE))

    async def merge_clusters(self, request: kpb.MergeClustersRequest, actor: str) -> kpb.ClusterRule:
        clusters = await self._clusters()
        into = self._find(clusters, request.cluster_id, "cluster_id")
        other = self._find(clusters, request.other_cluster_id, "other_cluster_id")
        if into.id == other.id:
            raise InvalidArgument("other_cluster_id: a cluster cannot be merged with itself")
        return await self._write(actor, "merge", request.reason, cluster=into.id, other=other.id)

    @boundary
    async def MoveClusterMember(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ClusterRule:
        return await self.move_cluster_member(checked(raw), self._tokens.actor(context, CHANGE))

    async def move_cluster_member(self, request: kpb.MoveClusterMemberRequest, actor: str) -> kpb.ClusterRule:
        if not request.member_key:
            raise InvalidArgument("member_key: required")
        clusters = await self._clusters()
        into = self._find(clusters, request.cluster_id, "cluster_id")
        source = next((c for c in clusters if any(m.key == request.member_key for m in c.members)), None)
        if source is None:
            raise NotFound(f"member_key: {request.member_key!r} is in no cluster (see ListClusters)")
        if source.id == into.id:
            raise InvalidArgument(f"cluster_id: {request.member_key!r} is already in {into.id!r}")
        return await self._write(actor, "move", request.reason, cluster=into.id, members=(request.member_key,))

    @boundary
    async def DismissCluster(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ClusterRule:
        return await self.dismiss_cluster(checked(raw), self._tokens.actor(context, CHANGE))

    async def dismiss_cluster(self, request: kpb.DismissClusterRequest, actor: str) -> kpb.ClusterRule:
        cluster = self._find(await self._clusters(), request.cluster_id, "cluster_id")
        return await self._write(
            actor, "dismiss", request.reason, cluster=cluster.id,
            members=tuple(m.key for m in cluster.members), texts=tuple(m.text for m in cluster.members),
        )  # fmt: skip

    @boundary
    async def ListClusterRules(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListClusterRulesResponse:
        checked(raw)
        self._tokens.actor(context)
        return await self.list_cluster_rules()

    async def list_cluster_rules(self) -> kpb.ListClusterRulesResponse:
        entries, _ = await self._store.get_prefix(keys.CLUSTER_RULES)
        rules = sorted((Rule.from_json(e.value) for e in entries), key=lambda r: (r.at, r.id))
        return kpb.ListClusterRulesResponse(rules=[rule_pb(r) for r in rules])

    @boundary
    async def DeleteClusterRule(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.DeleteClusterRuleResponse:
        return await self.delete_cluster_rule(checked(raw), self._tokens.actor(context, CHANGE))

    async def delete_cluster_rule(
        self, request: kpb.DeleteClusterRuleRequest, actor: str
    ) -> kpb.DeleteClusterRuleResponse:
        if not request.id:
            raise InvalidArgument("id: required")
        key = keys.cluster_rule(request.id)
        entry = await self._store.get(key)
        if entry is None:
            raise NotFound(f"id: no cluster rule {request.id!r}")
        await audited_commit(
            self._store, actor, "cluster rule deleted", [request.id], deletes=(key,),
            unchanged={key: entry.mod_revision}, conflict=f"rule {request.id!r} changed meanwhile; try again",
        )  # fmt: skip
        return kpb.DeleteClusterRuleResponse()

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Any, Any]] = {
            "SplitCluster": (kpb.SplitClusterRequest, kpb.ClusterRule),
            "MergeClusters": (kpb.MergeClustersRequest, kpb.ClusterRule),
            "MoveClusterMember": (kpb.MoveClusterMemberRequest, kpb.ClusterRule),
            "DismissCluster": (kpb.DismissClusterRequest, kpb.ClusterRule),
            "ListClusterRules": (kpb.ListClusterRulesRequest, kpb.ListClusterRulesResponse),
            "DeleteClusterRule": (kpb.DeleteClusterRuleRequest, kpb.DeleteClusterRuleResponse),
        }
        return unary_handlers(SERVICE_NAME, self, methods)
