"""router.admin.proposal_service: every kind of change a proposal can carry (the
ProposeChangeRequest `change` oneof) has a summary and a way to be applied, and a request
with no change is refused with the list of kinds."""

from __future__ import annotations

import pytest

from router.admin.faq_service import FaqService
from router.admin.insight_service import InsightService
from router.admin.lexicon_service import LexiconService
from router.admin.lifecycle_service import LifecycleService
from router.admin.platform_service import PlatformService
from router.admin.proposal_service import SUMMARIES, ProposalService, summary
from router.api.auth import Tokens
from tests.helpers.memory_store import MemoryStore
from twinteller.errors import InvalidArgument
from twinteller.v1 import knowledge_pb2 as kpb

KINDS = {f.name for f in kpb.ProposeChangeRequest.DESCRIPTOR.oneofs_by_name["change"].fields}


class Suites:
    """Stands in for router/release/release_service.py: only the appliers' existence is tested here."""

    async def put_test_suites(self, request: kpb.PutTestSuitesRequest, actor: str) -> kpb.PutTestSuitesResponse:
        return kpb.PutTestSuitesResponse()

    async def delete_test_suite(self, request: kpb.DeleteTestSuiteRequest, actor: str) -> None:
        return None


def test_every_kind_has_a_summary_and_an_applier() -> None:
    store, tokens = MemoryStore(), Tokens({})
    service = ProposalService(
        store, tokens, faq_service=FaqService(store, tokens), lexicon_service=LexiconService(store, tokens),
        lifecycle_service=LifecycleService(store, tokens), insight_service=InsightService(store, tokens),
        suite_editor=Suites(), platform_service=PlatformService(store, tokens),
    )  # fmt: skip
    assert set(SUMMARIES) == KINDS
    assert set(service._appliers) == KINDS


def test_a_request_without_a_change_names_the_kinds() -> None:
    with pytest.raises(InvalidArgument, match="change: one of") as refused:
        summary(kpb.ProposeChangeRequest(reason="nothing"))
    assert all(kind in str(refused.value) for kind in KINDS)


def test_summaries_check_what_they_can() -> None:
    assert summary(kpb.ProposeChangeRequest(deploy=kpb.DeployRequest(version="7"))) == (
        "deploy model version 7 to everyone"
    )
    canary = kpb.DeployRequest(version="7", canary_percent=10, override_reason="known gap in suite")
    assert summary(kpb.ProposeChangeRequest(deploy=canary)) == (
        "deploy model version 7 to 10% of new conversations, overriding the conversation tests: known gap in suite"
    )
    with pytest.raises(InvalidArgument, match=r"put_test_suites\.dry_run"):
        summary(kpb.ProposeChangeRequest(put_test_suites=kpb.PutTestSuitesRequest(content=b"x", dry_run=True)))
    with pytest.raises(InvalidArgument, match=r"^content: "):
        summary(kpb.ProposeChangeRequest(put_test_suites=kpb.PutTestSuitesRequest(content=b"")))
    with pytest.raises(InvalidArgument, match="dry_run"):
        summary(kpb.ProposeChangeRequest(import_file=kpb.ImportRequest(content=b"id\n", dry_run=True)))
    with pytest.raises(InvalidArgument):
        summary(kpb.ProposeChangeRequest(put_faq=kpb.PutFaqRequest(faq=kpb.Faq(id="no title"))))
