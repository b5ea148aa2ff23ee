"""insights/clustering.py: grouping unrecognised queries, labelling and naming the groups."""

from __future__ import annotations

import re

import numpy as np
from sklearn.metrics import adjusted_rand_score

from insights.clustering import _STOP, MIN_SIZE, cluster, labels, representatives, stable_id

DIM = 32


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _synthetic(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Three tight groups (12, 8 and 5 rows) around orthogonal directions, a group of 3
    (below MIN_SIZE) and 4 lone outliers, shuffled; with the expected cluster numbers
    (biggest group 0, the rest -1)."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.normal(size=(DIM, DIM)))  # orthonormal columns
    directions = basis.T
    rows: list[np.ndarray] = []
    expected: list[int] = []
    for d, (size, number) in enumerate([(5, 2), (12, 0), (3, -1), (8, 1)]):
        rows.extend(directions[d] + rng.normal(scale=0.04, size=(size, DIM)))
        expected.extend([number] * size)
    for d in range(4, 8):  # outliers: each alone in its own direction
        rows.append(directions[d] + rng.normal(scale=0.04, size=DIM))
        expected.append(-1)
    order = rng.permutation(len(rows))
    return _unit(np.array(rows))[order], np.array(expected)[order]


# --- cluster ------------------------------------------------------------------------------


def test_groups_are_recovered_exactly_with_numbers_by_size() -> None:
    embeddings, expected = _synthetic()
    assignment = cluster(embeddings)
    assert assignment.shape == (len(embeddings),)
    assert adjusted_rand_score(expected, assignment) == 1.0
    # Not just the same partition: the same numbers (0 the biggest), -1 for the rest.
    assert assignment.tolist() == expected.tolist()
    assert np.bincount(assignment[assignment >= 0]).tolist() == [12, 8, 5]


def test_other_seeds() -> None:
    for seed in (1, 2, 3):
        embeddings, expected = _synthetic(seed)
        assert cluster(embeddings).tolist() == expected.tolist()


def test_groups_below_min_size_are_unclustered() -> None:
    embeddings, expected = _synthetic()
    assignment = cluster(embeddings, min_size=6)  # the group of 5 drops out
    assert np.bincount(assignment[assignment >= 0]).tolist() == [12, 8]
    assert (assignment[expected == 2] == -1).all()
    assignment = cluster(embeddings, min_size=3)  # the group of 3 joins, numbered last
    assert np.bincount(assignment[assignment >= 0]).tolist() == [12, 8, 5, 3]
    assert set(assignment[:][expected == -1].tolist()) == {-1, 3}  # the 3 and the lone outliers
    assert (assignment == -1).sum() == 4  # only the lone outliers


def test_threshold_is_the_cut() -> None:
    embeddings, _ = _synthetic()
    # Cosine distances between the groups are about 1: a cut above that merges everything.
    assert cluster(embeddings, threshold=1.5).tolist() == [0] * len(embeddings)
    # A cut below the spread within a group leaves every row alone.
    assert cluster(embeddings, threshold=1e-6).tolist() == [-1] * len(embeddings)


def test_fewer_rows_than_min_size() -> None:
    embeddings, _ = _synthetic()
    for n in range(MIN_SIZE):
        assignment = cluster(embeddings[:n])
        assert assignment.tolist() == [-1] * n
    assert cluster(embeddings[:1], min_size=1).tolist() == [-1]


# --- labels -------------------------------------------------------------------------------

LOST = ["my card was lost", "I lost my card yesterday", "lost card, please block it", "card lost abroad"]
DECLINED = ["why was my card declined", "card declined in the shop", "payment declined on my card", "declined again"]
PIN = ["I forgot the pin of my card", "how do I reset my pin", "pin locked after three tries", "card pin reset"]


def _ranked(texts: list[str], assignment: list[int]) -> dict[int, list[str]]:
    return labels(texts, np.array(assignment), terms=100)


def test_labels_pick_distinctive_terms() -> None:
    texts = LOST + DECLINED + PIN
    assignment = [0] * 4 + [1] * 4 + [2] * 4
    top = labels(texts, np.array(assignment))
    assert top[0][0] == "lost"
    assert top[1][0] == "declined"
    assert top[2][0] == "pin"
    assert all(len(terms) == 3 for terms in top.values())
    ranked = _ranked(texts, assignment)
    # "card" is in every cluster: even as often as "lost" it ranks below it.
    assert ranked[0].index("lost") < ranked[0].index("card")
    assert ranked[1].index("declined") < ranked[1].index("card")
    assert ranked[2].index("pin") < ranked[2].index("reset") < ranked[2].index("card")


def test_labels_never_use_stop_words() -> None:
    texts = LOST + DECLINED + PIN
    ranked = _ranked(texts, [0] * 4 + [1] * 4 + [2] * 4)
    words = {w for terms in ranked.values() for w in terms}
    assert not words & _STOP
    assert not {"my", "was", "why", "how", "please", "the", "i"} & words
    assert all(re.fullmatch(r"[a-z][a-z']+", w) for w in words)


def test_labels_ignore_unclustered_rows() -> None:
    texts = [*LOST, "zebra zebra zebra card", *DECLINED]
    assignment = [0] * 4 + [-1] + [1] * 4
    ranked = _ranked(texts, assignment)
    assert set(ranked) == {0, 1}
    assert "zebra" not in {w for terms in ranked.values() for w in terms}
    assert ranked == _ranked(LOST + DECLINED, [0] * 4 + [1] * 4)


def test_labels_of_chinese_use_character_bigrams() -> None:
    texts = ["我的卡丢了", "卡丢了怎么办", "银行卡丢了，请冻结", "信用卡还没到", "我的卡还没到", "新卡还没寄到"]
    top = labels(texts, np.array([0, 0, 0, 1, 1, 1]))
    assert set(top[0][:2]) == {"卡丢", "丢了"}
    assert set(top[1][:2]) == {"卡还", "还没"}
    ranked = labels(texts, np.array([0, 0, 0, 1, 1, 1]), terms=100)
    assert ranked[0].index("丢了") < ranked[0].index("我的")  # "我的" is in both clusters
    assert ranked[1].index("还没") < ranked[1].index("我的")
    for terms in top.values():
        assert all(re.fullmatch(r"[\u3400-\u9fff]{2}", t) for t in terms)  # no punctuation, no singles


def test_labels_with_no_clusters() -> None:
    assert labels(["a b"], np.array([-1])) == {}


# --- representatives ----------------------------------------------------------------------


def test_representatives_are_nearest_the_centre() -> None:
    def at(degrees: float) -> list[float]:
        return [np.cos(np.radians(degrees)), np.sin(np.radians(degrees))]

    embeddings = np.array([at(40), at(90), at(5), at(-30), at(0), at(-5), at(30), at(0.1)])
    members = [0, 2, 3, 4, 5, 6]  # 40, 5, -30, 0, -5, 30 degrees: the centre is at about 6.7
    # Row 7 (0.1 degrees) is nearer the centre than some members, but no member.
    assert representatives(embeddings, members) == [2, 4, 5]
    assert representatives(embeddings, members, n=1) == [2]
    assert sorted(representatives(embeddings, members, n=10)) == members
    assert representatives(embeddings, members, n=10)[-1] == 3  # -30 degrees: the farthest


def test_representatives_of_a_synthetic_group() -> None:
    embeddings, expected = _synthetic()
    rows = [int(i) for i in np.flatnonzero(expected == 0)]
    reps = representatives(embeddings, rows)
    assert len(reps) == 3 and set(reps) <= set(rows)
    centre = embeddings[rows].mean(axis=0)
    nearest = sorted(rows, key=lambda r: -float(embeddings[r] @ centre))[:3]
    assert reps == nearest


# --- stable_id ----------------------------------------------------------------------------


def test_stable_id_depends_only_on_the_first_key() -> None:
    first = stable_id(["unrecognised/s1/t1", "unrecognised/s2/t9"])
    assert re.fullmatch(r"c-[0-9a-f]{10}", first)
    assert stable_id(["unrecognised/s1/t1"]) == first
    assert stable_id(["unrecognised/s1/t1", "unrecognised/s3/t4", "unrecognised/s5/t0"]) == first
    assert stable_id(["unrecognised/s2/t9", "unrecognised/s1/t1"]) != first
    assert stable_id(["unrecognised/s1/t2"]) != first


# --- projection and suggested split (issue 21) ---------------------------------------------


def test_the_projection_separates_what_the_base_separates_and_shrinks_the_rest() -> None:
    """Two entries differ along one direction; wording varies along another, much more. Plain
    cosine groups by wording; projected, by entry."""
    from insights.clustering import Projection

    rng = np.random.default_rng(3)
    basis = np.eye(DIM)
    entries, vectors = [], []
    for n, direction in enumerate((0, 2, 3)):  # each entry a small step its own way; wording along 1
        for _ in range(30):
            entries.append(f"e{n}")
            vectors.append(0.3 * basis[direction] + rng.normal() * 2.0 * basis[1] + rng.normal(scale=0.05, size=DIM))
    projection = Projection.fit(np.array(vectors), entries)
    projected = projection(np.array(vectors))
    np.testing.assert_allclose(np.linalg.norm(projected, axis=1), 1.0, atol=1e-6)
    assignment = cluster(projected, min_size=2)
    assert adjusted_rand_score(entries, assignment) > 0.9
    assert adjusted_rand_score(entries, cluster(_unit(np.array(vectors)), min_size=2)) < 0.5


def test_too_few_entries_leave_the_embeddings_as_they_are() -> None:
    from insights.clustering import Projection

    rows = _unit(np.random.default_rng(1).normal(size=(6, DIM)))
    np.testing.assert_allclose(Projection.fit(rows, ["a", "a", "a", "b", "b", "b"])(rows), rows, atol=1e-6)


def test_a_suggested_split_takes_off_the_smaller_group() -> None:
    from insights.clustering import suggested_split

    embeddings, expected = _synthetic()
    both = [i for i, e in enumerate(expected) if e in (0, 2)]  # 12 + 5 rows in two directions
    found = suggested_split(embeddings, both)
    assert found is not None
    part, distance = found
    assert sorted(part) == sorted(i for i in both if expected[i] == 2)
    assert distance > 0.5
    assert suggested_split(embeddings, both[:3]) is None  # too small to split
