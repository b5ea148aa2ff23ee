"""The seed knowledge base (and lexicon): written to etcd once, the first time a zone starts against an
empty cluster, so knowledge managers find the 77 BANKING77 entries (with our answers and
the train.csv questions) there to edit. One transaction with a marker key: two zones
starting together write it once, and a base someone has since edited is never overwritten.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from twinteller.etcd import keys
from twinteller.etcd.audit import audited_commit
from twinteller.etcd.store import Store
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.lexicon import seed_entries
from twinteller.knowledge.schema import seed_faqs

log = logging.getLogger(__name__)
ACTOR = "system:seed"


def tidy(record: FaqRecord) -> FaqRecord:
    """A few BANKING77 questions carry line breaks or repeat: one line each, once each, so
    the seed passes the same checks as any import (twinteller/knowledge/faqs.py)."""
    questions = list(dict.fromkeys(" ".join(q.split()) for q in record.questions))
    return replace(record, questions=[q for q in questions if q])


async def seed_knowledge_base(store: Store) -> None:
    now = time.time()
    await _seed_faqs(store, now)
    await _seed_lexicon(store, now)


async def _seed_faqs(store: Store, now: float) -> None:
    if await store.get(keys.KB_SEEDED) is not None:
        return
    records = [tidy(FaqRecord.from_faq(f)).stamped(ACTOR, now) for f in seed_faqs()]
    puts = {keys.faq(r.id): r.to_json().encode() for r in records}
    puts[keys.KB_SEEDED] = str(now).encode()
    ids = [r.id for r in records]
    if await audited_commit(store, ACTOR, "import", ids, at=now, puts=puts, absent=[keys.KB_SEEDED]):
        log.info("seeded the knowledge base with %d entries", len(records))


async def _seed_lexicon(store: Store, now: float) -> None:
    """The seed lexicon, once; a transaction of its own (etcd's default limit is 128 operations)."""
    if await store.get(keys.KB_LEXICON_SEEDED) is not None:
        return
    entries = seed_entries()
    puts = {keys.lexicon(e.term): e.to_json().encode() for e in entries}
    puts[keys.KB_LEXICON_SEEDED] = str(now).encode()
    terms = [e.term for e in entries]
    if await audited_commit(store, ACTOR, "lexicon import", terms, at=now, puts=puts, absent=[keys.KB_LEXICON_SEEDED]):
        log.info("seeded the lexicon with %d entries", len(entries))
