"""Migrating the legacy rules (twinteller/migration/plan.py) and the examples drawn from their
patterns (twinteller/migration/patterns.py): every rule an entry or a problem, answers byte for
byte, questions from the pattern and the log, overlaps settled, agreement judged."""

from __future__ import annotations

import json
import re

import pytest

from twinteller.errors import InvalidArgument
from twinteller.knowledge.schema import rules_by_faq
from twinteller.migration.patterns import examples
from twinteller.migration.plan import Migrated, agrees, faq_id, parse_log, plan, settle, tagged, title


def rules(*items: dict[str, object], fallback: str = "Sorry.") -> bytes:
    return json.dumps({"fallback": fallback, "rules": list(items)}, ensure_ascii=False).encode()


def log(*lines: dict[str, object]) -> bytes:
    return "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()


# -- examples from patterns ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("(lost|stolen).{0,20}card", ["lost card", "stolen card"]),
        ("top.?up", ["top up"]),
        ("密码|密碼", ["密码", "密碼"]),
        ("卡.{0,6}(丢|被偷)", ["卡丢", "卡被偷"]),
        (r"\bpin\b.{0,20}(block|lock)", ["pin block", "pin lock"]),
        ("cash ?machine", ["cashmachine", "cash machine"]),
    ],
)
def test_examples_cover_every_alternative(pattern: str, expected: list[str]) -> None:
    assert examples(re.compile(pattern, re.IGNORECASE)) == expected


def test_every_example_is_matched_by_its_pattern() -> None:
    for pattern in (r"^\d{4}\s+card$", "[^x]+abc", "a{2,3}b", "(please )?(help|assist) me"):
        compiled = re.compile(pattern)
        found = examples(compiled)
        assert found and all(compiled.search(text) for text in found)


def test_patterns_with_no_usable_example_give_none() -> None:
    assert examples(re.compile("(a|b)\\1")) == []  # a back-reference the cover cannot satisfy
    assert examples(re.compile("hello(?= world)")) == []  # a look-ahead it does not write


def test_examples_are_bounded() -> None:
    wide = "|".join(f"word{n}" for n in range(100))
    assert len(examples(re.compile(wide))) <= 24


# -- the plan -----------------------------------------------------------------------------


def test_every_rule_becomes_an_entry_or_a_problem() -> None:
    raw = rules(
        {"id": "LOST", "pattern": "lost card", "answer": "Freeze it.  \n Really.", "priority": 9},
        {"id": "BROKEN", "pattern": "(oops", "answer": "x"},
        {"id": "EMPTY", "pattern": "statement", "answer": ""},
        {"id": "HUGE", "pattern": "huge", "answer": "x" * 5000},
        {"id": "OFF", "pattern": "promo", "answer": "Old promo.", "enabled": False},
    )
    result = plan(raw)
    assert [m.rule for m in result.migrated] == ["LOST", "OFF"]
    assert {p.id: p.reason.split(":")[0] for p in result.problems} == {
        "BROKEN": "pattern does not compile",
        "EMPTY": "answer missing",
        "HUGE": "cannot become an entry",
    }
    lost = result.migrated[0].record
    assert lost.id == "legacy.LOST" and lost.title == "Lost"
    assert lost.answer == "Freeze it.  \n Really."  # byte for byte, whitespace and all
    assert lost.tags == ["legacy", "legacy:LOST"] and lost.enabled
    assert result.migrated[1].record.enabled is False


def test_questions_come_from_the_pattern_and_the_log_newest_first() -> None:
    raw = rules({"id": "PIN", "pattern": "(change|reset) pin", "answer": "At any ATM."})
    lines = log(
        {"at": 1, "text": "how do i change my pin", "rule": "PIN"},
        {"at": 3, "text": "reset pin please", "rule": "PIN"},
        {"at": 2, "text": "change pin", "rule": "PIN"},  # also a pattern example: once
        {"at": 4, "text": "what is the weather", "rule": ""},
        {"at": 5, "text": "a rule that is gone", "rule": "OLD"},
    )
    result = plan(raw, lines)
    item = result.migrated[0]
    assert item.record.questions == ["change pin", "reset pin", "reset pin please", "how do i change my pin"]
    assert (item.pattern_questions, item.log_questions) == (2, 2)
    assert (result.log_lines, result.log_unused) == (5, 2)


def test_bad_log_lines_are_reported_not_fatal() -> None:
    lines = b'{"text": "hello", "rule": "HI"}\nnot json\n\n[1, 2]\n{"text": 5}\n'
    parsed, problems = parse_log(lines)
    assert [p.text for p in parsed] == ["hello"]
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 4", "line 5"]


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"rules": 5}', b"\xff"])
def test_a_file_that_is_no_rule_file_is_invalid(raw: bytes) -> None:
    with pytest.raises(InvalidArgument, match="rules"):
        plan(raw)


def test_two_rules_with_one_entry_id_are_reported() -> None:
    result = plan(rules({"id": "A B", "pattern": "a", "answer": "1"}, {"id": "A_B", "pattern": "b", "answer": "2"}))
    assert [m.record.id for m in result.migrated] == ["legacy.A_B"]
    assert "taken by rule A B" in result.problems[0].reason


def test_ids_and_titles() -> None:
    assert faq_id("LOST CARD/ZH") == "legacy.LOST_CARD_ZH"
    assert title("TOP_UP_FAILED") == "Top up failed"


# -- overlaps -----------------------------------------------------------------------------


def _one() -> Migrated:
    return plan(rules({"id": "LOST", "pattern": "(lost|stolen|missing) card", "answer": "Freeze it."})).migrated[0]


def test_mostly_unknown_questions_make_a_new_entry() -> None:
    item = _one()
    assert settle(item, ["", "", "lost_or_stolen_card"]) == item


def test_questions_known_as_one_entry_overlap_it() -> None:
    settled = settle(_one(), ["lost_or_stolen_card", "lost_or_stolen_card", ""])
    assert settled.overlaps == "lost_or_stolen_card" and not settled.record.enabled and not settled.catch_all


def test_questions_known_as_many_entries_are_a_catch_all() -> None:
    settled = settle(_one(), ["card_arrival", "lost_or_stolen_card", "card_swallowed", ""])
    assert settled.catch_all and not settled.record.enabled and not settled.overlaps


def test_too_few_readings_settle_nothing() -> None:
    item = _one()
    assert settle(item, ["lost_or_stolen_card", "lost_or_stolen_card"]) == item


def test_tagging_an_entry_adds_each_rule_once() -> None:
    record = plan(rules({"id": "X", "pattern": "x", "answer": "1"})).migrated[0].record
    assert tagged(record, ["LOST", "LOST", "X"]).tags == ["legacy", "legacy:X", "legacy:LOST"]


# -- agreement ----------------------------------------------------------------------------


def test_agreement_follows_the_legacy_tags() -> None:
    rules_of = rules_by_faq({"lost_or_stolen_card": ["legacy:LOST", "cards"], "balance": ["money"]})
    assert rules_of == {"lost_or_stolen_card": frozenset({"LOST"})}
    assert agrees("LOST", "lost_or_stolen_card", "ANSWER", rules_of)
    assert not agrees("LOST", "card_arrival", "ANSWER", rules_of)
    assert not agrees("LOST", "", "FALLBACK", rules_of)
    assert agrees("", "", "FALLBACK", rules_of) and agrees("", "", "HANDOFF", rules_of)
    assert not agrees("", "balance", "ANSWER", rules_of)  # twinteller answered where the legacy could not
    assert not agrees("", "", "CLARIFY", rules_of)
