"""Dialogflow CX agent exports in the JSON package format (a folder or zip, possibly inside
one top folder) -> FAQ and lexicon entries (twinteller/platforms/mapping.py).

The package (Google's "JSON package export format"): `agent.json` (displayName,
defaultLanguageCode, supportedLanguageCodes); `intents/<Intent>/<Intent>.json` (displayName,
parameters, labels) with `intents/<Intent>/trainingPhrases/<language>.json`;
`entityTypes/<Type>/<Type>.json` (kind, autoExpansionMode) with
`entityTypes/<Type>/entities/<language>.json`; `flows/<Flow>/<Flow>.json` (the flow's start
page: transitionRoutes, eventHandlers) with `flows/<Flow>/pages/<Page>.json` and
`flows/<Flow>/transitionRouteGroups/<Group>.json`; `webhooks/`, `testCases/`, `generators/`,
`playbooks/` and so on. Folder and file names are display names, percent-encoded
(`Order%20Pizza`, `%E6%9F%A5%E8%A9%A2`); a file's `displayName` wins over its name. Routes
name their intent, target page and webhook by display name.

What comes across:

- An intent that a transition route answers with static text becomes one FAQ entry: its
  display name is the title and the source of the id, the training phrases of every
  language (parts joined) its questions, and the route's text its answer. The text is the
  route's `triggerFulfillment` followed by the `entryFulfillment` of the page the route
  goes to (CX says both). The first route that answers an intent wins (flows, then their
  pages, then their route groups, by name; then the agent's route groups); another route
  with a different answer is reported.
- Languages: each message's `languageCode` (the agent's default when absent). The entry's
  own answer is the English text (the default language's text when the agent has none); the
  zh-Hant and zh-Hans texts (zh-HK, zh-TW, zh-CN ...) are its translations, the default
  language and then supportedLanguageCodes deciding between two codes of one language.
  Texts in languages twinteller does not answer in are reported; their phrases still train.
- Several text messages in one language are said in turn: joined with a line break. A
  message's `text.text` with several variants (CX picks one at random): the first is the
  answer, the others are reported.
- `outputAudioText` is the "ivr" channel's answer (SSML with its tags stripped and its
  entities unescaped); in a language with no text message it is the answer itself.
  `playAudio`, `telephonyTransferCall`, `liveAgentHandoff`, payloads, conditional cases,
  `setParameterActions` and a message for a custom channel are reported.
- An intent with no static answer (a webhook's reply, a page that collects parameters, a
  transition to another flow, a condition, no route at all) is not an FAQ: reported with
  the reason. So are negative (`isFallback`) intents, event handlers, form parameters,
  condition routes, pages whose text answers no imported intent, webhooks, test cases,
  generators, playbooks and generative settings.
- Entity types: a KIND_MAP synonym -> LexiconEntry(synonym, value) when it is not the value
  itself (refusals of the lexicon's checks, and a term already mapped to another value,
  are reported); KIND_LIST adds no lexicon entry; KIND_REGEXP is reported.

A malformed package raises SourceError naming the file and key: no agent.json, an intent,
entity type or flow folder without its `<Name>.json`, an answered intent without training
phrases, a route naming an intent that does not exist, a phrase part whose parameterId
names no parameter of its intent, an intent parameter of an entity type the package lacks.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from twinteller.errors import InvalidArgument
from twinteller.knowledge import faqs, languages
from twinteller.knowledge import lexicon as lexicon_checks
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.lexicon import LexiconEntry
from twinteller.knowledge.schema import FaqText
from twinteller.platforms.mapping import (
    Converted,
    Export,
    Ids,
    Omission,
    Report,
    SourceError,
    json_list,
    json_object,
    json_string,
    language_of,
)

PLATFORM = "dialogflow-cx"
TAGS = ["imported:dialogflow-cx"]
KINDS = (
    "intents",
    "training phrases",
    "routes",
    "pages",
    "flows",
    "entity types",
    "entity values",
    "synonyms",
    "webhooks",
)
IVR = "ivr"
ANSWER_SEPARATOR = "\n"
# A package's own folders that are not agent data: the folder holding an agent.json there
# is an intent, entity type or flow named "agent", not the package's top.
_RESOURCE_DIRS = "intents|entityTypes|flows|pages|webhooks|testCases|playbooks|generators|tools|transitionRouteGroups"
_RESOURCE_DIR = re.compile(rf"(?:^|/)(?:{_RESOURCE_DIRS}|entities|trainingPhrases)/(?:[^/]+/)?$")
_HANDLED_DIRS = ("intents", "entityTypes", "flows", "webhooks", "testCases", "transitionRouteGroups")
_OTHER_REASONS = {
    "generators": "generators prompt a large language model; twinteller answers from static text",
    "playbooks": "playbooks are run by a large language model; twinteller answers from static text",
    "tools": "tools are called by playbooks; twinteller answers from static text",
    "generativeSettings": "generative settings configure CX's language-model features, which twinteller does not have",
    "examples": "playbook examples are for a large language model; twinteller answers from static text",
}
_SSML_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
_LINE_BREAKS = re.compile(r"[\r\n]+")
_NOT_TEXT = {
    "payload": ("custom payload", "payloads are for the platform's own clients; twinteller answers with text"),
    "liveAgentHandoff": ("hand-off to a live agent", "twinteller hands a conversation over by its own escalation"),
    "conversationSuccess": ("conversation success marker", "CX analytics metadata; nothing is said"),
    "endInteraction": ("end of interaction", "twinteller does not end conversations from an answer"),
    "mixedAudio": ("mixed audio", "twinteller's IVR speaks text; it cannot play recorded audio"),
    "knowledgeInfoCard": ("knowledge info card", "a data store answer; twinteller answers from static text"),
    "toolCall": ("tool call", "tools run code; twinteller answers from static text"),
}


def detect(export: Export) -> bool:
    """A CX JSON package: an agent.json with flows or CX-style intent folders beside it, and
    no Dialogflow ES `intents/*_usersays_*.json` files."""
    root = _root(export)
    if root is None:
        return False
    names = _under(export, root)
    if any(n.startswith("intents/") and "_usersays_" in n for n in names):
        return False
    has_flows = any(n.startswith("flows/") for n in names)
    has_cx_intents = any(n.startswith("intents/") and "/trainingPhrases/" in n for n in names)
    return has_flows or has_cx_intents


def convert(export: Export) -> Converted:
    return _Converter(export).run()


# -- reading helpers --------------------------------------------------------------------


def _root(export: Export) -> str | None:
    """The folder prefix ("" or "MyAgent/") of the package's agent.json, if there is one."""
    candidates = [name[: -len("agent.json")] for name in export.find("agent.json")]
    candidates = [c for c in candidates if not _RESOURCE_DIR.search(c)]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.count("/"), c))


def _under(export: Export, root: str) -> list[str]:
    """The package's paths relative to its root, sorted."""
    return sorted(name[len(root) :] for name in export.files if name.startswith(root))


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _display(data: dict[str, Any], file: str, encoded: str) -> str:
    """A resource's display name: its `displayName`, else its decoded file or folder name."""
    return json_string(data.get("displayName"), file, "displayName") or unquote(encoded)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _ssml_text(ssml: str) -> str:
    return _SPACES.sub(" ", html.unescape(_SSML_TAG.sub(" ", ssml))).strip()


# -- what a fulfillment says ------------------------------------------------------------


@dataclass
class _Said:
    """A fulfillment's static text per language code, and what it does besides."""

    texts: dict[str, list[str]] = field(default_factory=dict)
    audio: dict[str, list[str]] = field(default_factory=dict)
    webhooks: list[tuple[str, str]] = field(default_factory=list)  # (where, webhook)
    omitted: list[Omission] = field(default_factory=list)

    def says(self) -> bool:
        return bool(self.texts or self.audio)

    def plus(self, other: _Said) -> _Said:
        texts = {c: [*self.texts.get(c, []), *other.texts.get(c, [])] for c in (*self.texts, *other.texts)}
        audio = {c: [*self.audio.get(c, []), *other.audio.get(c, [])] for c in (*self.audio, *other.audio)}
        return _Said(texts, audio, self.webhooks + other.webhooks, self.omitted + other.omitted)

    def answers(self) -> dict[str, tuple[str, str]]:
        """Language code -> (answer, ivr answer or "")."""
        found = {}
        for code in dict.fromkeys((*self.texts, *self.audio)):
            text = ANSWER_SEPARATOR.join(self.texts.get(code, []))
            spoken = " ".join(self.audio.get(code, []))
            found[code] = (text, spoken) if text else (spoken, "")
        return found


def _fulfillment(value: Any, file: str, where: str, default: str) -> _Said:
    said = _Said()
    data = json_object(value, file, where)

    def omit(key: str, what: str, reason: str) -> None:
        said.omitted.append(Omission(f"{file}: {key}", what, reason))

    for k, raw in enumerate(json_list(data.get("messages"), file, _key(where, "messages"))):
        at = _key(where, f"messages[{k}]")
        message = json_object(raw, file, at)
        code = json_string(message.get("languageCode"), file, _key(at, "languageCode")) or default
        channel = json_string(message.get("channel"), file, _key(at, "channel"))
        if channel:
            omit(at, f"message for channel {channel!r}", "a CX custom channel has no twinteller counterpart")
        elif "text" in message:
            variants = json_list(
                json_object(message["text"], file, _key(at, "text")).get("text"), file, _key(at, "text.text")
            )
            kept = False
            for j, variant in enumerate(variants):
                text = json_string(variant, file, _key(at, f"text.text[{j}]")).strip()
                if not text:
                    continue
                if kept:
                    omit(
                        _key(at, f"text.text[{j}]"),
                        f"text variant {text!r}",
                        "CX says one variant at random; twinteller says the first",
                    )
                else:
                    said.texts.setdefault(code, []).append(text)
                    kept = True
        elif "outputAudioText" in message:
            audio = json_object(message["outputAudioText"], file, _key(at, "outputAudioText"))
            spoken = json_string(audio.get("text"), file, _key(at, "outputAudioText.text")).strip()
            if not spoken:
                spoken = _ssml_text(json_string(audio.get("ssml"), file, _key(at, "outputAudioText.ssml")))
            if spoken:
                said.audio.setdefault(code, []).append(spoken)
            else:
                omit(at, "empty audio text", "nothing to say")
        elif "playAudio" in message:
            uri = json_string(json_object(message["playAudio"], file, _key(at, "playAudio")).get("audioUri"), file, at)
            omit(at, f"audio {uri!r}", "twinteller's IVR speaks text; it cannot play recorded audio")
        elif "telephonyTransferCall" in message:
            transfer = json_object(message["telephonyTransferCall"], file, _key(at, "telephonyTransferCall"))
            number = json_string(transfer.get("phoneNumber"), file, _key(at, "telephonyTransferCall.phoneNumber"))
            omit(
                at, f"call transfer to {number!r}", "twinteller does not transfer calls; give the number in the answer"
            )
        else:
            kind = next((k for k in _NOT_TEXT if k in message), "")
            what, reason = _NOT_TEXT.get(kind) or (
                f"message {sorted(set(message) - {'languageCode', 'channel'})}",
                "not text twinteller can say",
            )
            omit(at, what, reason)
    webhook = json_string(data.get("webhook"), file, _key(where, "webhook"))
    if webhook:
        said.webhooks.append((f"{file}: {_key(where, 'webhook')}", webhook))
    actions = json_list(data.get("setParameterActions"), file, _key(where, "setParameterActions"))
    if actions:
        names = [str(json_object(a, file, _key(where, "setParameterActions")).get("parameter", "")) for a in actions]
        omit(_key(where, "setParameterActions"), f"sets parameters {names}", "twinteller keeps no session parameters")
    if json_list(data.get("conditionalCases"), file, _key(where, "conditionalCases")):
        omit(
            _key(where, "conditionalCases"),
            "conditional responses",
            "twinteller's answers do not depend on conditions; only the unconditional messages came across",
        )
    if data.get("generators"):
        omit(_key(where, "generators"), "generators", _OTHER_REASONS["generators"])
    if data.get("enableGenerativeFallback"):
        omit(_key(where, "enableGenerativeFallback"), "generative fallback", _OTHER_REASONS["generativeSettings"])
    return said


# -- the package's parts ------------------------------------------------------------------


@dataclass
class _Intent:
    name: str
    file: str
    ids: tuple[str, ...]  # the names a route may use for it
    parameters: tuple[str, ...]
    phrases: list[tuple[str, str, str]]  # (language code, text, file: key)
    labels: list[str]
    negative: bool


@dataclass
class _Page:
    name: str
    file: str
    entry: Any
    form: list[tuple[str, str, str]]  # (file: key, parameter, entity type)
    used: bool = False


@dataclass
class _Route:
    file: str
    where: str
    data: dict[str, Any]
    flow: str | None  # the flow folder whose pages it may target


@dataclass
class _Answer:
    route: _Route
    said: _Said
    page: _Page | None


class _Converter:
    def __init__(self, export: Export) -> None:
        root = _root(export)
        if root is None:
            raise SourceError("agent.json", "", "missing: a Dialogflow CX JSON package has agent.json at its top")
        self.export = export
        self.root = root
        self.names = _under(export, root)
        self.report = Report(PLATFORM)
        for kind in KINDS:
            self.report.present[kind] += 0
            self.report.imported[kind] += 0
        self.entity_types: set[str] = set()
        self.intents: dict[str, _Intent] = {}  # display name -> intent
        self.intent_ids: dict[str, _Intent] = {}
        self.pages: dict[str, dict[str, _Page]] = {}  # flow folder -> page display name -> page
        self.flow_names: dict[str, str] = {}
        self.routes: list[_Route] = []
        self.used_flows: set[str] = set()
        self.default = ""
        self.ranking: list[str] = []

    # paths

    def path(self, relative: str) -> str:
        return self.root + relative

    def json(self, relative: str) -> Any:
        return self.export.json(self.path(relative))

    def folders(self, top: str) -> list[str]:
        """The (encoded) names of the folders directly under `top`/."""
        found = {n[len(top) + 1 :].split("/", 1)[0] for n in self.names if n.startswith(top + "/") and n.count("/") > 1}
        return sorted(found)

    def files(self, folder: str) -> list[str]:
        """The .json files directly in `folder`/, relative to the root."""
        prefix = folder + "/"
        return [n for n in self.names if n.startswith(prefix) and "/" not in n[len(prefix) :] and n.endswith(".json")]

    def meta(self, top: str, folder: str, what: str) -> tuple[str, dict[str, Any]]:
        relative = f"{top}/{folder}/{folder}.json"
        if relative not in self.names:
            raise SourceError(
                self.path(relative), "", f"missing: {what} folder {top}/{folder} without its {folder}.json"
            )
        return self.path(relative), json_object(self.json(relative), self.path(relative), "")

    def omit(self, where: str, what: str, reason: str) -> None:
        self.report.omit(where, what, reason)

    # the run

    def run(self) -> Converted:
        self.read_agent()
        lexicon = self.read_entity_types()
        self.read_intents()
        self.read_flows()
        self.read_webhooks()
        self.read_others()
        records = self.answer_intents()
        return Converted(records, lexicon, self.report)

    def read_agent(self) -> None:
        file = self.path("agent.json")
        agent = json_object(self.json("agent.json"), file, "")
        self.default = json_string(agent.get("defaultLanguageCode"), file, "defaultLanguageCode")
        if not self.default:
            raise SourceError(file, "defaultLanguageCode", "required")
        supported = [
            json_string(code, file, f"supportedLanguageCodes[{n}]")
            for n, code in enumerate(json_list(agent.get("supportedLanguageCodes"), file, "supportedLanguageCodes"))
        ]
        self.ranking = list(dict.fromkeys([self.default, *supported]))

    def rank(self, code: str) -> tuple[int, str]:
        return (self.ranking.index(code) if code in self.ranking else len(self.ranking), code)

    # entity types

    def read_entity_types(self) -> list[LexiconEntry]:
        entries: list[LexiconEntry] = []
        mapped: dict[str, str] = {}  # term, case-folded -> canonical
        report = self.report
        for folder in self.folders("entityTypes"):
            file, meta = self.meta("entityTypes", folder, "an entity type")
            name = _display(meta, file, folder)
            self.entity_types.update({name, unquote(folder)})
            report.present["entity types"] += 1
            kind = json_string(meta.get("kind"), file, "kind") or "KIND_MAP"
            values: list[tuple[str, str, str, list[str]]] = []  # (file, key, value, synonyms)
            sources = [(file, meta)] + [
                (self.path(f), json_object(self.json(f), self.path(f), ""))
                for f in self.files(f"entityTypes/{folder}/entities")
            ]
            for source, data in sources:
                for n, raw in enumerate(json_list(data.get("entities"), source, "entities")):
                    entity = json_object(raw, source, f"entities[{n}]")
                    value = json_string(entity.get("value"), source, f"entities[{n}].value")
                    synonyms = [
                        json_string(s, source, f"entities[{n}].synonyms[{m}]")
                        for m, s in enumerate(json_list(entity.get("synonyms"), source, f"entities[{n}].synonyms"))
                    ]
                    others = [s for s in synonyms if s.strip().casefold() != value.strip().casefold()]
                    values.append((source, f"entities[{n}]", value, others))
            report.present["entity values"] += len(values)
            report.present["synonyms"] += sum(len(v[3]) for v in values)
            for excluded in self.files(f"entityTypes/{folder}/excludedPhrases"):
                self.omit(
                    self.path(excluded),
                    f"excluded phrases of entity type {name}",
                    "twinteller's lexicon has no exclusions",
                )
            if kind == "KIND_REGEXP":
                what = f"regexp entity type {name} ({_count(len(values), 'pattern')})"
                self.omit(file, what, "no patterns: the lexicon maps words")
                continue
            if kind == "KIND_LIST":
                self.omit(
                    file,
                    f"list entity type {name} ({_count(len(values), 'value')})",
                    "a list entity only names values; there is no synonym to map to them",
                )
                continue
            if kind != "KIND_MAP":
                self.omit(file, f"entity type {name} of kind {kind}", "twinteller imports KIND_MAP synonyms only")
                continue
            report.imported["entity types"] += 1
            report.imported["entity values"] += len(values)
            if json_string(meta.get("autoExpansionMode"), file, "autoExpansionMode") == "AUTO_EXPANSION_MODE_DEFAULT":
                self.omit(file, f"automatic expansion of entity type {name}", "the lexicon maps the listed terms only")
            if meta.get("enableFuzzyExtraction"):
                self.omit(file, f"fuzzy extraction of entity type {name}", "the lexicon matches terms exactly")
            for source, key, value, synonyms in values:
                for synonym in synonyms:
                    where = f"{source}: {key}.synonyms"
                    entry = LexiconEntry(synonym.strip(), value.strip())
                    try:
                        lexicon_checks.validate(entry)
                    except InvalidArgument as e:
                        self.omit(where, f"synonym {synonym!r} of {value!r}", f"refused by the lexicon: {e}")
                        continue
                    folded = entry.term.casefold()
                    if folded in mapped and mapped[folded] != entry.canonical:
                        self.omit(
                            where,
                            f"synonym {synonym!r} of {value!r}",
                            f"the term already maps to {mapped[folded]!r}",
                        )
                        continue
                    report.imported["synonyms"] += 1
                    if folded not in mapped:
                        mapped[folded] = entry.canonical
                        entries.append(entry)
        return entries

    # intents

    def read_intents(self) -> None:
        for folder in self.folders("intents"):
            file, meta = self.meta("intents", folder, "an intent")
            name = _display(meta, file, folder)
            parameters: list[str] = []
            for n, raw in enumerate(json_list(meta.get("parameters"), file, "parameters")):
                parameter = json_object(raw, file, f"parameters[{n}]")
                parameters.append(json_string(parameter.get("id"), file, f"parameters[{n}].id"))
                entity_type = json_string(parameter.get("entityType"), file, f"parameters[{n}].entityType")
                known = entity_type.startswith("@sys.") or entity_type[1:] in self.entity_types
                if not (entity_type.startswith("@") and known):
                    raise SourceError(
                        file, f"parameters[{n}].entityType", f"references missing entity type {entity_type!r}"
                    )
            phrases: list[tuple[str, str, str]] = []
            for relative in self.files(f"intents/{folder}/trainingPhrases"):
                source = self.path(relative)
                language = unquote(relative.rsplit("/", 1)[1][: -len(".json")])
                data = json_object(self.json(relative), source, "")
                for n, raw in enumerate(json_list(data.get("trainingPhrases"), source, "trainingPhrases")):
                    phrase = json_object(raw, source, f"trainingPhrases[{n}]")
                    text = ""
                    for m, part_raw in enumerate(json_list(phrase.get("parts"), source, f"trainingPhrases[{n}].parts")):
                        at = f"trainingPhrases[{n}].parts[{m}]"
                        part = json_object(part_raw, source, at)
                        parameter_id = json_string(part.get("parameterId"), source, f"{at}.parameterId")
                        if parameter_id and parameter_id not in parameters:
                            raise SourceError(
                                source, f"{at}.parameterId", f"{parameter_id!r} names no parameter of intent {name!r}"
                            )
                        text += json_string(part.get("text"), source, f"{at}.text")
                    code = (
                        json_string(phrase.get("languageCode"), source, f"trainingPhrases[{n}].languageCode")
                        or language
                    )
                    phrases.append((code, text, f"{source}: trainingPhrases[{n}]"))
            labels = sorted(str(k) for k in json_object(meta.get("labels"), file, "labels"))
            uid = json_string(meta.get("name"), file, "name")
            names = tuple(filter(None, (name, uid)))
            intent = _Intent(name, file, names, tuple(parameters), phrases, labels, bool(meta.get("isFallback")))
            self.intents[name] = intent
            for key in intent.ids:
                self.intent_ids.setdefault(key, intent)
            self.report.present["intents"] += 1
            self.report.present["training phrases"] += len(phrases)

    def intent(self, route: _Route) -> _Intent:
        named = json_string(route.data.get("intent"), route.file, f"{route.where}.intent")
        intent = self.intent_ids.get(named) or self.intent_ids.get(named.rsplit("/", 1)[-1])
        if intent is None:
            raise SourceError(route.file, f"{route.where}.intent", f"names intent {named!r}, which does not exist")
        return intent

    # flows

    def read_flows(self) -> None:
        for folder in self.folders("flows"):
            file, meta = self.meta("flows", folder, "a flow")
            self.flow_names[folder] = _display(meta, file, folder)
            self.report.present["flows"] += 1
            if meta.get("nluSettings"):
                self.omit(
                    f"{file}: nluSettings",
                    f"NLU settings of flow {self.flow_names[folder]}",
                    "twinteller trains its own model and chooses its own thresholds",
                )
            self.read_routes(file, meta, folder)
            pages = self.pages.setdefault(folder, {})
            for relative in self.files(f"flows/{folder}/pages"):
                source = self.path(relative)
                data = json_object(self.json(relative), source, "")
                name = _display(data, source, relative.rsplit("/", 1)[1][: -len(".json")])
                form = []
                parameters = json_list(
                    json_object(data.get("form"), source, "form").get("parameters"), source, "form.parameters"
                )
                for n, raw in enumerate(parameters):
                    parameter = json_object(raw, source, f"form.parameters[{n}]")
                    display = json_string(parameter.get("displayName"), source, f"form.parameters[{n}].displayName")
                    entity_type = json_string(parameter.get("entityType"), source, f"form.parameters[{n}].entityType")
                    form.append((f"{source}: form.parameters[{n}]", display, entity_type))
                pages[name] = _Page(name, source, data.get("entryFulfillment"), form)
                self.report.present["pages"] += 1
                self.read_routes(source, data, folder)
            for relative in self.files(f"flows/{folder}/transitionRouteGroups"):
                source = self.path(relative)
                self.read_routes(source, json_object(self.json(relative), source, ""), folder)
        for relative in self.files("transitionRouteGroups"):
            source = self.path(relative)
            self.read_routes(source, json_object(self.json(relative), source, ""), None)

    def read_routes(self, file: str, data: dict[str, Any], flow: str | None) -> None:
        for n, raw in enumerate(json_list(data.get("transitionRoutes"), file, "transitionRoutes")):
            self.routes.append(
                _Route(file, f"transitionRoutes[{n}]", json_object(raw, file, f"transitionRoutes[{n}]"), flow)
            )
            self.report.present["routes"] += 1
        for n, raw in enumerate(json_list(data.get("eventHandlers"), file, "eventHandlers")):
            handler = json_object(raw, file, f"eventHandlers[{n}]")
            event = json_string(handler.get("event"), file, f"eventHandlers[{n}].event")
            self.omit(
                f"{file}: eventHandlers[{n}]",
                f"event handler {event!r}",
                "twinteller handles no-match, no-input and errors itself",
            )
        if data.get("knowledgeConnectorSettings"):
            self.omit(
                f"{file}: knowledgeConnectorSettings",
                "data store answers",
                "a data store answer is generated; twinteller answers from static text",
            )

    # the answers

    def outcome(self, route: _Route) -> _Answer | str:
        """What a route says for its intent, or why it says nothing twinteller can keep."""
        data, at = route.data, f"{route.file}: {route.where}"
        said = _fulfillment(
            data.get("triggerFulfillment"), route.file, f"{route.where}.triggerFulfillment", self.default
        )
        target_page = json_string(data.get("targetPage"), route.file, f"{route.where}.targetPage")
        target_flow = json_string(data.get("targetFlow"), route.file, f"{route.where}.targetFlow")
        page = self.pages.get(route.flow or "", {}).get(target_page) if target_page else None
        if page is not None and page.form:
            names = ", ".join(p[1] for p in page.form)
            return f"leads to page {page.name!r} which collects parameters ({names})"
        if page is not None:
            said = said.plus(_fulfillment(page.entry, page.file, "entryFulfillment", self.default))
        if not said.says():
            if said.webhooks:
                return f"answered by webhook {said.webhooks[0][1]!r}"
            if target_flow:
                return f"leads to flow {target_flow!r} without a static answer"
            if page is not None:
                return f"leads to page {page.name!r}, which has no static text"
            if target_page:
                return f"goes to {target_page!r} without a static answer"
            if said.omitted:
                return f"says nothing twinteller can keep (only: {said.omitted[0].what})"
            return "says nothing"
        if target_flow:
            said.omitted.append(
                Omission(at, f"transition to flow {target_flow!r}", "twinteller answers in one turn; no flow follows")
            )
        return _Answer(route, said, page)

    def answer_intents(self) -> list[FaqRecord]:
        answers: dict[str, _Answer] = {}
        other: dict[str, list[tuple[str, str]]] = {}  # intent -> (where, reason) of routes that did not answer it
        for route in self.routes:
            at = f"{route.file}: {route.where}"
            if "intent" not in route.data:
                condition = json_string(route.data.get("condition"), route.file, f"{route.where}.condition")
                self.omit(at, f"condition route {condition!r}", "twinteller answers questions, not session conditions")
                continue
            intent = self.intent(route)
            condition = json_string(route.data.get("condition"), route.file, f"{route.where}.condition").strip()
            if condition and condition != "true":
                other.setdefault(intent.name, []).append((at, f"answers only when {condition!r}"))
                continue
            if intent.negative:
                other.setdefault(intent.name, []).append((at, "a negative intent"))
                continue
            result = self.outcome(route)
            if isinstance(result, str):
                other.setdefault(intent.name, []).append((at, result))
                continue
            first = answers.get(intent.name)
            if first is None:
                answers[intent.name] = result
            elif first.said.answers() == result.said.answers():
                self.report.imported["routes"] += 1
            else:
                first_at = f"{first.route.file}: {first.route.where}"
                other.setdefault(intent.name, []).append((at, f"another answer; the one at {first_at} came across"))
        ids = Ids()
        records = []
        for name, intent in self.intents.items():
            answer = answers.get(name)
            record = self.record(intent, answer, ids) if answer is not None else None
            lines = other.get(name, [])
            if record is None:
                phrases = _count(len(intent.phrases), "training phrase")
                if intent.negative:
                    lines = [(intent.file, "a negative intent: its phrases say what the agent must not match")]
                elif answer is not None:
                    continue  # record() reported why
                elif not lines:
                    lines = [(intent.file, "no route answers it")]
                for where, reason in lines:
                    self.omit(where, f"intent {name} ({phrases})", f"{reason}; not an FAQ")
                continue
            for where, reason in lines:
                self.omit(where, f"route for intent {name}", reason)
            records.append(record)
        for pages in self.pages.values():
            for page in pages.values():
                if page.used:
                    self.report.imported["pages"] += 1
                    continue
                if page.entry:
                    self.omit(
                        f"{page.file}: entryFulfillment",
                        f"page {page.name}",
                        "no imported intent's route leads to it; what it says on entry answers no question",
                    )
                for where, parameter, entity_type in page.form:
                    self.omit(
                        where,
                        f"form parameter {parameter} ({entity_type}) of page {page.name}",
                        "twinteller answers in one turn; it does not collect parameters",
                    )
        self.report.imported["flows"] = len(self.used_flows)
        return records

    def record(self, intent: _Intent, answer: _Answer, ids: Ids) -> FaqRecord | None:
        route = answer.route
        at = f"{route.file}: {route.where}"
        if not intent.phrases:
            raise SourceError(
                intent.file, "trainingPhrases", f"an intent with no examples: {intent.name!r} is answered at {at}"
            )
        questions: list[str] = []
        omitted: list[Omission] = []
        dropped = 0
        for _code, text, where in sorted(intent.phrases, key=lambda p: self.rank(p[0])):
            question = _LINE_BREAKS.sub(" ", text).strip()
            problem = ""
            if not question:
                problem = "empty"
            elif len(question.encode("utf-8", "replace")) > faqs.MAX_QUESTION_BYTES:
                problem = f"longer than {faqs.MAX_QUESTION_BYTES} bytes"
            elif question not in questions and len(questions) >= faqs.MAX_QUESTIONS:
                problem = f"more than {faqs.MAX_QUESTIONS} questions"
            if problem:
                dropped += 1
                omitted.append(Omission(where, f"training phrase {text!r}", f"{problem}; a question cannot be"))
            elif question not in questions:
                questions.append(question)
        by_language: dict[str, str] = {}  # twinteller language -> code
        found = answer.said.answers()
        for code in sorted(found, key=self.rank):
            language = language_of(code)
            if language is None:
                omitted.append(
                    Omission(
                        at,
                        f"answer in {code}",
                        "twinteller answers in en, zh-Hant and zh-Hans; the training phrases in it still train",
                    )
                )
            elif language in by_language:
                reason = f"the {by_language[language]} answer is its {language} one"
                omitted.append(Omission(at, f"answer in {code}", reason))
            else:
                by_language[language] = code
        if not by_language:
            self.omit(
                at, f"intent {intent.name}", "answers only in languages twinteller does not answer in; not an FAQ"
            )
            return None
        own = by_language.get(languages.BASE) or sorted(by_language.values(), key=self.rank)[0]
        text, ivr = found[own]
        translations = {}
        for language in languages.TRANSLATED:
            code = by_language.get(language, own)
            if code != own:
                other_text, other_ivr = found[code]
                translations[language] = FaqText(
                    answer=other_text, channel_answers={IVR: other_ivr} if other_ivr else {}
                )
        record = FaqRecord(
            id=ids.of(intent.name),
            title=intent.name,
            answer=text,
            channel_answers={IVR: ivr} if ivr else {},
            questions=questions,
            tags=list(TAGS),
            translations=translations,
        )
        try:
            faqs.validate(record)
        except InvalidArgument as e:
            self.omit(at, f"intent {intent.name}", f"refused as an FAQ entry: {e}")
            return None
        report = self.report
        report.imported["intents"] += 1
        report.imported["routes"] += 1
        report.imported["training phrases"] += len(intent.phrases) - dropped
        if route.flow is not None:
            self.used_flows.add(route.flow)
        if answer.page is not None:
            answer.page.used = True
        for o in [*answer.said.omitted, *omitted]:
            report.omitted.append(o)
        for where, webhook in answer.said.webhooks:
            self.omit(where, f"webhook {webhook!r}", "its reply is not imported; the static text is the answer")
        if intent.parameters:
            self.omit(
                f"{intent.file}: parameters",
                f"parameters {list(intent.parameters)} of intent {intent.name}",
                "the annotated words stay in the questions; twinteller does not extract parameters",
            )
        if intent.labels:
            self.omit(f"{intent.file}: labels", f"labels {intent.labels}", "CX labels have no twinteller counterpart")
        return record

    # the rest

    def read_webhooks(self) -> None:
        for relative in self.files("webhooks"):
            file = self.path(relative)
            data = json_object(self.json(relative), file, "")
            name = _display(data, file, relative.rsplit("/", 1)[1][: -len(".json")])
            service = json_object(data.get("genericWebService"), file, "genericWebService") or json_object(
                json_object(data.get("serviceDirectory"), file, "serviceDirectory").get("genericWebService"),
                file,
                "serviceDirectory.genericWebService",
            )
            uri = json_string(service.get("uri"), file, "genericWebService.uri")
            self.report.present["webhooks"] += 1
            what = f"webhook {name}" + (f" ({uri})" if uri else "")
            self.omit(file, what, "webhooks run code on a server; twinteller answers from static text")

    def read_others(self) -> None:
        for relative in self.files("testCases"):
            self.omit(
                self.path(relative),
                f"test case {unquote(relative.rsplit('/', 1)[1][: -len('.json')])}",
                "twinteller evaluates with its own test sets",
            )
        items: dict[tuple[str, str], str] = {}
        for name in self.names:
            if "/" not in name:
                continue
            top, rest = name.split("/", 1)
            if top in _HANDLED_DIRS:
                continue
            item = rest.split("/", 1)[0]
            item = item[: -len(".json")] if item.endswith(".json") else item
            items.setdefault((top, unquote(item)), self.path(f"{top}/{rest.split('/', 1)[0]}"))
        for (top, item), where in items.items():
            reason = _OTHER_REASONS.get(top, "not part of what twinteller imports")
            self.omit(where, f"{top} {item}", reason)
