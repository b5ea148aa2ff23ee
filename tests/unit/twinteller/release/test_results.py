"""twinteller.release.results: a turn checked against what it must give, the counts of a run,
and the run written for the store (to_dict), for CI (JUnit XML) and for people (text)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from twinteller.release.results import (
    CaseResult,
    Observed,
    RunResult,
    SuiteResult,
    TurnResult,
    differences,
    junit_xml,
    render_text,
)
from twinteller.release.suites import Expect

LOST = Observed(
    "ANSWER", "lost_or_stolen_card", "Please freeze your card in the app.", "en", {"card_type": "debit"}, "v7"
)


def turn(index: int, *found: str, text: str = "hi", observed: Observed = LOST) -> TurnResult:
    return TurnResult(index, text, observed, tuple(found))


def run_of(*suites: SuiteResult, **kwargs: object) -> RunResult:
    return RunResult("v7", suites, **kwargs)  # type: ignore[arg-type]


# --- checking one turn -------------------------------------------------------------------------


def test_a_turn_that_gives_everything_passes() -> None:
    expect = Expect("ANSWER", "lost_or_stolen_card", {"card_type": "debit"}, "en", "freeze your card")
    assert differences(expect, LOST) == []
    assert differences(Expect(), LOST) == []  # nothing checked


@pytest.mark.parametrize(
    ("expect", "got", "found"),
    [
        (Expect(action="ANSWER"), Observed("FALLBACK", "", "", "en"), ["action: expected ANSWER, got FALLBACK"]),
        (Expect(action="HANDOFF"), Observed("", "", "", "en"), ["action: expected HANDOFF, got (none)"]),
        (
            Expect(intent="card_arrival"),
            LOST,
            ["intent: expected 'card_arrival', got 'lost_or_stolen_card'"],
        ),
        (
            Expect(intent="card_arrival"),
            Observed("FALLBACK", "", "", "en"),
            ["intent: expected 'card_arrival', got no intent"],
        ),
        (Expect(intent=""), LOST, ["intent: expected no intent, got 'lost_or_stolen_card'"]),
        (Expect(slots={"amount": "100"}), LOST, ["slots.amount: expected '100', got '' (not given)"]),
        (
            Expect(slots={"amount": "100"}),
            Observed("ANSWER", "x", "", "en", {"amount": "100.50"}),
            ["slots.amount: expected '100', got '100.50'"],
        ),
        (Expect(slots={"card_type": ""}), LOST, ["slots.card_type: expected not given, got 'debit'"]),
        (Expect(language="zh-Hant"), LOST, ["language: expected zh-Hant, got en"]),
        (Expect(language="en"), Observed("ANSWER", "x", "", ""), ["language: expected en, got (none)"]),
        (Expect(reply_contains="cancel"), LOST, ["reply: does not contain 'cancel'"]),
        (
            Expect("CLARIFY", "card_arrival", {"amount": "5", "card_type": "debit"}, "zh-Hans", "凍結"),
            LOST,
            [
                "action: expected CLARIFY, got ANSWER",
                "intent: expected 'card_arrival', got 'lost_or_stolen_card'",
                "slots.amount: expected '5', got '' (not given)",
                "language: expected zh-Hans, got en",
                "reply: does not contain '凍結'",
            ],
        ),
    ],
)
def test_each_failed_check_is_one_line(expect: Expect, got: Observed, found: list[str]) -> None:
    assert differences(expect, got) == found


@pytest.mark.parametrize(
    ("expect", "got"),
    [
        (Expect(intent=""), Observed("FALLBACK", "", "", "en")),
        (Expect(slots={"amount": ""}), LOST),  # "" expected and not given
        (Expect(slots={"card_type": "debit", "amount": ""}), LOST),
        (Expect(action="ANSWER", language="en"), LOST),
    ],
)
def test_checks_that_hold(expect: Expect, got: Observed) -> None:
    assert differences(expect, got) == []


@pytest.mark.parametrize(
    ("phrase", "reply"),
    [
        ("FREEZE", "Please freeze your card"),
        ("freeze", "PLEASE FREEZE YOUR CARD"),
        ("ｆｒｅｅｚｅ", "please freeze it"),  # full-width letters
        ("freeze", "please ｆｒｅｅｚｅ it"),
        ("凍結您的卡", "請立即凍結您的卡。"),
        ("凍結，", "請凍結，然後致電"),  # a full-width comma against the ASCII one
        ("凍結,", "請凍結，然後致電"),
        ("STRASSE", "straße"),  # casefold, not lower
        ("①", "press 1"),  # compatibility forms
    ],
)
def test_reply_contains_ignores_case_and_normalisation(phrase: str, reply: str) -> None:
    assert differences(Expect(reply_contains=phrase), Observed("ANSWER", "x", reply, "en")) == []


@pytest.mark.parametrize(("phrase", "reply"), [("凍結", "冻结"), ("freeze", "free ze"), ("card", "")])
def test_reply_contains_is_still_a_phrase(phrase: str, reply: str) -> None:
    assert differences(Expect(reply_contains=phrase), Observed("ANSWER", "x", reply, "en")) == [
        f"reply: does not contain {phrase!r}"
    ]


# --- counting ---------------------------------------------------------------------------------


def test_a_case_passes_when_every_turn_passes_and_nothing_failed() -> None:
    assert CaseResult("c", (turn(0), turn(1))).passed
    assert CaseResult("c", ()).passed
    assert not CaseResult("c", (turn(0), turn(1, "action: expected ANSWER, got FALLBACK"))).passed
    assert not CaseResult("c", (turn(0),), error="turn 2: router unavailable").passed
    assert turn(0).passed and not turn(0, "x").passed


def test_suite_pass_rate_counts_cases() -> None:
    s = SuiteResult(
        "s",
        (
            CaseResult("a", (turn(0), turn(1))),
            CaseResult("b", (turn(0, "d1"), turn(1, "d2"), turn(2, "d3"))),  # three bad turns, one case
            CaseResult("c", (), error="boom"),
            CaseResult("d", (turn(0),)),
        ),
    )
    assert (s.passed, s.failed) == (2, 2)
    assert s.pass_rate == 0.5
    assert SuiteResult("empty", ()).pass_rate == 1.0


def test_run_counts_over_every_suite() -> None:
    run = run_of(
        SuiteResult("a", (CaseResult("1", (turn(0),)), CaseResult("2", (turn(0, "x"),)))),
        SuiteResult("b", (CaseResult("3", (turn(0),)),)),
        SuiteResult("c", ()),
    )
    assert (run.cases, run.passed) == (3, 2)
    assert run.pass_rate == pytest.approx(2 / 3)
    assert run_of().pass_rate == 1.0 and run_of().cases == 0


def test_failing_lines_name_suite_case_and_turn() -> None:
    run = run_of(
        SuiteResult(
            "card-basics",
            (
                CaseResult(
                    "lost card",
                    (turn(0), turn(1, "intent: expected 'a', got 'b'", "language: expected en, got zh-Hant")),
                ),
                CaseResult("fine", (turn(0),)),
                CaseResult(
                    "broken", (turn(0, "action: expected ANSWER, got FALLBACK"),), error="turn 2: deadline exceeded"
                ),
            ),
        ),
        SuiteResult("other", (CaseResult("down", (), error="router unavailable"),)),
    )
    assert run.failing() == [
        "card-basics / lost card / turn 2: intent: expected 'a', got 'b'; language: expected en, got zh-Hant",
        "card-basics / broken / turn 1: action: expected ANSWER, got FALLBACK",
        "card-basics / broken: turn 2: deadline exceeded",
        "other / down: router unavailable",
    ]
    assert run_of(SuiteResult("s", (CaseResult("c", (turn(0),)),))).failing() == []


# --- to_dict ---------------------------------------------------------------------------------


def sample() -> RunResult:
    chinese = Observed("CLARIFY", "", "請問您想查詢哪張卡？", "zh-Hant", {"amount": "500", "currency": "HKD"}, "v7")
    return RunResult(
        "v7",
        (
            SuiteResult(
                "card-basics",
                (
                    CaseResult("lost card", (turn(0), turn(1, "reply: does not contain 'freeze'", observed=chinese))),
                    CaseResult("遺失信用卡", (turn(0, text="我張卡唔見咗", observed=chinese),)),
                    CaseResult("broken", (), error="turn 1: no healthy zone"),
                ),
            ),
            SuiteResult("empty", ()),
        ),
        {"test_accuracy": 0.912, "chinese_accuracy": 0.88},
        12.5,
    )


def test_to_dict_round_trips_through_json() -> None:
    run = sample()
    d = json.loads(json.dumps(run.to_dict(), ensure_ascii=False))
    assert RunResult.from_dict(d) == run


def test_to_dict_carries_the_counts_for_readers() -> None:
    d = sample().to_dict()
    assert (d["version"], d["cases"], d["passed"], d["duration_s"]) == ("v7", 3, 1, 12.5)
    assert d["pass_rate"] == pytest.approx(1 / 3)
    assert d["accuracy"] == {"test_accuracy": 0.912, "chinese_accuracy": 0.88}
    first = d["suites"][0]
    assert (first["name"], first["passed"], first["failed"]) == ("card-basics", 1, 2)
    failing = first["cases"][0]["turns"][1]
    assert failing["passed"] is False and failing["differences"] == ["reply: does not contain 'freeze'"]
    assert failing["observed"]["slots"] == {"amount": "500", "currency": "HKD"}
    assert failing["observed"]["reply"] == "請問您想查詢哪張卡？"
    assert first["cases"][2]["error"] == "turn 1: no healthy zone"


# --- JUnit XML -------------------------------------------------------------------------------


def test_junit_xml_counts_failures_and_errors() -> None:
    raw = junit_xml(sample())
    assert raw.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = ET.fromstring(raw)
    assert root.tag == "testsuites"
    assert root.attrib == {
        "name": "twinteller model version v7",
        "tests": "3",
        "failures": "1",
        "errors": "1",
        "time": "12.500",
    }
    suites = root.findall("testsuite")
    assert [(s.get("name"), s.get("tests"), s.get("failures"), s.get("errors")) for s in suites] == [
        ("card-basics", "3", "1", "1"),
        ("empty", "0", "0", "0"),
    ]
    cases = suites[0].findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("twinteller.card-basics", "lost card"),
        ("twinteller.card-basics", "遺失信用卡"),
        ("twinteller.card-basics", "broken"),
    ]
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("message") == "reply: does not contain 'freeze'"
    assert failure.text == "card-basics / lost card / turn 2: reply: does not contain 'freeze'"
    assert list(cases[1]) == []  # passed
    error = cases[2].find("error")
    assert error is not None and error.get("message") == "turn 1: no healthy zone" and cases[2].find("failure") is None


def test_junit_failure_lists_every_failing_turn() -> None:
    run = run_of(SuiteResult("s", (CaseResult("c", (turn(0, "a: 1", "a: 2"), turn(1), turn(2, "b: 3"))),)))
    failure = ET.fromstring(junit_xml(run)).find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message") == "a: 1"
    assert failure.text == "s / c / turn 1: a: 1; a: 2\ns / c / turn 3: b: 3"


def test_junit_xml_is_valid_for_any_text() -> None:
    nasty = "bad\x00\x01\x08\x0b\x0c\x1f\ufffe\ud800 <&>\"' 卡\U0001f600\t\n\r end"
    observed = Observed("ANSWER", "x", nasty, "en")
    run = RunResult(
        f"v{nasty}",
        (
            SuiteResult(
                f"s{nasty}",
                (
                    CaseResult(f"c{nasty}", (turn(0, f"reply: {nasty}", text=nasty, observed=observed),)),
                    CaseResult("e", (), error=nasty),
                ),
            ),
        ),
    )
    raw = junit_xml(run)
    raw.decode("utf-8")  # strict: no lone surrogate made it through
    root = ET.fromstring(raw)
    clean = "bad <&>\"' 卡\U0001f600\t\n\r end"  # what XML 1.0 allows, kept exactly in attributes
    assert root.get("name") == f"twinteller model version v{clean}"
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == f"s{clean}"
    case = suite.find("testcase")
    assert case is not None and case.get("name") == f"c{clean}" and case.get("classname") == f"twinteller.s{clean}"
    failure = case.find("failure")
    assert failure is not None and failure.get("message") == f"reply: {clean}"
    # In element text an XML parser reads a carriage return as a line break.
    assert failure.text == f"s{clean} / c{clean} / turn 1: reply: {clean}".replace("\r", "\n")
    error = suite.find("testcase[@name='e']/error")
    assert error is not None and error.get("message") == clean


def test_junit_xml_keeps_names_exactly_when_they_are_allowed() -> None:
    name = "遺失 <卡> & \"quotes\" 'here' 🙂"
    run = run_of(SuiteResult("zh", (CaseResult(name, ()),)))
    case = ET.fromstring(junit_xml(run)).find("testsuite/testcase")
    assert case is not None and case.get("name") == name


def test_junit_xml_of_nothing() -> None:
    root = ET.fromstring(junit_xml(run_of()))
    assert root.get("tests") == "0" and root.findall("testsuite") == []


# --- text ------------------------------------------------------------------------------------


def test_render_text_shows_failures_and_totals() -> None:
    text = render_text(sample())
    lines = text.splitlines()
    assert "  PASS  遺失信用卡" in lines
    assert "  FAIL  lost card" in lines and "  FAIL  broken" in lines
    assert any("turn 2 FAILED" in line for line in lines)
    assert "          reply: does not contain 'freeze'" in lines
    assert "        error: turn 1: no healthy zone" in lines
    assert not any("turn 1 ok" in line for line in lines)  # passing turns only when verbose
    assert "suite card-basics: 1/3 cases passed (33.3%)" in lines
    assert "suite empty: 0/0 cases passed (100.0%)" in lines
    assert lines[-3:] == ["version v7: 1/3 cases passed (33.3%)", "chinese_accuracy 0.880", "test_accuracy 0.912"]
    assert text.endswith("\n")


def test_render_text_verbose_shows_every_turn() -> None:
    text = render_text(sample(), verbose=True)
    assert "        turn 1 ok: 我張卡唔見咗" in text.splitlines()
    assert "got CLARIFY (no intent) zh-Hant amount=500 currency=HKD: 請問您想查詢哪張卡？" in text


def test_render_text_percentages() -> None:
    cases = tuple(CaseResult(str(i), (turn(0, "x") if i == 0 else turn(0),)) for i in range(20))
    text = render_text(run_of(SuiteResult("s", cases[:10]), SuiteResult("t", cases[10:])))
    assert "suite s: 9/10 cases passed (90.0%)" in text
    assert "suite t: 10/10 cases passed (100.0%)" in text
    assert text.splitlines()[-1] == "version v7: 19/20 cases passed (95.0%)"


def test_render_text_keeps_a_turn_on_one_line() -> None:
    run = run_of(SuiteResult("s", (CaseResult("c", (turn(0, "action: x", text="two\nlines"),)),)))
    assert "        turn 1 FAILED: two lines" in render_text(run).splitlines()
