"""Maker-checker for the knowledge base (part of the admin `Knowledge` service): an editor
proposes a change (an FAQ entry put or deleted, an import, a lexicon entry, a deploy);
nothing changes until a different person with the approver role accepts it. Approving
applies the change exactly as proposed, in the proposer's name "approved by" the
approver's, so the audit trail shows both, and the proposal keeps what applying it did
(the deploy's job and version). Proposals live in etcd under `kb/proposals/`, newest last.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from typing import Any

import grpc

from router.admin import SERVICE_NAME, KnowledgeService, from_pb
from router.auth import ANYONE, Tokens
from router.boundary import boundary, checked, unary_handlers
from twinteller import faqs, keys, lexicon
from twinteller.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, TwintellerError
from twinteller.lexicon import LexiconEntry
from twinteller.store import Store
from twinteller.v1 import knowledge_pb2 as kpb

PROPOSERS = ("editor", "operator")
APPROVERS = ("approver",)
SHOWN = 200


def summary(change: kpb.ProposeChangeRequest) -> str:
    """What a change does, in a line, checked as far as it can be before it is applied."""
    kind = change.WhichOneof("change")
    if kind == "put_faq":
        record = faqs.validate(from_pb(change.put_faq.faq))
        return f"put FAQ {record.id}: {record.title}"
    if kind == "delete_faq":
        return f"delete FAQ {change.delete_faq.id}"
    if kind == "import_file":
        if change.import_file.dry_run:
            raise InvalidArgument("import_file.dry_run: a proposal is applied for real; check the file with Import")
        replacing = ", replacing the whole base" if change.import_file.replace else ""
        return f"import {len(change.import_file.content)} bytes{replacing}"
    if kind == "put_lexicon_entry":
        entry = lexicon.validate(
            LexiconEntry(change.put_lexicon_entry.entry.term, change.put_lexicon_entry.entry.canonical)
        )
        return f"lexicon: {entry.term} -> {entry.canonical}"
    if kind == "delete_lexicon_entry":
        return f"lexicon: delete {change.delete_lexicon_entry.term}"
    if kind == "deploy":
        return f"deploy model version {change.deploy.version}"
    if kind == "adopt_cluster":
        adopt = change.adopt_cluster
        return f"add the questions of cluster {adopt.cluster_id} to FAQ {adopt.faq_id}"
    if kind == "create_faq_from_cluster":
        faq = change.create_faq_from_cluster.faq
        # Its questions may come from the cluster when it is applied: check the rest now.
        record = faqs.validate(replace(from_pb(faq), questions=list(faq.questions) or ["?"]))
        return f"create FAQ {record.id}: {record.title}, from cluster {change.create_faq_from_cluster.cluster_id}"
    kinds = [f.name for f in kpb.ProposeChangeRequest.DESCRIPTOR.oneofs_by_name["change"].fields]
    raise InvalidArgument(f"change: one of {', '.join(kinds)}")


class ProposalService:
    def __init__(self, store: Store, tokens: Tokens, knowledge: KnowledgeService) -> None:
        self._store = store
        self._tokens = tokens
        self._knowledge = knowledge

    async def _apply(self, change: kpb.ProposeChangeRequest, actor: str) -> str:
        k = self._knowledge
        kind = change.WhichOneof("change")
        if kind == "put_faq":
            faq = await k.put_faq(change.put_faq, actor)
            return f"FAQ {faq.id} written (revision {faq.revision})"
        if kind == "delete_faq":
            await k.delete_faq(change.delete_faq, actor)
            return f"FAQ {change.delete_faq.id} deleted"
        if kind == "import_file":
            imported = await k.import_file(change.import_file, actor)
            return f"{imported.imported} entries imported, {len(imported.deleted)} deleted"
        if kind == "put_lexicon_entry":
            entry = await k.put_lexicon_entry(change.put_lexicon_entry, actor)
            return f"lexicon: {entry.term} -> {entry.canonical}"
        if kind == "delete_lexicon_entry":
            await k.delete_lexicon_entry(change.delete_lexicon_entry, actor)
            return f"lexicon: {change.delete_lexicon_entry.term} deleted"
        if kind == "adopt_cluster":
            faq = await k.adopt_cluster(change.adopt_cluster, actor)
            return f"FAQ {faq.id} has {len(faq.questions)} questions now (revision {faq.revision})"
        if kind == "create_faq_from_cluster":
            faq = await k.create_faq_from_cluster(change.create_faq_from_cluster, actor)
            return f"FAQ {faq.id} created with {len(faq.questions)} questions"
        job = await k.deploy(change.deploy, actor)
        return f"deploy job {job.id} started: model version {job.version}"

    async def _read(self, proposal_id: str) -> tuple[kpb.Proposal, int]:
        entry = await self._store.get(keys.proposal(proposal_id)) if proposal_id else None
        if entry is None:
            raise NotFound(f"id: no proposal {proposal_id!r} (see ListProposals)")
        return kpb.Proposal.FromString(entry.value), entry.mod_revision

    async def _write(self, proposal: kpb.Proposal, revision: int, actor: str, action: str) -> int:
        """Store `proposal` if it is unchanged since `revision` (0: new), with an audit
        record; the revision it was written at."""
        key = keys.proposal(proposal.id)
        puts = {
            key: proposal.SerializeToString(),
            **faqs.audit(actor, action, [proposal.id, proposal.summary], time.time()),
        }
        written = await self._store.commit(absent=[] if revision else [key],
                                           unchanged={key: revision} if revision else {}, puts=puts)  # fmt: skip
        if not written:
            raise Conflict(f"proposal {proposal.id} was decided meanwhile; read it again")
        return written

    async def _decidable(self, request: Any, context: grpc.aio.ServicerContext) -> tuple[kpb.Proposal, int, str]:
        approver = self._tokens.actor(context, *APPROVERS)
        proposal, revision = await self._read(request.id)
        if proposal.state != kpb.PENDING:
            raise FailedPrecondition(f"proposal {proposal.id} is {kpb.ProposalState.Name(proposal.state)}, not PENDING")
        if approver == proposal.proposed_by:
            raise PermissionDenied(f"{approver} proposed {proposal.id}: a different approver must decide it")
        return proposal, revision, approver

    @boundary
    async def ProposeChange(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.Proposal:
        request = checked(raw)
        actor = self._tokens.actor(context, *PROPOSERS)
        line = summary(request)
        if request.WhichOneof("change") == "deploy":
            await self._knowledge.check_deployable(request.deploy, "deploy.version")
        now = time.time()
        proposal = kpb.Proposal(
            id=f"{time.time_ns():020d}-{secrets.token_hex(3)}",
            kind=request.WhichOneof("change") or "",
            summary=line,
            proposed_by=actor,
            proposed_at=now,
            state=kpb.PENDING,
            reason=request.reason,
            change=request.SerializeToString(),
        )
        await self._write(proposal, 0, actor, f"propose {proposal.kind}")
        return proposal

    @boundary
    async def ListProposals(self, raw: Any, context: grpc.aio.ServicerContext) -> kpb.ListProposalsResponse:
        request = checked(raw)
        self._tokens.actor(context, *ANYONE)
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
