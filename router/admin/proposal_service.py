"""Maker-checker for the knowledge base (part of the admin `Knowledge` service): an editor
proposes a change (an FAQ entry put or deleted, an import, a lexicon entry, a deploy);
nothing changes until a different person with the approver role accepts it. Approving
applies the change exactly as proposed, in the proposer's name "approved by" the
approver's, so the audit trail shows both, and the proposal keeps what applying it did
(the deploy's job and version). Proposals live in etcd under `kb/proposals/`, newest last.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Protocol

import grpc

from router.admin.faq_service import SERVICE_NAME, FaqService, from_pb
from router.admin.insight_service import InsightService
from router.admin.lexicon_service import LexiconService
from router.admin.lifecycle_service import LifecycleService
from router.admin.platform_service import PlatformService
from router.api.auth import Tokens
from router.api.boundary import boundary, checked, unary_handlers
from twinteller.errors import (
    Conflict,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    TwintellerError,
)
from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.knowledge import faqs, lexicon, proposals
from twinteller.knowledge.lexicon import LexiconEntry
from twinteller.platforms import archive, importers
from twinteller.release import suites
from twinteller.v1 import knowledge_pb2 as kpb

SHOWN = 200
# A change as proposed -> the change applied in an actor's name -> what applying it did.
Applier = Callable[[Any, str], Awaitable[str]]


def _put_faq(change: kpb.PutFaqRequest) -> str:
    record = faqs.validate(from_pb(change.faq))
    return f"put FAQ {record.id}: {record.title}"


def _import_file(change: kpb.ImportRequest) -> str:
    if change.dry_run:
        raise InvalidArgument("import_file.dry_run: a proposal is applied for real; check the file with Import")
    replacing = ", replacing the whole base" if change.replace else ""
    return f"import {len(change.content)} bytes{replacing}"


def _put_lexicon_entry(change: kpb.PutLexiconEntryRequest) -> str:
    entry = lexicon.validate(LexiconEntry(change.entry.term, change.entry.canonical))
    return f"lexicon: {entry.term} -> {entry.canonical}"


def _deploy(change: kpb.DeployRequest) -> str:
    to = f"to {change.canary_percent}% of new conversations" if change.canary_percent else "to everyone"
    overriding = f", overriding the conversation tests: {change.override_reason}" if change.override_reason else ""
    return f"deploy model version {change.version} {to}{overriding}"


def _put_test_suites(change: kpb.PutTestSuitesRequest) -> str:
    if change.dry_run:
        raise InvalidArgument(
            "put_test_suites.dry_run: a proposal is applied for real; check the file with PutTestSuites"
        )
    return "put test suites " + ", ".join(s.name for s in suites.parse(change.content, change.filename))


def _import_platform(change: kpb.ImportPlatformRequest) -> str:
    if change.dry_run:
        raise InvalidArgument("import_platform.dry_run: a proposal is applied for real; check with ImportPlatform")
    converted = importers.convert(archive.unpack(change.content, change.filename), change.platform)
    overwriting = ", overwriting what it collides with" if change.overwrite else ""
    return (
        f"import a {converted.report.platform} export ({change.filename or 'unnamed'}): {len(converted.faqs)} entries,"
        f" {len(converted.lexicon)} lexicon terms{overwriting}"
    )


def _create_faq_from_cluster(change: kpb.CreateFaqFromClusterRequest) -> str:
    # Its questions may come from the cluster when it is applied: check the rest now.
    record = faqs.validate(replace(from_pb(change.faq), questions=list(change.faq.questions) or ["?"]))
    return f"create FAQ {record.id}: {record.title}, from cluster {change.cluster_id}"


# The kinds of change (the `change` oneof's fields) -> what one does, in a line, checked as
# far as it can be before it is applied.
SUMMARIES: dict[str, Callable[[Any], str]] = {
    "put_faq": _put_faq,
    "delete_faq": lambda change: f"delete FAQ {change.id}",
    "import_file": _import_file,
    "put_lexicon_entry": _put_lexicon_entry,
    "delete_lexicon_entry": lambda change: f"lexicon: delete {change.term}",
    "deploy": _deploy,
    "adopt_cluster": lambda change: f"add the questions of cluster {change.cluster_id} to FAQ {change.faq_id}",
    "create_faq_from_cluster": _create_faq_from_cluster,
    "put_test_suites": _put_test_suites,
    "delete_test_suite": lambda change: f"delete test suite {change.name}",
    "import_platform": _import_platform,
}


class SuiteEditor(Protocol):
    """The changes to conversation test suites (router/release/release_service.py)."""

    async def put_test_suites(self, request: kpb.PutTestSuitesRequest, actor: str) -> kpb.PutTestSuitesResponse: ...

    async def delete_test_suite(self, request: kpb.DeleteTestSuiteRequest, actor: str) -> None: ...


def summary(change: kpb.ProposeChangeRequest) -> str:
    kind = change.WhichOneof("change")
    if kind not in SUMMARIES:
        kinds = [f.name for f in kpb.ProposeChangeRequest.DESCRIPTOR.oneofs_by_name["change"].fields]
        raise InvalidArgument(f"change: one of {', '.join(kinds)}")
    return SUMMARIES[kind](getattr(change, kind))


class ProposalService:
    def __init__(
        self,
        store: Store,
        tokens: Tokens,
        *,
        faq_service: FaqService,
        lexicon_service: LexiconService,
        lifecycle_service: LifecycleService,
        insight_service: InsightService,
        suite_editor: SuiteEditor,
        platform_service: PlatformService,
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._lifecycle = lifecycle_service

        async def put_faq(change: kpb.PutFaqRequest, actor: str) -> str:
            written = await faq_service.put_faq(change, actor)
            return f"FAQ {written.id} written (revision {written.revision})"

        async def delete_faq(change: kpb.DeleteFaqRequest, actor: str) -> str:
            await faq_service.delete_faq(change, actor)
            return f"FAQ {change.id} deleted"

        async def import_file(change: kpb.ImportRequest, actor: str) -> str:
            imported = await faq_service.import_file(change, actor)
            return f"{imported.imported} entries imported, {len(imported.deleted)} deleted"

        async def put_lexicon_entry(change: kpb.PutLexiconEntryRequest, actor: str) -> str:
            entry = await lexicon_service.put_lexicon_entry(change, actor)
            return f"lexicon: {entry.term} -> {entry.canonical}"

        async def delete_lexicon_entry(change: kpb.DeleteLexiconEntryRequest, actor: str) -> str:
            await lexicon_service.delete_lexicon_entry(change, actor)
            return f"lexicon: {change.term} deleted"

        async def deploy(change: kpb.DeployRequest, actor: str) -> str:
            job = await lifecycle_service.deploy(change, actor, approved=True)
            if job.kind == "canary":
                return job.message
            return f"deploy job {job.id} started: model version {job.version}"

        async def adopt_cluster(change: kpb.AdoptClusterRequest, actor: str) -> str:
            adopted = await insight_service.adopt_cluster(change, actor)
            return f"FAQ {adopted.id} has {len(adopted.questions)} questions now (revision {adopted.revision})"

        async def create_faq_from_cluster(change: kpb.CreateFaqFromClusterRequest, actor: str) -> str:
            created = await insight_service.create_faq_from_cluster(change, actor)
            return f"FAQ {created.id} created with {len(created.questions)} questions"

        async def put_test_suites(change: kpb.PutTestSuitesRequest, actor: str) -> str:
            written = await suite_editor.put_test_suites(change, actor)
            return "test suites written: " + ", ".join(s.name for s in written.suites)

        async def delete_test_suite(change: kpb.DeleteTestSuiteRequest, actor: str) -> str:
            await suite_editor.delete_test_suite(change, actor)
            return f"test suite {change.name} deleted"

        async def import_platform(change: kpb.ImportPlatformRequest, actor: str) -> str:
            done = await platform_service.import_platform(change, actor)
            return f"{done.platform} export imported: {len(done.faq_ids)} entries, {done.lexicon_entries} lexicon terms"

        # The same kinds as SUMMARIES -> how each is applied.
        self._appliers: dict[str, Applier] = {
            "put_faq": put_faq,
            "delete_faq": delete_faq,
            "import_file": import_file,
            "put_lexicon_entry": put_lexicon_entry,
            "delete_lexicon_entry": delete_lexicon_entry,
            "deploy": deploy,
            "adopt_cluster": adopt_cluster,
            "create_faq_from_cluster": create_faq_from_cluster,
            "put_test_suites": put_test_suites,
            "delete_test_suite": delete_test_suite,
            "import_platform": import_platform,
        }

    async def _apply(self, change: kpb.ProposeChangeRequest, actor: str) -> str:
        kind = change.WhichOneof("change") or ""
        return await self._appliers[kind](getattr(change, kind), actor)

    async def _read(self, proposal_id: str) -> tuple[kpb.Proposal, int]:
        entry = await self._store.get(keys.proposal(proposal_id)) if proposal_id else None
        if entry is None:
            raise NotFound(f"id: no proposal {proposal_id!r} (see ListProposals)")
        return kpb.Proposal.FromString(entry.value), entry.mod_revision

    async def _write(self, proposal: kpb.Proposal, revision: int, actor: str, action: str) -> int:
        """Store `proposal` if it is unchanged since `revision`, with an audit record; the
        revision it was written at."""
        key = keys.proposal(proposal.id)
        return await audited_commit(
            self._store, actor, action, [proposal.id, proposal.summary],
            puts={key: proposal.SerializeToString()},
            unchanged={key: revision},
            conflict=f"proposal {proposal.id} was decided meanwhile; read it again",
        )  # fmt: skip

    async def _decidable(self, request: Any, context: grpc.aio.ServicerContext) -> tuple[kpb.Proposal, int, str]:
        approver = self._tokens.actor(context, "approve")
        proposal, revision = await self._read(request.id)
        if proposal.state != kpb.PENDING:
            raise FailedPrecondition(f"proposal {proposal.id} is {kpb.ProposalState.Name(proposal.state)}, not PENDING")
        if approver == proposal.proposed_by:
            raise PermissionDenied(f"{approver} proposed {proposal.id}: a different approver must decide it")
        return proposal, revision, approver

    @boundary
    async def ProposeChange(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Proposal:
        request = checked(raw)
        actor = self._tokens.actor(context, "propose")
        line = summary(request)
        if request.WhichOneof("change") == "deploy":
            await self._lifecycle.check_deployable(request.deploy, "deploy.version")
        proposal = proposals.pending(request, line, actor)
        if not await proposals.store_new(self._store, proposal, actor):
            raise Conflict(f"proposal {proposal.id} exists already; propose again")  # a new id each time
        return proposal

    @boundary
    async def ListProposals(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListProposalsResponse:
        request = checked(raw)
        self._tokens.actor(context)
        newest = [kpb.Proposal.FromString(e.value) for e in await self._store.newest(keys.KB_PROPOSALS, SHOWN)]
        shown = [p for p in newest if p.state == kpb.PENDING or not request.pending_only]
        return kpb.ListProposalsResponse(proposals=shown)

    @boundary
    async def ApproveProposal(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Proposal:
        request = checked(raw)
        proposal, revision, approver = await self._decidable(request, context)
        proposal.state, proposal.decided_by, proposal.decided_at = kpb.APPLYING, approver, time.time()
        proposal.comment = request.comment
        revision = await self._write(proposal, revision, approver, f"approve {proposal.kind}")  # no second approval
        change = kpb.ProposeChangeRequest.FromString(proposal.change)
        try:
            proposal.result = await self._apply(change, f"{proposal.proposed_by}, approved by {approver}")
            proposal.state = kpb.APPLIED
        except TwintellerError as e:  # e.g. the entry changed since it was proposed
            proposal.result, proposal.state = f"not applied: {e}", kpb.NOT_APPLIED
        await self._write(proposal, revision, approver, f"applied {proposal.kind}")
        return proposal

    @boundary
    async def RejectProposal(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Proposal:
        request = checked(raw)
        proposal, revision, approver = await self._decidable(request, context)
        proposal.state, proposal.decided_by, proposal.decided_at = kpb.REJECTED, approver, time.time()
        proposal.comment = request.comment
        await self._write(proposal, revision, approver, f"reject {proposal.kind}")
        return proposal

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, tuple[Any, Any]] = {
            "ProposeChange": (kpb.ProposeChangeRequest, kpb.Proposal),
            "ListProposals": (kpb.ListProposalsRequest, kpb.ListProposalsResponse),
            "ApproveProposal": (kpb.DecideProposalRequest, kpb.Proposal),
            "RejectProposal": (kpb.DecideProposalRequest, kpb.Proposal),
        }
        return unary_handlers(SERVICE_NAME, self, methods)
