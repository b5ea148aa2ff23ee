"""trainer.job_runner.to_prune: which built model versions the trainer deletes after a train."""

from __future__ import annotations

from trainer.job_runner import to_prune


def test_all_but_the_newest_are_pruned() -> None:
    assert to_prune(list(range(2, 12)), set(), keep=5) == [2, 3, 4, 5, 6]


def test_the_seed_and_pinned_versions_are_kept_however_old() -> None:
    assert to_prune([1, 2, 3, 4, 5, 6, 7, 8], {3, 4}, keep=3) == [2, 5]
    assert to_prune([8, 1, 7, 3], {3}, keep=1) == [7]


def test_nothing_to_prune_below_the_limit() -> None:
    assert to_prune([1, 2, 3], set(), keep=5) == []
    assert to_prune([], {4}, keep=0) == []
