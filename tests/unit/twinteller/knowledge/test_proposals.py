"""twinteller.knowledge.proposals: a proposal stored with its audit record, and what is
proposed `once` never stored twice."""

from __future__ import annotations

from tests.helpers.memory_store import MemoryStore
from twinteller.etcd import keys
from twinteller.knowledge import proposals
from twinteller.v1 import knowledge_pb2 as kpb


def lexicon_change(term: str) -> kpb.ProposeChangeRequest:
    entry = kpb.LexiconEntry(term=term, canonical="money")
    return kpb.ProposeChangeRequest(put_lexicon_entry=kpb.PutLexiconEntryRequest(entry=entry), reason="seen twice")


async def test_a_new_proposal_is_pending_and_audited() -> None:
    store = MemoryStore()
    proposal = proposals.pending(lexicon_change("dosh"), "lexicon: dosh -> money", "system:insights")
    assert (proposal.kind, proposal.state, proposal.reason) == ("put_lexicon_entry", kpb.PENDING, "seen twice")
    assert await proposals.store_new(store, proposal, "system:insights")
    stored = await store.get(keys.proposal(proposal.id))
    assert stored is not None and kpb.Proposal.FromString(stored.value) == proposal
    assert kpb.ProposeChangeRequest.FromString(proposal.change) == lexicon_change("dosh")
    audit, _ = await store.get_prefix(keys.KB_AUDIT)
    assert len(audit) == 1 and b"propose put_lexicon_entry" in audit[0].value


async def test_what_is_proposed_once_is_never_proposed_again() -> None:
    store = MemoryStore()
    marker = keys.lexicon_suggested("Dosh")
    first = proposals.pending(lexicon_change("dosh"), "lexicon: dosh -> money", "system:insights")
    assert await proposals.store_new(store, first, "system:insights", once=marker)
    again = proposals.pending(lexicon_change("dosh"), "lexicon: dosh -> money", "system:insights")
    assert not await proposals.store_new(store, again, "system:insights", once=keys.lexicon_suggested("dosh"))
    assert await store.get(keys.proposal(again.id)) is None  # nothing written
    marked = await store.get(marker)
    assert marked is not None and marked.value == first.id.encode()
