"""The admin Knowledge API through the real routers and etcd: the seeded base, tokens,
entry edits with revisions and an audit trail, and import/export (lossless, all or
nothing), also through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator

import grpc
import pytest

from tests.helpers.command import TWINTELLER
from twinteller.devcluster.local_cluster import LOCAL_ADMIN_TOKEN, PROJECT_ROOT, LocalCluster
from twinteller.knowledge import faqs
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.schema import seed_faqs
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc
from twinteller.v1 import knowledge_pb2 as kpb
from twinteller.v1 import knowledge_pb2_grpc as kpb_grpc
from zone.seed import tidy

pytestmark = pytest.mark.integration
AUTH = [("authorization", f"Bearer {LOCAL_ADMIN_TOKEN}")]


@pytest.fixture
def admin(cluster: LocalCluster) -> Iterator[dict[str, kpb_grpc.KnowledgeStub]]:
    channels = {z: cluster.channel(z) for z in cluster.layout.routers}
    yield {z: kpb_grpc.KnowledgeStub(c) for z, c in channels.items()}
    for c in channels.values():
        c.close()


@pytest.fixture
def prefix(admin: dict[str, kpb_grpc.KnowledgeStub]) -> Iterator[str]:
    """A fresh id prefix; every entry under it is deleted afterwards."""
    mark = f"t{uuid.uuid4().hex[:8]}-"
    yield mark
    for faq in admin["a"].ListFaqs(kpb.ListFaqsRequest(), metadata=AUTH, timeout=10).faqs:
        if faq.id.startswith(mark):
            admin["a"].DeleteFaq(kpb.DeleteFaqRequest(id=faq.id), metadata=AUTH, timeout=10)


def entry(faq_id: str, **fields: object) -> kpb.Faq:
    base: dict[str, object] = {"id": faq_id, "title": "Test entry", "answer": "An answer.", "enabled": True}
    return kpb.Faq(**{**base, **fields})  # type: ignore[arg-type]


def test_the_seed_base_is_there_to_edit(admin: dict[str, kpb_grpc.KnowledgeStub]) -> None:
    listed = {f.id: f for f in admin["b"].ListFaqs(kpb.ListFaqsRequest(), metadata=AUTH, timeout=10).faqs}
    seed = {f.id: f for f in seed_faqs()}
    assert set(seed) <= set(listed)
    card = listed["card_arrival"]
    assert card.answer == seed["card_arrival"].answer
    assert list(card.questions) == tidy(FaqRecord.from_faq(seed["card_arrival"])).questions
    assert len(card.questions) > 50
    assert card.updated_by == "system:seed" and card.revision > 0
    assert list(listed["exchange_rate"].slots) == ["currency"]


@pytest.mark.parametrize("metadata", [[], [("authorization", "Bearer not-the-token")], [("authorization", "x")]])
def test_calls_without_a_valid_token_are_refused(
    admin: dict[str, kpb_grpc.KnowledgeStub], metadata: list[tuple[str, str]]
) -> None:
    with pytest.raises(grpc.RpcError) as error:
        admin["a"].ListFaqs(kpb.ListFaqsRequest(), metadata=metadata, timeout=10)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
    assert "authorization" in error.value.details()  # type: ignore[attr-defined]


def test_put_get_update_delete_with_revisions_and_an_audit_trail(
    admin: dict[str, kpb_grpc.KnowledgeStub], prefix: str
) -> None:
    faq_id = prefix + "fees"
    created = admin["a"].PutFaq(
        kpb.PutFaqRequest(faq=entry(faq_id, questions=["what are the fees"], channel_answers={"ivr": "No fees."})),
        metadata=AUTH,
        timeout=10,
    )
    assert created.revision > 0 and created.updated_by == "admin"
    got = admin["b"].GetFaq(kpb.GetFaqRequest(id=faq_id), metadata=AUTH, timeout=10)
    assert got == created

    changed = kpb.Faq()
    changed.CopyFrom(got)
    changed.answer = "A new answer."
    updated = admin["a"].PutFaq(kpb.PutFaqRequest(faq=changed), metadata=AUTH, timeout=10)
    assert updated.revision > created.revision and updated.answer == "A new answer."
    # Writing on top of a revision that is no longer current is refused: re-read first.
    with pytest.raises(grpc.RpcError) as stale:
        admin["b"].PutFaq(kpb.PutFaqRequest(faq=changed), metadata=AUTH, timeout=10)
    assert stale.value.code() == grpc.StatusCode.ABORTED  # type: ignore[attr-defined]

    admin["b"].DeleteFaq(kpb.DeleteFaqRequest(id=faq_id), metadata=AUTH, timeout=10)
    with pytest.raises(grpc.RpcError) as gone:
        admin["a"].GetFaq(kpb.GetFaqRequest(id=faq_id), metadata=AUTH, timeout=10)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]

    trail = admin["a"].ListAudit(kpb.ListAuditRequest(limit=10), metadata=AUTH, timeout=10).entries
    mine = [(e.action, e.actor) for e in trail if list(e.ids) == [faq_id]]
    assert mine[:3] == [("delete", "admin"), ("put", "admin"), ("put", "admin")]  # newest first
    two = admin["b"].ListAudit(kpb.ListAuditRequest(limit=2), metadata=AUTH, timeout=10).entries
    assert len(two) == 2 and two[0].at >= two[1].at >= trail[2].at


def test_a_bad_entry_is_refused_naming_the_field(admin: dict[str, kpb_grpc.KnowledgeStub], prefix: str) -> None:
    bad = entry(prefix + "x", slots=["amount"], slot_answer="{amount} {colour}")
    with pytest.raises(grpc.RpcError) as error:
        admin["a"].PutFaq(kpb.PutFaqRequest(faq=bad), metadata=AUTH, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert error.value.details().startswith("slot_answer:")  # type: ignore[attr-defined]


TRICKY = [
    " leading and trailing spaces ",
    "line one\r\nline two\nline three",
    'quotes "inside", commas, and\ttabs',
    "中文答案：请在应用中冻结您的卡。繁體：請凍結",
    "emoji 💳 and NFD e\u0301",
]


def tricky_csv(prefix: str, bad_row: bool) -> bytes:
    records = [
        faqs.FaqRecord(
            f"{prefix}{n}",
            f"Title {n}",
            answer,
            channel_answers={"ivr": f"Short {n}."},
            questions=[f"question {n}", f"问题 {n}"],
            tags=["test", "import"],
        )
        for n, answer in enumerate(TRICKY)
    ]
    content = faqs.render(records, "CSV")
    if bad_row:  # a row whose dates are wrong, among good ones
        content += f"{prefix}bad,Bad,An answer,,,2024-13-01,,true,,\r\n".encode()
    return content


def test_import_of_a_file_with_a_bad_row_writes_nothing(admin: dict[str, kpb_grpc.KnowledgeStub], prefix: str) -> None:
    content = tricky_csv(prefix, bad_row=True)
    dry = admin["a"].Import(kpb.ImportRequest(format=kpb.CSV, content=content, dry_run=True), metadata=AUTH, timeout=10)
    assert dry.imported == 0 and len(dry.ids) == len(TRICKY)
    assert [(e.row, e.id) for e in dry.errors] == [(len(TRICKY) + 1, prefix + "bad")]
    assert dry.errors[0].reason.startswith("effective_from:")
    with pytest.raises(grpc.RpcError) as error:
        admin["a"].Import(kpb.ImportRequest(format=kpb.CSV, content=content), metadata=AUTH, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    details = error.value.details()  # type: ignore[attr-defined]
    assert "nothing written" in details and f"row {len(TRICKY) + 1} ({prefix}bad)" in details
    listed = admin["b"].ListFaqs(kpb.ListFaqsRequest(tag="import"), metadata=AUTH, timeout=10).faqs
    assert not [f for f in listed if f.id.startswith(prefix)]


@pytest.mark.parametrize("fmt", [kpb.CSV, kpb.JSON])
def test_import_is_lossless_and_export_round_trips(
    admin: dict[str, kpb_grpc.KnowledgeStub], prefix: str, fmt: kpb.Format
) -> None:
    reply = admin["a"].Import(
        kpb.ImportRequest(format=kpb.CSV, content=tricky_csv(prefix, bad_row=False)), metadata=AUTH, timeout=10
    )
    assert reply.imported == len(TRICKY)
    stored = {f.id: f for f in admin["b"].ListFaqs(kpb.ListFaqsRequest(tag="import"), metadata=AUTH, timeout=10).faqs}
    for n, answer in enumerate(TRICKY):
        assert stored[f"{prefix}{n}"].answer.encode() == answer.encode()  # byte for byte
        assert dict(stored[f"{prefix}{n}"].channel_answers) == {"ivr": f"Short {n}."}

    exported = admin["a"].Export(kpb.ExportRequest(format=fmt), metadata=AUTH, timeout=10).content
    again = admin["b"].Import(kpb.ImportRequest(format=fmt, content=exported), metadata=AUTH, timeout=30)
    assert again.imported >= len(TRICKY) + 77
    assert admin["a"].Export(kpb.ExportRequest(format=fmt), metadata=AUTH, timeout=10).content == exported


def test_a_replacing_import_makes_the_file_the_whole_base(
    admin: dict[str, kpb_grpc.KnowledgeStub], prefix: str
) -> None:
    base = admin["a"].Export(kpb.ExportRequest(format=kpb.JSON), metadata=AUTH, timeout=10).content
    rows = json.loads(base)["faqs"]
    added = {**next(r for r in rows if r["id"] == "card_arrival"), "id": f"{prefix}new"}
    content = json.dumps({"faqs": [r for r in rows if r["id"] != "card_linking"] + [added]}).encode()

    def replace(content: bytes, dry_run: bool = False) -> kpb.ImportResponse:
        request = kpb.ImportRequest(format=kpb.JSON, content=content, replace=True, dry_run=dry_run)
        return admin["a"].Import(request, metadata=AUTH, timeout=30)

    try:
        assert list(replace(content, dry_run=True).deleted) == ["card_linking"]
        assert admin["b"].GetFaq(kpb.GetFaqRequest(id="card_linking"), metadata=AUTH, timeout=10).id  # still there
        assert list(replace(content).deleted) == ["card_linking"]
        with pytest.raises(grpc.RpcError) as gone:
            admin["b"].GetFaq(kpb.GetFaqRequest(id="card_linking"), metadata=AUTH, timeout=10)
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]
        trail = admin["b"].ListAudit(kpb.ListAuditRequest(limit=2), metadata=AUTH, timeout=10).entries
        assert ("import delete", ["card_linking"]) in [(e.action, list(e.ids)) for e in trail]
    finally:
        restored = replace(base)
    assert list(restored.deleted) == [f"{prefix}new"]
    assert admin["b"].Export(kpb.ExportRequest(format=kpb.JSON), metadata=AUTH, timeout=10).content == base


def test_the_command_line(cluster: LocalCluster, prefix: str, tmp_path: object) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TWINTELLER_ADMIN_TOKEN": LOCAL_ADMIN_TOKEN}
    target = ",".join(cluster.layout.router_target(z) for z in cluster.layout.routers)

    def admin_cli(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [TWINTELLER, "admin", "--target", target, *args]
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)

    path = f"{tmp_path}/kb.csv"
    with open(path, "wb") as f:
        f.write(tricky_csv(prefix, bad_row=True))
    refused = admin_cli("import", path)
    assert refused.returncode == 1 and "nothing written" in refused.stderr
    with open(path, "wb") as f:
        f.write(tricky_csv(prefix, bad_row=False))
    assert admin_cli("import", path, "--dry-run").stdout.strip().endswith(f"would import {len(TRICKY)} entries")
    assert admin_cli("import", path).returncode == 0
    listed = admin_cli("list", "--tag", "import")
    assert listed.returncode == 0 and f"{prefix}0" in listed.stdout
    shown = admin_cli("get", f"{prefix}3")
    assert "中文答案" in shown.stdout
    assert admin_cli("delete", f"{prefix}3").returncode == 0
    missing = admin_cli("get", f"{prefix}3")
    assert missing.returncode == 1 and missing.stderr.startswith("NOT_FOUND")
    versions = admin_cli("versions")
    assert versions.returncode == 0 and any(line.split()[1:2] == ["active"] for line in versions.stdout.splitlines())
    assert admin_cli("job", "no-such-job").stderr.startswith("NOT_FOUND")
    no_token = subprocess.run(
        [TWINTELLER, "admin", "--target", target, "--token", "wrong-token-x", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert no_token.returncode == 1 and no_token.stderr.startswith("UNAUTHENTICATED")


def converse(cluster: LocalCluster, text: str) -> pb.ConverseResponse:
    with cluster.channel("b") as channel:
        request = pb.ConverseRequest(session_id=uuid.uuid4().hex, turn_id="1", text=text)
        return pb_grpc.AssistantStub(channel).Converse(request, timeout=10)


def test_the_seed_lexicon_reads_colloquial_and_dialect_words(
    cluster: LocalCluster, admin: dict[str, kpb_grpc.KnowledgeStub]
) -> None:
    listed = {e.term: e.canonical for e in admin["a"].ListLexicon(kpb.ListLexiconRequest(), metadata=AUTH).entries}
    # English slang, and written Cantonese to standard Chinese (script variants alone are
    # OpenCC's, no entry: README "Languages").
    assert listed["hole in the wall"] == "ATM" and listed["唔見咗"] == "丢了" and listed["碌卡"] == "刷卡"
    assert "賬戶" not in listed
    assert converse(cluster, "the hole in the wall swallowed my card").intent == "card_swallowed"
    assert converse(cluster, "我張卡俾櫃員機食咗").intent == "card_swallowed"


def test_a_lexicon_entry_changes_what_the_model_reads(
    cluster: LocalCluster, admin: dict[str, kpb_grpc.KnowledgeStub]
) -> None:
    word = f"zorb{uuid.uuid4().hex[:6]}"  # a word nobody has taught the model
    before = converse(cluster, f"my {word} still hasn't arrived")
    entry = kpb.LexiconEntry(term=word, canonical="card")
    admin["a"].PutLexiconEntry(kpb.PutLexiconEntryRequest(entry=entry), metadata=AUTH, timeout=10)
    try:
        deadline = time.monotonic() + 10  # routers see the entry through their watch
        after = converse(cluster, f"my {word.upper()} still hasn't arrived")
        while after.intent != "card_arrival" and time.monotonic() < deadline:
            time.sleep(0.1)
            after = converse(cluster, f"my {word.upper()} still hasn't arrived")
        assert (after.action, after.intent) == (pb.ANSWER, "card_arrival")
        assert (before.action, before.intent) != (pb.ANSWER, "card_arrival") or before.confidence < after.confidence
    finally:
        admin["b"].DeleteLexiconEntry(kpb.DeleteLexiconEntryRequest(term=word), metadata=AUTH, timeout=10)
    with pytest.raises(grpc.RpcError) as gone:
        admin["b"].DeleteLexiconEntry(kpb.DeleteLexiconEntryRequest(term=word), metadata=AUTH, timeout=10)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as same:
        bad = kpb.LexiconEntry(term="card", canonical="Card")
        admin["a"].PutLexiconEntry(kpb.PutLexiconEntryRequest(entry=bad), metadata=AUTH, timeout=10)
    assert same.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
