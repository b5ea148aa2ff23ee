"""Conversation test suites: conversations a model version must keep handling, as data.

A suite is a named list of cases; a case is a conversation, turn by turn, with what each
turn must give (the action, the intent, slots, the reply language, a phrase of the reply).
People write suites as YAML or JSON of the same structure:

    suite: card-basics
    description: Card questions that must keep working
    cases:
      - name: lost card
        turns:
          - text: I lost my card
            channel: app
            locale: en-GB
            expect: {action: ANSWER, intent: lost_or_stolen_card, reply_contains: freeze}

A file holds one suite (that mapping), `{suites: [...]}`, or a list of suites. Everything
is checked before anything is accepted, and every refusal names the path of the field
(`suites[1].cases[0].turns[2].text: required`), unknown keys included, so a typo such as
`expcet` is reported instead of silently testing nothing.

YAML is read with PyYAML's safe loader, but every plain scalar other than null stays a
string: YAML 1.1 would turn the customer's "yes" or "no" into a boolean, `100.50` into
100.5 (the router gives amounts as "100.50"), and `2024-01-01` into a date.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar

import yaml

from twinteller.errors import InvalidArgument
from twinteller.knowledge.faqs import ID_PATTERN, SLOT_NAMES
from twinteller.knowledge.languages import LANGUAGES

ACTIONS = ("ANSWER", "CLARIFY", "HANDOFF", "FALLBACK")
FORMATS = ("yaml", "json")

MAX_CONTENT_BYTES = 2 * 1024 * 1024
MAX_SUITES = 100  # in one file
MAX_CASES = 500  # in one suite
MAX_TURNS = 30  # in one case
MAX_DESCRIPTION = 512
MAX_CASE_NAME = 200
MAX_TEXT = 1000  # a turn's text, and a phrase the reply must contain
MAX_SLOT_VALUE = 200

SUITE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
CHANNEL = re.compile(r"[a-z][a-z0-9_-]{0,31}")
LOCALE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
# A name is printed on one line in reports and JUnit files: no line breaks or other controls.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

_SUITE_KEYS = ("suite", "description", "cases")
_CASE_KEYS = ("name", "turns")
_TURN_KEYS = ("text", "channel", "locale", "expect")
_EXPECT_KEYS = ("action", "intent", "slots", "language", "reply_contains")


@dataclass(frozen=True)
class Expect:
    """What one turn must give; a field left at its default is not checked. `intent` None:
    not checked; "": the turn must recognise no intent. A slot expected as "": not given."""

    action: str = ""
    intent: str | None = None
    slots: dict[str, str] = field(default_factory=dict)
    language: str = ""
    reply_contains: str = ""

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.action:
            doc["action"] = self.action
        if self.intent is not None:
            doc["intent"] = self.intent
        if self.slots:
            doc["slots"] = dict(self.slots)
        if self.language:
            doc["language"] = self.language
        if self.reply_contains:
            doc["reply_contains"] = self.reply_contains
        return doc


@dataclass(frozen=True)
class TestTurn:
    __test__ = False  # a name pytest would otherwise try to collect as a test class

    text: str
    expect: Expect
    channel: str = ""
    locale: str = ""

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"text": self.text}
        if self.channel:
            doc["channel"] = self.channel
        if self.locale:
            doc["locale"] = self.locale
        doc["expect"] = self.expect.to_document()
        return doc


@dataclass(frozen=True)
class TestCase:
    __test__ = False  # a name pytest would otherwise try to collect as a test class

    name: str
    turns: tuple[TestTurn, ...]

    def to_document(self) -> dict[str, Any]:
        return {"name": self.name, "turns": [t.to_document() for t in self.turns]}


@dataclass(frozen=True)
class Suite:
    name: str
    cases: tuple[TestCase, ...]
    description: str = ""
    # Set by the store that keeps suites; never part of the document people write.
    revision: int = 0
    updated_by: str = ""
    updated_at: float = 0.0

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Suite:
        data = json.loads(raw)
        cases = tuple(
            TestCase(
                c["name"],
                tuple(
                    TestTurn(t["text"], Expect(**t["expect"]), t.get("channel", ""), t.get("locale", ""))
                    for t in c["turns"]
                ),
            )
            for c in data["cases"]
        )
        return cls(
            data["name"],
            cases,
            data.get("description", ""),
            int(data.get("revision", 0)),
            data.get("updated_by", ""),
            float(data.get("updated_at", 0.0)),
        )

    def to_document(self) -> dict[str, Any]:
        """The form people write (module docstring), without the store's fields."""
        doc: dict[str, Any] = {"suite": self.name}
        if self.description:
            doc["description"] = self.description
        doc["cases"] = [c.to_document() for c in self.cases]
        return doc

    def intents(self) -> set[str]:
        return {t.expect.intent for c in self.cases for t in c.turns if t.expect.intent}

    def with_case(self, case: TestCase) -> Suite:
        """This suite with `case` added at the end, checked as if it had been written in a file."""
        checked = _case(case.to_document(), "case")
        if any(c.name == checked.name for c in self.cases):
            raise InvalidArgument(f"case: suite {self.name} already has a case named {checked.name!r}")
        if len(self.cases) >= MAX_CASES:
            raise InvalidArgument(f"case: suite {self.name} already has {len(self.cases)} cases, the most allowed")
        return replace(self, cases=(*self.cases, checked))


def parse(content: bytes, filename: str = "") -> list[Suite]:
    """The suites in a YAML or JSON file, all checked; the format comes from the file name's
    suffix, else JSON when the content reads as JSON, else YAML."""
    if len(content) > MAX_CONTENT_BYTES:
        raise InvalidArgument(f"content: {len(content)} bytes; at most {MAX_CONTENT_BYTES} (2 MB)")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgument("content: not UTF-8 text") from None
    text = text.removeprefix("\ufeff")  # a byte order mark, as some Windows editors write
    if not text.strip():
        raise InvalidArgument("content: empty")
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix == "json":
        data = _load_json(text)
    elif suffix in ("yaml", "yml"):
        data = _load_yaml(text)
    else:
        try:
            data = _decode_json(text)
        except json.JSONDecodeError:
            data = _load_yaml(text)
        except (_DuplicateKey, RecursionError) as e:
            raise _json_error(e) from None
    return _suites(data)


def dump(suites: list[Suite], fmt: str) -> bytes:
    """`suites` as a file `parse` reads back equal (but for the store's fields): one suite as
    its mapping, several as `{suites: [...]}`."""
    if fmt not in FORMATS:
        raise InvalidArgument(f"fmt: must be one of {', '.join(FORMATS)}")
    if not suites:
        raise InvalidArgument("suites: nothing to write")
    doc: Any = suites[0].to_document() if len(suites) == 1 else {"suites": [s.to_document() for s in suites]}
    if fmt == "json":
        return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()
    # The safe dumper quotes every string the full YAML 1.1 resolver would read as something
    # else ('yes', '100'), so both our loader and anyone else's read the same strings back.
    dumped: str = yaml.dump(doc, Dumper=_SafeDumper, allow_unicode=True, sort_keys=False, width=120)
    return dumped.encode()


def unknown_intents(suite: Suite, known: set[str]) -> list[str]:
    """One message per turn expecting an intent that is not in `known` (the FAQ ids), so a
    suite naming an FAQ that does not exist is refused instead of failing every run."""
    return [
        f"cases[{i}].turns[{j}].expect.intent: no FAQ {t.expect.intent!r}"
        for i, c in enumerate(suite.cases)
        for j, t in enumerate(c.turns)
        if t.expect.intent and t.expect.intent not in known
    ]


# --- reading ------------------------------------------------------------------------------

_SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: a 2 MB file in well under a second
_SafeDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_NULL = "tag:yaml.org,2002:null"


class _Loader(_SafeLoader):  # type: ignore[misc]
    """The safe loader with null as the only implicit type (module docstring), refusing a
    key given twice (PyYAML would keep the last silently)."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag == _NULL]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        if any(tag == _NULL for tag, _ in resolvers)
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key_node.value!r} given twice", key_node.start_mark
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]


def _load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        where = f"line {e.problem_mark.line + 1} column {e.problem_mark.column + 1}: " if e.problem_mark else ""
        problem = ": ".join(p for p in (e.context, e.problem) if p)
        raise InvalidArgument(f"content: not valid YAML: {where}{problem}") from None
    except yaml.YAMLError as e:  # e.g. a character YAML does not allow, which has no mark
        raise InvalidArgument(f"content: not valid YAML: {' '.join(str(e).split())}") from None
    except RecursionError:
        raise InvalidArgument("content: nested too deeply") from None


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKey(key)
        data[key] = value
    return data


def _decode_json(text: str) -> Any:
    # Numbers keep their text, as in YAML: a slot amount "100.50" must not become 100.5.
    return json.loads(text, parse_int=str, parse_float=str, parse_constant=str, object_pairs_hook=_no_duplicates)


def _load_json(text: str) -> Any:
    try:
        return _decode_json(text)
    except (json.JSONDecodeError, _DuplicateKey, RecursionError) as e:
        raise _json_error(e) from None


def _json_error(e: Exception) -> InvalidArgument:
    if isinstance(e, json.JSONDecodeError):
        return InvalidArgument(f"content: not valid JSON: line {e.lineno} column {e.colno}: {e.msg}")
    if isinstance(e, _DuplicateKey):
        return InvalidArgument(f"content: not valid JSON: key {e.args[0]!r} given twice")
    return InvalidArgument("content: nested too deeply")


# --- checking -----------------------------------------------------------------------------


def _suites(data: Any) -> list[Suite]:
    if data is None:
        raise InvalidArgument("content: empty")
    if isinstance(data, list):
        items, at = data, ""
    elif isinstance(data, dict) and "suites" in data and "suite" not in data:
        _keys(data, "", ("suites",))
        items, at = data["suites"], "suites"
        if not isinstance(items, list):
            raise InvalidArgument(f"suites: must be a list of suites, not {_kind(items)}")
    elif isinstance(data, dict):
        return [_suite(data, "", {})]
    else:
        raise InvalidArgument(
            f"content: must be a suite (a mapping with 'suite'), a mapping with 'suites', "
            f"or a list of suites, not {_kind(data)}"
        )
    where = at or "content"
    if not items:
        raise InvalidArgument(f"{where}: no suites")
    if len(items) > MAX_SUITES:
        raise InvalidArgument(f"{where}: {len(items)} suites; at most {MAX_SUITES} in one file")
    suites: list[Suite] = []
    first: dict[str, int] = {}
    memo: dict[int, tuple[TestTurn, ...]] = {}
    for i, item in enumerate(items):
        path = f"{at}[{i}]"
        # The name first: a file repeating one suite by YAML alias is refused before its cases are read again.
        name = _suite_name(item, path)
        if name in first:
            raise InvalidArgument(f"{path}.suite: {name!r} is also the name of {at}[{first[name]}]")
        first[name] = i
        suites.append(_suite(item, path, memo))
    return suites


def _suite_name(data: Any, path: str) -> str:
    _keys(data, path, _SUITE_KEYS)
    name = _text(data, path, "suite", required=True, limit=64)
    if not SUITE_NAME.fullmatch(name):
        raise InvalidArgument(
            f"{_at(path, 'suite')}: {name!r} must be 1-64 lowercase letters, digits, '_', '.' or '-', "
            f"starting with a letter or digit"
        )
    return name


def _suite(data: Any, path: str, memo: dict[int, tuple[TestTurn, ...]]) -> Suite:
    name = _suite_name(data, path)
    description = _text(data, path, "description", limit=MAX_DESCRIPTION, empty=True)
    cases_path = _at(path, "cases")
    items = _list(data, path, "cases", MAX_CASES, "case")
    cases: list[TestCase] = []
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        case = _case(item, f"{cases_path}[{i}]", memo)
        if case.name in first:
            raise InvalidArgument(
                f"{cases_path}[{i}].name: {case.name!r} is also the name of cases[{first[case.name]}]"
            )
        first[case.name] = i
        cases.append(case)
    return Suite(name, tuple(cases), description)


def _case(data: Any, path: str, memo: dict[int, tuple[TestTurn, ...]] | None = None) -> TestCase:
    _keys(data, path, _CASE_KEYS)
    name = _text(data, path, "name", required=True, limit=MAX_CASE_NAME)
    if not name.strip():
        raise InvalidArgument(f"{_at(path, 'name')}: must not be blank")
    if _CONTROL.search(name):
        raise InvalidArgument(f"{_at(path, 'name')}: must be one line, without control characters")
    turns_path = _at(path, "turns")
    items = _list(data, path, "turns", MAX_TURNS, "turn")
    # A YAML alias makes many cases share one list of turns: checked once, built once, so a
    # small file of aliases cannot cost seconds and gigabytes (1.5 million turns from 1.4 MB).
    if memo is not None and id(items) in memo:
        return TestCase(name, memo[id(items)])
    turns = tuple(_turn(item, f"{turns_path}[{j}]") for j, item in enumerate(items))
    if memo is not None:
        memo[id(items)] = turns
    return TestCase(name, turns)


def _turn(data: Any, path: str) -> TestTurn:
    _keys(data, path, _TURN_KEYS)
    text = _text(data, path, "text", required=True, limit=MAX_TEXT)
    if not text.strip():
        raise InvalidArgument(f"{_at(path, 'text')}: must not be blank")
    channel = _text(data, path, "channel", empty=True, pattern=CHANNEL, shape="a lowercase name such as app or ivr")
    locale = _text(data, path, "locale", empty=True, pattern=LOCALE, shape="a locale such as en-GB or zh-HK")
    return TestTurn(text, _expect(data.get("expect"), _at(path, "expect"), "expect" in data), channel, locale)


def _expect(data: Any, path: str, given: bool) -> Expect:
    checks = ", ".join(_EXPECT_KEYS)
    if not given or data is None:
        raise InvalidArgument(f"{path}: required (at least one of {checks})")
    _keys(data, path, _EXPECT_KEYS)
    if not data:
        raise InvalidArgument(f"{path}: must name at least one of {checks}")
    action = _text(data, path, "action", empty=True)
    if "action" in data and action not in ACTIONS:
        raise InvalidArgument(f"{_at(path, 'action')}: must be one of {', '.join(ACTIONS)}")
    intent: str | None = None
    if "intent" in data:
        if data["intent"] is None:
            raise InvalidArgument(
                f'{_at(path, "intent")}: must not be null; write "" for no intent, or leave it out to not check it'
            )
        intent = _text(data, path, "intent", empty=True)
        if intent and not ID_PATTERN.fullmatch(intent):
            raise InvalidArgument(f"{_at(path, 'intent')}: {intent!r} is not an FAQ id")
    language = _text(data, path, "language", empty=True)
    if "language" in data and language not in LANGUAGES:
        raise InvalidArgument(f"{_at(path, 'language')}: must be one of {', '.join(LANGUAGES)}")
    reply_contains = _text(data, path, "reply_contains", limit=MAX_TEXT, empty=True)
    if "reply_contains" in data and not reply_contains.strip():
        raise InvalidArgument(f"{_at(path, 'reply_contains')}: must not be blank")
    return Expect(action, intent, _slots(data, path), language, reply_contains)


def _slots(data: dict[str, Any], path: str) -> dict[str, str]:
    if "slots" not in data:
        return {}
    at = _at(path, "slots")
    value = data["slots"]
    if not isinstance(value, dict):
        raise InvalidArgument(f"{at}: must be a mapping of slot name to value, not {_kind(value)}")
    if not value:
        raise InvalidArgument(f"{at}: must name at least one slot (leave it out to not check slots)")
    slots: dict[str, str] = {}
    for name, v in value.items():
        if name not in SLOT_NAMES:
            raise InvalidArgument(f"{at}.{name}: not a slot; slots are {', '.join(SLOT_NAMES)}")
        if isinstance(v, int | float) and not isinstance(v, bool):
            v = str(v)  # only an explicit !!int or !!float tag gets here: our loaders keep numbers' text
        slots[name] = _string(v, f"{at}.{name}", limit=MAX_SLOT_VALUE, empty=True, what="a string or number")
    return slots


def _keys(data: Any, path: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(data, dict):
        raise InvalidArgument(f"{path or 'content'}: must be a mapping, not {_kind(data)}")
    for key in data:
        if key not in allowed:
            name = key if isinstance(key, str) else repr(key)
            raise InvalidArgument(f"{_at(path, name)}: unknown key; expected one of {', '.join(allowed)}")


def _list(data: dict[str, Any], path: str, key: str, limit: int, what: str) -> list[Any]:
    at = _at(path, key)
    if key not in data or data[key] is None:
        raise InvalidArgument(f"{at}: required")
    items = data[key]
    if not isinstance(items, list):
        raise InvalidArgument(f"{at}: must be a list, not {_kind(items)}")
    if not items:
        raise InvalidArgument(f"{at}: must have at least one {what}")
    if len(items) > limit:
        raise InvalidArgument(f"{at}: {len(items)} {what}s; at most {limit}")
    return items


def _text(
    data: dict[str, Any],
    path: str,
    key: str,
    *,
    required: bool = False,
    limit: int = MAX_TEXT,
    empty: bool = False,
    pattern: re.Pattern[str] | None = None,
    shape: str = "",
) -> str:
    """data[key] as a string ("" when optional and absent)."""
    at = _at(path, key)
    if key not in data:
        if required:
            raise InvalidArgument(f"{at}: required")
        return ""
    value = data[key]
    if value is None:
        raise InvalidArgument(f"{at}: required" if required else f"{at}: must not be null (leave it out instead)")
    text = _string(value, at, limit=limit, empty=empty)
    if pattern is not None and not pattern.fullmatch(text):
        raise InvalidArgument(f"{at}: {text!r} is not {shape}")
    return text


def _string(value: Any, at: str, *, limit: int, empty: bool = False, what: str = "a string") -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{at}: must be {what}, not {_kind(value)}")
    if not value and not empty:
        raise InvalidArgument(f"{at}: required")
    if len(value) > limit:
        raise InvalidArgument(f"{at}: {len(value)} characters; at most {limit}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from a JSON "\ud800" escape
        raise InvalidArgument(f"{at}: not valid Unicode text") from None
    return value


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
