"""Admin roles and maker-checker on a real router (in-process, joined to the test cluster,
with one token per role): a viewer reads and changes nothing; an editor cannot change an
entry directly, only propose, and the change is invisible until a different approver
accepts it, then it is in place and in the audit trail in both names; a rejected
proposal changes nothing; a proposal cannot be approved twice or by its proposer; a
deploy proposal that cannot be applied says why; operators, not editors, roll back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from router.app import Router
from tests.helpers.command import TWINTELLER
from tests.integration.conftest import aio_channel, router_config
from twinteller.devcluster.local_cluster import PROJECT_ROOT, LocalCluster
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc

pytestmark = pytest.mark.integration
TOKENS = {
    "viewer": "vera:viewer-token-1:viewer",
    "editor": "eddie:editor-token-1:editor",
    "approver": "ada:approver-token-1:approver",
    "other-approver": "otto:approver-token-2:approver+editor",
    "operator": "opal:operator-token-1:operator",
    "admin": "root:admin-token-1:admin",
}


def auth(role: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {TOKENS[role].split(':')[1]}"),)


@pytest.fixture
async def admin(cluster: LocalCluster, tmp_path: Path) -> AsyncIterator[kpb_grpc.KnowledgeStub]:
    config = router_config(cluster, tmp_path, "roles", admin_tokens=",".join(TOKENS.values()))
    async with Router(config), aio_channel(cluster, config.listen) as channel:
        yield kpb_grpc.KnowledgeStub(channel)


@pytest.fixture
async def own_entry(admin: kpb_grpc.KnowledgeStub) -> AsyncIterator[str]:
    """An FAQ entry of the test's own: approved changes rewrite an entry's `updated_by`, and
    the seed's entries must keep theirs ("system:seed") for the other tests."""
    faq = kpb.Faq(id=f"mc_{uuid.uuid4().hex[:8]}", title="Maker-checker", answer="The original answer.",
                  questions=["zzqv maker checker question"], enabled=True)  # fmt: skip
    await admin.PutFaq(kpb.PutFaqRequest(faq=faq), metadata=auth("admin"), timeout=10)
    yield faq.id
    with contextlib.suppress(grpc.aio.AioRpcError):  # gone already if a test failed half-way
        await admin.DeleteFaq(kpb.DeleteFaqRequest(id=faq.id), metadata=auth("admin"), timeout=10)


async def refused(call: object, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await call  # type: ignore[misc]
    assert e.value.code() == code, e.value.details()
    return e.value.details() or ""


async def test_roles_and_maker_checker(admin: kpb_grpc.KnowledgeStub, own_entry: str) -> None:
    original = await admin.GetFaq(kpb.GetFaqRequest(id=own_entry), metadata=auth("viewer"), timeout=10)
    edited = kpb.Faq()
    edited.CopyFrom(original)
    edited.answer = "Approved answer: your card arrives within 3 working days."
    put = kpb.PutFaqRequest(faq=edited)

    # No role may change an entry directly but admin: editors are told to propose.
    for role in ("viewer", "editor", "approver", "operator"):
        details = await refused(admin.PutFaq(put, metadata=auth(role), timeout=10), grpc.StatusCode.PERMISSION_DENIED)
        assert "admin" in details
    await refused(admin.ProposeChange(kpb.ProposeChangeRequest(put_faq=put), metadata=auth("viewer"), timeout=10),
                  grpc.StatusCode.PERMISSION_DENIED)  # fmt: skip
    await refused(admin.Rollback(kpb.RollbackRequest(), metadata=auth("editor"), timeout=10),
                  grpc.StatusCode.PERMISSION_DENIED)  # fmt: skip
    await refused(admin.ListFaqs(kpb.ListFaqsRequest(), timeout=10), grpc.StatusCode.UNAUTHENTICATED)

    proposal = await admin.ProposeChange(
        kpb.ProposeChangeRequest(put_faq=put, reason="shorter delivery"), metadata=auth("editor"), timeout=10
    )
    assert proposal.state == kpb.PENDING and proposal.proposed_by == "eddie" and own_entry in proposal.summary
    unchanged = await admin.GetFaq(kpb.GetFaqRequest(id=own_entry), metadata=auth("viewer"), timeout=10)
    assert unchanged.answer == original.answer  # invisible until approved
    pending = await admin.ListProposals(
        kpb.ListProposalsRequest(pending_only=True), metadata=auth("viewer"), timeout=10
    )
    assert proposal.id in [p.id for p in pending.proposals]

    decide = kpb.DecideProposalRequest(id=proposal.id, comment="ok")
    await refused(admin.ApproveProposal(decide, metadata=auth("editor"), timeout=10), grpc.StatusCode.PERMISSION_DENIED)
    applied = await admin.ApproveProposal(decide, metadata=auth("approver"), timeout=10)
    assert applied.state == kpb.APPLIED and applied.decided_by == "ada", applied.result
    now = await admin.GetFaq(kpb.GetFaqRequest(id=own_entry), metadata=auth("viewer"), timeout=10)
    assert now.answer == edited.answer and now.updated_by == "eddie, approved by ada"
    details = await refused(admin.ApproveProposal(decide, metadata=auth("other-approver"), timeout=10),
                            grpc.StatusCode.FAILED_PRECONDITION)  # fmt: skip
    assert "APPLIED" in details
    audit = await admin.ListAudit(kpb.ListAuditRequest(limit=10), metadata=auth("viewer"), timeout=10)
    actions = [(a.actor, a.action) for a in audit.entries]
    assert ("eddie, approved by ada", "put") in actions and ("eddie", "propose put_faq") in actions
    assert ("ada", "approve put_faq") in actions

    # Its own proposer may not approve it, even holding the approver role.
    own = await admin.ProposeChange(
        kpb.ProposeChangeRequest(delete_faq=kpb.DeleteFaqRequest(id=own_entry)),
        metadata=auth("other-approver"),
        timeout=10,
    )
    details = await refused(
        admin.ApproveProposal(kpb.DecideProposalRequest(id=own.id), metadata=auth("other-approver"), timeout=10),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert "different approver" in details
    rejected = await admin.RejectProposal(kpb.DecideProposalRequest(id=own.id, comment="no"), metadata=auth("approver"))
    assert rejected.state == kpb.REJECTED
    still = await admin.GetFaq(kpb.GetFaqRequest(id=own_entry), metadata=auth("viewer"), timeout=10)
    assert still.answer == edited.answer


async def test_bad_proposals_are_refused_and_a_failed_one_says_why(admin: kpb_grpc.KnowledgeStub) -> None:
    await refused(admin.ProposeChange(kpb.ProposeChangeRequest(), metadata=auth("editor"), timeout=10),
                  grpc.StatusCode.INVALID_ARGUMENT)  # fmt: skip
    bad = kpb.ProposeChangeRequest(
        put_faq=kpb.PutFaqRequest(faq=kpb.Faq(id="no spaces allowed", title="t", answer="a"))
    )
    await refused(admin.ProposeChange(bad, metadata=auth("editor"), timeout=10), grpc.StatusCode.INVALID_ARGUMENT)
    dry = kpb.ProposeChangeRequest(
        import_file=kpb.ImportRequest(format=kpb.CSV, content=b"id,title,answer\n", dry_run=True)
    )
    await refused(admin.ProposeChange(dry, metadata=auth("editor"), timeout=10), grpc.StatusCode.INVALID_ARGUMENT)
    await refused(admin.ProposeChange(kpb.ProposeChangeRequest(deploy=kpb.DeployRequest(version="9999")),
                                      metadata=auth("editor"), timeout=10), grpc.StatusCode.NOT_FOUND)  # fmt: skip
    # A change that was valid when proposed but is not when approved: recorded, not applied.
    gone = await admin.ProposeChange(
        kpb.ProposeChangeRequest(delete_lexicon_entry=kpb.DeleteLexiconEntryRequest(term="no such term, ever")),
        metadata=auth("editor"),
        timeout=10,
    )
    failed = await admin.ApproveProposal(kpb.DecideProposalRequest(id=gone.id), metadata=auth("approver"), timeout=10)
    assert failed.state == kpb.NOT_APPLIED and "no such term" in failed.result

    # Cluster changes (the console proposes them for editors): the new entry is checked when
    # proposed, the cluster when applied (test_console.py applies one for real).
    badly_named = kpb.CreateFaqFromClusterRequest(cluster_id="c-1", faq=kpb.Faq(id="bad id", title="t", answer="a"))
    creation = kpb.ProposeChangeRequest(create_faq_from_cluster=badly_named)
    await refused(admin.ProposeChange(creation, metadata=auth("editor"), timeout=10), grpc.StatusCode.INVALID_ARGUMENT)
    adopt = kpb.AdoptClusterRequest(cluster_id="c-no-such-cluster", faq_id="card_arrival")
    orphan = await admin.ProposeChange(kpb.ProposeChangeRequest(adopt_cluster=adopt), metadata=auth("editor"))
    assert orphan.summary == "add the questions of cluster c-no-such-cluster to FAQ card_arrival"
    failed = await admin.ApproveProposal(kpb.DecideProposalRequest(id=orphan.id), metadata=auth("approver"), timeout=10)
    assert failed.state == kpb.NOT_APPLIED and "c-no-such-cluster" in failed.result, failed.result


def cli(target: str, role: str, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [TWINTELLER, "admin", "--target", target, "--token", TOKENS[role].split(":")[1], *args]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run(argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)


async def test_the_command_line_proposes_and_approves(cluster: LocalCluster, tmp_path: Path) -> None:
    config = router_config(cluster, tmp_path, "roles-cli", admin_tokens=",".join(TOKENS.values()))
    async with Router(config):
        term = "zzqv-cli-term"
        proposed = await asyncio.to_thread(cli, config.listen, "editor", "propose", "lexicon-put", term, "card",
                                           "--reason", "a test term")  # fmt: skip
        assert proposed.returncode == 0 and "PENDING" in proposed.stdout, proposed.stderr
        proposal_id = proposed.stdout.split()[0]
        listed = await asyncio.to_thread(cli, config.listen, "viewer", "proposals", "--pending")
        assert proposal_id in listed.stdout and "a test term" in listed.stdout
        denied = await asyncio.to_thread(cli, config.listen, "editor", "approve", proposal_id)
        assert denied.returncode == 1 and "PERMISSION_DENIED" in denied.stderr
        approved = await asyncio.to_thread(cli, config.listen, "approver", "approve", proposal_id)
        assert approved.returncode == 0 and "APPLIED" in approved.stdout, approved.stderr
        terms = await asyncio.to_thread(cli, config.listen, "viewer", "lexicon", "list")
        assert f"{term} -> card" in terms.stdout
        removal = await asyncio.to_thread(cli, config.listen, "editor", "propose", "lexicon-delete", term)
        back = await asyncio.to_thread(cli, config.listen, "approver", "approve", removal.stdout.split()[0])
        assert "APPLIED" in back.stdout, back.stderr
