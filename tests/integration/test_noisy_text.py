"""Text as customers type it, through the real cluster (routers, Triton zones, etcd, the
insights worker): a misspelt, slangy conversation answered right (the speller and the
lexicon in the served model, a calibrated clarification where the model is unsure), and a
lexicon entry the insights worker proposes from unrecognised queries, approved by a
knowledge manager and applied."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import grpc
import pytest

from tests.integration.test_insights import AUTH, until
from twinteller.devcluster.local_cluster import LocalCluster
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc

pytestmark = pytest.mark.integration


@pytest.fixture
def stubs(cluster: LocalCluster) -> Iterator[tuple[pb_grpc.AssistantStub, kpb_grpc.KnowledgeStub]]:
    with cluster.channel("a") as channel:
        yield pb_grpc.AssistantStub(channel), kpb_grpc.KnowledgeStub(channel)


class Chat:
    def __init__(self, assistant: pb_grpc.AssistantStub) -> None:
        self._assistant = assistant
        self._session = uuid.uuid4().hex
        self._turns = 0

    def say(self, text: str) -> pb.ConverseResponse:
        self._turns += 1
        request = pb.ConverseRequest(session_id=self._session, turn_id=str(self._turns), text=text, channel="app")
        return self._assistant.Converse(request, timeout=10)


def test_a_misspelt_slangy_conversation_is_answered_right(
    stubs: tuple[pb_grpc.AssistantStub, kpb_grpc.KnowledgeStub],
) -> None:
    chat = Chat(stubs[0])
    # misspellings (crad, orderd), text-speak (thru, wks), no capitals
    first = chat.say("hiya me new crad still hasnt come thru the post, orderd it 2 wks ago")
    assert (pb.Action.Name(first.action), first.intent) == ("ANSWER", "card_arrival"), first
    assert first.language == "en"
    # British slang for stolen, text-speak
    stolen = chat.say("my card got nicked, pls freeze it asap")
    assert (pb.Action.Name(stolen.action), stolen.intent) == ("ANSWER", "lost_or_stolen_card"), stolen
    # A cashpoint abroad: a fee or the rate? Answered if the model is sure, else asked.
    fee = chat.say("pls how much do u charge 4 takin cash out of a cashpoint abroad")
    if fee.action == pb.CLARIFY:
        offered = [a.intent for a in fee.alternatives]
        assert "cash_withdrawal_charge" in offered, fee
        fee = chat.say(str(offered.index("cash_withdrawal_charge") + 1))
    assert (pb.Action.Name(fee.action), fee.intent) == ("ANSWER", "cash_withdrawal_charge"), fee


def test_the_insights_worker_proposes_a_lexicon_entry_that_an_approver_applies(
    stubs: tuple[pb_grpc.AssistantStub, kpb_grpc.KnowledgeStub],
) -> None:
    assistant, admin = stubs
    # A word nobody uses, where a training question says "refund" ("Still waiting on my refund...").
    term = "".join(random.choice("bcdfghjklmnpqrstvwxz") for _ in range(7))
    query = f"still waiting on my {term}"
    before = Chat(assistant).say(query)
    assert before.intent != "Refund_not_showing_up", before  # unrecognised: recorded for insights

    def proposed() -> kpb.Proposal | None:
        listed = admin.ListProposals(kpb.ListProposalsRequest(pending_only=True), metadata=AUTH, timeout=10)
        return next((p for p in listed.proposals if p.summary == f"lexicon: {term} -> refund"), None)

    proposal = until(proposed, 60, f"a lexicon proposal for {term!r}")
    assert proposal.kind == "put_lexicon_entry" and proposal.proposed_by == "system:insights"
    assert query in proposal.reason and "still waiting on my refund" in proposal.reason.casefold()

    def lexicon_terms() -> set[str]:
        return {e.term for e in admin.ListLexicon(kpb.ListLexiconRequest(), metadata=AUTH, timeout=10).entries}

    assert term not in lexicon_terms()  # nothing changes before a person approves
    decided = admin.ApproveProposal(kpb.DecideProposalRequest(id=proposal.id), metadata=AUTH, timeout=10)
    try:
        assert decided.state == kpb.APPLIED, decided.result
        assert term in lexicon_terms()

        def answered() -> pb.ConverseResponse | None:
            reply = Chat(assistant).say(query)
            return reply if reply.intent == "Refund_not_showing_up" else None

        until(answered, 15, f"{query!r} answered as a refund question")
        # Proposed once: the next rounds do not propose the term again.
        listed = admin.ListProposals(kpb.ListProposalsRequest(), metadata=AUTH, timeout=10).proposals
        assert [p.id for p in listed if p.summary == proposal.summary] == [proposal.id]
    finally:
        try:
            admin.DeleteLexiconEntry(kpb.DeleteLexiconEntryRequest(term=term), metadata=AUTH, timeout=10)
        except grpc.RpcError:
            pass  # not applied
