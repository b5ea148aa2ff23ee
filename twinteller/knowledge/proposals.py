"""A maker-checker proposal as it is first stored (router/admin/proposal_service.py decides
it): shared by the admin API, where a person proposes, and the insights worker, which
proposes lexicon entries in the name of `system:insights`."""

from __future__ import annotations

import secrets
import time

from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.v1 import knowledge_pb2 as kpb


def pending(change: kpb.ProposeChangeRequest, summary: str, actor: str) -> kpb.Proposal:
    return kpb.Proposal(
        id=f"{time.time_ns():020d}-{secrets.token_hex(3)}",
        kind=change.WhichOneof("change") or "",
        summary=summary,
        proposed_by=actor,
        proposed_at=time.time(),
        state=kpb.PENDING,
        reason=change.reason,
        change=change.SerializeToString(),
    )


async def store_new(store: Store, proposal: kpb.Proposal, actor: str, *, once: str = "") -> bool:
    """Store a new proposal with its audit record; with `once`, a key written with it, so
    that whatever it names is proposed only once (False, and nothing written, if it was)."""
    key = keys.proposal(proposal.id)
    puts = {key: proposal.SerializeToString()}
    if once:
        puts[once] = proposal.id.encode()
    revision = await audited_commit(
        store, actor, f"propose {proposal.kind}", [proposal.id, proposal.summary],
        puts=puts, absent=[key, *([once] if once else [])],
    )  # fmt: skip
    return bool(revision)
