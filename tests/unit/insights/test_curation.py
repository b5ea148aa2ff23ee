"""insights/curation.py: a knowledge manager's split, merge, move and dismiss, applied to the
clusters a round computed, and still holding as new questions arrive (vectors are small
hand-made directions: this is the rules' bookkeeping, the clustering is tested elsewhere)."""

from __future__ import annotations

import numpy as np

from insights.curation import SAME_CENTRE, apply
from twinteller.etcd import keys
from twinteller.knowledge.cluster_rules import Rule

A, B, C = np.eye(3)


def key(at: float, n: int) -> str:
    """An unrecognised record's key as the router writes it, recorded at Unix time `at`."""
    return f"{keys.unrecognised_since(at)}/s{n}/1"


def rows(*directions: np.ndarray) -> np.ndarray:
    return np.array(directions, dtype=np.float32)


def test_no_rules_change_nothing() -> None:
    groups = {"c-1": [0, 1], "c-2": [2]}
    assert apply(groups, [key(1, 0), key(1, 1), key(1, 2)], rows(A, A, B), [], {}) == groups


def test_a_split_holds_and_newer_members_go_to_the_nearer_side() -> None:
    # At the split (t=10): rows 0-1 about A, rows 2-3 about B, all in one cluster; B is split off.
    # Later (t=20): row 4 about B and row 5 about A join the cluster.
    k = [key(1, 0), key(1, 1), key(2, 2), key(2, 3), key(20, 4), key(20, 5)]
    vectors = rows(A, A, B, B, B, A)
    split = Rule(id="r-split", kind="split", cluster="c-1", members=(k[2], k[3]), at=10.0)
    out = apply({"c-1": [0, 1, 2, 3, 4, 5]}, k, vectors, [split], {})
    assert out == {"c-1": [0, 1, 5], "r-split": [2, 3, 4]}


def test_a_split_of_a_cluster_that_is_gone_or_of_every_member_does_nothing() -> None:
    k = [key(1, 0), key(1, 1)]
    gone = Rule(id="r-1", kind="split", cluster="c-old", members=(k[0],), at=5.0)
    everything = Rule(id="r-2", kind="split", cluster="c-1", members=(k[0], k[1]), at=5.0)
    assert apply({"c-1": [0, 1]}, k, rows(A, B), [gone, everything], {}) == {"c-1": [0, 1]}


def test_a_merge_joins_the_other_cluster_in() -> None:
    k = [key(1, n) for n in range(4)]
    merge = Rule(id="r-1", kind="merge", cluster="c-1", other="c-2", at=5.0)
    out = apply({"c-1": [0, 1], "c-2": [2, 3]}, k, rows(A, A, B, B), [merge], {})
    assert out == {"c-1": [0, 1, 2, 3]}
    # With the other cluster gone (its members aged out), the rule does nothing.
    assert apply({"c-1": [0, 1]}, k, rows(A, A, B, B), [merge], {}) == {"c-1": [0, 1]}


def test_a_move_takes_a_member_out_of_its_cluster_into_another() -> None:
    k = [key(1, n) for n in range(5)]
    move = Rule(id="r-1", kind="move", cluster="c-2", members=(k[1],), at=5.0)
    out = apply({"c-1": [0, 1], "c-2": [2, 3], "c-3": [4]}, k, rows(A, A, B, B, C), [move], {})
    assert out == {"c-1": [0], "c-2": [1, 2, 3], "c-3": [4]}
    # A cluster left empty by moves is dropped.
    last = Rule(id="r-2", kind="move", cluster="c-2", members=(k[4],), at=6.0)
    assert "c-3" not in apply({"c-1": [0, 1], "c-2": [2, 3], "c-3": [4]}, k, rows(A, A, B, B, C), [move, last], {})


def test_a_dismissed_cluster_is_not_proposed_again_nor_the_same_noise_under_a_new_id() -> None:
    k = [key(1, n) for n in range(6)]
    vectors = rows(A, A, B, B, C, C)
    dismiss = Rule(id="r-1", kind="dismiss", cluster="c-1", members=(k[0], k[1]), texts=("x", "y"), at=5.0)
    out = apply({"c-1": [0, 1], "c-2": [2, 3]}, k, vectors, [dismiss], {"r-1": A})
    assert out == {"c-2": [2, 3]}
    # Later the noise comes back as a cluster of its own (new id); a cluster elsewhere stays.
    near = (A + 0.1 * B) / np.linalg.norm(A + 0.1 * B)
    assert float(near @ A) >= SAME_CENTRE
    again = apply({"c-9": [4, 5], "c-2": [2, 3]}, k, rows(A, A, B, B, near, near), [dismiss], {"r-1": A})
    assert again == {"c-2": [2, 3]}
    # Its members do not join another cluster either.
    assert apply({"c-2": [0, 2, 3]}, k, vectors, [dismiss], {"r-1": A}) == {"c-2": [2, 3]}


def test_rules_apply_oldest_first() -> None:
    k = [key(1, n) for n in range(4)]
    vectors = rows(A, A, B, B)
    merge = Rule(id="r-1", kind="merge", cluster="c-1", other="c-2", at=5.0)
    dismiss = Rule(id="r-2", kind="dismiss", cluster="c-1", at=6.0)
    # Merged, then the merged cluster dismissed: nothing is left.
    assert apply({"c-1": [0, 1], "c-2": [2, 3]}, k, vectors, [dismiss, merge], {}) == {}
    # Dismissed first, the merge has no cluster to merge into: the other stays.
    early = Rule(id="r-2", kind="dismiss", cluster="c-1", at=4.0)
    assert apply({"c-1": [0, 1], "c-2": [2, 3]}, k, vectors, [merge, early], {}) == {"c-2": [2, 3]}


def test_a_rule_round_trips_through_json() -> None:
    rule = Rule(id="r-1", kind="split", cluster="c-1", members=("k1", "k2"), reason="两个需要", by="ann", at=1.5)
    assert Rule.from_json(rule.to_json()) == rule
