"""The reference legacy bot's rule file: what the old regex bot answers, as a closed old
system would (issue 6 migrates it; started here, the bot process comes next).

A rule file is JSON: {"fallback": "...", "rules": [{"id", "pattern", "answer",
"priority", "case_sensitive", "enabled"}, ...]}. The old system's quirks, kept on purpose:
- a pattern is searched anywhere in the text (not matched whole), on the text as typed
  (only trimmed: no other normalisation, so full-width characters do not match ASCII);
- case-insensitive unless the rule says otherwise;
- among the rules that match, the highest priority wins, and on a tie the one earlier in
  the file;
- disabled rules are kept in the file but never match; no match gives the fallback.
A rule that cannot be used (a pattern that does not compile, a missing answer) is not
loaded and is reported with the reason, so a migration can list it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    pattern: re.Pattern[str]
    answer: str
    priority: int = 0
    enabled: bool = True


@dataclass(frozen=True)
class Problem:
    index: int  # 0-based position in the file's rule list
    id: str
    reason: str


@dataclass(frozen=True)
class RuleBook:
    rules: list[Rule]
    fallback: str

    def answer(self, text: str) -> tuple[str, str]:
        """(rule id, answer); ("", fallback) when no enabled rule matches."""
        text = text.strip()
        best: Rule | None = None
        for rule in self.rules:
            if rule.enabled and rule.pattern.search(text) and (best is None or rule.priority > best.priority):
                best = rule
        return (best.id, best.answer) if best else ("", self.fallback)


def parse(raw: bytes) -> tuple[RuleBook, list[Problem]]:
    """The usable rules and a problem for each rule that is not."""
    data = json.loads(raw.decode("utf-8"))
    rules: list[Rule] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, item in enumerate(data.get("rules", [])):
        rule_id = str(item.get("id", "")) if isinstance(item, dict) else ""
        try:
            if not isinstance(item, dict):
                raise ValueError("not an object")
            if not rule_id or rule_id in seen:
                raise ValueError("id missing" if not rule_id else f"id {rule_id!r} used twice")
            answer = item.get("answer")
            if not isinstance(answer, str) or not answer:
                raise ValueError("answer missing")
            flags = 0 if item.get("case_sensitive", False) else re.IGNORECASE
            pattern = re.compile(str(item.get("pattern", "")), flags)
            if not pattern.pattern:
                raise ValueError("pattern missing")
            priority = int(item.get("priority", 0))
        except re.error as e:
            problems.append(Problem(index, rule_id, f"pattern does not compile: {e}"))
            continue
        except (ValueError, TypeError) as e:
            problems.append(Problem(index, rule_id, str(e)))
            continue
        seen.add(rule_id)
        rules.append(Rule(rule_id, pattern, answer, priority, bool(item.get("enabled", True))))
    return RuleBook(rules, str(data.get("fallback", ""))), problems
