"""Rasa Open Source 2.x and 3.x projects (YAML): NLU data, domain, stories and rules, in
one file or many (a whole project folder: `data/nlu.yml`, `domain.yml`, `config.yml`, ...;
every YAML file's sections are merged, as `rasa train` merges them).

What comes across:

- **An intent with a static text answer** becomes one FAQ entry: id `Ids().of(name)`
  (`faq/ask_fees` -> `faq.ask_fees`), title the name humanised (a retrieval intent's
  response key: `faq/ask_fees` -> "Ask fees"), questions its examples with the entity
  annotations taken out (`[Monday](day)` -> "Monday"), tags `imported:rasa` (and
  `retrieval` for a retrieval intent). Every intent takes its id, answered or not, and a
  name that is its own id (`check_balance`, not `Check_Balance`) keeps the plain one, so
  ids stay put across re-imports. Its answer is, for a retrieval intent, the response
  `utter_<intent>`; else the response of the first rule, then story, whose steps are
  exactly `intent: X` then `action: utter_Y`; else the response `utter_X`. A rule or story
  of those two steps whose action is a custom one means the intent has no static answer.
- **A response**: its first text variation for every channel (no `channel`, no
  `condition`) is the answer. Rasa picks among variations at random; twinteller has one
  answer per channel and language, so the other variations are reported. The first
  variation for a voice channel (`twilio_voice`, `audiocodes`, `jambonz`, anything named
  voice, ivr, phone, telephony or audio) is the `ivr` answer; other channels' variations
  and conditional ones (3.x `condition`) are reported. Buttons, images, custom payloads
  and the like are reported; their text comes across.
- **`{placeholders}`**: a variation whose placeholders are all twinteller slots (amount,
  currency, card_type) is the entry's slot answer, next to a variation without
  placeholders as its answer (twinteller asks the customer for a missing slot; a slot
  answer needs a plain answer beside it). A variation needing any other slot is reported
  ("needs slot X filled by the conversation"). `{{` and `}}` are Rasa's escaped braces.
- **Synonyms** (`synonym:` items, and `value` in entity annotations) become lexicon entries
  (term -> canonical). One the lexicon refuses, or a term already mapped, is reported.
- **The language** (`language:` of config.yml, "en" when there is none): English texts are
  the entries' own; a Chinese project's texts are its translation (`language_of`: zh ->
  zh-Hans, zh-TW/zh-HK -> zh-Hant) and, since an entry needs its own (English) answer, also
  the entry's own texts until someone translates them (the report says so). A language
  twinteller does not answer in is refused.

Reported, never imported (each with where it appeared): regexes and lookup tables (twinteller
has no patterns), custom actions, forms, slots (but twinteller's own, when a slot answer uses
them), entities with their roles and groups,
stories and rules beyond the intent -> response mapping, intents with no static text
answer, model configuration, test data, files that are not Rasa YAML. Counts per kind:
intents, examples, responses, synonyms, regexes, lookup tables, actions, forms, stories,
rules, slots, entities.

A malformed project raises SourceError naming the file and the key path (1-based indices,
as `nlu[3]`) with its line where the YAML tells it. A rule's or story's `utter_` action
with no response in the domain is malformed (when the export has a domain), and so is a
response answering an intent with a `{placeholder}` that is neither a slot nor an entity
(Rasa would say "None" there). Responses that answer no intent are only reported: their
placeholders may be filled by custom actions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from twinteller.errors import InvalidArgument
from twinteller.knowledge import faqs, languages
from twinteller.knowledge import lexicon as lexicon_module
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.lexicon import LexiconEntry
from twinteller.knowledge.schema import FaqText
from twinteller.platforms.mapping import Converted, Export, Ids, Report, SourceError, faq_id, language_of

PLATFORM = "rasa"
TAG = "imported:rasa"
RETRIEVAL_TAG = "retrieval"
IVR = "ivr"
KINDS = (
    "intents",
    "examples",
    "responses",
    "synonyms",
    "regexes",
    "lookup tables",
    "actions",
    "forms",
    "stories",
    "rules",
    "slots",
    "entities",
)

# Rasa's own annotation syntax (rasa/shared/nlu/training_data/entities_parser.py):
# [text](entity), [text](entity:value), [text]{"entity": ..., "value": ..., "role": ..., "group": ...},
# [text][{"entity": ...}, {"entity": ...}] (several entities over the same text).
_ENTITY = re.compile(
    r"\[(?P<text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)|\{(?P<dict>[^}]+?)\}|\[(?P<list>.*?)\])"
)
_ENTITY_DICT = re.compile(r"{(?P<dict>[^}]+?)\}")
# A response variable as Rasa fills it (rasa/core/nlg/interpolator.py); `{{x}}` is escaped.
_PLACEHOLDER = re.compile(r"(?<!\{)\{([^\n{}]+?)\}(?!\})")
_VERSION = re.compile(r"[23](\.\d+)*")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_VOICE_CHANNELS = {"twilio_voice", "audiocodes", "jambonz", "genesys", "browser_audio", "twilio_media_streams"}
_VOICE_WORDS = ("voice", "ivr", "phone", "telephony", "audio")
_YAML = (".yml", ".yaml")
_DOMAIN_KEYS = ("intents", "entities", "slots", "forms", "actions", "responses", "templates")
_FLOW_KEYS = ("stories", "rules")
_CONFIG_KEYS = {
    "pipeline": ("NLU pipeline", "twinteller trains its own model"),
    "policies": ("dialogue policies", "twinteller trains its own model and has no dialogue policies"),
    "recipe": ("training recipe", "twinteller trains its own model"),
    "assistant_id": ("assistant id", "twinteller names no assistant"),
    "session_config": ("session settings", "twinteller keeps its own conversation sessions"),
    "config": ("domain settings", "twinteller has no Rasa slots for entities to fill"),
    "e2e_tests": ("end-to-end tests", "tests of the Rasa assistant, not training data"),
    "flows": ("CALM flows", "twinteller answers each question on its own; flows are conversation logic"),
}
_NOT_TEXT = "twinteller replies in text only: the variation's text comes across without it"


@dataclass
class _Example:
    where: str
    text: str  # annotations taken out


@dataclass
class _Intent:
    name: str
    where: str  # where it first appeared
    examples: list[_Example] = field(default_factory=list)


@dataclass
class _Variation:
    where: str
    path: tuple[str | int, ...]  # in its file
    data: dict[str, Any]

    @property
    def text(self) -> str | None:
        text = self.data.get("text")
        return text if isinstance(text, str) and text.strip() else None

    @property
    def channel(self) -> str:
        return str(self.data.get("channel") or "")


@dataclass
class _Flow:
    kind: str  # "rule" or "story"
    name: str
    where: str
    file: str
    path: tuple[str | int, ...]
    data: dict[str, Any]
    steps: list[Any]


@dataclass
class _Answer:
    response: str
    answer: str
    ivr: str = ""
    slots: list[str] = field(default_factory=list)
    slot_answer: str = ""
    used: set[int] = field(default_factory=set)  # indices of the variations that came across


@dataclass
class _Project:
    export: Export
    report: Report
    intents: dict[str, _Intent] = field(default_factory=dict)
    synonyms: list[tuple[str, str, str]] = field(default_factory=list)  # (where, term, canonical)
    entities: dict[str, tuple[str, set[str], set[str]]] = field(default_factory=dict)  # name -> (where, roles, groups)
    domain_intents: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # name -> (where, properties)
    slots: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (where, type)
    forms: dict[str, str] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)
    responses: dict[str, list[_Variation]] = field(default_factory=dict)
    response_where: dict[str, str] = field(default_factory=dict)
    flows: list[_Flow] = field(default_factory=list)
    languages: list[tuple[str, str]] = field(default_factory=list)  # (file, code)
    has_domain: bool = False
    has_nlu: bool = False


# -- detect -----------------------------------------------------------------------------


def detect(export: Export) -> bool:
    """Whether the export looks like a Rasa 2.x/3.x project: a YAML file with `nlu` items
    or `responses`, stories or rules with steps, or domain keys in a file that says
    `version: "2.x"`/`"3.x"` or is called domain.yml. Never raises."""
    for name in _yaml_files(export):
        try:
            data = export.yaml(name)
        except (InvalidArgument, yaml.YAMLError, RecursionError):
            continue
        if isinstance(data, dict) and _looks_like_rasa(name, data):
            return True
    return False


def _looks_like_rasa(name: str, data: dict[Any, Any]) -> bool:
    nlu = data.get("nlu")
    if isinstance(nlu, list) and any(
        isinstance(i, dict) and set(i) & {"intent", "synonym", "regex", "lookup"} for i in nlu
    ):
        return True
    if isinstance(data.get("responses"), dict):
        return True
    for key in _FLOW_KEYS:
        flows = data.get(key)
        if isinstance(flows, list) and any(isinstance(f, dict) and "steps" in f for f in flows):
            return True
    version = data.get("version")
    versioned = isinstance(version, str) and bool(_VERSION.fullmatch(version.strip()))
    named = _basename(name).rsplit(".", 1)[0] == "domain"
    return (versioned or named) and any(key in data for key in _DOMAIN_KEYS)


# -- convert ----------------------------------------------------------------------------


def convert(export: Export) -> Converted:
    report = Report(PLATFORM)
    for kind in KINDS:
        report.present[kind] += 0
        report.imported[kind] += 0
    project = _Project(export, report)
    hidden: dict[str, int] = {}  # the first hidden folder or file -> how many files under it
    for name in sorted(export.files):
        if _hidden(name):
            parts = name.split("/")
            top = next(n for n, part in enumerate(parts) if part.startswith("."))
            prefix = "/".join(parts[: top + 1])
            hidden[prefix] = hidden.get(prefix, 0) + 1
        else:
            _read_file(project, name)
    for prefix, count in sorted(hidden.items()):
        report.omit(
            prefix,
            f"hidden ({count} file{'s' if count > 1 else ''})",
            "tool and version-control files are not part of a Rasa project's data",
        )
    if not project.has_nlu and not project.responses:
        shown = next(iter(export.files)) if len(export.files) == 1 else f"the export ({len(export.files)} files)"
        raise SourceError(shown, "", "no nlu or responses found: not a Rasa 2.x/3.x project")
    _check_flows(project)
    language, language_file = _language(project)
    records, used_responses, used_flows, imported = _faqs(project, language)
    if language != languages.EN:
        shown = language_file or "config.yml"
        report.omit(
            f"{shown}: language",
            f"English texts ({language})",
            f"twinteller's entries need their own (English) answer: the {language} texts are also the "
            "entries' own texts until they are translated",
        )
    lexicon = _lexicon(project)
    _report_rest(project, records, used_responses, used_flows, imported)
    return Converted(sorted(records, key=lambda r: r.id), lexicon, report)


def _yaml_files(export: Export) -> list[str]:
    return [n for n in sorted(export.files) if n.lower().endswith(_YAML) and not _hidden(n) and not _connector(n)]


def _basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _hidden(name: str) -> bool:
    return any(part.startswith(".") for part in name.split("/"))


def _connector(name: str) -> bool:
    return _basename(name).lower().rsplit(".", 1)[0] in ("credentials", "endpoints")


def _test_file(name: str) -> bool:
    """Rasa's test stories and test NLU data: in a `tests` folder, or named test_*."""
    parts = name.split("/")
    return "tests" in parts[:-1] or parts[-1].startswith("test_")


def _read_file(project: _Project, name: str) -> None:
    report = project.report
    lowered = name.lower()
    if not lowered.endswith(_YAML):
        if lowered.endswith(".py"):
            report.omit(name, "custom action code", "custom actions run code; twinteller answers from static text")
        elif lowered.endswith((".md", ".json")) and "data" in name.split("/")[:-1]:
            report.omit(
                name,
                "file",
                "Rasa Markdown and JSON training data are not read: convert them to YAML "
                "(rasa data convert nlu -f yaml)",
            )
        else:
            report.omit(name, "file", "not Rasa YAML data")
        return
    if _connector(name):
        report.omit(name, "connector settings", "channel credentials and endpoints are not imported")
        return
    if _test_file(name):
        report.omit(name, "test data", "Rasa test stories and test NLU data check the assistant; not training data")
        return
    data = project.export.yaml(name)
    if data is None:
        return  # an empty file
    if not isinstance(data, dict):
        raise SourceError(
            name, "top level", f"expected a mapping of Rasa keys (nlu, responses, ...), got {_kind(data)}"
        )
    if not any(
        isinstance(k, str) and (k in ("nlu", "language") or k in _DOMAIN_KEYS or k in _FLOW_KEYS or k in _CONFIG_KEYS)
        for k in data
    ):
        report.omit(name, "file", "not Rasa data: no nlu, responses, domain, stories, rules or config keys")
        return
    for key in sorted(data, key=str):
        value = data[key]
        if key == "version":
            continue
        if key == "nlu":
            _read_nlu(project, name, value)
        elif key in ("responses", "templates"):
            _read_responses(project, name, key, value)
        elif key == "intents":
            _read_domain_intents(project, name, value)
        elif key == "entities":
            _read_domain_entities(project, name, value)
        elif key == "slots":
            _read_named(project, name, "slots", value)
        elif key == "forms":
            _read_named(project, name, "forms", value)
        elif key == "actions":
            _read_actions(project, name, value)
        elif key in _FLOW_KEYS:
            _read_flows(project, name, key, value)
        elif key == "language":
            if not isinstance(value, str) or not value.strip():
                raise SourceError(name, _at(project, name, ("language",), "language"), "expected a language code")
            project.languages.append((name, value.strip()))
        elif key in _CONFIG_KEYS:
            what, reason = _CONFIG_KEYS[key]
            report.omit(f"{name}: {key}", what, reason)
        else:
            report.omit(f"{name}: {key}", f"key {key}", "not part of Rasa 2.x/3.x training data, domain or config")


def _kind(value: Any) -> str:
    names: dict[type, str] = {list: "a list", dict: "a mapping", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _at(project: _Project, name: str, path: tuple[str | int, ...], label: str) -> str:
    """`label` with the line of `path` in the file, when the YAML tells it."""
    line = _line(project.export, name, path)
    return f"{label} at line {line}" if line else label


def _line(export: Export, name: str, path: tuple[str | int, ...]) -> int | None:
    try:
        node = yaml.compose(export.text(name), Loader=yaml.SafeLoader)
    except (InvalidArgument, yaml.YAMLError):
        return None
    for step in path:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            node = next((v for k, v in node.value if getattr(k, "value", None) == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            node = node.value[step]
        else:
            return None
        if node is None:
            return None
    return node.start_mark.line + 1 if node is not None else None


# -- nlu --------------------------------------------------------------------------------


def _read_nlu(project: _Project, name: str, nlu: Any) -> None:
    if nlu is None:
        return
    if not isinstance(nlu, list):
        raise SourceError(
            name,
            _at(project, name, ("nlu",), "nlu"),
            f"expected a list of intents, synonyms, regexes and lookup tables, got {_kind(nlu)}",
        )
    project.has_nlu = project.has_nlu or bool(nlu)
    for i, item in enumerate(nlu):
        label = f"nlu[{i + 1}]"
        path: tuple[str | int, ...] = ("nlu", i)
        if not isinstance(item, dict):
            raise SourceError(name, _at(project, name, path, label), f"expected a mapping, got {_kind(item)}")
        kind = next((k for k in ("intent", "synonym", "regex", "lookup") if k in item), None)
        if kind is None:
            raise SourceError(name, _at(project, name, path, label), "expected one of intent, synonym, regex, lookup")
        item_name = item[kind]
        if isinstance(item_name, bool) or not isinstance(item_name, str | int | float) or not str(item_name).strip():
            raise SourceError(name, _at(project, name, (*path, kind), label), f"{kind}: expected a name")
        item_name = str(item_name).strip()
        label = f"{label} ({kind} {item_name})"
        if kind == "intent":
            _read_intent(project, name, path, label, item_name, item)
        else:
            lines = _block(project, name, path, label, item)
            if kind == "synonym":
                for j, _, text in lines:
                    if text:
                        project.synonyms.append((f"{name}: {label}.examples[{j}]", text, item_name))
            else:
                kind_plural = "regexes" if kind == "regex" else "lookup tables"
                project.report.present[kind_plural] += 1
                entries = sum(1 for _, _, text in lines if text)
                nouns = ("pattern", "patterns") if kind == "regex" else ("entry", "entries")
                noun = nouns[0] if entries == 1 else nouns[1]
                what = f"{'regex' if kind == 'regex' else 'lookup table'} {item_name} ({entries} {noun})"
                project.report.omit(
                    f"{name}: {label}",
                    what,
                    "twinteller has no patterns: its model learns from the questions and the lexicon",
                )


def _block(
    project: _Project, name: str, path: tuple[str | int, ...], label: str, item: dict[str, Any]
) -> list[tuple[int, int, str | None]]:
    """The `- ` lines of an item's `examples: |` block: (n from 1, the line's offset in the
    block, its text). A line that does not start with '-', or has no words, is reported
    (Rasa skips the first kind too) and comes with text None."""
    examples = item.get("examples")
    if examples is None or (isinstance(examples, str) and not examples.strip()):
        raise SourceError(name, _at(project, name, path, label), "no examples")
    if not isinstance(examples, str):
        raise SourceError(
            name,
            _at(project, name, (*path, "examples"), label),
            f"examples: expected a block of '- ' lines, got {_kind(examples)}",
        )
    out: list[tuple[int, int, str | None]] = []
    for offset, line in enumerate(examples.splitlines()):
        if not line.strip():
            continue
        n = len(out) + 1
        where = f"{name}: {label}.examples[{n}]"
        text = line[1:].strip("\n\r ") if line.startswith("-") else None
        if text is None:
            project.report.omit(where, repr(line.strip()), "an example line must start with '- ' (Rasa skips it too)")
        elif not text:
            project.report.omit(where, "empty example", "an example needs words")
        out.append((n, offset, text or None))
    return out


class _BadAnnotation(Exception):
    pass


def _read_intent(
    project: _Project, name: str, path: tuple[str | int, ...], label: str, intent: str, item: dict[str, Any]
) -> None:
    report = project.report
    examples = item.get("examples")
    found = project.intents.setdefault(intent, _Intent(intent, f"{name}: {label}"))
    if "metadata" in item:
        report.omit(f"{name}: {label}.metadata", f"metadata of intent {intent}", "used by custom NLU components only")
    texts: list[tuple[str, str | None, tuple[str | int, ...], int]] = []  # (where, example, YAML path, line offset)
    if isinstance(examples, list):
        if not examples:
            raise SourceError(name, _at(project, name, path, label), "no examples")
        for j, example in enumerate(examples):
            where = f"{label}.examples[{j + 1}]"
            text = example.get("text") if isinstance(example, dict) else example
            if not isinstance(text, str):
                raise SourceError(
                    name,
                    _at(project, name, (*path, "examples", j), where),
                    f"not a string ({_kind(text)}): expected '- text: ...' or a block of '- ' lines",
                )
            if isinstance(example, dict) and "metadata" in example:
                report.omit(f"{name}: {where}.metadata", "example metadata", "used by custom NLU components only")
            text = text.strip("\n\r ")
            if not text:
                report.omit(f"{name}: {where}", "empty example", "an example needs words")
            texts.append((where, text or None, (*path, "examples", j), 0))
    else:
        for j, offset, text in _block(project, name, path, label, item):
            texts.append((f"{label}.examples[{j}]", text, (*path, "examples"), offset + 1))
    for where, raw, yaml_path, offset in texts:
        report.present["examples"] += 1
        if raw is None:
            continue  # reported above
        try:
            annotations = _annotations(raw)
        except _BadAnnotation as e:
            line = _line(project.export, name, yaml_path)
            raise SourceError(name, f"{where} at line {line + offset}" if line else where, str(e)) from None
        for entity, synonym, role, group in annotations:
            roles, groups = project.entities.setdefault(entity, (f"{name}: {where}", set(), set()))[1:]
            if role:
                roles.add(role)
            if group:
                groups.add(group)
            if synonym is not None:
                project.synonyms.append((f"{name}: {where}", *synonym))
        plain = _ENTITY.sub(lambda m: m.group("text"), raw)
        if "\n" in plain or "\r" in plain:
            report.omit(f"{name}: {where}", repr(plain), "an example spans lines; a question is one line")
            continue
        found.examples.append(_Example(f"{name}: {where}", plain))


def _annotations(example: str) -> list[tuple[str, tuple[str, str] | None, str, str]]:
    """(entity, (text, value) when the annotation gives a value other than its text, role,
    group) for each entity annotation of an example; _BadAnnotation for one that is not."""
    found: list[tuple[str, tuple[str, str] | None, str, str]] = []
    for match in _ENTITY.finditer(example):
        text = match.group("text")
        if match.group("entity"):
            entity, value = match.group("entity").strip().strip("\"'"), match.group("value")
            found.append((entity, (text, value) if value and value != text else None, "", ""))
            continue
        if match.group("dict"):
            dicts = [match.group("dict")]
        else:
            dicts = [m.group("dict") for m in _ENTITY_DICT.finditer(match.group("list") or "")]
        for raw in dicts:
            try:
                data = json.loads("{" + raw + "}")
            except json.JSONDecodeError as e:
                raise _BadAnnotation(f"entity annotation {{{raw}}} is not valid JSON: {e.msg}") from None
            entity = data.get("entity")
            if not isinstance(entity, str) or not entity:
                raise _BadAnnotation(f'entity annotation {{{raw}}}: "entity" must name the entity')
            fields = {k: data.get(k) for k in ("value", "role", "group")}
            for key, v in fields.items():
                if v is not None and not isinstance(v, str):
                    raise _BadAnnotation(f'entity annotation {{{raw}}}: "{key}" must be a string')
            value = fields["value"]
            synonym = (text, value) if isinstance(value, str) and value and value != text else None
            found.append((entity, synonym, fields["role"] or "", fields["group"] or ""))
    return found


# -- domain -----------------------------------------------------------------------------


def _read_responses(project: _Project, name: str, key: str, responses: Any) -> None:
    if responses is None:
        return
    project.has_domain = True
    if not isinstance(responses, dict):
        raise SourceError(
            name, _at(project, name, (key,), key), f"expected a mapping of responses, got {_kind(responses)}"
        )
    for response, variations in responses.items():
        label = f"{key}.{response}"
        path: tuple[str | int, ...] = (key, response)
        if not isinstance(response, str) or not response:
            raise SourceError(name, _at(project, name, path, label), "a response needs a name")
        if not isinstance(variations, list) or not variations:
            raise SourceError(name, _at(project, name, path, label), "expected a list of variations (- text: ...)")
        project.response_where.setdefault(response, f"{name}: {label}")
        merged = project.responses.setdefault(response, [])
        for k, variation in enumerate(variations):
            where = f"{label}[{k + 1}]"
            if not isinstance(variation, dict):
                raise SourceError(
                    name, _at(project, name, (*path, k), where), f"expected a mapping, got {_kind(variation)}"
                )
            text = variation.get("text")
            if text is not None and not isinstance(text, str):
                raise SourceError(
                    name,
                    _at(project, name, (*path, k, "text"), f"{where}.text"),
                    f"expected a string, got {_kind(text)}",
                )
            merged.append(_Variation(f"{name}: {where}", (*path, k), variation))


def _entries(project: _Project, name: str, key: str, value: Any) -> list[tuple[int, str, Any]]:
    """A domain list of names or {name: properties}: (index, name, properties)."""
    if value is None:
        return []
    if isinstance(value, dict):
        items: list[Any] = [{k: v} for k, v in value.items()]
    elif isinstance(value, list):
        items = value
    else:
        raise SourceError(name, _at(project, name, (key,), key), f"expected a list, got {_kind(value)}")
    out: list[tuple[int, str, Any]] = []
    for i, item in enumerate(items):
        if isinstance(item, str) and item:
            out.append((i, item, None))
        elif isinstance(item, dict) and len(item) == 1 and isinstance(next(iter(item)), str):
            entry, props = next(iter(item.items()))
            out.append((i, entry, props))
        else:
            raise SourceError(name, _at(project, name, (key, i), f"{key}[{i + 1}]"), "expected a name or {name: ...}")
    return out


def _read_domain_intents(project: _Project, name: str, value: Any) -> None:
    project.has_domain = True
    for i, intent, props in _entries(project, name, "intents", value):
        keys = sorted(props) if isinstance(props, dict) else []
        where, known = project.domain_intents.get(intent, (f"{name}: intents[{i + 1}]", []))
        project.domain_intents[intent] = (where, sorted(set(known) | set(keys)))


def _read_domain_entities(project: _Project, name: str, value: Any) -> None:
    project.has_domain = True
    for i, entity, props in _entries(project, name, "entities", value):
        where, roles, groups = project.entities.get(entity, (f"{name}: entities[{i + 1}]", set(), set()))
        if ": entities[" not in where:
            where = f"{name}: entities[{i + 1}]"  # the domain's declaration is the place to name
        if isinstance(props, dict):
            roles |= {str(r) for r in props.get("roles") or []}
            groups |= {str(g) for g in props.get("groups") or []}
        project.entities[entity] = (where, roles, groups)


def _read_named(project: _Project, name: str, key: str, value: Any) -> None:
    """slots or forms: a mapping of name -> properties."""
    project.has_domain = True
    if value is None:
        return
    if not isinstance(value, dict):
        raise SourceError(name, _at(project, name, (key,), key), f"expected a mapping, got {_kind(value)}")
    for item, props in value.items():
        where = f"{name}: {key}.{item}"
        if key == "slots":
            kind = props.get("type") if isinstance(props, dict) else None
            project.slots.setdefault(str(item), (where, str(kind or "")))
        else:
            project.forms.setdefault(str(item), where)


def _read_actions(project: _Project, name: str, value: Any) -> None:
    project.has_domain = True
    for i, action, _ in _entries(project, name, "actions", value):
        if not action.startswith(("utter_", "respond_")):  # responses and retrieval actions are not code
            project.actions.setdefault(action, f"{name}: actions[{i + 1}]")


def _read_flows(project: _Project, name: str, key: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise SourceError(name, _at(project, name, (key,), key), f"expected a list, got {_kind(value)}")
    kind = "rule" if key == "rules" else "story"
    for i, flow in enumerate(value):
        label = f"{key}[{i + 1}]"
        if not isinstance(flow, dict):
            raise SourceError(name, _at(project, name, (key, i), label), f"expected a mapping, got {_kind(flow)}")
        flow_name = str(flow.get(kind, "")).strip()
        if flow_name:
            label = f"{label} ({kind} {flow_name})"
        steps = flow.get("steps")
        if not isinstance(steps, list):
            raise SourceError(name, _at(project, name, (key, i), label), "steps: expected a list of steps")
        for j, step in enumerate(steps):
            if not isinstance(step, dict):
                raise SourceError(
                    name,
                    _at(project, name, (key, i, "steps", j), f"{label}.steps[{j + 1}]"),
                    f"expected a mapping, got {_kind(step)}",
                )
        project.report.present["rules" if kind == "rule" else "stories"] += 1
        project.flows.append(_Flow(kind, flow_name, f"{name}: {label}", name, (key, i), flow, steps))


def _check_flows(project: _Project) -> None:
    """A rule's or story's `utter_` action must be a response of the domain (or a retrieval
    intent's group, `utter_faq` for `utter_faq/...`)."""
    if not project.has_domain:
        return
    groups = {r.split("/", 1)[0] for r in project.responses if "/" in r}
    for flow in project.flows:
        for j, step in enumerate(flow.steps):
            action = step.get("action")
            if isinstance(action, str) and action.startswith("utter_"):
                if action not in project.responses and action not in groups:
                    label = flow.where.split(": ", 1)[1] + f".steps[{j + 1}]"
                    raise SourceError(
                        flow.file,
                        _at(project, flow.file, (*flow.path, "steps", j), label),
                        f"action {action}: no such response in the domain",
                    )


# -- FAQ entries ------------------------------------------------------------------------


def _language(project: _Project) -> tuple[str, str]:
    """twinteller's language of the project's texts, and the file that says so."""
    if not project.languages:
        return languages.EN, ""
    first_file, code = project.languages[0]
    for other_file, other in project.languages[1:]:
        if other != code:
            raise SourceError(other_file, "language", f"{other!r} differs from {code!r} in {first_file}")
    language = language_of(code)
    if language is None:
        raise SourceError(
            first_file,
            "language",
            f"{code!r} is not a language twinteller answers in ({', '.join(languages.LANGUAGES)})",
        )
    return language, first_file


def _is_exact(flow: _Flow) -> tuple[str, str] | None:
    """(intent, action) of a rule or story that is exactly `intent: X` then `action: A`,
    with no condition, entities or other step."""
    if set(flow.data) - {flow.kind, "steps", "metadata"} or len(flow.steps) != 2:
        return None
    first, second = flow.steps
    if set(first) != {"intent"} or set(second) != {"action"}:
        return None
    intent, action = first["intent"], second["action"]
    return (intent, action) if isinstance(intent, str) and isinstance(action, str) else None


def _rules_first(project: _Project) -> list[int]:
    return sorted(range(len(project.flows)), key=lambda n: project.flows[n].kind != "rule")


def _first_action_after(project: _Project, intent: str) -> tuple[str, str] | None:
    """The first action right after `intent` in any rule, then story: (action, where)."""
    for n in _rules_first(project):
        flow = project.flows[n]
        for j, step in enumerate(flow.steps[:-1]):
            after = flow.steps[j + 1].get("action")
            if step.get("intent") == intent and isinstance(after, str):
                return after, flow.where
    return None


def _faqs(project: _Project, language: str) -> tuple[list[FaqRecord], set[str], set[int], set[str]]:
    """The entries, and the responses, flows and intents that came across."""
    report = project.report
    ids = Ids()
    records: list[FaqRecord] = []
    used_responses: set[str] = set()
    used_flows: set[int] = set()
    imported: set[str] = set()
    exact: dict[str, tuple[int, str]] = {}  # intent -> (flow index, action): the first rule, then story
    group_flows: dict[str, list[int]] = {}  # retrieval group -> its rules (intent: faq -> utter_faq/respond_faq)
    for n in _rules_first(project):
        pair = _is_exact(project.flows[n])
        if pair:
            exact.setdefault(pair[0], (n, pair[1]))
            if pair[1] in (f"utter_{pair[0]}", f"respond_{pair[0]}"):
                group_flows.setdefault(pair[0], []).append(n)
    groups = {name.split("/", 1)[0] for name in project.intents if "/" in name}
    domain_only = sorted(set(project.domain_intents) - set(project.intents) - groups)
    report.present["intents"] += len(project.intents) + len(domain_only)
    for declared in domain_only:
        report.omit(
            project.domain_intents[declared][0],
            f"intent {declared}",
            "declared in the domain with no training examples",
        )
    # Every intent takes its id, answered or not, so ids stay put when answers come and go; a
    # name that is its own id ("check_balance", not "Check_Balance") comes first and keeps it.
    entry_ids = {name: ids.of(name) for name in sorted(project.intents, key=lambda n: (faq_id(n) != _slug(n), n))}
    for name in sorted(project.intents):
        entry_id = entry_ids[name]
        intent = project.intents[name]
        retrieval = "/" in name
        flow_index: int | None = None
        if retrieval:
            response = f"utter_{name}"
            missing = f"answered by nothing (no response {response})"
        elif name in exact:
            flow_index, response = exact[name]
            flow = project.flows[flow_index]
            if not response.startswith("utter_"):
                report.omit(
                    intent.where, f"intent {name}", f"no static text answer: answered by {response} ({flow.where})"
                )
                continue
            missing = f"answered by nothing (no response {response}, which {flow.where} names)"
        else:
            response = f"utter_{name}"
            after = _first_action_after(project, name)
            missing = (
                f"answered by {after[0]} within a conversation flow ({after[1]})"
                if after
                else f"answered by nothing (no rule or story {name} -> utter_..., no response {response})"
            )
        if response not in project.responses:
            report.omit(intent.where, f"intent {name}", f"no static text answer: {missing}")
            continue
        _check_placeholders(project, response)
        answer, why = _answer(project, response)
        if answer is None:
            report.omit(intent.where, f"intent {name}", f"no static text answer: {response} {why}")
            continue
        record, dropped = _record(entry_id, name, intent, answer, language, retrieval)
        for where, what, why in dropped:
            report.omit(where, what, why)
        reason = "" if record.questions else "no example came across (each is reported)"
        try:
            faqs.validate(record)
        except InvalidArgument as e:
            reason = reason or f"not a valid FAQ entry: {e}"
        if reason:
            report.omit(intent.where, f"intent {name}", reason)
            continue
        records.append(record)
        imported.add(name)
        report.imported["intents"] += 1
        report.imported["examples"] += len(record.questions)
        if response not in used_responses:
            used_responses.add(response)
            _report_variations(project, response, answer)
        if flow_index is not None:
            used_flows.add(flow_index)
        if retrieval:  # the group's rule serves every member of the group
            used_flows.update(group_flows.get(name.split("/", 1)[0], []))
    return records, used_responses, used_flows, imported


def _slug(name: str) -> str:
    return name.replace("/", ".")


def _placeholders(text: str) -> list[str]:
    return sorted({m.group(1).strip() for m in _PLACEHOLDER.finditer(text)})


def _check_placeholders(project: _Project, response: str) -> None:
    """A response that answers an intent is filled by Rasa from slots: a variable that is
    neither a slot nor an entity would read "None"."""
    known = set(project.slots) | set(project.entities)
    for variation in project.responses[response]:
        for name in _placeholders(variation.text or ""):
            if name not in known:
                file, where = variation.where.split(": ", 1)
                raise SourceError(
                    file,
                    _at(project, file, (*variation.path, "text"), f"{where}.text"),
                    f"{{{name}}} is neither a slot nor an entity in the domain",
                )


def _voice(channel: str) -> bool:
    lowered = channel.lower()
    return lowered in _VOICE_CHANNELS or any(word in lowered for word in _VOICE_WORDS)


def _unescape(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


def _answer(project: _Project, response: str) -> tuple[_Answer | None, str]:
    """The response's answers, or None and why it has none for every channel: the first
    plain text variation for every channel, the first whose placeholders are all
    twinteller's slots (its slot answer), the first plain one for a voice channel (ivr)."""
    variations = project.responses[response]
    plain: list[int] = []
    slotted: list[int] = []
    ivr: list[int] = []
    every: list[int] = []
    for k, variation in enumerate(variations):
        text = variation.text
        if text is None or "condition" in variation.data:
            continue
        needs = _placeholders(text)
        if not variation.channel:
            every.append(k)
            if not needs:
                plain.append(k)
            elif set(needs) <= set(faqs.SLOT_NAMES):
                slotted.append(k)
        elif _voice(variation.channel) and not needs:
            ivr.append(k)
    if not every:
        return None, "has no text variation for every channel (only channel-specific, conditional or non-text ones)"
    if not plain:
        needs = sorted({n for k in every for n in _placeholders(variations[k].text or "")})
        why = f"needs slot {', '.join(needs)} filled by the conversation"
        if set(needs) <= set(faqs.SLOT_NAMES):
            why += " in every variation (a slot answer needs a plain answer beside it)"
        return None, why
    answer = _Answer(response, _unescape(variations[plain[0]].text or ""), used={plain[0]})
    if slotted:
        template = variations[slotted[0]].text or ""
        answer.slots = [s for s in faqs.SLOT_NAMES if s in _placeholders(template)]
        answer.slot_answer = template
        answer.used.add(slotted[0])
    if ivr:
        answer.ivr = _unescape(variations[ivr[0]].text or "")
        answer.used.add(ivr[0])
    return answer, ""


def _report_variations(project: _Project, response: str, answer: _Answer) -> None:
    """Every variation of a response that answers an intent, but the ones that came across;
    and what of those did not come across (buttons, images, ...)."""
    report = project.report
    for k, variation in enumerate(project.responses[response]):
        data, text, channel = variation.data, variation.text, variation.channel
        extras = sorted(str(key) for key in data if key not in ("text", "channel", "condition", "metadata", "id"))
        if k in answer.used:
            if extras:
                report.omit(variation.where, f"{', '.join(extras)} of {response}", _NOT_TEXT)
            continue
        what = f"variation {k + 1} of {response}" + (f" (channel {channel})" if channel else "")
        needs = _placeholders(text or "")
        if text is None:
            reason = f"no text ({', '.join(extras) or 'empty'}): twinteller replies in text"
        elif "condition" in data:
            reason = (
                f"conditional on {_condition(data['condition'])}: twinteller answers the same in every conversation"
            )
        elif channel and not _voice(channel):
            reason = f"a variation for Rasa's {channel} channel: only voice channels come across (as ivr)"
        elif needs and (channel or not set(needs) <= set(faqs.SLOT_NAMES)):
            reason = f"needs slot {', '.join(needs)} filled by the conversation"
        else:
            reason = "twinteller has one answer per channel and language; Rasa picks a variation at random"
        report.omit(variation.where, what, reason)


def _condition(condition: Any) -> str:
    if isinstance(condition, list):
        names = sorted({str(c.get("name")) for c in condition if isinstance(c, dict) and c.get("name")})
        if names:
            return "slot " + ", ".join(names)
    return "a condition"


def _title(name: str) -> str:
    """The intent name humanised ("ask_fees", "askFees" -> "Ask fees"; a retrieval intent's
    response key: "faq/ask_fees" -> "Ask fees"); acronyms keep their case."""
    key = name.split("/", 1)[-1]
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", key)
    words = [w if w.isupper() and len(w) > 1 else w.lower() for w in re.split(r"[\s_\-.+]+", spaced) if w]
    title = " ".join(words) or name.strip() or name
    return (title[:1].upper() + title[1:])[: faqs.MAX_TITLE]


def _record(
    faq_id: str, name: str, intent: _Intent, answer: _Answer, language: str, retrieval: bool
) -> tuple[FaqRecord, list[tuple[str, str, str]]]:
    """The entry, and what of the intent's examples did not come across."""
    questions: list[str] = []
    seen: dict[str, str] = {}
    dropped: list[tuple[str, str, str]] = []
    for example in intent.examples:
        text = example.text
        if text in seen:
            dropped.append((example.where, repr(text), f"the same question as {seen[text]} once annotations are out"))
        elif len(text.encode("utf-8")) > faqs.MAX_QUESTION_BYTES:
            dropped.append((example.where, repr(text[:40] + "..."), f"over {faqs.MAX_QUESTION_BYTES} bytes"))
        elif len(questions) >= faqs.MAX_QUESTIONS:
            dropped.append((example.where, repr(text), f"beyond twinteller's {faqs.MAX_QUESTIONS} questions an entry"))
        else:
            seen[text] = example.where.split(": ", 1)[1]
            questions.append(text)
    title = _title(name)
    channels = {IVR: answer.ivr} if answer.ivr else {}
    translations: dict[str, FaqText] = {}
    if language != languages.EN:
        translations[language] = FaqText(
            title=title if _CJK.search(title) else "",
            answer=answer.answer,
            channel_answers=dict(channels),
            slot_answer=answer.slot_answer,
        )
    record = FaqRecord(
        id=faq_id,
        title=title,
        answer=answer.answer,
        channel_answers=channels,
        questions=questions,
        tags=[TAG, RETRIEVAL_TAG] if retrieval else [TAG],
        slots=list(answer.slots),
        slot_answer=answer.slot_answer,
        translations=translations,
    )
    return record, dropped


# -- lexicon and the rest of the report --------------------------------------------------


def _lexicon(project: _Project) -> list[LexiconEntry]:
    """Synonyms as lexicon entries: the first mapping of a term wins (matching ignores case)."""
    report = project.report
    entries: dict[str, LexiconEntry] = {}  # casefolded term -> entry
    seen: set[tuple[str, str]] = set()
    for where, term, canonical in project.synonyms:
        if (term, canonical) in seen:
            continue  # the same synonym again (Rasa keeps one)
        seen.add((term, canonical))
        report.present["synonyms"] += 1
        what = f"synonym {term!r} -> {canonical!r}"
        entry = LexiconEntry(term, canonical)
        try:
            lexicon_module.validate(entry)
        except InvalidArgument as e:
            report.omit(where, what, f"the lexicon refuses it: {e}")
            continue
        taken = entries.get(term.casefold())
        if taken is not None:
            reason = (
                f"{taken.term!r} already maps to {taken.canonical!r}"
                if taken.canonical != canonical
                else f"the same term as {taken.term!r} (the lexicon matches without case)"
            )
            report.omit(where, what, reason)
            continue
        entries[term.casefold()] = entry
        report.imported["synonyms"] += 1
    return sorted(entries.values(), key=lambda e: (e.term.casefold(), e.term, e.canonical))


def _report_rest(
    project: _Project, records: list[FaqRecord], used_responses: set[str], used_flows: set[int], imported: set[str]
) -> None:
    report = project.report
    report.present["responses"] += len(project.responses)
    report.imported["responses"] += len(used_responses)
    for response in sorted(set(project.responses) - used_responses):
        report.omit(
            project.response_where[response],
            f"response {response}",
            "the answer of no imported intent (used by stories, rules, forms or custom actions, or its "
            "intent has no answer twinteller can give)",
        )
    for n, flow in enumerate(project.flows):
        kind = "rules" if flow.kind == "rule" else "stories"
        if n in used_flows:
            report.imported[kind] += 1
            continue
        pair = _is_exact(flow)
        if pair is None:
            reason = "a conversation flow: twinteller answers each question on its own (only intent -> response)"
        elif not pair[1].startswith(("utter_", "respond_")):
            reason = f"answers with custom action {pair[1]}, which runs code"
        elif pair[0] in imported:
            reason = f"intent {pair[0]} came across with the answer of an earlier rule or story"
        else:
            reason = f"intent {pair[0]} did not come across (its line says why)"
        report.omit(flow.where, f"{flow.kind} {flow.name!r}" if flow.name else flow.kind, reason)
    report.present["actions"] += len(project.actions)
    for action in sorted(project.actions):
        report.omit(
            project.actions[action],
            f"custom action {action}",
            "custom actions run code; twinteller answers from static text",
        )
    report.present["forms"] += len(project.forms)
    for form in sorted(project.forms):
        report.omit(
            project.forms[form],
            f"form {form}",
            "forms collect slots over several turns; twinteller "
            "asks only for its own slots (amount, currency, card_type)",
        )
    used_slots = {s for r in records for s in r.slots}
    report.present["slots"] += len(project.slots)
    for slot in sorted(project.slots):
        where, kind = project.slots[slot]
        if slot in used_slots:
            report.imported["slots"] += 1
            continue
        report.omit(
            where,
            f"slot {slot}" + (f" ({kind})" if kind else ""),
            "Rasa slots hold conversation state; "
            "twinteller fills only its own slots (amount, currency, card_type) from the question",
        )
    report.present["entities"] += len(project.entities)
    for entity in sorted(project.entities):
        where, roles, groups = project.entities[entity]
        what = f"entity {entity}"
        if roles:
            what += f" with roles {', '.join(sorted(roles))}"
        if groups:
            what += f" {'and' if roles else 'with'} groups {', '.join(sorted(groups))}"
        report.omit(
            where,
            what,
            "twinteller extracts no entities: values with synonyms come across as lexicon "
            "entries, and it reads its own slots itself",
        )
    for intent in sorted(project.domain_intents):
        where, props = project.domain_intents[intent]
        if props:
            report.omit(where, f"{', '.join(props)} of intent {intent}", "twinteller has no per-intent settings")
