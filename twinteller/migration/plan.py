"""Migrating the legacy bot's knowledge: its rule file (and conversation log) -> FAQ entries.

Every usable rule becomes an entry `legacy.<RULE>`: its answer byte for byte, training
questions derived from its pattern (twinteller/migration/patterns.py) and, from the log, the words
of every customer the rule answered; tags `legacy` and `legacy:<RULE>`; the rule's
enabled flag. A rule that cannot be used (a pattern that does not compile, no answer, an
answer the knowledge base cannot hold) is listed with the reason instead.

A rule may say what the knowledge base already knows. Before importing, the router reads
the rule's questions with the active model (router/migration/migration_service.py), and `settle`
decides, per rule:
- *new*: most questions are nothing twinteller recognises: the entry is enabled (if the
  rule was) and its questions train the next model;
- *overlap*: most are recognised as one existing entry X: the legacy entry is kept, but
  disabled (two entries for one question would split the model), and X gets the tag
  `legacy:<RULE>`, so shadow comparisons count X's answers as agreeing with the rule;
- *catch-all*: most are recognised, as several different entries (a rule like `\\bcard\\b`):
  kept disabled, no tag: twinteller's more specific answers are what replaces it.
The tag `legacy:<RULE>` is also how agreement is judged (`agrees`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from twinteller.errors import InvalidArgument
from twinteller.knowledge import faqs
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.schema import LEGACY_RULE_TAG
from twinteller.knowledge.text import normalise
from twinteller.migration.patterns import examples
from twinteller.migration.rules import Problem, Rule, RuleBook, parse

ID_PREFIX = "legacy."
TAG = "legacy"
RULE_TAG = LEGACY_RULE_TAG
MAX_LOG_QUESTIONS = 300  # per rule: the newest distinct ones
OVERLAP_SHARE = 0.5  # of a rule's questions recognised as existing entries (and as one entry)
MIN_READINGS = 3  # fewer questions than this: too few to call it an overlap
NO_ANSWER_ACTIONS = ("FALLBACK", "HANDOFF")


@dataclass(frozen=True)
class LogLine:
    at: float
    session: str
    channel: str
    text: str
    rule: str  # "" when no rule matched
    answer: str


@dataclass(frozen=True)
class Migrated:
    rule: str
    record: FaqRecord
    pattern_questions: int
    log_questions: int
    overlaps: str = ""  # the existing entry that already answers it
    catch_all: bool = False


@dataclass
class Plan:
    migrated: list[Migrated] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    log_lines: int = 0
    log_unused: int = 0
    log_problems: list[str] = field(default_factory=list)


def rule_tag(rule: str) -> str:
    return RULE_TAG + rule


def faq_id(rule: str) -> str:
    return ID_PREFIX + re.sub(r"[^A-Za-z0-9_.?\-]", "_", rule)


def title(rule: str) -> str:
    words = re.sub(r"[_\-.]+", " ", rule).strip().lower()
    return words[:1].upper() + words[1:] if words else rule


def parse_rules(raw: bytes) -> tuple[RuleBook, list[Problem]]:
    try:
        return parse(raw)
    except (ValueError, AttributeError, TypeError) as e:  # JSON, UTF-8, or not the file's shape
        raise InvalidArgument(f"rules: not a legacy rule file ({type(e).__name__}: {e})") from None


def parse_log(raw: bytes) -> tuple[list[LogLine], list[str]]:
    """The log's lines, and a problem for each line that is not one (line number, why)."""
    lines: list[LogLine] = []
    problems: list[str] = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidArgument(f"logs: not UTF-8 ({e})") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise ValueError('expected {"text": ..., "rule": ..., ...}')
            lines.append(
                LogLine(
                    float(item.get("at", 0.0)),
                    str(item.get("session", "")),
                    str(item.get("channel", "")),
                    item["text"],
                    str(item.get("rule", "") or ""),
                    str(item.get("answer", "")),
                )
            )
        except (ValueError, TypeError) as e:
            problems.append(f"line {number}: {e}")
    return lines, problems


def _questions(texts: Iterable[str]) -> list[str]:
    """Distinct texts the knowledge base accepts as questions (one line, not too long)."""
    kept: dict[str, None] = {}
    for text in texts:
        question = normalise(text)
        if question and len(question.encode()) <= faqs.MAX_QUESTION_BYTES:
            kept.setdefault(question, None)
    return list(kept)


def _record(rule: Rule, questions: list[str]) -> FaqRecord:
    return faqs.validate(
        FaqRecord(
            id=faq_id(rule.id),
            title=title(rule.id),
            answer=rule.answer,
            questions=questions,
            tags=[TAG, rule_tag(rule.id)],
            enabled=rule.enabled,
        )
    )


def plan(rules: bytes, log: bytes = b"") -> Plan:
    """What importing the rule file (and log) would create, before overlaps are settled."""
    book, problems = parse_rules(rules)
    result = Plan(problems=list(problems))
    lines, result.log_problems = parse_log(log) if log else ([], [])
    result.log_lines = len(lines)
    said: dict[str, list[str]] = {}
    for line in sorted(lines, key=lambda entry: -entry.at):  # newest first
        said.setdefault(line.rule, []).append(line.text)
    used: set[str] = set()
    ids: dict[str, str] = {}
    for index, rule in enumerate(book.rules):
        identity = faq_id(rule.id)
        if identity in ids:
            result.problems.append(
                Problem(index, rule.id, f"its entry id {identity!r} is taken by rule {ids[identity]}")
            )
            continue
        from_pattern = _questions(examples(rule.pattern))
        from_log = [q for q in _questions(said.get(rule.id, ())) if q not in from_pattern][:MAX_LOG_QUESTIONS]
        try:
            record = _record(rule, [*from_pattern, *from_log])
        except InvalidArgument as e:
            result.problems.append(Problem(index, rule.id, f"cannot become an entry: {e}"))
            continue
        ids[identity] = rule.id
        used.add(rule.id)
        result.migrated.append(Migrated(rule.id, record, len(from_pattern), len(from_log)))
    result.log_unused = sum(1 for line in lines if line.rule not in used)
    result.problems.sort(key=lambda p: p.index)
    return result


def settle(migrated: Migrated, readings: list[str]) -> Migrated:
    """`readings`: for each of the rule's questions, the existing entry the active model
    recognises it as, or "" when it recognises none. See the module docstring."""
    if len(readings) < MIN_READINGS:
        return migrated
    known = [r for r in readings if r]
    if len(known) < OVERLAP_SHARE * len(readings):
        return migrated
    disabled = replace(migrated.record, enabled=False)
    top, count = Counter(known).most_common(1)[0]
    if count >= OVERLAP_SHARE * len(readings):
        return replace(migrated, record=disabled, overlaps=top)
    return replace(migrated, record=disabled, catch_all=True)


def tagged(record: FaqRecord, rules: Iterable[str]) -> FaqRecord:
    """`record` with the tags that say it answers these legacy rules."""
    tags = list(dict.fromkeys([*record.tags, *(rule_tag(r) for r in rules)]))
    return faqs.validate(replace(record, tags=tags))


def agrees(rule: str, intent: str, action: str, rules_of: Mapping[str, frozenset[str]]) -> bool:
    """Did twinteller say what the legacy said? The legacy matched no rule: agreed if
    twinteller could not answer either (FALLBACK, HANDOFF). Else: if the entry twinteller
    settled on answers that rule (its `legacy:<RULE>` tag)."""
    if not rule:
        return action in NO_ANSWER_ACTIONS
    return rule in rules_of.get(intent, frozenset())
