"""What a run of conversation test suites gave: each turn checked against its expectation,
counted per case, suite and model version, and written for people (`render_text`), for
CI (`junit_xml`) and for the store (`RunResult.to_dict`).

A case passes when every turn gives what it must and the conversation did not fail on
the way (a turn that raised: the case's `error`). Pass rates count cases, not turns: one
wrong turn spoils the conversation a customer would have had.
"""

from __future__ import annotations

import re
import unicodedata

# ElementTree rather than writing XML by hand: it is the standard library's, well kept, and
# escapes every attribute and text properly (quotes, <, &, line breaks inside attributes).
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from twinteller.release.suites import Expect


@dataclass(frozen=True)
class Observed:
    """What the cluster gave for one turn."""

    action: str
    intent: str
    reply: str
    language: str
    slots: dict[str, str] = field(default_factory=dict)
    model_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "intent": self.intent,
            "reply": self.reply,
            "language": self.language,
            "slots": dict(self.slots),
            "model_version": self.model_version,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Observed:
        return cls(
            d["action"], d["intent"], d["reply"], d["language"], dict(d.get("slots", {})), d.get("model_version", "")
        )


def differences(expect: Expect, got: Observed) -> list[str]:
    """One line per check `got` fails, in the order the checks are written; [] when it passes."""
    found: list[str] = []
    if expect.action and got.action != expect.action:
        found.append(f"action: expected {expect.action}, got {got.action or '(none)'}")
    if expect.intent is not None and got.intent != expect.intent:
        wanted = repr(expect.intent) if expect.intent else "no intent"
        found.append(f"intent: expected {wanted}, got {repr(got.intent) if got.intent else 'no intent'}")
    for name, value in expect.slots.items():
        given = got.slots.get(name, "")
        if value and given != value:
            found.append(f"slots.{name}: expected {value!r}, got {given!r}{'' if given else ' (not given)'}")
        elif not value and given:  # "" expected: the slot must not be filled
            found.append(f"slots.{name}: expected not given, got {given!r}")
    if expect.language and got.language != expect.language:
        found.append(f"language: expected {expect.language}, got {got.language or '(none)'}")
    if expect.reply_contains and _folded(expect.reply_contains) not in _folded(got.reply):
        found.append(f"reply: does not contain {expect.reply_contains!r}")
    return found


def _folded(text: str) -> str:
    # Unicode's caseless match under compatibility normalisation: "ＦＲＥＥＺＥ", "Freeze" and
    # "freeze" are one phrase, and so are full- and half-width Chinese punctuation.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True)
class TurnResult:
    index: int  # from 0, as in the suite's cases[i].turns[index]; people read "turn index+1"
    text: str
    observed: Observed
    differences: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "text": self.text,
            "passed": self.passed,
            "observed": self.observed.to_dict(),
            "differences": list(self.differences),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TurnResult:
        return cls(int(d["index"]), d["text"], Observed.from_dict(d["observed"]), tuple(d.get("differences", ())))


@dataclass(frozen=True)
class CaseResult:
    name: str
    turns: tuple[TurnResult, ...]  # those answered: up to the one that failed when `error` is set
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and all(t.passed for t in self.turns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "error": self.error,
            "turns": [t.to_dict() for t in self.turns],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CaseResult:
        return cls(d["name"], tuple(TurnResult.from_dict(t) for t in d.get("turns", ())), d.get("error", ""))


@dataclass(frozen=True)
class SuiteResult:
    name: str
    cases: tuple[CaseResult, ...]

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def failed(self) -> int:
        return len(self.cases) - self.passed

    @property
    def pass_rate(self) -> float:
        return self.passed / len(self.cases) if self.cases else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "failed": self.failed,
            "pass_rate": self.pass_rate,
            "cases": [c.to_dict() for c in self.cases],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SuiteResult:
        return cls(d["name"], tuple(CaseResult.from_dict(c) for c in d.get("cases", ())))


@dataclass(frozen=True)
class RunResult:
    """Every suite run against one model version; `accuracy`: that version's figures from
    its evaluation (e.g. test_accuracy), shown beside the suites."""

    version: str
    suites: tuple[SuiteResult, ...]
    accuracy: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0

    @property
    def cases(self) -> int:
        return sum(len(s.cases) for s in self.suites)

    @property
    def passed(self) -> int:
        return sum(s.passed for s in self.suites)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.cases if self.cases else 1.0

    def failing(self) -> list[str]:
        """One line per failing turn and per case that failed on the way:
        "card-basics / lost card / turn 2: intent: expected ..., got ..."."""
        return [line for s in self.suites for c in s.cases for line in _failing(s.name, c)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the counts and rates are there for readers, `from_dict` works them out again."""
        return {
            "version": self.version,
            "pass_rate": self.pass_rate,
            "cases": self.cases,
            "passed": self.passed,
            "duration_s": self.duration_s,
            "accuracy": dict(self.accuracy),
            "suites": [s.to_dict() for s in self.suites],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResult:
        return cls(
            d["version"],
            tuple(SuiteResult.from_dict(s) for s in d.get("suites", ())),
            {k: float(v) for k, v in d.get("accuracy", {}).items()},
            float(d.get("duration_s", 0.0)),
        )


def _failing(suite: str, case: CaseResult) -> list[str]:
    lines = [
        f"{suite} / {case.name} / turn {t.index + 1}: {'; '.join(t.differences)}" for t in case.turns if not t.passed
    ]
    if case.error:
        lines.append(f"{suite} / {case.name}: {case.error}")
    return lines


# Characters XML 1.0 allows (its Char production); anything else makes the file unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


def junit_xml(run: RunResult) -> bytes:
    """The run as a JUnit XML report, for CI systems to show: a test suite per suite, a test
    case per conversation; a failing case's message is its first difference."""
    errors = sum(bool(c.error) for s in run.suites for c in s.cases)
    root = ET.Element(
        "testsuites",
        {
            "name": _xml(f"twinteller model version {run.version}"),
            "tests": str(run.cases),
            "failures": str(run.cases - run.passed - errors),
            "errors": str(errors),
            "time": f"{run.duration_s:.3f}",
        },
    )
    for suite in run.suites:
        suite_errors = sum(bool(c.error) for c in suite.cases)
        element = ET.SubElement(
            root,
            "testsuite",
            {
                "name": _xml(suite.name),
                "tests": str(len(suite.cases)),
                "failures": str(suite.failed - suite_errors),
                "errors": str(suite_errors),
            },
        )
        for case in suite.cases:
            testcase = ET.SubElement(
                element, "testcase", {"classname": _xml(f"twinteller.{suite.name}"), "name": _xml(case.name)}
            )
            if case.passed:
                continue
            lines = _failing(suite.name, case)
            if case.error:
                problem = ET.SubElement(testcase, "error", {"message": _xml(case.error)})
            else:
                first = next(t.differences[0] for t in case.turns if not t.passed)
                problem = ET.SubElement(testcase, "failure", {"message": _xml(first)})
            problem.text = _xml("\n".join(lines))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def render_text(run: RunResult, *, verbose: bool = False) -> str:
    """The run as the command line prints it: PASS/FAIL per case with what went wrong (every
    turn when `verbose`), a line per suite, then the version's line and its accuracy."""
    lines: list[str] = []
    for suite in run.suites:
        lines.append(f"suite {suite.name}")
        for case in suite.cases:
            lines.append(f"  {'PASS' if case.passed else 'FAIL'}  {case.name}")
            for turn in case.turns:
                if verbose or not turn.passed:
                    lines.append(
                        f"        turn {turn.index + 1} {'ok' if turn.passed else 'FAILED'}: {_one_line(turn.text)}"
                    )
                    if verbose:
                        lines.append(f"          got {_summary(turn.observed)}")
                    lines.extend(f"          {d}" for d in turn.differences)
            if case.error:
                lines.append(f"        error: {case.error}")
        lines.append(f"suite {suite.name}: {_tally(suite.passed, len(suite.cases))}")
    lines.append(f"version {run.version}: {_tally(run.passed, run.cases)}")
    lines.extend(f"{name} {value:.3f}" for name, value in sorted(run.accuracy.items()))
    return "\n".join(lines) + "\n"


def _tally(passed: int, cases: int) -> str:
    rate = passed / cases if cases else 1.0
    return f"{passed}/{cases} cases passed ({rate:.1%})"


def _summary(got: Observed) -> str:
    parts = [got.action or "(no action)", got.intent or "(no intent)", got.language or "(no language)"]
    parts += [f"{k}={v}" for k, v in got.slots.items()]
    return f"{' '.join(parts)}: {_one_line(got.reply)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())
