"""Knowledge-base schema: FAQ entries, the seed base, and per-version snapshots.

A model version is trained from one knowledge-base snapshot, and the router answers a
turn with the snapshot of the version that recognised it, so a turn's reply and its
model version always belong together.
"""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from twinteller.knowledge import languages

DATA_DIR = Path(__file__).resolve().parents[1] / "data"  # twinteller/data
SEED_FAQ = DATA_DIR / "seed_faq.json"
CHINESE_QUESTIONS = DATA_DIR / "chinese_questions.json"
# English questions in styles BANKING77's training set lacks (stories, terse, American and
# Asian English, brands, amounts and dates, phone-typed, everyday words), written apart from
# the evaluation sets and the lexicon (README "Noisy text").
ENGLISH_QUESTIONS = DATA_DIR / "english_questions.json"
BILINGUAL_TEST = DATA_DIR / "bilingual_test.csv"
# Two questions per intent, simplified then traditional/Cantonese, written apart from the
# training questions and the lexicon and never used to tune anything.
CHINESE_TEST = DATA_DIR / "chinese_test.csv"
BANKING77 = DATA_DIR / "banking77"
# Written apart from the training questions and the tuning set (README "Languages").
CHINESE_HELDOUT = DATA_DIR / "chinese_heldout.csv"  # text,category,form
NOISY_TEST = DATA_DIR / "banking77_noisy_test.csv"  # written by twinteller/devcluster/noise.py
# Written apart from the training questions and every evaluation set; the thresholds and
# each version's calibration are chosen on them (README "Noisy text", "Languages").
TUNING_SETS = (DATA_DIR / "english_tuning.csv", DATA_DIR / "chinese_tuning.csv")


@dataclass(frozen=True)
class FaqText:
    """An entry's texts in a language other than its own (English): its title, answer, the
    channels' own answers and the slot answer template. One left empty is found along the
    fallback chain of twinteller/knowledge/languages.py."""

    title: str = ""
    answer: str = ""
    channel_answers: dict[str, str] = field(default_factory=dict)
    slot_answer: str = ""

    def to_dict(self) -> dict[str, object]:
        """Only what is given: an empty field and a missing one are the same."""
        return {k: v for k, v in asdict(self).items() if v}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> FaqText:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Localized:
    """An entry's texts in one reply language, resolved along the fallback chain.
    `fallback`: where the answer came from when not written in that language ("" when it
    was): "zh-Hans converted", "en"."""

    title: str
    answer: str
    channel_answers: dict[str, str]
    slot_answer: str
    fallback: str = ""

    def answer_for(self, channel: str) -> str:
        return self.channel_answers.get(channel, self.answer)


@dataclass(frozen=True)
class Faq:
    id: str
    title: str
    answer: str
    questions: tuple[str, ...] = field(default=(), compare=False)
    # Details the answer can use (router/conversation/slots.py: amount, currency, card_type) and the
    # answer template that uses them; `answer` is what is said when they are not given.
    slots: tuple[str, ...] = ()
    slot_answer: str = ""
    # A channel's own answer ("ivr": short, for speech); `answer` for every other channel.
    channel_answers: dict[str, str] = field(default_factory=dict)
    # The entry's tags: `legacy:<RULE>` says it answers that legacy rule (twinteller/migration/plan.py).
    tags: tuple[str, ...] = ()
    # Its texts in other languages (zh-Hant, zh-Hans): language -> texts.
    translations: dict[str, FaqText] = field(default_factory=dict)

    def answer_for(self, channel: str) -> str:
        return self.channel_answers.get(channel, self.answer)

    def localized(self, language: str) -> Localized:
        """The entry's texts for a reply in `language`, each from the first language of the
        chain (languages.chain) that has it, converted when it comes from the other script.
        The language outranks the channel: a Chinese customer on the IVR hears the Chinese
        answer before the English IVR one."""
        title = slot_answer = answer = fallback = ""
        channels: dict[str, str] = {}
        for source, how in languages.chain(language):
            text = self._text(source)

            def mine(value: str, how: str = how) -> str:
                return languages.convert(value, language) if how == "converted" else value

            if text.title and not title:
                title = mine(text.title)
            if text.slot_answer and not slot_answer:
                slot_answer = mine(text.slot_answer)
            if not answer:
                for channel, value in text.channel_answers.items():
                    channels.setdefault(channel, mine(value))
                if text.answer:
                    answer = mine(text.answer)
                    fallback = "" if source == language else f"{source} converted" if how == "converted" else source
        return Localized(title, answer, channels, slot_answer, fallback)

    def _text(self, language: str) -> FaqText:
        if language == languages.BASE:
            return FaqText(self.title, self.answer, self.channel_answers, self.slot_answer)
        return self.translations.get(language, FaqText())


# An entry tagged legacy:<RULE> answers that rule of the legacy bot (twinteller/migration/plan.py).
LEGACY_RULE_TAG = "legacy:"


def rules_by_faq(tags_of: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """FAQ id -> the legacy rules it answers (from its `legacy:<RULE>` tags)."""
    return {
        faq: frozenset(t[len(LEGACY_RULE_TAG) :] for t in tags if t.startswith(LEGACY_RULE_TAG))
        for faq, tags in tags_of.items()
        if any(t.startswith(LEGACY_RULE_TAG) for t in tags)
    }


@dataclass(frozen=True)
class Snapshot:
    """What a router needs to answer with one model version: id -> title and answer."""

    version: str
    faqs: dict[str, Faq]
    _localized: dict[str, dict[str, Localized]] = field(default_factory=dict, compare=False, repr=False)

    def localized(self, faq_id: str, language: str) -> Localized:
        """`faq_id`'s texts in `language`, resolved once per version and language."""
        texts = self._localized.get(language)
        if texts is None:
            texts = self._localized[language] = {i: f.localized(language) for i, f in self.faqs.items()}
        return texts[faq_id]

    @functools.cached_property
    def legacy_rules(self) -> dict[str, frozenset[str]]:
        """FAQ id -> the legacy rules it answers; worked out once per version."""
        return rules_by_faq({f.id: f.tags for f in self.faqs.values()})

    @functools.cached_property
    def faq_of_legacy_rule(self) -> dict[str, str]:
        """Legacy rule -> the entry that answers it (the first by id, if several do)."""
        index: dict[str, str] = {}
        for faq, rules in sorted(self.legacy_rules.items()):
            for rule in rules:
                index.setdefault(rule, faq)
        return index

    def to_json(self) -> str:
        entries = [_entry(f) for f in self.faqs.values()]
        return json.dumps({"version": self.version, "faqs": entries}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Snapshot:
        data = json.loads(raw)
        faqs = {e["id"]: _faq(e) for e in data["faqs"]}
        return cls(str(data["version"]), faqs)


def _entry(faq: Faq) -> dict[str, object]:
    entry: dict[str, object] = {"id": faq.id, "title": faq.title, "answer": faq.answer}
    if faq.slots:
        entry["slots"] = list(faq.slots)
        entry["slot_answer"] = faq.slot_answer
    if faq.channel_answers:
        entry["channel_answers"] = dict(faq.channel_answers)
    if faq.tags:
        entry["tags"] = list(faq.tags)
    if faq.translations:
        entry["translations"] = {language: text.to_dict() for language, text in faq.translations.items()}
    return entry


def _faq(entry: dict, questions: tuple[str, ...] = ()) -> Faq:  # type: ignore[type-arg]
    return Faq(
        entry["id"],
        entry["title"],
        entry["answer"],
        questions,
        tuple(entry.get("slots", ())),
        entry.get("slot_answer", ""),
        dict(entry.get("channel_answers", {})),
        tuple(entry.get("tags", ())),
        {language: FaqText.from_dict(text) for language, text in entry.get("translations", {}).items()},
    )


def read_labelled_csv(path: Path) -> list[tuple[str, str]]:
    """(text, intent) rows of a BANKING77-style CSV (header `text,category`)."""
    with path.open(newline="", encoding="utf-8") as f:
        return [(row["text"], row["category"]) for row in csv.DictReader(f)]


def seed_faqs() -> list[Faq]:
    """The 77 BANKING77 intents with our answers, their train.csv questions, and our
    English and Chinese questions for them."""
    questions: dict[str, list[str]] = {}
    for text, intent in read_labelled_csv(BANKING77 / "train.csv"):
        questions.setdefault(intent, []).append(text)
    for path in (ENGLISH_QUESTIONS, CHINESE_QUESTIONS):
        for intent, extra in json.loads(path.read_text(encoding="utf-8"))["questions"].items():
            questions[intent].extend(extra)
    entries = json.loads(SEED_FAQ.read_text(encoding="utf-8"))["faqs"]
    return [_faq(e, tuple(questions[e["id"]])) for e in entries]
