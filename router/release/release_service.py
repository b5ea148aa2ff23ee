"""Release safety through the admin `twinteller.v1.Knowledge` service (README "Releases"):
conversation test suites kept in etcd (`release/suites/<name>`, revision = etcd's), cases
captured from real traffic, test runs against any trained version, and the canary's
promotion, abort and figures. Deploys (and the gate and canary they start) come through
router/admin/lifecycle_service.py; suite changes through maker-checker come through
router/admin/proposal_service.py, both wired in router/app.py."""

from __future__ import annotations

import json
import time
from typing import Any

import grpc

from router.api.auth import Tokens
from router.api.boundary import boundary, checked, unary_handlers
from router.conversation.knowledge_view import KnowledgeView
from router.observability.turn_log import TurnLog
from router.release.canary_guard import read_canary
from router.release.rollout import Rollout, read_suites
from router.release.version_stats import read_versions
from twinteller.errors import InvalidArgument, NotFound
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.knowledge.insights_document import LATEST, Document
from twinteller.release import suites as suite_files
from twinteller.release.canary import Canary, VersionCounts
from twinteller.release.suites import Expect, Suite, TestCase, TestTurn
from twinteller.v1 import knowledge_pb2 as kpb

SERVICE_NAME = kpb.DESCRIPTOR.services_by_name["Knowledge"].full_name  # shared with router/admin/
FIGURES_WINDOW_S = 600  # without a canary, the per-version figures of the last 10 minutes
MAX_CAPTURED_TURNS = 30


def suite_pb(suite: Suite, revision: int) -> kpb.TestSuite:
    return kpb.TestSuite(
        name=suite.name, description=suite.description, cases=len(suite.cases), revision=revision,
        updated_by=suite.updated_by, updated_at=suite.updated_at, content=suite_files.dump([suite], "yaml").decode(),
    )  # fmt: skip


def canary_pb(canary: Canary) -> kpb.CanaryState:
    t = canary.thresholds
    return kpb.CanaryState(
        version=canary.version, baseline=canary.baseline, percent=canary.percent, state=canary.state,
        started_at=canary.started_at, updated_at=canary.updated_at, updated_by=canary.updated_by,
        reason=canary.reason,
        thresholds=kpb.CanaryThresholds(min_turns=t.min_turns, min_ratings=t.min_ratings, margin=t.margin, z=t.z,
                                        latency_factor=t.latency_factor),
    )  # fmt: skip


def figures_pb(version: str, counts: VersionCounts) -> kpb.VersionFigures:
    rates = {name: bad / n if n else 0.0 for name, (bad, n) in counts.rates().items()}
    return kpb.VersionFigures(
        version=version, turns=counts.asked, fallback_rate=rates["fallback"], clarify_rate=rates["clarify"],
        handoff_rate=rates["handoff"], rephrase_rate=rates["rephrase"], error_rate=rates["error"],
        ratings=counts.ratings, low_rating_rate=rates["low rating"],
        p50_ms=counts.percentile_ms(0.5), p99_ms=counts.percentile_ms(0.99),
    )  # fmt: skip


class ReleaseService:
    def __init__(
        self, store: Store, tokens: Tokens, knowledge: KnowledgeView, rollout: Rollout, turn_log: TurnLog
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._knowledge = knowledge
        self._rollout = rollout
        self._turn_log = turn_log

    # -- suites ------------------------------------------------------------------------------
    async def _checked(self, suites: list[Suite]) -> None:
        """A suite naming an FAQ the base does not have is refused, with every such turn."""
        entries, _ = await self._store.get_prefix(keys.KB_FAQS)
        known = {e.key[len(keys.KB_FAQS) :] for e in entries}
        unknown = [f"{s.name}: {line}" for s in suites for line in suite_files.unknown_intents(s, known)]
        if unknown:
            raise InvalidArgument("; ".join(unknown[:20]))

    async def put_test_suites(self, request: kpb.PutTestSuitesRequest, actor: str) -> kpb.PutTestSuitesResponse:
        suites = suite_files.parse(request.content, request.filename)
        await self._checked(suites)
        if request.dry_run:
            return kpb.PutTestSuitesResponse(suites=[suite_pb(s, 0) for s in suites])
        now = time.time()
        stamped = [Suite(s.name, s.cases, s.description, 0, actor, now) for s in suites]
        revision = await audited_commit(
            self._store, actor, "put test suites", [s.name for s in stamped], at=now,
            puts={keys.test_suite(s.name): s.to_json() for s in stamped},
        )  # fmt: skip
        return kpb.PutTestSuitesResponse(suites=[suite_pb(s, revision) for s in stamped])

    async def delete_test_suite(self, request: kpb.DeleteTestSuiteRequest, actor: str) -> None:
        entry = await self._store.get(keys.test_suite(request.name)) if request.name else None
        if entry is None:
            raise NotFound(f"name: no test suite {request.name!r} (see ListTestSuites)")
        await audited_commit(
            self._store, actor, "delete test suite", [request.name],
            deletes=(keys.test_suite(request.name),), unchanged={keys.test_suite(request.name): entry.mod_revision},
            conflict=f"test suite {request.name} changed meanwhile; read it again",
        )  # fmt: skip

    @boundary
    async def PutTestSuites(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.PutTestSuitesResponse:
        request = checked(raw)
        actor = self._tokens.actor(context) if request.dry_run else self._tokens.actor(context, "change knowledge")
        return await self.put_test_suites(request, actor)

    @boundary
    async def ListTestSuites(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListTestSuitesResponse:
        checked(raw)
        self._tokens.actor(context)
        entries, _ = await self._store.get_prefix(keys.TEST_SUITES)
        listed = sorted(((Suite.from_json(e.value), e.mod_revision) for e in entries), key=lambda p: p[0].name)
        return kpb.ListTestSuitesResponse(suites=[suite_pb(suite, revision) for suite, revision in listed])

    @boundary
    async def ExportTestSuites(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ExportTestSuitesResponse:
        request = checked(raw)
        self._tokens.actor(context)
        if request.format not in ("", "yaml", "json"):
            raise InvalidArgument("format: yaml or json")
        suites = await read_suites(self._store, list(request.names))
        if not suites:
            raise NotFound("names: there are no conversation test suites to export")
        return kpb.ExportTestSuitesResponse(content=suite_files.dump(suites, request.format or "yaml"))

    @boundary
    async def DeleteTestSuite(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.DeleteTestSuiteResponse:
        request = checked(raw)
        await self.delete_test_suite(request, self._tokens.actor(context, "change knowledge"))
        return kpb.DeleteTestSuiteResponse()

    # -- cases from real traffic ---------------------------------------------------------------
    async def _captured(self, request: kpb.CaptureTestCaseRequest) -> list[TestCase]:
        """The cases a source gives: a located conversation's turns as they were answered;
        each query of a cluster, or the text, as a conversation of one turn that must be
        answered with `intent`."""
        source = request.WhichOneof("source")
        if source == "session_id":
            rows = [r for r in await self._turn_log.session(request.session_id) if r.action]
            once = list({r.turn_id: r for r in sorted(rows, key=lambda r: r.at)}.values())
            if not once:
                raise NotFound(f"session_id: no answered turn of {request.session_id!r} in this router's turn log")
            turns = tuple(
                TestTurn(r.text, Expect(action=r.action, intent=r.intent), channel=r.channel)
                for r in once[:MAX_CAPTURED_TURNS]
            )
            return [TestCase(request.case_name or f"conversation {request.session_id}", turns)]
        if not request.intent:
            raise InvalidArgument("intent: the FAQ the words must be answered with")
        if source == "cluster_id":
            entry = await self._store.get(keys.insights(LATEST))
            clusters = Document.from_json(entry.value).clusters if entry else []
            cluster = next((c for c in clusters if c.id == request.cluster_id), None)
            if cluster is None:
                raise NotFound(f"cluster_id: no cluster {request.cluster_id!r} (see ListClusters)")
            name = request.case_name or f"cluster {cluster.label or cluster.id}"
            texts = [m.text for m in cluster.members][:MAX_CAPTURED_TURNS]
            expect = Expect(action="ANSWER", intent=request.intent)
            return [TestCase(f"{name} #{i}", (TestTurn(t, expect),)) for i, t in enumerate(texts, start=1)]
        if source == "text":
            expect = Expect(action="ANSWER", intent=request.intent)
            return [TestCase(request.case_name or request.text[:80], (TestTurn(request.text, expect),))]
        raise InvalidArgument("source: one of session_id, cluster_id, text")

    @boundary
    async def CaptureTestCase(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.TestSuite:
        request = checked(raw)
        actor = self._tokens.actor(context) if request.dry_run else self._tokens.actor(context, "change knowledge")
        entry = await self._store.get(keys.test_suite(request.suite)) if request.suite else None
        if not request.suite:
            raise InvalidArgument("suite: the suite to add the case to")
        grown = Suite.from_json(entry.value) if entry else Suite(request.suite, ())
        for case in await self._captured(request):
            grown = grown.with_case(case)
        content = suite_files.dump([grown], "json")  # parsed again below: every check of a file applies
        written = await self.put_test_suites(
            kpb.PutTestSuitesRequest(content=content, filename="suite.json", dry_run=request.dry_run), actor
        )
        return written.suites[0]

    # -- runs and the canary -------------------------------------------------------------------
    @boundary
    async def RunTests(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.RunTestsResponse:
        request = checked(raw)
        self._tokens.actor(context, "run tests")
        suites = await read_suites(self._store, list(request.suites))
        if not suites:
            raise NotFound("suites: there are no conversation test suites (see PutTestSuites)")
        result = await self._rollout.run(suites, request.version or self._knowledge.active_version())
        return kpb.RunTestsResponse(
            result=json.dumps(result.to_dict(), ensure_ascii=False), pass_rate=result.pass_rate,
            cases=result.cases, passed=result.passed,
        )  # fmt: skip

    async def _release(self) -> kpb.Release:
        canary, _ = await read_canary(self._store)
        active = self._knowledge.active_version()
        now = time.time()
        since = canary.started_at if canary is not None else now - FIGURES_WINDOW_S
        seen = await read_versions(self._store, since, now)
        shown = [active, *((canary.version, canary.baseline) if canary is not None else ())]
        versions = list(dict.fromkeys([*shown, *sorted(seen.versions)]))
        return kpb.Release(
            active_version=active,
            canary=canary_pb(canary) if canary is not None else None,
            versions=[figures_pb(v, seen.of(v)) for v in versions],
            since=since,
        )

    @boundary
    async def GetRelease(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Release:
        checked(raw)
        self._tokens.actor(context)
        return await self._release()

    @boundary
    async def PromoteCanary(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Release:
        checked(raw)
        await self._rollout.promote(self._tokens.actor(context, "deploy"))
        return await self._release()

    @boundary
    async def AbortCanary(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Release:
        request = checked(raw)
        await self._rollout.abort(self._tokens.actor(context, "deploy"), request.reason)
        return await self._release()

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Any, Any]] = {
            "PutTestSuites": (kpb.PutTestSuitesRequest, kpb.PutTestSuitesResponse),
            "ListTestSuites": (kpb.ListTestSuitesRequest, kpb.ListTestSuitesResponse),
            "ExportTestSuites": (kpb.ExportTestSuitesRequest, kpb.ExportTestSuitesResponse),
            "DeleteTestSuite": (kpb.DeleteTestSuiteRequest, kpb.DeleteTestSuiteResponse),
            "CaptureTestCase": (kpb.CaptureTestCaseRequest, kpb.TestSuite),
            "RunTests": (kpb.RunTestsRequest, kpb.RunTestsResponse),
            "PromoteCanary": (kpb.PromoteCanaryRequest, kpb.Release),
            "AbortCanary": (kpb.AbortCanaryRequest, kpb.Release),
            "GetRelease": (kpb.GetReleaseRequest, kpb.Release),
        }
        return unary_handlers(SERVICE_NAME, self, methods)
