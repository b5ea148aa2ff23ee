"""Moving in from another platform through the real cluster (README "Moving in"): each
platform's sample export (twinteller/data/platform_samples/, written by hand after each
platform's documented export format) is imported through the admin API with its format
detected, the base trained and deployed by the real trainer and zones, and then the
imported intents' own examples are recognised (at least 90 % of each intent's examples
where it has 5 or more) and answered with the imported text, through the real routers.
Bad exports, collisions and maker-checker are exercised on the same API. Everything the
test imports is removed again, and the version it deployed rolled back."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.integration.conftest import APPROVER_TOKEN, EDITOR_TOKEN
from tests.integration.test_lifecycle import finish
from twinteller.devcluster.local_cluster import LOCAL_ADMIN_TOKEN, LocalCluster
from twinteller.platforms import archive, importers
from twinteller.platforms.mapping import PLATFORMS, Converted
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc

pytestmark = pytest.mark.integration
ADMIN = [("authorization", f"Bearer {LOCAL_ADMIN_TOKEN}")]
EDITOR = [("authorization", f"Bearer {EDITOR_TOKEN}")]
APPROVER = [("authorization", f"Bearer {APPROVER_TOKEN}")]
SAMPLES = Path(__file__).resolve().parents[2] / "twinteller" / "data" / "platform_samples"


def packed(platform: str) -> tuple[bytes, str]:
    return archive.pack(SAMPLES / platform)


@pytest.fixture(scope="module")
def admin(cluster: LocalCluster) -> Iterator[kpb_grpc.KnowledgeStub]:
    with cluster.channel("a") as channel:
        yield kpb_grpc.KnowledgeStub(channel)


@pytest.fixture(scope="module")
def imported(admin: kpb_grpc.KnowledgeStub) -> Iterator[dict[str, Converted]]:
    """Every sample imported (format detected) and the base trained and deployed; afterwards
    the entries and terms removed and the version rolled back."""
    converted: dict[str, Converted] = {}
    written: list[str] = []
    terms: list[str] = []
    before = {e.term for e in admin.ListLexicon(kpb.ListLexiconRequest(), metadata=ADMIN, timeout=10).entries}
    try:
        for platform in PLATFORMS:
            content, name = packed(platform)
            converted[platform] = importers.convert(archive.unpack(content, name))
            reply = admin.ImportPlatform(kpb.ImportPlatformRequest(content=content, filename=name), metadata=ADMIN,
                                         timeout=60)  # fmt: skip
            assert reply.platform == platform and reply.detected
            written.extend(reply.faq_ids)
            terms.extend(e.term for e in converted[platform].lexicon if e.term not in before)
        trained = finish(admin, admin.Train(kpb.TrainRequest(), metadata=ADMIN, timeout=10), 400, lambda: None)
        finish(admin, admin.Deploy(kpb.DeployRequest(version=trained.version), metadata=ADMIN, timeout=300), 240,
               lambda: None)  # fmt: skip
        yield converted
    finally:
        for faq_id in written:
            admin.DeleteFaq(kpb.DeleteFaqRequest(id=faq_id), metadata=ADMIN, timeout=10)  # each written once
        for term in terms:
            admin.DeleteLexiconEntry(kpb.DeleteLexiconEntryRequest(term=term), metadata=ADMIN, timeout=10)
        versions = admin.ListVersions(kpb.ListVersionsRequest(), metadata=ADMIN, timeout=10).versions
        if not any(v.active and v.version == "1" for v in versions):
            finish(admin, admin.Rollback(kpb.RollbackRequest(), metadata=ADMIN, timeout=10), 120, lambda: None)


def test_bad_exports_collisions_and_maker_checker(admin: kpb_grpc.KnowledgeStub) -> None:
    before = {f.id for f in admin.ListFaqs(kpb.ListFaqsRequest(), metadata=ADMIN, timeout=10).faqs}

    def refused(request: kpb.ImportPlatformRequest, code: grpc.StatusCode, *named: str) -> None:
        with pytest.raises(grpc.RpcError) as raised:
            admin.ImportPlatform(request, metadata=ADMIN, timeout=60)
        assert raised.value.code() == code, raised.value.details()
        assert all(n in str(raised.value.details()) for n in named), raised.value.details()

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as broken:  # a Lex export whose intent lost its Intent.json
        broken.writestr("Manifest.json", json.dumps({"metadata": {"schemaVersion": "1", "fileFormat": "LexJson",
                                                                  "resourceType": "BOT"}}))  # fmt: skip
        broken.writestr("Bank/Bot.json", json.dumps({"name": "Bank"}))
        broken.writestr("Bank/BotLocales/en_US/BotLocale.json", json.dumps({"localeId": "en_US"}))
        broken.writestr("Bank/BotLocales/en_US/Intents/Fees/Slots/x.txt", "stray")
    refused(kpb.ImportPlatformRequest(content=buffer.getvalue(), filename="bot.zip"), grpc.StatusCode.INVALID_ARGUMENT,
            "Intents/Fees")  # fmt: skip
    refused(kpb.ImportPlatformRequest(content=b"intents:\n  - greet\n  bad: [", filename="nlu.yml", platform="rasa"),
            grpc.StatusCode.INVALID_ARGUMENT, "nlu.yml", "line")  # fmt: skip
    refused(kpb.ImportPlatformRequest(content=b"just some words", filename="notes.txt"),
            grpc.StatusCode.INVALID_ARGUMENT, "format")  # fmt: skip
    refused(kpb.ImportPlatformRequest(content=b"x", filename="a.yml", platform="watson"),
            grpc.StatusCode.INVALID_ARGUMENT, "platform")  # fmt: skip

    # A collision with an entry of the base (not from an earlier import) refuses the whole import.
    content, name = packed("qna")
    dry = admin.ImportPlatform(kpb.ImportPlatformRequest(content=content, filename=name, dry_run=True),
                               metadata=ADMIN, timeout=60)  # fmt: skip
    taken = dry.faq_ids[0]
    admin.PutFaq(kpb.PutFaqRequest(faq=kpb.Faq(id=taken, title="Ours", answer="Our own entry.", questions=["ours?"])),
                 metadata=ADMIN, timeout=10)  # fmt: skip
    try:
        refused(kpb.ImportPlatformRequest(content=content, filename=name), grpc.StatusCode.FAILED_PRECONDITION, taken)
        assert {f.id for f in admin.ListFaqs(kpb.ListFaqsRequest(), metadata=ADMIN, timeout=10).faqs} == before | {
            taken
        }
        # Maker-checker: an editor's import is a proposal; an approver applies it, overwriting.
        change = kpb.ProposeChangeRequest(
            import_platform=kpb.ImportPlatformRequest(content=content, filename=name, overwrite=True),
            reason="QnA Maker retires",
        )
        proposal = admin.ProposeChange(change, metadata=EDITOR, timeout=60)
        assert "qna" in proposal.summary and proposal.state == kpb.PENDING
        applied = admin.ApproveProposal(kpb.DecideProposalRequest(id=proposal.id), metadata=APPROVER, timeout=60)
        assert applied.state == kpb.APPLIED, applied.result
        ours = admin.GetFaq(kpb.GetFaqRequest(id=taken), metadata=ADMIN, timeout=10)
        assert ours.answer != "Our own entry." and "imported:qna" in ours.tags
        audit = admin.ListAudit(kpb.ListAuditRequest(limit=10), metadata=ADMIN, timeout=10).entries
        assert any(e.action == "import overwrote" and taken in e.ids for e in audit)
    finally:
        for faq_id in set(dry.faq_ids):
            admin.DeleteFaq(kpb.DeleteFaqRequest(id=faq_id), metadata=ADMIN, timeout=10)
    assert {f.id for f in admin.ListFaqs(kpb.ListFaqsRequest(), metadata=ADMIN, timeout=10).faqs} == before


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_imported_export_is_recognised_and_answered_with_its_own_text(
    cluster: LocalCluster, imported: dict[str, Converted], platform: str
) -> None:
    converted = imported[platform]
    assert converted.faqs, converted.report.to_dict()
    checked = 0
    with cluster.channel("b") as channel:
        stub = pb_grpc.AssistantStub(channel)
        for faq in converted.faqs:
            if len(faq.questions) < 5 or not faq.enabled:
                continue  # an entry imported disabled (e.g. Lex answered it after code) is not trained
            checked += 1
            replies = [
                stub.Converse(
                    pb.ConverseRequest(session_id=uuid.uuid4().hex, turn_id="1", text=q, locale="en"), timeout=10
                )
                for q in faq.questions
            ]
            own = [r for r in replies if r.intent == faq.id]
            assert len(own) >= 0.9 * len(replies), (
                faq.id,
                [
                    (q, r.intent, pb.Action.Name(r.action), round(r.confidence, 2))
                    for q, r in zip(faq.questions, replies, strict=True)
                ],
            )
            answered = [r for r in own if r.action == pb.ANSWER]
            assert answered and all(r.reply == faq.answer for r in answered), (faq.id, answered[:1])
    assert checked >= 3, f"{platform}: fewer than 3 imported intents have 5 examples"
