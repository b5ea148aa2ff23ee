"""The insights worker: every `--interval-s` it reads what all routers recorded in etcd and
writes what knowledge managers read through the admin API (`insights/latest`,
twinteller/knowledge/insights_document.py):

- clusters of the newest unrecognised and low-confidence queries (insights/clustering.py),
  embedded with the multilingual encoder and projected onto the directions that separate
  the base's entries (fitted on their training questions, again when the base changes);
  the knowledge managers' corrections applied (insights/curation.py); each cluster with a
  tag in its language (insights/tags.py), a suggested split, its members per day, and the
  nearest FAQ when its centre is close to one (cosine of the projected centres of the
  cluster and of the FAQ's training questions), else a new FAQ to create from it;
- trending intents (from the routers' per-minute traffic counts) and trending clusters
  (insights/trends.py);
- lexicon entries proposed, through maker-checker, from unrecognised queries one word away
  from a training question (insights/suggestions.py), each term once;
- satisfaction from the feedback records;
- turns per zone and minute over the last half hour (the console's live traffic).

Runs beside the trainer, outside the routers (embedding is CPU work):
    python -m insights --etcd 127.0.0.1:2379 --question-cache build/embeddings-insights.npz
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from insights import clustering, curation, tags
from insights.suggestions import Index, suggest
from insights.trends import TrendPolicy, rising, satisfaction, split
from twinteller.backoff import Backoff
from twinteller.errors import StoreError
from twinteller.etcd import keys
from twinteller.etcd.store import Store
from twinteller.knowledge import proposals
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.insights_document import (
    LATEST,
    TRAFFIC_MINUTES,
    Cluster,
    DayCount,
    Document,
    Member,
    Rating,
    Split,
    Traffic,
    Trend,
)
from twinteller.knowledge.lexicon import Lexicon, LexiconEntry
from twinteller.knowledge.turn_counts import Bucket
from twinteller.model.embeddings import EmbeddingCache
from twinteller.model.multilingual import MultilingualEncoder
from twinteller.v1 import knowledge_pb2 as kpb

log = logging.getLogger(__name__)

MAX_RECORDS = 3000  # the newest unrecognised queries clustered each round
MAX_MEMBERS = 200  # members listed (and adopted) per cluster
# A cluster this close to an FAQ's centre (both projected) is suggested for it. On the
# BANKING77 test set the centre of an intent's queries is at 0.967 or more from its own FAQ's
# (all 72 in the base) and at 0.918 or less from the nearest other (the 5 held out by make
# eval, the projection fitted without them): between the two.
SUGGEST_SIMILARITY = 0.94
DAYS = 14  # a cluster's members per day, over this many days
PROPOSER = "system:insights"  # whose name the lexicon proposals are in


@dataclass(frozen=True)
class Settings:
    interval_s: float = 15.0
    threshold: float = clustering.THRESHOLD
    min_size: int = clustering.MIN_SIZE
    trends: TrendPolicy = field(default_factory=TrendPolicy)
    lexicon_proposals: int = 5  # at most this many new lexicon entries proposed a round (0: none)


class Insights:
    def __init__(self, store: Store, question_cache: Path, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._encoder = MultilingualEncoder()
        # The base's questions, embedded once across restarts; the queries in memory only
        # (they come and go: a file rewritten every round would cost more than it saves).
        self._questions = EmbeddingCache(question_cache, self._encoder)
        self._vectors: dict[str, np.ndarray] = {}  # query text -> embedding
        # The last round's clusters, reused while neither the queries, the base nor the
        # rules changed.
        self._memo: tuple[object, list[Cluster]] = ((), [])
        self._index: tuple[object, Index] = ((), Index([]))  # the training questions', by their revisions
        # The projection and the FAQs' projected centres, by the FAQs' and the lexicon's
        # revisions: a new unrecognised query changes the clusters, not these (under load the
        # round once recomputed them every time: py-spy).
        self._space: tuple[object, clustering.Projection, dict[str, np.ndarray]] = ((), clustering.Projection(), {})
        self._read: tuple[object, dict[str, str]] = ((), {})  # query -> lexicon reading, by revisions
        self._tags: dict[str, str] | None = None  # cluster id -> its tag, kept while it lives

    def _embed(self, texts: list[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self._vectors})
        if missing:
            for text, vector in zip(missing, self._encoder.encode(missing), strict=True):
                self._vectors[text] = vector
        return np.stack([self._vectors[t] for t in texts]) if texts else np.zeros((0, 1))

    def _fit_space(
        self, faqs: list[FaqRecord], lexicon: Lexicon
    ) -> tuple[clustering.Projection, dict[str, np.ndarray]]:
        """The projection learnt from the enabled FAQs' training questions (as the trainer
        reads them), and each FAQ's projected unit centre."""
        rows = [(faq.id, lexicon.model_text(q)) for faq in faqs if faq.enabled for q in faq.questions]
        vectors = self._questions.embed([t for _, t in rows])
        entries = [faq_id for faq_id, _ in rows]
        projection = clustering.Projection.fit(vectors, entries)
        projected = projection(vectors)
        names = list(dict.fromkeys(entries))
        row_of = {name: i for i, name in enumerate(names)}
        sums = np.zeros((len(names), projected.shape[1]))
        np.add.at(sums, [row_of[e] for e in entries], projected)  # each FAQ's questions summed
        sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return projection, dict(zip(names, sums, strict=True))

    async def _previous_tags(self) -> dict[str, str]:
        """The tags of the document a previous run of the worker wrote (kept across restarts)."""
        entry = await self._store.get(keys.insights(LATEST))
        if entry is None:
            return {}
        try:
            return {c.id: c.tag for c in Document.from_json(entry.value).clusters if c.tag}
        except (ValueError, KeyError, TypeError):
            return {}

    async def _clusters(self) -> list[Cluster]:
        entries = list(reversed(await self._store.newest(keys.UNRECOGNISED, MAX_RECORDS)))  # oldest first
        records = [(e.key, json.loads(e.value)) for e in entries]
        if not records:
            return []
        if self._tags is None:
            self._tags = await self._previous_tags()
        faq_entries, _ = await self._store.get_prefix(keys.KB_FAQS)
        lexicon_entries, _ = await self._store.get_prefix(keys.KB_LEXICON)
        rule_entries, _ = await self._store.get_prefix(keys.CLUSTER_RULES)
        stamp = (
            tuple(k for k, _ in records),
            tuple(e.mod_revision for e in faq_entries + lexicon_entries),
            tuple(e.mod_revision for e in rule_entries),
        )
        if stamp == self._memo[0]:
            return self._memo[1]
        texts = [r["text"] for _, r in records]
        lexicon = Lexicon([LexiconEntry.from_json(e.value) for e in lexicon_entries])
        faqs = [FaqRecord.from_json(e.value) for e in faq_entries]
        if self._settings.lexicon_proposals:
            await self._propose_lexicon(texts, faqs, lexicon, stamp[1])
        if self._space[0] != stamp[1]:
            self._space = (stamp[1], *await asyncio.to_thread(self._fit_space, faqs, lexicon))
        _, projection, centres = self._space
        embeddings = projection(await asyncio.to_thread(self._embed, texts))
        assignment = await asyncio.to_thread(
            clustering.cluster, embeddings, self._settings.threshold, self._settings.min_size
        )
        keys_ = [k for k, _ in records]
        groups: dict[str, list[int]] = {}
        for c in sorted(set(assignment.tolist()) - {-1}):
            rows = [i for i, a in enumerate(assignment) if a == c]
            groups[clustering.stable_id([keys_[i] for i in rows])] = rows
        rules = [curation.Rule.from_json(e.value) for e in rule_entries]
        dismissed = {
            r.id: curation.centre(projection(await asyncio.to_thread(self._embed, list(r.texts))))
            for r in rules
            if r.kind == "dismiss" and r.texts
        }
        groups = curation.apply(groups, keys_, embeddings, rules, dismissed)
        clusters = self._described(groups, records, embeddings, centres)
        self._memo = (stamp, clusters)
        return clusters

    def _described(
        self,
        groups: dict[str, list[int]],
        records: list[tuple[str, dict]],  # type: ignore[type-arg]
        embeddings: np.ndarray,
        centres: dict[str, np.ndarray],
    ) -> list[Cluster]:
        texts = [r["text"] for _, r in records]
        number = {cid: n for n, cid in enumerate(groups)}
        assignment = np.full(len(texts), -1)
        for cid, rows in groups.items():
            assignment[rows] = number[cid]
        terms = clustering.labels(texts, assignment)
        languages = {
            cid: tags.language([texts[i] for i in rows], [records[i][1].get("language", "") for i in rows])
            for cid, rows in groups.items()
        }
        assert self._tags is not None
        said = {cid: [texts[i] for i in rows] for cid, rows in groups.items()}
        kept = {cid: tag for cid, tag in self._tags.items() if cid in said and tags.fits(tag, said[cid])}
        made = tags.tags(said, languages) if len(kept) < len(groups) else {}
        self._tags = {cid: kept.get(cid) or made.get(cid, "") for cid in groups}
        names = list(centres)
        matrix = np.stack([centres[n] for n in names]) if names else np.zeros((0, embeddings.shape[1]))
        today = int(time.time() // 86400)
        out = []
        for cid, rows in groups.items():
            members = [
                Member(records[i][0], texts[i], records[i][1]["at"], records[i][1].get("channel", "")) for i in rows
            ]
            centre = curation.centre(embeddings[rows])
            similarities = matrix @ centre if names else np.zeros(0)
            best = int(similarities.argmax()) if names else -1
            close = best >= 0 and similarities[best] >= SUGGEST_SIMILARITY
            label = " ".join(terms.get(number[cid], [])) or texts[rows[0]][:40]
            tag = self._tags[cid] or label
            proposed = re.sub(r"\W+", "_", tag.lower()).strip("_")[:40] if tag.isascii() else ""
            per_day = Counter(int(m.at // 86400) for m in members)
            out.append(
                Cluster(
                    id=cid,
                    label=label,
                    size=len(rows),
                    first_seen=min(m.at for m in members),
                    last_seen=max(m.at for m in members),
                    representatives=[texts[i] for i in clustering.representatives(embeddings, rows)],
                    members=sorted(members, key=lambda m: -m.at)[:MAX_MEMBERS],
                    suggested_faq=names[best] if close else "",
                    suggested_similarity=round(float(similarities[best]), 3) if names else 0.0,
                    proposed_id="" if close else f"new_{proposed or cid.replace('-', '_')}",
                    proposed_title="" if close else tag[:1].upper() + tag[1:],
                    tag=tag,
                    language=languages[cid],
                    split=self._split(embeddings, rows, records, languages[cid]),
                    daily=[DayCount(day * 86400.0, per_day[day]) for day in range(today - DAYS + 1, today + 1)],
                )
            )
        return sorted(out, key=lambda c: (-c.size, c.id))

    @staticmethod
    def _split(
        embeddings: np.ndarray,
        rows: list[int],
        records: list[tuple[str, dict]],  # type: ignore[type-arg]
        language: str,
    ) -> Split | None:
        found = clustering.suggested_split(embeddings, rows)
        if found is None:
            return None
        part, distance = found
        rest = [r for r in rows if r not in set(part)]
        sides = {"part": [records[i][1]["text"] for i in part], "rest": [records[i][1]["text"] for i in rest]}
        named = tags.tags(sides, {"part": language, "rest": language})
        return Split([records[i][0] for i in part], round(distance, 3), named["part"], named["rest"])

    async def _propose_lexicon(
        self, texts: list[str], faqs: list[FaqRecord], lexicon: Lexicon, revisions: object
    ) -> None:
        """Propose the lexicon entries the unrecognised `texts` suggest, each term once ever
        (a rejected one is not proposed again; the marker key says it was)."""
        if self._index[0] != revisions:
            questions = [lexicon.model_text(q) for f in faqs for q in f.questions]
            self._index = (revisions, await asyncio.to_thread(Index, questions))
        # Each query read through the lexicon once while the lexicon stands (3,000 of them a
        # round under load); only this round's are kept.
        known = self._read[1] if self._read[0] == revisions else {}
        read = {t: known[t] if t in known else lexicon.model_text(t) for t in texts}
        self._read = (revisions, read)
        found = suggest([read[t] for t in texts], self._index[1], lexicon.terms())
        markers = [keys.lexicon_suggested(s.term) for s in found]
        done = await self._store.get_many(*markers) if markers else []
        proposed = 0
        for s, marker, before in zip(found, markers, done, strict=True):
            if before is not None:
                continue
            if proposed >= self._settings.lexicon_proposals:
                break
            shown = "; ".join(f"{q!r}" for q in s.queries)
            change = kpb.ProposeChangeRequest(
                put_lexicon_entry=kpb.PutLexiconEntryRequest(
                    entry=kpb.LexiconEntry(term=s.term, canonical=s.canonical)
                ),
                reason=f"{s.support} unrecognised queries are one word away from known questions: {shown} "
                f"beside {s.question!r}",
            )
            proposal = proposals.pending(change, f"lexicon: {s.term} -> {s.canonical}", PROPOSER)
            if await proposals.store_new(self._store, proposal, PROPOSER, once=marker):
                proposed += 1
                log.info("insights: proposed lexicon entry %s -> %s (%s)", s.term, s.canonical, proposal.id)

    async def _trends(self, clusters: list[Cluster], now: float) -> tuple[list[Trend], list[Traffic]]:
        policy = self._settings.trends
        entries, _ = await self._store.get_prefix(keys.TRAFFIC)
        buckets = [Bucket.from_json(e.value) for e in entries]
        per_zone: dict[tuple[int, str], Counter[str]] = {}
        for b in buckets:
            if b.minute >= now // 60 - TRAFFIC_MINUTES:
                for (_, action, _, zone), n in b.counts.items():
                    per_zone.setdefault((b.minute, zone), Counter())[action] += n
        traffic = [
            Traffic(minute, zone, sum(c.values()), c["ANSWER"], c["HANDOFF"], c["FALLBACK"])
            for (minute, zone), c in sorted(per_zone.items())
        ]
        events = [(b.minute * 60.0, key[0] or "(fallback)", n) for b in buckets for key, n in b.counts.items()]
        window, baseline = split(events, now, policy)
        totals = (sum(window.values()), sum(baseline.values()))
        trends = rising("intent", window, baseline, *totals, policy)
        member_events = [(m.at, c.id, 1) for c in clusters for m in c.members]
        cluster_window, cluster_baseline = split(member_events, now, policy)
        names = {c.id: c.label for c in clusters}
        # Which languages customers write in more than usual (a campaign, a region's outage).
        spoken = [(b.minute * 60.0, language, n) for b in buckets for language, n in b.languages.items()]
        language_window, language_baseline = split(spoken, now, policy)
        language_totals = (sum(language_window.values()), sum(language_baseline.values()))
        languages = rising("language", language_window, language_baseline, *language_totals, policy)
        clustered = rising("cluster", cluster_window, cluster_baseline, *totals, policy, names)
        return trends + clustered + languages, traffic

    async def _ratings(self) -> list[Rating]:
        entries, _ = await self._store.get_prefix(keys.FEEDBACK)
        return satisfaction(json.loads(e.value) for e in entries)

    async def compute(self) -> Document:
        now = time.time()
        clusters = await self._clusters()
        trends, traffic = await self._trends(clusters, now)
        return Document(now, clusters, trends, await self._ratings(), traffic)

    async def run_once(self) -> Document:
        document = await self.compute()
        await self._store.put(keys.insights(LATEST), document.to_json())
        return document

    async def run(self) -> None:
        backoff = Backoff(initial=1.0, maximum=30.0)
        while True:
            started = time.monotonic()
            try:
                document = await self.run_once()
                backoff.reset()
                log.info(
                    "insights: %d clusters, %d trends, %d rating groups in %.1fs",
                    len(document.clusters), len(document.trends), len(document.ratings), time.monotonic() - started,
                )  # fmt: skip
                # Busy with a stream of new queries, a round can take seconds of CPU that
                # Triton and the trainer share: never spend more than a third of the time.
                await asyncio.sleep(max(self._settings.interval_s, 2 * (time.monotonic() - started)))
            except StoreError as e:
                log.warning("insights: %s", e)
                await backoff.sleep()
