"""twinteller.devcluster.noise: the shipped noisy test set is what the fixed-seed noise model makes of
the BANKING77 test set, query by query."""

from __future__ import annotations

import random
import re
from functools import cache

import pytest

from twinteller.devcluster import noise
from twinteller.knowledge.schema import BANKING77, NOISY_TEST, read_labelled_csv

COLLOQUIAL = {"atm": ["cash machine", "hole in the wall"], "money": ["dosh"], "账户": ["賬戶"]}


@cache
def original() -> list[tuple[str, str]]:
    return read_labelled_csv(BANKING77 / "test.csv")


@cache
def shipped() -> list[tuple[str, str]]:
    return read_labelled_csv(NOISY_TEST)


def test_same_queries_and_labels_as_the_test_set() -> None:
    assert len(original()) > 3000
    assert len(shipped()) == len(original())
    assert [label for _, label in shipped()] == [label for _, label in original()]
    assert all(text for text, _ in shipped())


def test_shipped_file_is_what_the_noise_model_makes() -> None:
    """Regenerated in memory: a change to the noise model (or to the seed lexicon, whose
    terms it uses) needs `twinteller noise` and the new file committed."""
    assert noise.rows() == shipped()


def test_most_queries_are_noisy() -> None:
    changed = sum(noisy != text for (noisy, _), (text, _) in zip(shipped(), original(), strict=True))
    assert changed >= 0.9 * len(original())


def test_noise_is_small() -> None:
    """Noise, not new queries: most words of a query survive."""
    kept = []
    for (noisy, _), (text, _) in zip(shipped(), original(), strict=True):
        words = set(re.findall(r"\w+", text.lower()))
        if words:
            kept.append(len(words & set(re.findall(r"\w+", noisy.lower()))) / len(words))
    assert sum(kept) / len(kept) > 0.6


def test_noisy_is_deterministic_for_a_seed() -> None:
    texts = [text for text, _ in original()[:200]]
    first = [noise.noisy(t, COLLOQUIAL, random.Random(7)) for t in texts]
    assert first == [noise.noisy(t, COLLOQUIAL, random.Random(7)) for t in texts]
    rng_a, rng_b = random.Random(7), random.Random(7)
    assert [noise.noisy(t, COLLOQUIAL, rng_a) for t in texts] == [noise.noisy(t, COLLOQUIAL, rng_b) for t in texts]
    other = [noise.noisy(t, COLLOQUIAL, random.Random(8)) for t in texts]
    assert sum(a != b for a, b in zip(first, other, strict=True)) > len(texts) // 2


@pytest.mark.parametrize("seed", range(5))
def test_noisy_output_is_normalised_whitespace(seed: int) -> None:
    rng = random.Random(seed)
    for text, _ in original()[::50]:
        got = noise.noisy(text, COLLOQUIAL, rng)
        assert got == " ".join(got.split())
        assert got


def test_slang_uses_the_colloquial_terms() -> None:
    rng = random.Random(1)
    outputs = [noise.noisy("The ATM kept my card and my money", COLLOQUIAL, rng) for _ in range(300)]
    lowered = [o.lower() for o in outputs]
    share = sum("cash machine" in o or "hole in the wall" in o for o in lowered) / len(outputs)
    # 0.6 for slang, less the cases where a typo hit the new term.
    assert 0.3 < share < 0.7
    assert any("dosh" in o for o in lowered)
    # Chinese canonical terms are left alone (only ASCII ones are replaced).
    assert all("賬戶" not in noise.noisy("我的账户", COLLOQUIAL, random.Random(s)) for s in range(50))
