"""Insights through the admin `twinteller.v1.Knowledge` service: what the insights worker
(insights/) wrote last (`insights/latest`: clusters of unrecognised queries, trends,
satisfaction, traffic), and a cluster turned into training questions, of an existing FAQ
entry (adopt) or a new one."""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from typing import Any

import grpc

from router.admin.faq_service import CHANGE, SERVICE_NAME, faq_entry, from_pb, to_pb
from router.api.auth import Tokens
from router.api.boundary import boundary, checked, unary_handlers
from twinteller.errors import NotFound
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.knowledge import faqs
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.insights_document import LATEST, Cluster, Document
from twinteller.v1 import knowledge_pb2 as kpb


def cluster_pb(cluster: Cluster) -> kpb.UnrecognisedCluster:
    fields = asdict(cluster)
    fields["members"] = [kpb.ClusterMember(**asdict(m)) for m in cluster.members]
    fields["split"] = kpb.ClusterSplit(**asdict(cluster.split)) if cluster.split else None
    fields["daily"] = [kpb.DayCount(**asdict(d)) for d in cluster.daily]
    return kpb.UnrecognisedCluster(**fields)


class InsightService:
    def __init__(self, store: Store, tokens: Tokens) -> None:
        self._store = store
        self._tokens = tokens

    async def _insights(self) -> Document:
        entry = await self._store.get(keys.insights(LATEST))
        return Document.from_json(entry.value) if entry else Document(0.0)

    async def _read(self, raw: Any, context: grpc.aio.ServicerContext) -> Document:
        """The common part of the read-only calls: check, authenticate, read."""
        checked(raw)
        self._tokens.actor(context)
        return await self._insights()

    async def _cluster(self, cluster_id: str) -> Cluster:
        found = next((c for c in (await self._insights()).clusters if c.id == cluster_id), None)
        if found is None:
            raise NotFound(f"cluster_id: no cluster {cluster_id!r} (see ListClusters; clusters are recomputed)")
        return found

    async def _with_cluster(
        self, actor: str, record: FaqRecord, revision: int, cluster: Cluster, action: str
    ) -> kpb.Faq:
        """Write `record` and drop the cluster's queries from the unrecognised log, in one
        transaction with its audit record; refused if the entry changed since `revision`."""
        now = time.time()
        record = faqs.validate(record).stamped(actor, now)
        key = keys.faq(record.id)
        written = await audited_commit(
            self._store, actor, action, [record.id, cluster.id], at=now,
            puts={key: record.to_json().encode()},
            absent=[] if revision else [key],
            unchanged={key: revision} if revision else {},
            deletes=tuple(m.key for m in cluster.members),
            conflict=f"FAQ {record.id!r} changed (or appeared) meanwhile; nothing written, try again",
        )  # fmt: skip
        return to_pb(record, written)

    @boundary
    async def ListClusters(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListClustersResponse:
        document = await self._read(raw, context)
        return kpb.ListClustersResponse(
            clusters=[cluster_pb(c) for c in document.clusters], computed_at=document.computed_at
        )

    @boundary
    async def AdoptCluster(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Faq:
        return await self.adopt_cluster(checked(raw), self._tokens.actor(context, CHANGE))

    async def adopt_cluster(self, request: kpb.AdoptClusterRequest, actor: str) -> kpb.Faq:
        cluster = await self._cluster(request.cluster_id)
        entry = await faq_entry(self._store, request.faq_id)
        record = FaqRecord.from_json(entry.value)
        questions = list(dict.fromkeys([*record.questions, *(m.text for m in cluster.members)]))
        return await self._with_cluster(
            actor, replace(record, questions=questions), entry.mod_revision, cluster, "adopt cluster"
        )

    @boundary
    async def CreateFaqFromCluster(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Faq:
        return await self.create_faq_from_cluster(checked(raw), self._tokens.actor(context, CHANGE))

    async def create_faq_from_cluster(self, request: kpb.CreateFaqFromClusterRequest, actor: str) -> kpb.Faq:
        cluster = await self._cluster(request.cluster_id)
        record = from_pb(request.faq)
        if not record.questions:
            record = replace(record, questions=list(dict.fromkeys(m.text for m in cluster.members)))
        return await self._with_cluster(actor, record, 0, cluster, "create from cluster")

    @boundary
    async def ListTrends(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListTrendsResponse:
        document = await self._read(raw, context)
        trends = [kpb.Trend(**asdict(t)) for t in document.trends]
        return kpb.ListTrendsResponse(trends=trends, computed_at=document.computed_at)

    @boundary
    async def GetSatisfaction(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.GetSatisfactionResponse:
        document = await self._read(raw, context)
        ratings = [kpb.Rating(**asdict(r)) for r in document.ratings]
        return kpb.GetSatisfactionResponse(ratings=ratings, computed_at=document.computed_at)

    @boundary
    async def GetTraffic(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.GetTrafficResponse:
        document = await self._read(raw, context)
        minutes = [kpb.TrafficMinute(**asdict(t)) for t in document.traffic]
        return kpb.GetTrafficResponse(minutes=minutes, computed_at=document.computed_at)

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Any, Any]] = {
            "ListClusters": (kpb.ListClustersRequest, kpb.ListClustersResponse),
            "AdoptCluster": (kpb.AdoptClusterRequest, kpb.Faq),
            "CreateFaqFromCluster": (kpb.CreateFaqFromClusterRequest, kpb.Faq),
            "ListTrends": (kpb.ListTrendsRequest, kpb.ListTrendsResponse),
            "GetSatisfaction": (kpb.GetSatisfactionRequest, kpb.GetSatisfactionResponse),
            "GetTraffic": (kpb.GetTrafficRequest, kpb.GetTrafficResponse),
        }
        return unary_handlers(SERVICE_NAME, self, methods)
