"""twinteller.release.suites: conversation test suites read from YAML and JSON (each shape a
file may take), written back exactly (Chinese included), and every malformed file refused
with the path of the field at fault."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from twinteller.errors import InvalidArgument
from twinteller.release.suites import (
    ACTIONS,
    MAX_CASES,
    MAX_CONTENT_BYTES,
    MAX_SUITES,
    MAX_TURNS,
    Expect,
    Suite,
    TestCase,
    TestTurn,
    dump,
    parse,
    unknown_intents,
)

CARD_BASICS = """\
suite: card-basics              # a comment
description: Card questions that must keep working
cases:
  - name: lost card
    turns:
      - text: I lost my card
        channel: app
        locale: en-GB
        expect:
          action: ANSWER
          intent: lost_or_stolen_card
          slots: {amount: 100.50, currency: HKD}
          language: en
          reply_contains: freeze
      - text: yes
        expect: {action: CLARIFY}
  - name: chit-chat
    turns:
      - text: what's the weather
        expect: {action: FALLBACK, intent: ""}
"""


def one(content: str | bytes, filename: str = "") -> Suite:
    suites = parse(content.encode() if isinstance(content, str) else content, filename)
    assert len(suites) == 1
    return suites[0]


def suite_of(turn: str, *, case: str = "  - name: c\n    turns:\n") -> str:
    """A valid suite around one turn written as YAML at the turn's indentation."""
    return "suite: s\ncases:\n" + case + turn


def refused(content: str | bytes, match: str, filename: str = "") -> None:
    with pytest.raises(InvalidArgument, match=match):
        parse(content.encode() if isinstance(content, str) else content, filename)


# --- accepted shapes ----------------------------------------------------------------------


def test_a_single_suite_is_read_in_full() -> None:
    s = one(CARD_BASICS)
    assert s.name == "card-basics" and s.description == "Card questions that must keep working"
    assert [c.name for c in s.cases] == ["lost card", "chit-chat"]
    first = s.cases[0].turns[0]
    assert first == TestTurn(
        "I lost my card",
        Expect("ANSWER", "lost_or_stolen_card", {"amount": "100.50", "currency": "HKD"}, "en", "freeze"),
        channel="app",
        locale="en-GB",
    )
    assert s.cases[0].turns[1] == TestTurn("yes", Expect(action="CLARIFY"))
    assert s.cases[1].turns[0].expect == Expect(action="FALLBACK", intent="")  # "" is "no intent", not "unchecked"
    assert s.cases[0].turns[1].expect.intent is None
    assert (s.revision, s.updated_by, s.updated_at) == (0, "", 0.0)


def test_yaml_plain_scalars_stay_the_text_written() -> None:
    # YAML 1.1 would read these as a boolean, a float, a date and an int.
    s = one(
        suite_of(
            "      - text: no\n        expect: {action: CLARIFY}\n"
            "      - text: 2024-01-01\n        expect: {slots: {amount: 100.50}}\n"
            "      - text: 42\n        expect: {slots: {amount: 0x10}}\n"
            "      - text: on\n        expect: {reply_contains: 1e3}\n"
        )
    )
    turns = s.cases[0].turns
    assert [t.text for t in turns] == ["no", "2024-01-01", "42", "on"]
    assert turns[1].expect.slots == {"amount": "100.50"} and turns[2].expect.slots == {"amount": "0x10"}
    assert turns[3].expect.reply_contains == "1e3"


def test_numbers_tagged_in_yaml_become_their_string_form() -> None:
    s = one(suite_of("      - text: pay\n        expect: {slots: {amount: !!int 100, currency: !!float 1.5}}\n"))
    assert s.cases[0].turns[0].expect.slots == {"amount": "100", "currency": "1.5"}


def test_json_numbers_keep_their_text() -> None:
    doc = {"suite": "s", "cases": [{"name": "c", "turns": [{"text": "pay", "expect": {"slots": {"amount": 0}}}]}]}
    raw = json.dumps(doc).replace('"amount": 0', '"amount": 100.50').encode()
    assert one(raw, "s.json").cases[0].turns[0].expect.slots == {"amount": "100.50"}


def item(text: str) -> str:
    """`text`, a YAML mapping, as an item of a block list."""
    return "".join(("- " if i == 0 else "  ") + line + "\n" for i, line in enumerate(text.splitlines()))


def test_a_suites_mapping_and_a_list_give_the_same_suites() -> None:
    a = "suite: a\ncases: [{name: x, turns: [{text: hi, expect: {action: ANSWER}}]}]\n"
    b = "suite: b\ncases: [{name: x, turns: [{text: 你好, expect: {language: zh-Hans}}]}]\n"
    listed = parse((item(a) + item(b)).encode())
    mapped = parse(("suites:\n" + item(a) + item(b)).encode())
    assert listed == mapped
    assert [s.name for s in listed] == ["a", "b"]
    assert listed[1].cases[0].turns[0] == TestTurn("你好", Expect(language="zh-Hans"))


def test_json_and_yaml_of_one_structure_are_equal() -> None:
    from_yaml = one(CARD_BASICS, "card.yaml")
    data = yaml.safe_load(CARD_BASICS)
    data["cases"][0]["turns"][0]["expect"]["slots"]["amount"] = "100.50"  # safe_load's float, written as text
    data["cases"][0]["turns"][1]["text"] = "yes"  # and its boolean
    from_json = one(json.dumps(data).encode(), "card.json")
    assert from_json == from_yaml


@pytest.mark.parametrize("filename", ["", "suite.txt", "SUITE.JSON", "x.yml", "x.YAML"])
def test_the_format_comes_from_the_suffix_or_the_content(filename: str) -> None:
    doc = {"suite": "s", "cases": [{"name": "c", "turns": [{"text": "hi", "expect": {"action": "ANSWER"}}]}]}
    raw = json.dumps(doc).encode()  # JSON is also YAML
    assert one(raw, filename).cases[0].turns[0].text == "hi"


def test_without_a_suffix_yaml_is_read_when_the_content_is_not_json() -> None:
    assert one(CARD_BASICS, "suite").name == "card-basics"


def test_a_byte_order_mark_is_ignored() -> None:
    assert one(b"\xef\xbb\xbf" + CARD_BASICS.encode()).name == "card-basics"
    doc = json.dumps({"suite": "s", "cases": [{"name": "c", "turns": [{"text": "x", "expect": {"intent": "a"}}]}]})
    assert one(b"\xef\xbb\xbf" + doc.encode(), "s.json").name == "s"


def test_yaml_aliases_share_turns_between_cases() -> None:
    s = one(
        "suite: s\ncases:\n"
        "  - name: a\n    turns: &t\n      - {text: hi, expect: {action: ANSWER}}\n"
        "  - name: b\n    turns: *t\n"
    )
    assert s.cases[0].turns == s.cases[1].turns == (TestTurn("hi", Expect(action="ANSWER")),)
    # Built once: a small file of aliases must not cost a million checked and built turns.
    assert s.cases[0].turns is s.cases[1].turns


def test_the_limits_themselves_are_accepted() -> None:
    turns = [{"text": "hi", "expect": {"action": "ANSWER"}}] * MAX_TURNS
    cases = [{"name": f"c{i}", "turns": turns} for i in range(MAX_CASES)]
    suites = [{"suite": f"s{i}", "cases": cases[:1]} for i in range(MAX_SUITES - 1)]
    suites.append({"suite": "big", "cases": cases, "description": "d" * 512})
    read = parse(json.dumps({"suites": suites}).encode())
    assert len(read) == MAX_SUITES and len(read[-1].cases) == MAX_CASES
    assert len(read[-1].cases[-1].turns) == MAX_TURNS and len(read[-1].description) == 512
    longest = {"name": "n" * 200, "turns": [{"text": "x" * 1000, "expect": {"reply_contains": "r" * 1000}}]}
    s = one(json.dumps({"suite": "a" * 64, "cases": [longest]}))
    assert s.name == "a" * 64 and len(s.cases[0].turns[0].text) == 1000


# --- Chinese text and round trips --------------------------------------------------------------

CHINESE = """\
suite: 卡-zh
cases:
  - name: 遺失信用卡（繁體）
    turns:
      - text: 我張卡唔見咗點算好
        locale: zh-HK
        expect: {intent: lost_or_stolen_card, language: zh-Hant, reply_contains: 凍結}
      - text: 我的卡丢了怎么办？
        locale: zh-CN
        expect: {language: zh-Hans, reply_contains: 冻结}
      - text: 我想check下個balance，HKD５００
        expect: {slots: {amount: "500", currency: HKD}}
"""


def test_chinese_text_round_trips_exactly() -> None:
    s = one(CHINESE.replace("卡-zh", "card-zh"))
    assert s.cases[0].name == "遺失信用卡（繁體）"
    assert [t.text for t in s.cases[0].turns] == [
        "我張卡唔見咗點算好",
        "我的卡丢了怎么办？",
        "我想check下個balance，HKD５００",
    ]
    for fmt in ("yaml", "json"):
        raw = dump([s], fmt)
        assert "我張卡唔見咗點算好".encode() in raw  # written as UTF-8, not escaped
        assert parse(raw, f"x.{fmt}") == [s]
    assert Suite.from_json(s.to_json()) == s
    assert "我張卡唔見咗點算好".encode() in s.to_json()


def test_to_json_keeps_the_store_fields() -> None:
    s = Suite("s", one(CARD_BASICS).cases, "d", revision=7, updated_by="alice", updated_at=1700000000.5)
    back = Suite.from_json(s.to_json())
    assert back == s and back.revision == 7 and back.updated_by == "alice" and back.updated_at == 1700000000.5
    assert back.cases[1].turns[0].expect.intent == "" and back.cases[0].turns[1].expect.intent is None


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "null",
        "~",
        "123",
        "0x10",
        "- dash",
        "key: value",
        "# not a comment",
        "'quoted'",
        '"double"',
        "  leading and trailing  ",
        "line\nbreak",
        "tab\there",
        "\u2028line separator\x85next line",
        "emoji 🙂 and 𠮷",
        "a\x07bell",
        "&anchor *alias !tag %directive @at `tick`",
        "x" * 1000,
    ],
)
def test_dump_then_parse_is_the_same_suite(text: str) -> None:
    turn = TestTurn(text, Expect(action="ANSWER", slots={"amount": text[:200]}, reply_contains=text), "app", "en-GB")
    name = re.sub(r"[\x00-\x1f\x85\u2028]", " ", text[:200])  # a case name is one line
    s = Suite("s", (TestCase(name, (turn,)),), description=text[:512])
    for fmt in ("yaml", "json"):
        assert parse(dump([s], fmt), f"s.{fmt}") == [s]
        assert parse(dump([s], fmt)) == [s]  # and by sniffing


def test_dump_one_suite_as_a_mapping_and_several_under_suites() -> None:
    a = one(CARD_BASICS)
    b = Suite("other", (TestCase("c", (TestTurn("hi", Expect(intent="")),)),), revision=3)
    single = yaml.safe_load(dump([a], "yaml"))
    assert single["suite"] == "card-basics" and "revision" not in single
    several = json.loads(dump([a, b], "json"))
    assert [s["suite"] for s in several["suites"]] == ["card-basics", "other"]
    assert several["suites"][1]["cases"][0]["turns"][0] == {"text": "hi", "expect": {"intent": ""}}
    assert parse(dump([a, b], "yaml")) == [a, Suite("other", b.cases)]  # the store's fields stay out


def test_to_document_omits_what_is_not_given() -> None:
    s = Suite("s", (TestCase("c", (TestTurn("hi", Expect(action="ANSWER")),)),), revision=2, updated_by="x")
    assert s.to_document() == {
        "suite": "s",
        "cases": [{"name": "c", "turns": [{"text": "hi", "expect": {"action": "ANSWER"}}]}],
    }


def test_dump_refuses_nothing_and_unknown_formats() -> None:
    with pytest.raises(InvalidArgument, match=r"^suites: "):
        dump([], "yaml")
    with pytest.raises(InvalidArgument, match=r"^fmt: must be one of yaml, json"):
        dump([one(CARD_BASICS)], "xml")


# --- intents and adding cases ----------------------------------------------------------------


def test_intents_are_every_expected_intent() -> None:
    assert one(CARD_BASICS).intents() == {"lost_or_stolen_card"}
    assert one(CHINESE.replace("卡-zh", "zh")).intents() == {"lost_or_stolen_card"}


def test_unknown_intents_name_each_turn() -> None:
    s = one(
        suite_of(
            "      - {text: a, expect: {intent: card_arrival}}\n"
            "      - {text: b, expect: {intent: ''}}\n"
            "      - {text: c, expect: {action: ANSWER}}\n"
            "  - name: d\n    turns:\n"
            "      - {text: e, expect: {intent: lost_or_stolen_card}}\n"
            "      - {text: f, expect: {intent: no_such_faq}}\n"
        )
    )
    assert unknown_intents(s, {"lost_or_stolen_card", "card_arrival"}) == [
        "cases[1].turns[1].expect.intent: no FAQ 'no_such_faq'"
    ]
    assert unknown_intents(s, set()) == [
        "cases[0].turns[0].expect.intent: no FAQ 'card_arrival'",
        "cases[1].turns[0].expect.intent: no FAQ 'lost_or_stolen_card'",
        "cases[1].turns[1].expect.intent: no FAQ 'no_such_faq'",
    ]


def test_with_case_adds_at_the_end() -> None:
    s = one(CARD_BASICS)
    case = TestCase("new one", (TestTurn("我張卡唔見咗", Expect(intent="lost_or_stolen_card"), locale="zh-HK"),))
    added = s.with_case(case)
    assert added.cases == (*s.cases, case) and added.name == s.name and s.cases[-1].name == "chit-chat"


def test_with_case_refuses_a_name_already_there() -> None:
    s = one(CARD_BASICS)
    with pytest.raises(InvalidArgument, match=r"^case: suite card-basics already has a case named 'lost card'"):
        s.with_case(TestCase("lost card", (TestTurn("x", Expect(action="ANSWER")),)))


def test_with_case_checks_the_case() -> None:
    s = one(CARD_BASICS)
    with pytest.raises(InvalidArgument, match=r"^case\.turns\[0\]\.expect: must name at least one"):
        s.with_case(TestCase("c", (TestTurn("x", Expect()),)))
    with pytest.raises(InvalidArgument, match=r"^case\.turns\[0\]\.expect\.action: must be one of"):
        s.with_case(TestCase("c", (TestTurn("x", Expect(action="answer")),)))
    with pytest.raises(InvalidArgument, match=r"^case\.turns: must have at least one turn"):
        s.with_case(TestCase("c", ()))


def test_with_case_refuses_more_than_the_most_cases() -> None:
    turn = (TestTurn("x", Expect(action="ANSWER")),)
    full = Suite("full", tuple(TestCase(f"c{i}", turn) for i in range(MAX_CASES)))
    with pytest.raises(InvalidArgument, match=rf"^case: suite full already has {MAX_CASES} cases"):
        full.with_case(TestCase("one more", turn))


# --- malformed files ------------------------------------------------------------------------------

GOOD_TURN = "      - {text: hi, expect: {action: ANSWER}}\n"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", r"^content: empty$"),
        (b"  \n\t\n", r"^content: empty$"),
        (b"# only a comment\n", r"^content: empty$"),
        (b"~\n", r"^content: empty$"),
        (b"\xff\xfesuite: x", r"^content: not UTF-8 text$"),
        ("suite: é".encode("latin-1"), r"^content: not UTF-8 text$"),
        (b"suite: x\ncases: [\n", r"^content: not valid YAML: line \d+ column \d+: "),
        (b"suite: x\n  cases: y\n bad", r"^content: not valid YAML: line \d+ column \d+: "),
        (b'suite: "unterminated\n', r"^content: not valid YAML: line \d+ column \d+: "),
        (b"suite: x\x00\n", r"^content: not valid YAML: "),
        (b"suite: a\nsuite: b\ncases: []\n", r"^content: not valid YAML: line 2 column 1: key 'suite' given twice"),
        (
            b"just a string\n",
            r"^content: must be a suite \(a mapping with 'suite'\), a mapping with 'suites', or a list of suites, "
            r"not a string$",
        ),
        (b"42\n", r"^content: must be a suite .* not a string$"),
        (b"[]\n", r"^content: no suites$"),
        (b"suites: []\n", r"^suites: no suites$"),
        (b"suites: x\n", r"^suites: must be a list of suites, not a string$"),
        (b"suites: [x]\n", r"^suites\[0\]: must be a mapping, not a string$"),
        (b"- x\n", r"^\[0\]: must be a mapping, not a string$"),
        (b"suites: []\nextra: 1\n", r"^extra: unknown key; expected one of suites$"),
        (b"cases: []\n", r"^suite: required$"),
        (b"suite:\ncases: []\n", r"^suite: required$"),
        (b"suite: [a]\ncases: []\n", r"^suite: must be a string, not a list$"),
        (b"suite: Card Basics\ncases: []\n", r"^suite: 'Card Basics' must be 1-64 lowercase letters"),
        (b"suite: -card\ncases: []\n", r"^suite: '-card' must be 1-64"),
        (b"suite: " + b"a" * 65 + b"\ncases: []\n", r"^suite: 65 characters; at most 64$"),
        (b"suite: s\n", r"^cases: required$"),
        (b"suite: s\ncases:\n", r"^cases: required$"),
        (b"suite: s\ncases: []\n", r"^cases: must have at least one case$"),
        (b"suite: s\ncases: {a: b}\n", r"^cases: must be a list, not a mapping$"),
        (b"suite: s\ncases: [x]\n", r"^cases\[0\]: must be a mapping, not a string$"),
        (b"suite: s\ndescription: [x]\ncases: []\n", r"^description: must be a string, not a list$"),
        (b"suite: s\ndescription: " + b"d" * 513 + b"\ncases: []\n", r"^description: 513 characters; at most 512$"),
        (b"suite: s\nsuites: []\ncases: []\n", r"^suites: unknown key; expected one of suite, description, cases$"),
        (b"suite: s\ncases:\n  - turns: []\n", r"^cases\[0\]\.name: required$"),
        (b"suite: s\ncases:\n  - name: ''\n    turns: []\n", r"^cases\[0\]\.name: required$"),
        (b"suite: s\ncases:\n  - name: '  '\n    turns: []\n", r"^cases\[0\]\.name: must not be blank$"),
        (b'suite: s\ncases:\n  - name: "a\\nb"\n    turns: []\n', r"^cases\[0\]\.name: must be one line"),
        (
            b"suite: s\ncases:\n  - name: " + b"n" * 201 + b"\n    turns: []\n",
            r"^cases\[0\]\.name: 201 characters; at most 200$",
        ),
        (b"suite: s\ncases:\n  - name: c\n", r"^cases\[0\]\.turns: required$"),
        (b"suite: s\ncases:\n  - name: c\n    turns: []\n", r"^cases\[0\]\.turns: must have at least one turn$"),
        (b"suite: s\ncases:\n  - name: c\n    turns: hi\n", r"^cases\[0\]\.turns: must be a list, not a string$"),
        (
            b"suite: s\ncases:\n  - name: c\n    turns: [hi]\n",
            r"^cases\[0\]\.turns\[0\]: must be a mapping, not a string$",
        ),
        (
            b"suite: s\ncases:\n  - name: c\n    steps: []\n",
            r"^cases\[0\]\.steps: unknown key; expected one of name, turns$",
        ),
    ],
)
def test_malformed_files_name_the_path(content: bytes, match: str) -> None:
    refused(content, match)


@pytest.mark.parametrize(
    ("turn", "match"),
    [
        ("{expect: {action: ANSWER}}", r"text: required$"),
        ("{text: , expect: {action: ANSWER}}", r"text: required$"),
        ("{text: '', expect: {action: ANSWER}}", r"text: required$"),
        ("{text: '   ', expect: {action: ANSWER}}", r"text: must not be blank$"),
        ("{text: [a], expect: {action: ANSWER}}", r"text: must be a string, not a list$"),
        ("{text: {a: b}, expect: {action: ANSWER}}", r"text: must be a string, not a mapping$"),
        ("{text: !!bool true, expect: {action: ANSWER}}", r"text: must be a string, not true/false$"),
        ("{text: !!float 1.5, expect: {action: ANSWER}}", r"text: must be a string, not a number$"),
        (f"{{text: {'x' * 1001}, expect: {{action: ANSWER}}}}", r"text: 1001 characters; at most 1000$"),
        (
            "{text: hi, expcet: {action: ANSWER}}",
            r"expcet: unknown key; expected one of text, channel, locale, expect$",
        ),
        ("{text: hi, 5: x, expect: {action: ANSWER}}", r"5: unknown key"),
        ("{text: hi}", r"expect: required \(at least one of action, intent, slots, language, reply_contains\)$"),
        ("{text: hi, expect: }", r"expect: required"),
        (
            "{text: hi, expect: {}}",
            r"expect: must name at least one of action, intent, slots, language, reply_contains$",
        ),
        ("{text: hi, expect: ANSWER}", r"expect: must be a mapping, not a string$"),
        ("{text: hi, expect: [{action: ANSWER}]}", r"expect: must be a mapping, not a list$"),
        ("{text: hi, expect: {acton: ANSWER}}", r"expect\.acton: unknown key; expected one of action, intent, slots,"),
        ("{text: hi, expect: {action: answer}}", r"expect\.action: must be one of ANSWER, CLARIFY, HANDOFF, FALLBACK$"),
        ("{text: hi, expect: {action: ''}}", r"expect\.action: must be one of ANSWER, CLARIFY, HANDOFF, FALLBACK$"),
        ("{text: hi, expect: {action: [ANSWER]}}", r"expect\.action: must be a string, not a list$"),
        ("{text: hi, expect: {action: }}", r"expect\.action: must not be null"),
        ("{text: hi, expect: {intent: null}}", r"expect\.intent: must not be null; write \"\" for no intent"),
        ("{text: hi, expect: {intent: lost card}}", r"expect\.intent: 'lost card' is not an FAQ id$"),
        ("{text: hi, expect: {intent: " + "a" * 65 + "}}", r"expect\.intent: 'a+' is not an FAQ id$"),
        ("{text: hi, expect: {intent: [a]}}", r"expect\.intent: must be a string, not a list$"),
        ("{text: hi, expect: {language: fr}}", r"expect\.language: must be one of en, zh-Hant, zh-Hans$"),
        ("{text: hi, expect: {language: zh-hant}}", r"expect\.language: must be one of en, zh-Hant, zh-Hans$"),
        ("{text: hi, expect: {reply_contains: ''}}", r"expect\.reply_contains: must not be blank$"),
        ("{text: hi, expect: {reply_contains: ' '}}", r"expect\.reply_contains: must not be blank$"),
        ("{text: hi, expect: {reply_contains: [a]}}", r"expect\.reply_contains: must be a string, not a list$"),
        (f"{{text: hi, expect: {{reply_contains: {'x' * 1001}}}}}", r"expect\.reply_contains: 1001 characters"),
        (
            "{text: hi, expect: {slots: amount}}",
            r"expect\.slots: must be a mapping of slot name to value, not a string$",
        ),
        (
            "{text: hi, expect: {slots: [amount]}}",
            r"expect\.slots: must be a mapping of slot name to value, not a list$",
        ),
        ("{text: hi, expect: {slots: {}}}", r"expect\.slots: must name at least one slot"),
        ("{text: hi, expect: {slots: {amout: '1'}}}", r"expect\.slots\.amout: not a slot; slots are amount, currency,"),
        (
            "{text: hi, expect: {slots: {amount: [1]}}}",
            r"expect\.slots\.amount: must be a string or number, not a list$",
        ),
        ("{text: hi, expect: {slots: {amount: }}}", r"expect\.slots\.amount: must be a string or number, not null$"),
        (
            "{text: hi, expect: {slots: {amount: !!bool yes}}}",
            r"expect\.slots\.amount: must be a string or number, not true/",
        ),
        (
            f"{{text: hi, expect: {{slots: {{amount: {'9' * 201}}}}}}}",
            r"expect\.slots\.amount: 201 characters; at most 200$",
        ),
        ("{text: hi, channel: App, expect: {action: ANSWER}}", r"channel: 'App' is not a lowercase name"),
        ("{text: hi, channel: a b, expect: {action: ANSWER}}", r"channel: 'a b' is not a lowercase name"),
        ("{text: hi, channel: , expect: {action: ANSWER}}", r"channel: must not be null"),
        ("{text: hi, channel: '', expect: {action: ANSWER}}", r"channel: '' is not a lowercase name"),
        ("{text: hi, channel: [app], expect: {action: ANSWER}}", r"channel: must be a string, not a list$"),
        ("{text: hi, locale: en_GB, expect: {action: ANSWER}}", r"locale: 'en_GB' is not a locale"),
        ("{text: hi, locale: english, expect: {action: ANSWER}}", r"locale: 'english' is not a locale"),
        ("{text: hi, locale: en-, expect: {action: ANSWER}}", r"locale: 'en-' is not a locale"),
        ("{text: hi, locale: '', expect: {action: ANSWER}}", r"locale: '' is not a locale"),
    ],
)
def test_malformed_turns_name_the_path(turn: str, match: str) -> None:
    refused(suite_of(GOOD_TURN + f"      - {turn}\n"), r"^cases\[0\]\.turns\[1\]\." + match)


def test_a_key_given_twice_in_yaml_is_refused_with_its_line() -> None:
    refused(suite_of(GOOD_TURN + "      - {text: hi, expect: {action: ANSWER}, text: again}\n"),
            r"^content: not valid YAML: line 6 column 46: key 'text' given twice$")  # fmt: skip


def test_the_path_counts_suites_and_cases() -> None:
    content = (
        "suites:\n"
        "- suite: a\n  cases: [{name: x, turns: [{text: hi, expect: {action: ANSWER}}]}]\n"
        "- suite: b\n  cases:\n"
        "  - {name: x, turns: [{text: hi, expect: {action: ANSWER}}]}\n"
        "  - name: y\n    turns:\n"
        "    - {text: hi, expect: {action: ANSWER}}\n"
        "    - {text: hi, expect: {action: ANSWER}}\n"
        "    - {expect: {action: ANSWER}}\n"
    )
    refused(content, r"^suites\[1\]\.cases\[1\]\.turns\[2\]\.text: required$")
    listed = content.replace("suites:\n", "")
    refused(listed, r"^\[1\]\.cases\[1\]\.turns\[2\]\.text: required$")


def test_duplicate_names_are_refused() -> None:
    case = "{name: x, turns: [{text: hi, expect: {action: ANSWER}}]}"
    three = "".join(f"- {{suite: {name}, cases: [{case}]}}\n" for name in "aba")
    refused("suites:\n" + three, r"^suites\[2\]\.suite: 'a' is also the name of suites\[0\]$")
    refused(
        f"- {{suite: a, cases: [{case}]}}\n- {{suite: a, cases: [{case}]}}\n",
        r"^\[1\]\.suite: 'a' is also the name of \[0\]$",
    )
    other = case.replace("name: x", "name: y")
    refused(f"suite: a\ncases: [{case}, {other}, {case}]\n", r"^cases\[2\]\.name: 'x' is also the name of cases\[0\]$")


def test_too_many_suites_cases_and_turns() -> None:
    turn = {"text": "hi", "expect": {"action": "ANSWER"}}
    case = {"name": "c", "turns": [turn]}
    too_many_suites = [{"suite": f"s{i}", "cases": [case]} for i in range(MAX_SUITES + 1)]
    refused(
        json.dumps({"suites": too_many_suites}), rf"^suites: {MAX_SUITES + 1} suites; at most {MAX_SUITES} in one file$"
    )
    refused(json.dumps(too_many_suites), rf"^content: {MAX_SUITES + 1} suites; at most {MAX_SUITES}")
    cases = [{"name": f"c{i}", "turns": [turn]} for i in range(MAX_CASES + 1)]
    refused(json.dumps({"suite": "s", "cases": cases}), rf"^cases: {MAX_CASES + 1} cases; at most {MAX_CASES}$")
    long = {"name": "long", "turns": [turn] * (MAX_TURNS + 1)}
    refused(
        json.dumps({"suites": [{"suite": "s", "cases": [case, long]}]}),
        rf"^suites\[0\]\.cases\[1\]\.turns: {MAX_TURNS + 1} turns; at most {MAX_TURNS}$",
    )


def test_content_over_two_megabytes_is_refused() -> None:
    content = b"# " + b"x" * MAX_CONTENT_BYTES + b"\n" + CARD_BASICS.encode()
    refused(content, r"^content: \d+ bytes; at most 2097152 \(2 MB\)$")


def in_json(turn: str) -> str:
    """A JSON suite around one turn written as JSON."""
    return '{"suite": "s", "cases": [{"name": "c", "turns": [' + turn + "]}]}"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('{"suite": "s", "cases": [', r"^content: not valid JSON: line 1 column 26: Expecting value$"),
        ('{"suite": "s",\n "cases": []],}', r"^content: not valid JSON: line 2 column \d+: "),
        ("suite: s\ncases: []\n", r"^content: not valid JSON: line 1 column 1: Expecting value$"),
        ('{"suite": "s", "suite": "t", "cases": []}', r"^content: not valid JSON: key 'suite' given twice$"),
        (
            in_json('{"text": "\\ud800", "expect": {"action": "ANSWER"}}'),
            r"^cases\[0\]\.turns\[0\]\.text: not valid Unicode",
        ),
        (
            in_json('{"text": true, "expect": {"action": "ANSWER"}}'),
            r"^cases\[0\]\.turns\[0\]\.text: must be a string, not true/",
        ),
        (
            in_json('{"text": "hi", "expect": {"slots": {"amount": false}}}'),
            r"^cases\[0\]\.turns\[0\]\.expect\.slots\.amount: ",
        ),
        (
            in_json('{"text": "hi", "expect": {"action": "ANSWER"}, "text": "x"}'),
            r"^content: not valid JSON: key 'text' given",
        ),
        ("[" * 100_000 + "]" * 100_000, r"^content: nested too deeply$"),
    ],
)
def test_malformed_json_names_the_path(content: str, match: str) -> None:
    refused(content, match, "suite.json")


def test_json_duplicates_are_reported_as_json_when_sniffed() -> None:
    refused('{"suite": "s", "suite": "t", "cases": []}', r"^content: not valid JSON: key 'suite' given twice$")


def test_deep_yaml_is_refused() -> None:
    refused("[" * 100_000 + "]" * 100_000, r"^content: (not valid YAML|nested too deeply)", "deep.yaml")


def test_a_yaml_merge_key_is_an_unknown_key() -> None:
    # Merge keys are not supported, so that every key of a turn is written where it applies.
    content = suite_of("      - &t {text: hi, expect: {action: ANSWER}}\n      - {<<: *t, text: again}\n")
    refused(content, r"^cases\[0\]\.turns\[1\]\.<<: unknown key")


def test_actions_are_the_four() -> None:
    assert ACTIONS == ("ANSWER", "CLARIFY", "HANDOFF", "FALLBACK")


def test_every_refusal_starts_with_a_path() -> None:
    # A message always opens "<path>: ", the way the router's errors name the field.
    for content in (b"", b"x", b"suite: s\ncases: []\n", b"\x80"):
        with pytest.raises(InvalidArgument) as caught:
            parse(content)
        assert re.match(r"^[\w\[\].<>-]+: ", str(caught.value)), str(caught.value)
