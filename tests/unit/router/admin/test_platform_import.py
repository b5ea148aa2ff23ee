"""router/admin/platform_service.py over the in-memory store: an export's entries and terms
are written in one transaction with an audit record, or nothing; a re-import of the same
platform updates what it made; an id or term that exists already and was not made by that
platform is a collision that refuses the import unless overwrite is asked for; a dry run
writes nothing."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from router.admin.platform_service import PlatformService
from router.api.auth import Tokens
from tests.helpers.memory_store import MemoryStore
from twinteller.errors import FailedPrecondition, InvalidArgument
from twinteller.etcd import keys
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.lexicon import LexiconEntry
from twinteller.v1 import knowledge_pb2 as kpb

TSV = (
    b"Question\tAnswer\tSource\tMetadata\tQnaId\n"
    b"How do I repay my loan early?\tCall us to settle your loan early.\tEditorial\t\t1\n"
    b"Can I pay off my loan before the end?\tCall us to settle your loan early.\tEditorial\t\t1\n"
    b"What is a certificate of interest?\tWe send your certificate of interest every April.\tEditorial\t\t2\n"
)
RASA_NLU = b"""version: "3.1"
nlu:
- intent: ask_mortgage_rates
  examples: |
    - what are your mortgage rates
    - how much is a [fixed](rate_type) mortgage
- synonym: fixed
  examples: |
    - fixed-rate
"""
RASA_DOMAIN = b"""version: "3.1"
intents: [ask_mortgage_rates]
responses:
  utter_ask_mortgage_rates:
  - text: Our mortgage rates start at 4.1 percent.
"""


def service() -> tuple[PlatformService, MemoryStore]:
    store = MemoryStore(revision=10)
    return PlatformService(store, Tokens({})), store


def tsv(*, dry_run: bool = False, overwrite: bool = False) -> kpb.ImportPlatformRequest:
    return kpb.ImportPlatformRequest(content=TSV, filename="kb.tsv", dry_run=dry_run, overwrite=overwrite)


def rasa() -> kpb.ImportPlatformRequest:
    """A Rasa project is several files: zipped, as the command line packs a folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as packed:
        packed.writestr("data/nlu.yml", RASA_NLU)
        packed.writestr("domain.yml", RASA_DOMAIN)
    return kpb.ImportPlatformRequest(content=buffer.getvalue(), filename="project.zip")


def faqs_in(store: MemoryStore) -> dict[str, FaqRecord]:
    return {
        k[len(keys.KB_FAQS) :]: FaqRecord.from_json(v.value)
        for k, v in store.data.items()
        if k.startswith(keys.KB_FAQS)
    }


def audit(store: MemoryStore) -> list[dict[str, object]]:
    return [json.loads(v.value) for k, v in sorted(store.data.items()) if k.startswith(keys.KB_AUDIT)]


async def test_an_import_writes_entries_and_terms_with_one_audit_record() -> None:
    platforms, store = service()
    reply = await platforms.import_platform(rasa(), "ann")
    assert reply.platform == "rasa" and reply.detected and list(reply.faq_ids) == ["ask_mortgage_rates"]
    entry = faqs_in(store)["ask_mortgage_rates"]
    assert entry.answer == "Our mortgage rates start at 4.1 percent." and "imported:rasa" in entry.tags
    assert entry.updated_by == "ann"
    term = LexiconEntry.from_json(store.data[keys.lexicon("fixed-rate")].value)
    assert term.canonical == "fixed"
    assert [(a["actor"], a["action"]) for a in audit(store)] == [("ann", "import rasa")]


async def test_a_dry_run_writes_nothing_and_reports() -> None:
    platforms, store = service()
    reply = await platforms.import_platform(tsv(dry_run=True), "ann")
    assert reply.platform == "qna" and sorted(reply.faq_ids) == ["qna_1", "qna_2"]
    assert json.loads(reply.report)["counts"]["qna pairs"] == {"present": 2, "imported": 2}
    assert store.data == {}


async def test_a_reimport_updates_and_a_foreign_entry_collides() -> None:
    platforms, store = service()
    await platforms.import_platform(tsv(), "ann")
    again = await platforms.import_platform(tsv(), "bob")
    assert sorted(again.updated) == ["qna_1", "qna_2"] and not again.collisions
    ours = FaqRecord("qna_1", "Ours", "Our own answer.", questions=["ours?"])
    store.put_now(keys.faq("qna_1"), ours.to_json())
    before = dict(store.data)
    with pytest.raises(FailedPrecondition, match=r"nothing written: 1 ids or terms exist already.*qna_1"):
        await platforms.import_platform(tsv(), "bob")
    assert store.data == before
    forced = await platforms.import_platform(tsv(overwrite=True), "bob")
    assert (
        list(forced.collisions) == ["qna_1"] and faqs_in(store)["qna_1"].answer == "Call us to settle your loan early."
    )
    assert audit(store)[-1]["action"] == "import overwrote" and audit(store)[-1]["ids"] == ["qna_1"]


async def test_a_lexicon_term_with_another_canonical_collides() -> None:
    platforms, store = service()
    store.put_now(keys.lexicon("fixed-rate"), LexiconEntry("fixed-rate", "variable").to_json())
    with pytest.raises(FailedPrecondition, match="lexicon: fixed-rate"):
        await platforms.import_platform(rasa(), "ann")
    assert faqs_in(store) == {}


async def test_an_export_with_nothing_to_import_is_refused() -> None:
    platforms, _ = service()
    only_prompts = b"Question\tAnswer\tQnaId\n"
    with pytest.raises(InvalidArgument):
        await platforms.import_platform(kpb.ImportPlatformRequest(content=only_prompts, filename="kb.tsv"), "ann")
