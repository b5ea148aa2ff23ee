"""twinteller.migration.rules: the reference legacy bot's matching, quirks included, and the problems a
migration has to report."""

from __future__ import annotations

import json
from pathlib import Path

from twinteller.migration.rules import parse


def book(*rules: object, fallback: str = "Sorry?") -> bytes:
    return json.dumps({"fallback": fallback, "rules": list(rules)}, ensure_ascii=False).encode()


def test_the_highest_priority_match_wins_and_ties_go_to_the_earlier_rule() -> None:
    rules, problems = parse(
        book(
            {"id": "card", "pattern": "card", "answer": "About cards.", "priority": 1},
            {"id": "lost", "pattern": "lost.*card|card.*lost", "answer": "Freeze it.", "priority": 5},
            {"id": "lost2", "pattern": "lost", "answer": "Also lost.", "priority": 5},
        )
    )
    assert problems == []
    assert rules.answer("I lost my card") == ("lost", "Freeze it.")
    assert rules.answer("my CARD is fine") == ("card", "About cards.")  # case-insensitive by default
    assert rules.answer("  hello  ") == ("", "Sorry?")


def test_case_sensitive_rules_disabled_rules_and_text_as_typed() -> None:
    rules, _ = parse(
        book(
            {"id": "pin", "pattern": "PIN", "answer": "PIN help.", "case_sensitive": True},
            {"id": "off", "pattern": "pin", "answer": "never", "enabled": False},
            {"id": "atm", "pattern": "ATM|取款机", "answer": "ATM help."},
        )
    )
    assert rules.answer("my PIN")[0] == "pin"
    assert rules.answer("my pin")[0] == ""  # the disabled rule never answers
    assert rules.answer("取款机吞卡了")[0] == "atm"
    assert rules.answer("ＡＴＭ")[0] == ""  # full-width letters: the old system did not normalise


def test_unusable_rules_are_reported_not_loaded() -> None:
    rules, problems = parse(
        book(
            {"id": "ok", "pattern": "ok", "answer": "Fine."},
            {"id": "bad", "pattern": "(unclosed", "answer": "x"},
            {"id": "ok", "pattern": "again", "answer": "Twice."},
            {"id": "empty", "pattern": "x", "answer": ""},
            {"pattern": "no id", "answer": "x"},
            "not a rule",
            {"id": "prio", "pattern": "p", "answer": "x", "priority": "high"},
        )
    )
    assert [r.id for r in rules.rules] == ["ok"]
    reasons = {(p.index, p.id): p.reason for p in problems}
    assert reasons[(1, "bad")].startswith("pattern does not compile")
    assert "used twice" in reasons[(2, "ok")]
    assert reasons[(3, "empty")] == "answer missing"
    assert reasons[(4, "")] == "id missing"
    assert reasons[(5, "")] == "not an object"
    assert (6, "prio") in reasons
    assert len(problems) == 6


def test_the_shipped_rule_file() -> None:
    rules, problems = parse((Path(__file__).parents[4] / "legacy" / "data" / "rules.json").read_bytes())
    assert sorted(p.id for p in problems) == ["BROKEN_BALANCE", "EMPTY_ANSWER"]  # broken on purpose
    assert len(rules.rules) == 23
    assert rules.answer("I lost my card yesterday")[0] == "LOST_CARD"
    assert rules.answer("can I talk to a human about my lost card")[0] == "AGENT"  # priority 100
    assert rules.answer("我的卡还没收到")[0] == "CARD_ARRIVAL"
    assert rules.answer("the cash machine swallowed my card")[0] == "ATM_SWALLOWED"
    assert rules.answer("is there a promo")[0] == ""  # disabled
    assert rules.answer("virtual card please")[0] == "CARD_GENERIC"  # VIRTUAL is case-sensitive
