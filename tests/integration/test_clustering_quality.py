"""Clustering quality on labelled data the model was not trained on, embedded by the real
multilingual encoder and projected as the insights worker projects them (LDA fitted on the
knowledge base's questions, here the seed base without the needs being clustered):

- the test queries of the five BANKING77 intents `make eval` holds out of the base;
- twinteller/data/cluster_needs_heldout.csv: 12 banking needs the base lacks, in pairs that
  share words, 20 questions each in English, traditional Chinese, Cantonese and simplified
  Chinese (written apart from the tuning set the parameters were chosen on).

All queries here, with 60 out-of-domain sentences among them. Measured: BANKING77 hold-out
adjusted Rand 0.91, purity 1.00, 97.5 % in a cluster that is mostly their own intent;
held-out needs adjusted Rand 0.58, purity 0.89, 60 % (MiniLM's plain embeddings, as before
issue 21: 0.74 / 0.80 / 60 % and 0.15 / 0.53 / 43 %). `make eval` measures through the real cluster,
on the queries the served model was unsure of."""

from __future__ import annotations

import csv

import pytest

from insights import clustering
from twinteller.devcluster.cluster_quality import Quality, score
from twinteller.devcluster.evaluation import HELD_OUT
from twinteller.knowledge.schema import BANKING77, DATA_DIR, read_labelled_csv, seed_faqs
from twinteller.model.multilingual import MultilingualEncoder

pytestmark = pytest.mark.integration


class Space:
    """The real encoder, and its embeddings of the seed base's questions (once a module)."""

    def __init__(self) -> None:
        self.encoder = MultilingualEncoder(threads=2)
        self.entries = [f.id for f in seed_faqs() for _ in f.questions]
        self.vectors = self.encoder.encode([q for f in seed_faqs() for q in f.questions])


@pytest.fixture(scope="module")
def space() -> Space:
    return Space()


def quality(space: Space, rows: list[tuple[str, str]], held_out: set[str]) -> Quality:
    kept = [i for i, e in enumerate(space.entries) if e not in held_out]
    projection = clustering.Projection.fit(space.vectors[kept], [space.entries[i] for i in kept])
    noise = (DATA_DIR / "out_of_domain.txt").read_text(encoding="utf-8").split("\n")[:60]
    texts = [t for t, _ in rows] + [t for t in noise if t.strip()]
    assignment = clustering.cluster(projection(space.encoder.encode(texts)))
    clustered = [(need, str(c)) for (_, need), c in zip(rows, assignment, strict=False) if c >= 0]
    return score([n for n, _ in clustered], [c for _, c in clustered], len(rows))


def test_held_out_banking77_intents_cluster_apart_and_purely(space: Space) -> None:
    rows = [(t, label) for t, label in read_labelled_csv(BANKING77 / "test.csv") if label in HELD_OUT]
    assert len(rows) == 200
    q = quality(space, rows, set(HELD_OUT))
    assert q.clustered >= 0.8 * q.sent
    assert q.ari >= 0.8 and q.purity >= 0.95
    assert q.own_cluster >= 0.9


def test_held_out_needs_that_share_words_cluster_mostly_apart(space: Space) -> None:
    with (DATA_DIR / "cluster_needs_heldout.csv").open(encoding="utf-8", newline="") as f:
        rows = [(r["text"], r["need"]) for r in csv.DictReader(f)]
    assert len(rows) == 240 and len({n for _, n in rows}) == 12
    q = quality(space, rows, set())
    # Issue 21's targets are 0.85 and 85 % (README "Insights": not reached); these hold the
    # measured gain over the plain embeddings (0.15, 53 %, 43 %) against a regression.
    assert q.ari >= 0.45 and q.purity >= 0.8
    assert q.own_cluster >= 0.5
