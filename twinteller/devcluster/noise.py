"""The noisy copy of the BANKING77 test set: what customers really type.

    twinteller noise        # rewrites twinteller/data/banking77_noisy_test.csv

Every test query, same label, through a fixed-seed noise model written apart from the
training generaliser (twinteller/model/variants.py), so that the "with and without
generalisation" comparison in `make eval` does not grade the generaliser on its own
output. Per query:
- slang: each term the lexicon had colloquial words for is replaced by one of them with
  probability 0.6 ("cash machine" for ATM, "dosh" for money): the seed lexicon's English
  terms as they were when the set was made (noise_slang.json), not the grown lexicon, which
  would both change the set and undo its own noise;
- typos: 1 (50 %), 2 (35 %) or 3 (15 %) in words of three letters or more: a key next to
  the right one, a letter dropped, an extra key pressed beside a letter, two letters swapped
  (the generaliser never inserts a neighbouring key);
- spacing: two words run together (15 %), a word split in two (10 %);
- chat style: lower case without punctuation (30 %).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from pathlib import Path

from twinteller.knowledge.schema import BANKING77, NOISY_TEST, read_labelled_csv
from twinteller.model.variants import NEIGHBOURS

SEED = 20261125
SLANG = Path(__file__).with_name("noise_slang.json")
_LONG_WORD = re.compile(r"[A-Za-z]{3,}")


def _slang(text: str, colloquial: dict[str, list[str]], rng: random.Random) -> str:
    canonical = sorted((c for c in colloquial if c.isascii()), key=len, reverse=True)
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(c)}(?!\w)" for c in canonical), re.IGNORECASE)

    def swap(match: re.Match[str]) -> str:
        return rng.choice(colloquial[match.group(0).casefold()]) if rng.random() < 0.6 else match.group(0)

    return pattern.sub(swap, text)


def _typo(text: str, rng: random.Random) -> str:
    words = list(_LONG_WORD.finditer(text))
    if not words:
        return text
    word = rng.choice(words)
    i = rng.randrange(word.start(), word.end())
    near = NEIGHBOURS.get(text[i].lower(), text[i])
    kind = rng.randrange(4)
    if kind == 0:
        return text[:i] + rng.choice(near) + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + rng.choice(near) + text[i:]
    j = min(i + 1, word.end() - 1)
    return text[:i] + text[j] + text[i] + text[j + 1 :] if j > i else text


def _spacing(text: str, rng: random.Random) -> str:
    if rng.random() < 0.15:
        gaps = [m.start() for m in re.finditer(r"(?<=\w) (?=\w)", text)]
        if gaps:
            i = rng.choice(gaps)
            text = text[:i] + text[i + 1 :]
    if rng.random() < 0.10:
        words = list(re.finditer(r"[A-Za-z]{6,}", text))
        if words:
            word = rng.choice(words)
            i = rng.randrange(word.start() + 2, word.end() - 2)
            text = text[:i] + " " + text[i:]
    return text


def noisy(text: str, colloquial: dict[str, list[str]], rng: random.Random) -> str:
    text = _slang(text, colloquial, rng)
    for _ in range(rng.choices((1, 2, 3), weights=(50, 35, 15))[0]):
        text = _typo(text, rng)
    text = _spacing(text, rng)
    if rng.random() < 0.3:
        text = re.sub(r"[^\w\s']", "", text.lower())
    return " ".join(text.split())


def rows() -> list[tuple[str, str]]:
    """(noisy text, label) for every BANKING77 test query, in order: the file's content."""
    rng = random.Random(SEED)
    colloquial = json.loads(SLANG.read_text(encoding="utf-8"))["colloquial"]
    return [(noisy(text, colloquial, rng), label) for text, label in read_labelled_csv(BANKING77 / "test.csv")]


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(prog="twinteller noise", description=__doc__).parse_args(argv)
    noisy_rows = rows()
    with NOISY_TEST.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "category"])
        writer.writerows(noisy_rows)
    print(f"wrote {len(noisy_rows)} noisy queries to {NOISY_TEST}")
