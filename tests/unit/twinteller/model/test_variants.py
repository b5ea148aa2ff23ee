"""twinteller.model.variants: how many variants an entry gets, their determinism, and what they
may and may not be (a question, a duplicate, text the lexicon or normalisation would
still change)."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys

import pytest

from twinteller.knowledge.lexicon import Lexicon, LexiconEntry, seed_entries
from twinteller.knowledge.text import normalise
from twinteller.model.variants import (
    _CHINESE_TEMPLATES,
    _ENGLISH_TEMPLATES,
    MAX_EXTRA,
    MIN_EXTRA,
    RATIO,
    Generaliser,
    budget,
)

LEXICON = Lexicon(
    [
        LexiconEntry("cash machine", "ATM"),
        LexiconEntry("hole in the wall", "ATM"),
        LexiconEntry("dosh", "money"),
        LexiconEntry("quid", "pounds"),
        LexiconEntry("賬戶", "账户"),
    ]
)
ENGLISH = [
    "How do I change my PIN?",
    "I lost my card yesterday, what should I do?",
    "Why was I charged a fee for my transfer",
    "Can I send money to a friend abroad?",
    "My salary has not arrived in my account",
    "How long does a bank transfer take?",
    "Where can I order a new card",
    "I would like to close my account please",
]
CHINESE = [
    "我的卡丢了怎么办？",
    "怎么查询我的账户余额",
    "转账什么时候到账",
    "我想修改密码",
    "为什么我的卡被冻结了",
    "我的賬戶被锁了",
]
ATM = [
    "The ATM kept my card",
    "Where is the nearest ATM?",
    "The ATM did not give me all my money",
    "Why did the ATM charge me a fee",
    "Can I use any ATM abroad?",
    "ATM withdrawal declined",
    "I took 20 pounds from an ATM but it shows twice",
    "Is there a limit on ATM withdrawals",
    "The ATM ate my card this morning",
    "How much does an ATM withdrawal cost",
    "My ATM withdrawal is still pending",
    "The ATM gave me the wrong amount",
]


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def misspelt(text: str, term: str) -> bool:
    """Whether `text` holds `term` with one or two edits (and not `term` itself, as words)."""
    if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text):
        return False
    words = text.split(" ")
    spans = (" ".join(words[i : i + n]) for n in range(1, term.count(" ") + 3) for i in range(len(words)))
    return any(abs(len(span) - len(term)) <= 2 and edit_distance(span, term) <= 2 for span in spans)


def test_misspelt_helper() -> None:
    assert misspelt("the cash machne ate it", "cash machine")
    assert misspelt("the cahs machine ate it", "cash machine")
    assert misspelt("the cashmachine, ate it", "cash machine")
    assert misspelt("the ccash machine ate it", "cash machine")  # not the term as words
    assert not misspelt("the cash machine ate it", "cash machine")
    assert not misspelt("the ATM ate my card", "cash machine")


@pytest.mark.parametrize("n", [0, 1, 2, 5, 19, 20, 21, 100, 199, 200, 201, 1000, 100_000])
def test_budget_bounds(n: int) -> None:
    got = budget(n)
    if n == 0:
        assert got == 0
    else:
        assert MIN_EXTRA <= got <= MAX_EXTRA
        assert got == max(MIN_EXTRA, min(MAX_EXTRA, round(RATIO * n)))


def test_budget_floor_ratio_and_cap() -> None:
    assert budget(1) == MIN_EXTRA  # a handful of questions still gets the floor
    assert budget(100_000) == MAX_EXTRA  # hundreds get no more than the cap
    middle = [n for n in range(1, 1000) if MIN_EXTRA < RATIO * n < MAX_EXTRA]
    assert middle, "no room between the floor and the cap"
    for n in middle:
        assert budget(n) == round(RATIO * n)
    values = [budget(n) for n in range(1, 1000)]
    assert values == sorted(values)  # more questions never means fewer variants


def test_no_questions_no_variants() -> None:
    assert Generaliser(LEXICON).variants("entry", []) == []


def test_deterministic() -> None:
    first = Generaliser(LEXICON).variants("card_lost", ENGLISH)
    assert first == Generaliser(LEXICON).variants("card_lost", list(ENGLISH))
    assert first != Generaliser(LEXICON).variants("card_lost_2", ENGLISH)


def test_deterministic_across_processes() -> None:
    """Seeded from the texts, not from Python's per-process string hashing: the embedding
    cache of one training run must hold the variants of the next."""
    script = (
        "import json, sys\n"
        "from twinteller.knowledge.lexicon import Lexicon, LexiconEntry\n"
        "from twinteller.model.variants import Generaliser\n"
        "entries, questions = json.loads(sys.stdin.read())\n"
        "lexicon = Lexicon([LexiconEntry(t, c) for t, c in entries])\n"
        "print(json.dumps(Generaliser(lexicon).variants('atm', questions)))\n"
    )
    entries = [("cash machine", "ATM"), ("hole in the wall", "ATM"), ("dosh", "money")]
    here = Generaliser(Lexicon([LexiconEntry(t, c) for t, c in entries])).variants("atm", ATM)
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps([entries, ATM]),
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        )
        assert json.loads(done.stdout) == here


def test_other_entries_do_not_change_an_entrys_variants() -> None:
    generaliser = Generaliser(LEXICON)
    before = generaliser.variants("b", ENGLISH[4:])
    generaliser.variants("a", [*ENGLISH[:4], "A brand new question about cards"])
    assert generaliser.variants("b", ENGLISH[4:]) == before
    assert Generaliser(LEXICON).variants("b", ENGLISH[4:]) == before


@pytest.mark.parametrize("questions", [ENGLISH, CHINESE, ATM, ENGLISH + CHINESE])
def test_new_unique_and_in_the_lexicons_words(questions: list[str]) -> None:
    variants = Generaliser(LEXICON).variants("entry", questions)
    assert len(variants) <= budget(len(questions))
    assert len(variants) >= budget(len(questions)) - 2  # nearly all attempts succeed here
    assert len(set(variants)) == len(variants)
    as_read = {LEXICON.apply(q) for q in questions} | {LEXICON.apply(normalise(q)) for q in questions}
    for variant in variants:
        assert variant not in as_read
        assert LEXICON.apply(variant) == variant
        assert normalise(variant) == variant
        assert variant


def test_a_question_that_only_normalisation_changes_is_not_a_variant() -> None:
    """Questions are stored as written (double spaces and all); a variant whose edits came to
    nothing (two words run together where there is no single space) must not just be the
    question normalised."""
    questions = ["where  is  my  card", "how  do  I  change  my  PIN", "can  I  get  money  out  today"]
    variants = Generaliser(LEXICON).variants("spaced", questions)
    assert variants
    assert not {normalise(q) for q in questions} & set(variants)


def markers(templates: tuple[str, ...]) -> set[str]:
    return {part.strip(" ,:，？") for t in templates for part in t.split("{}")} - {""}


def test_chinese_questions_get_chinese_templates_and_spacing() -> None:
    english, chinese = markers(_ENGLISH_TEMPLATES), markers(_CHINESE_TEMPLATES)
    assert {"hi", "please", "请问", "谢谢"} <= english | chinese  # the helper reads the templates
    variants = Generaliser(LEXICON).variants("zh", CHINESE)
    assert variants
    for variant in variants:
        assert not any(m in variant.casefold() for m in english), variant
    assert any(m in v for v in variants for m in chinese)
    assert any(" " in v for v in variants)  # a space inside a Chinese sentence


def test_english_questions_get_english_templates() -> None:
    english, chinese = markers(_ENGLISH_TEMPLATES), markers(_CHINESE_TEMPLATES)
    questions = ENGLISH * 3  # a budget of 14 variants
    variants = Generaliser(LEXICON).variants("en", questions)
    for variant in variants:
        assert not any(m in variant for m in chinese), variant
    assert any(m in v.casefold() for v in variants for m in english)


def test_slang_is_misspelt_colloquial_terms() -> None:
    """Slang alone is mapped back by the lexicon; what survives is the colloquial term with
    a typo in it, which the lexicon cannot match."""
    lexicon = Lexicon([LexiconEntry("cash machine", "ATM"), LexiconEntry("hole in the wall", "ATM")])
    questions = ATM * 4  # 48 questions, 29 variants
    variants = Generaliser(lexicon).variants("atm", questions)
    slang = [v for v in variants if misspelt(v, "cash machine") or misspelt(v, "hole in the wall")]
    assert slang, variants
    for variant in variants:
        assert "cash machine" not in variant.casefold() and "hole in the wall" not in variant.casefold()
    # Without the lexicon there is no slang to use.
    plain = Generaliser(Lexicon([])).variants("atm", questions)
    assert not [v for v in plain if misspelt(v, "cash machine") or misspelt(v, "hole in the wall")]


def test_slang_edit() -> None:
    """One slang edit: a canonical term replaced by one of its English colloquial terms,
    misspelt about half of the time; Chinese terms ("櫃員機" for ATM) are never used, a
    typo cannot be made in them so the lexicon would always map them straight back."""
    lexicon = Lexicon(
        [LexiconEntry("cash machine", "ATM"), LexiconEntry("櫃員機", "ATM"), LexiconEntry("提款机", "ATM")]
    )
    generaliser = Generaliser(lexicon)
    outcomes = [generaliser._slang("The ATM kept my card", random.Random(seed)) for seed in range(200)]
    exact = [o for o in outcomes if o == "The cash machine kept my card"]
    typo = [o for o in outcomes if misspelt(o, "cash machine")]
    assert len(exact) + len(typo) == len(outcomes), set(outcomes) - set(exact) - set(typo)
    assert 0.3 < len(typo) / len(outcomes) < 0.7
    assert all(o.startswith("The ") and o.endswith(" kept my card") for o in outcomes)  # only the term changes
    # Case-insensitive, and without a canonical term to replace it is a typo.
    assert generaliser._slang("the atm kept my card", random.Random(1)) != "the atm kept my card"
    assert generaliser._slang("the atm kept my card", random.Random(1)).startswith("the ")
    plain = generaliser._slang("where is my card", random.Random(3))
    assert plain != "where is my card" and edit_distance(plain, "where is my card") <= 2


def test_chinese_colloquial_terms_are_not_used_as_slang() -> None:
    """A Chinese term cannot be misspelt, so it is always mapped straight back: no variant
    of a question with 账户 may carry the traditional form."""
    lexicon = Lexicon([LexiconEntry("賬戶", "账户")])
    variants = Generaliser(lexicon).variants("zh", ["我的账户被锁了", "账户余额是多少"])
    assert variants
    assert all("賬戶" not in v for v in variants)


@pytest.mark.parametrize("questions", [["hi"], ["卡"], ["?"], [""], ["ATM"]])
def test_very_short_questions(questions: list[str]) -> None:
    variants = Generaliser(LEXICON).variants("short", questions)
    assert len(variants) <= budget(len(questions))
    assert len(set(variants)) == len(variants)
    assert not {LEXICON.apply(normalise(q)) for q in questions} & set(variants)


def test_seed_lexicon_on_real_questions() -> None:
    """The shipped lexicon with questions in the style of the seed FAQs, both languages."""
    lexicon = Lexicon(seed_entries())
    questions = [*ENGLISH, *ATM, "I forgot my pin number", "How do I top-up with my Mastercard?", *CHINESE]
    variants = Generaliser(lexicon).variants("mixed", questions)
    assert len(variants) == len(set(variants)) > budget(len(questions)) - 3
    as_read = {lexicon.apply(normalise(q)) for q in questions}
    for variant in variants:
        assert variant not in as_read
        assert normalise(variant) == variant


def test_colloquial_terms() -> None:
    lexicon = Lexicon(
        [
            LexiconEntry("hole in the wall", "ATM"),
            LexiconEntry("Cash Machine", "atm"),
            LexiconEntry("dosh", "money"),
            LexiconEntry("賬戶", "账户"),  # a script variant: OpenCC's, not the lexicon's
            LexiconEntry("戶口", "账户"),
        ]
    )
    assert lexicon.colloquial_terms() == {
        "atm": ["hole in the wall", "cash machine"],
        "money": ["dosh"],
        "账户": ["户口"],
    }
    assert Lexicon([]).colloquial_terms() == {}


def test_seed_colloquial_terms_map_back_to_their_canonical() -> None:
    lexicon = Lexicon(seed_entries())
    colloquial = lexicon.colloquial_terms()
    assert sum(len(terms) for terms in colloquial.values()) == len(lexicon)
    for canonical, terms in colloquial.items():
        assert canonical == canonical.casefold()
        for term in terms:
            assert lexicon.apply(term).casefold() == canonical
