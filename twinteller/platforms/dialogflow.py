"""Dialogflow ES agent exports ("Export as ZIP"), as FAQ and lexicon entries.

The export (its files may sit under one top folder of the zip):

- `agent.json`: `language` (the default language), `supportedLanguages`.
- `intents/<Name>.json`: an intent: `id`, `name`, `parentId`/`rootParentId` (a follow-up),
  `contexts` (input contexts), `responses[].messages` (`type` 0 text with `speech`, a string
  or a list of variants; 1 card, 2 quick replies, 3 image, 4 custom payload; `platform`:
  none for every channel, "telephony", "google", "facebook"...; `lang`), `responses[].action`,
  `affectedContexts`, `parameters`, `webhookUsed`, `events`, `fallbackIntent`.
- `intents/<Name>_usersays_<lang>.json`: the training phrases, each a list of `data` parts
  (`text`, and for an annotated part `alias`, `meta` "@sys.date" or "@entity", `userDefined`).
- `entities/<Name>.json` (`isRegexp`, `isEnum`, `automatedExpansion`...) and
  `entities/<Name>_entries_<lang>.json` (`value`, `synonyms`).
- `package.json`.

What comes across (README "Moving in from another platform"):

- An intent with a static text answer -> one FAQ entry: the id from its name, the name as
  title, the training phrases of every language as questions (the customers' words, in
  whatever language they wrote them), the answer in English (or, when the intent has no
  English text, the agent's default language), zh-HK/zh-TW and zh-CN answers as the
  zh-Hant and zh-Hans translations, telephony text as the "ivr" channel answer. Several
  text messages are said one after the other, as Dialogflow does; of a message's variants
  the first is kept (one answer per channel and language). A variant that shows parameter
  values ($name, #context.name) is not a static answer and is passed over.
- A follow-up intent becomes an entry of its own: twinteller has no contexts, so it now
  answers without the context its parent set (the report says so for each).
- Map entities: each synonym -> its reference value, as a lexicon entry.

Everything else (webhooks, actions, events, parameters and slot filling, contexts, other
platforms' and rich messages, regexp and composite entities, fallback intents) is left out
with a line in the report saying where and why.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any

from twinteller.errors import InvalidArgument
from twinteller.knowledge import faqs, languages, lexicon
from twinteller.knowledge.faqs import FaqRecord
from twinteller.knowledge.lexicon import LexiconEntry
from twinteller.knowledge.schema import FaqText
from twinteller.platforms.mapping import (
    Converted,
    Export,
    Ids,
    Report,
    SourceError,
    json_list,
    json_object,
    json_string,
    kind,
    language_of,
)

PLATFORM = "dialogflow-es"
TAG = "imported:dialogflow-es"
FOLLOW_UP_TAG = "follow-up"
IVR = "ivr"
AGENT = "agent.json"
NORMAL_PRIORITY = 500000  # Dialogflow's "Normal"; below 0 is "Ignore" (the intent is switched off)

_LANG = r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*"
_USERSAYS = re.compile(rf"(?P<intent>.+)_usersays_(?P<lang>{_LANG})\.json")
_ENTRIES = re.compile(rf"(?P<entity>.+)_entries_(?P<lang>{_LANG})\.json")
# A reference to another entity in a composite entity's value: "@sys.number:number @unit:unit".
_ENTITY_REFERENCE = re.compile(r"@[A-Za-z][\w.-]*(?::[\w-]+)?")
# Parameter values in a response: "$amount", "$amount.original", "#order-followup.amount".
_PARAMETER = re.compile(r"\$([A-Za-z_][\w-]*)|#([A-Za-z][\w-]*)\.([A-Za-z_][\w-]*)")
_SSML_TAG = re.compile(r"<[^>]*>")
_KINDS = {0: "text", 1: "card", 2: "quick replies", 3: "image", 4: "custom payload"}
_TELEPHONY_SPEECH = ("telephony_synthesize_speech", "telephonySynthesizeSpeech", "synthesize_speech")
_TELEPHONY_AUDIO = ("telephony_play_audio", "telephonyPlayAudio", "play_audio")
_TELEPHONY_TRANSFER = ("telephony_transfer_call", "telephonyTransferCall", "transfer_call")


# -- reading the export ------------------------------------------------------------------


def _where(file: str, key: str) -> str:
    return f"{file}: {key}" if key else file


def _agent_file(export: Export) -> str | None:
    """The agent's agent.json: the one nearest the top (a zip may hold the agent in a folder)."""
    found = export.find(AGENT)
    if not found:
        return None
    depth = min(name.count("/") for name in found)
    top = [name for name in found if name.count("/") == depth]
    if len(top) > 1:
        raise SourceError(top[1], "", f"a second agent besides {top[0]}: export one agent at a time")
    return top[0]


def _children(export: Export, folder: str) -> list[str]:
    """The .json files directly in `folder` (sorted)."""
    return [
        name
        for name in export.names()
        if name.startswith(folder) and "/" not in name[len(folder) :] and name.endswith(".json")
    ]


def detect(export: Export) -> bool:
    """An agent.json with an ES agent's fields, or an ES layout next to it (intents/ and
    entities/ files, package.json); not a Dialogflow CX package (flows/, defaultLanguageCode)."""
    for agent in export.find(AGENT):
        root = agent[: -len(AGENT)]
        if any(name.startswith(root + "flows/") for name in export.files):
            continue
        try:
            data = json.loads(export.files[agent].decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
        if isinstance(data, dict):
            if "defaultLanguageCode" in data or "startFlow" in data:
                continue
            if "language" in data or "supportedLanguages" in data:
                return True
        layout = _children(export, root + "intents/") + _children(export, root + "entities/")
        if layout or root + "package.json" in export.files:
            return True
    return False


@dataclass
class _Phrase:
    lang: str
    text: str
    where: str
    template: bool


@dataclass
class _Intent:
    file: str
    data: dict[str, Any]
    id: str
    name: str
    parent: str
    phrases: list[_Phrase] = field(default_factory=list)
    sys_entities: set[str] = field(default_factory=set)


@dataclass
class _Entity:
    file: str
    data: dict[str, Any]
    name: str
    entries: list[tuple[str, str, list[Any]]] = field(default_factory=list)  # (file, lang, entries)


def _entities(export: Export, root: str) -> dict[str, _Entity]:
    """Entity name -> its definition and entries, every file checked."""
    folder = root + "entities/"
    files = _children(export, folder)
    definitions = set(files)
    entities: dict[str, _Entity] = {}
    entry_files: list[tuple[str, str, str]] = []
    for file in files:
        base = file[len(folder) :]
        match = _ENTRIES.fullmatch(base)
        if match and folder + match["entity"] + ".json" in definitions:
            entry_files.append((file, match["entity"], match["lang"]))
            continue
        data = export.json(file)
        if match and isinstance(data, list):
            raise SourceError(file, "", f"entries with no entity: {folder}{match['entity']}.json is missing")
        data = json_object(data, file, "")
        name = json_string(data.get("name", base[: -len(".json")]), file, "name", required=True)
        entities[base[: -len(".json")]] = _Entity(file, data, name)
    for file, base, lang in entry_files:
        entries = export.json(file)
        if not isinstance(entries, list):
            raise SourceError(file, "", f"expected a JSON list of entries, found {kind(entries)}")
        for n, entry in enumerate(entries):
            entry = json_object(entry, file, f"[{n}]")
            json_string(entry.get("value"), file, f"[{n}].value", required=True)
            for s, synonym in enumerate(json_list(entry.get("synonyms"), file, f"[{n}].synonyms")):
                json_string(synonym, file, f"[{n}].synonyms[{s}]")
        entities[base].entries.append((file, lang, entries))
    return {entity.name: entity for entity in entities.values()}


def _intents(export: Export, root: str, default: str, entity_names: set[str]) -> list[_Intent]:
    """The intents with their training phrases, every file checked (sorted by file)."""
    folder = root + "intents/"
    files = _children(export, folder)
    definitions = set(files)
    intents: dict[str, _Intent] = {}
    phrase_files: list[tuple[str, str, str]] = []
    for file in files:
        base = file[len(folder) :]
        match = _USERSAYS.fullmatch(base)
        if match and folder + match["intent"] + ".json" in definitions:
            phrase_files.append((file, match["intent"], match["lang"]))
            continue
        data = export.json(file)
        if match and isinstance(data, list):
            raise SourceError(file, "", f"training phrases with no intent: {folder}{match['intent']}.json is missing")
        data = json_object(data, file, "")
        intent = _Intent(
            file,
            data,
            json_string(data.get("id"), file, "id", required=True),
            json_string(data.get("name"), file, "name", required=True),
            json_string(data.get("parentId"), file, "parentId"),
        )
        _check_intent(intent, entity_names)
        # An old (API.AI) export keeps the phrases in the intent itself.
        embedded = json_list(data.get("userSays"), file, "userSays")
        intent.phrases += _phrases(embedded, file, "userSays", default, entity_names, intent.sys_entities)
        intents[base[: -len(".json")]] = intent
    for file, base, lang in phrase_files:
        phrases = export.json(file)
        if not isinstance(phrases, list):
            raise SourceError(file, "", f"expected a JSON list of training phrases, found {kind(phrases)}")
        intent = intents[base]
        intent.phrases += _phrases(phrases, file, "", lang, entity_names, intent.sys_entities)
    owners: dict[str, str] = {}
    for intent in intents.values():
        if intent.id in owners:
            raise SourceError(intent.file, "id", f"{intent.id!r} is also the id of {owners[intent.id]}")
        owners[intent.id] = intent.file
    for intent in intents.values():
        if intent.parent and intent.parent not in owners:
            raise SourceError(intent.file, "parentId", f"{intent.parent!r} matches no intent's id")
    return sorted(intents.values(), key=lambda i: i.file)


def _check_intent(intent: _Intent, entity_names: set[str]) -> None:
    file, data = intent.file, intent.data
    for n, response in enumerate(json_list(data.get("responses"), file, "responses")):
        key = f"responses[{n}]"
        response = json_object(response, file, key)
        for m, message in enumerate(json_list(response.get("messages"), file, f"{key}.messages")):
            json_object(message, file, f"{key}.messages[{m}]")
        for p, parameter in enumerate(json_list(response.get("parameters"), file, f"{key}.parameters")):
            parameter = json_object(parameter, file, f"{key}.parameters[{p}]")
            data_type = json_string(parameter.get("dataType"), file, f"{key}.parameters[{p}].dataType")
            _entity_reference(data_type, file, f"{key}.parameters[{p}].dataType", entity_names, intent.sys_entities)
        for c, context in enumerate(json_list(response.get("affectedContexts"), file, f"{key}.affectedContexts")):
            json_object(context, file, f"{key}.affectedContexts[{c}]")
    priority = data.get("priority", NORMAL_PRIORITY)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise SourceError(file, "priority", f"expected a number, found {kind(priority)}")
    for c, context in enumerate(json_list(data.get("contexts"), file, "contexts")):
        json_string(context, file, f"contexts[{c}]")
    for e, event in enumerate(json_list(data.get("events"), file, "events")):
        json_object(event, file, f"events[{e}]")


def _entity_reference(meta: str, file: str, key: str, entity_names: set[str], sys_entities: set[str]) -> None:
    if not meta.startswith("@"):
        return
    name = meta[1:]
    if name.startswith("sys."):
        sys_entities.add(meta)
    elif name not in entity_names:
        raise SourceError(file, key, f"references missing entity {meta} (no entities/{name}.json)")


def _phrases(
    items: list[Any], file: str, key: str, lang: str, entity_names: set[str], sys_entities: set[str]
) -> list[_Phrase]:
    found = []
    for n, item in enumerate(items):
        at = f"{key}[{n}]"
        item = json_object(item, file, at)
        parts = json_list(item.get("data"), file, f"{at}.data")
        text = []
        for p, part in enumerate(parts):
            part = json_object(part, file, f"{at}.data[{p}]")
            if "text" not in part:
                raise SourceError(file, f"{at}.data[{p}].text", "missing: every part has its text")
            text.append(json_string(part.get("text"), file, f"{at}.data[{p}].text"))
            meta = json_string(part.get("meta"), file, f"{at}.data[{p}].meta")
            _entity_reference(meta, file, f"{at}.data[{p}].meta", entity_names, sys_entities)
        phrase_lang = lang if key == "" else json_string(item.get("lang"), file, f"{at}.lang") or lang
        found.append(_Phrase(phrase_lang, "".join(text), _where(file, at), bool(item.get("isTemplate"))))
    return found


# -- intents -> FAQ entries ----------------------------------------------------------------


@dataclass
class _Line:
    where: str
    what: str
    reason: str


@dataclass
class _Texts:
    """One language's answer as the intent gives it: text said on every channel, and by phone."""

    code: str
    default: list[str] = field(default_factory=list)
    ivr: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # where each message that gave text is

    def answer(self) -> str:
        return "\n".join(self.default or self.ivr)

    def channels(self) -> dict[str, str]:
        return {IVR: "\n".join(self.ivr)} if self.default and self.ivr else {}


def _speech(message: dict[str, Any]) -> list[str]:
    value = message.get("speech", message.get("text", ""))
    if isinstance(value, dict):  # {"text": [...]} as the API writes it
        value = value.get("text", "")
    variants = value if isinstance(value, list) else [value]
    return [v for v in variants if isinstance(v, str) and v.strip()]


def _telephony_speech(message: dict[str, Any]) -> tuple[str, bool]:
    """(the text a telephony "synthesize speech" message says, whether it was SSML)."""
    nested = message.get("telephonySynthesizeSpeech")
    source = nested if isinstance(nested, dict) else message
    for key in ("text", "textToSpeech"):
        value = source.get(key)
        if isinstance(value, str) and value.strip():
            return value, False
    ssml = source.get("ssml")
    if isinstance(ssml, str) and ssml.strip():
        return " ".join(html.unescape(_SSML_TAG.sub(" ", ssml)).split()), True
    return "", False


def _message_kind(message: dict[str, Any]) -> int | str:
    kind = message.get("type", 0)
    if isinstance(kind, str) and kind.isdigit():
        return int(kind)
    for key in (*_TELEPHONY_SPEECH, *_TELEPHONY_AUDIO, *_TELEPHONY_TRANSFER):
        if key in message and kind == 0:
            return key
    return kind if isinstance(kind, int | str) else str(kind)


def _uses_parameters(text: str, parameters: set[str]) -> list[str]:
    used = []
    for match in _PARAMETER.finditer(text):
        if match[1] is not None and match[1] in parameters | {"session", "intent"}:
            used.append(match[0])
        elif match[2] is not None:
            used.append(match[0])
    return used


class _IntentConverter:
    def __init__(self, default: str, by_id: dict[str, _Intent], report: Report) -> None:
        self.default = default.lower()
        self.by_id = by_id
        self.report = report
        self.ids = Ids()

    def convert(self, intent: _Intent) -> FaqRecord | None:
        report, file, data = self.report, intent.file, intent.data
        follow_up = bool(intent.parent)
        report.present["intents"] += 1
        report.present["follow-up intents"] += follow_up
        report.present["training phrases"] += len(intent.phrases)
        webhook = bool(data.get("webhookUsed")) or bool(data.get("webhookForSlotFilling"))
        report.present["webhooks"] += webhook
        lines: list[_Line] = []
        texts, used_messages = self._answers(intent, lines)
        what = f"intent {intent.name!r}"
        if data.get("fallbackIntent"):
            return self._leave_out(
                file, what, "a fallback intent: twinteller's own fallback answers what nothing matches"
            )
        base = self._base(texts)
        if base is None:
            if data.get("webhookUsed"):
                return self._leave_out(file, what, "answered by the webhook: no static text answer")
            lines = [line for line in lines if line.where.startswith(f"{file}: responses[")]
            return self._leave_out(file, what, "no text answer twinteller can give (see the messages listed)", lines)
        questions = self._questions(intent, lines)
        if not questions:
            if intent.phrases:
                lines = [line for line in lines if not line.where.startswith(f"{file}: responses[")]
                return self._leave_out(file, what, "none of its training phrases can be a question", lines)
            if data.get("events"):
                events = ", ".join(str(e.get("name", "")) for e in data["events"])
                return self._leave_out(file, what, f"triggered only by events ({events}): no training phrases")
            stem = file[: -len(".json")]
            raise SourceError(
                file,
                "",
                f"an intent with no examples: a text answer but no training phrases ({stem}_usersays_<lang>.json)",
            )
        self._settings(intent, lines)
        translations = {}
        for language, chosen in texts.items():
            if language in languages.TRANSLATED:
                translations[language] = FaqText(answer=chosen.answer(), channel_answers=chosen.channels())
        record = FaqRecord(
            id=self.ids.of(intent.name),
            title=intent.name,
            answer=base.answer(),
            channel_answers=base.channels(),
            questions=questions,
            tags=[TAG, FOLLOW_UP_TAG] if follow_up else [TAG],
            enabled=data.get("priority", NORMAL_PRIORITY) >= 0,
            translations=dict(sorted(translations.items())),
        )
        try:
            faqs.validate(record)
        except InvalidArgument as e:
            return self._leave_out(file, what, f"refused by twinteller's knowledge base: {e}")
        for line in lines:
            report.omit(line.where, line.what, line.reason)
        report.imported["intents"] += 1
        report.imported["follow-up intents"] += follow_up
        report.imported["training phrases"] += len(questions)
        report.imported["responses"] += used_messages
        return record

    def _leave_out(self, file: str, what: str, reason: str, lines: list[_Line] | None = None) -> FaqRecord | None:
        """The whole intent stays behind (None): one line for it, and `lines`, the parts that are why."""
        self.report.omit(file, what, reason)
        for line in lines or []:
            self.report.omit(line.where, line.what, line.reason)
        return None

    # -- answers

    def _answers(self, intent: _Intent, lines: list[_Line]) -> tuple[dict[str, _Texts], int]:
        """Twinteller language -> the texts of the language code chosen for it, and how many
        messages gave text. The agent's default language comes first, then the others in
        order of their codes; a language twinteller does not answer in counts only as the
        agent's default (the entry's own answer when there is no English)."""
        file = intent.file
        parameters = self._parameter_names(intent)
        by_code: dict[str, _Texts] = {}
        for n, response in enumerate(intent.data.get("responses") or []):
            for m, message in enumerate(response.get("messages") or []):
                self.report.present["responses"] += 1
                key = f"responses[{n}].messages[{m}]"
                code = str(message.get("lang") or self.default).lower()
                texts = by_code.setdefault(code, _Texts(code))
                self._message(message, _where(file, key), code, texts, parameters, lines)
        chosen: dict[str, _Texts] = {}
        used = 0
        for code in sorted(by_code, key=lambda c: (c != self.default, c)):
            texts = by_code[code]
            if not texts.messages:
                continue
            language = language_of(code) or code
            if language not in languages.LANGUAGES and code != self.default:
                for where in texts.messages:
                    lines.append(_Line(where, f"response in {code}", f"twinteller does not answer in {code}"))
                continue
            if language in chosen:
                for where in texts.messages:
                    lines.append(
                        _Line(where, f"response in {code}", f"the {language} answer is the {chosen[language].code} one")
                    )
                continue
            chosen[language] = texts
            used += len(texts.messages)
        unanswered = language_of(self.default) is None
        if unanswered and languages.EN in chosen and self.default in chosen:  # English is the entry's answer
            texts = chosen.pop(self.default)
            used -= len(texts.messages)
            for where in texts.messages:
                lines.append(_Line(where, f"response in {texts.code}", f"twinteller does not answer in {texts.code}"))
        return chosen, used

    def _base(self, chosen: dict[str, _Texts]) -> _Texts | None:
        """The entry's own answer: English; else the agent's default language; else Chinese."""
        default = language_of(self.default) or self.default
        for language in (languages.EN, default, *languages.TRANSLATED):
            if language in chosen:
                return chosen[language]
        return None

    def _message(
        self, message: dict[str, Any], where: str, code: str, texts: _Texts, parameters: set[str], lines: list[_Line]
    ) -> None:
        platform = str(message.get("platform") or "").lower()
        kind = _message_kind(message)
        if platform not in ("", "telephony"):
            lines.append(
                _Line(
                    where,
                    f"{platform} {_describe(kind, message)}",
                    f"a response for {platform} only: twinteller answers on its own channels",
                )
            )
            return
        if kind == 0:
            variant = self._variant(_speech(message), where, parameters, lines)
            if variant:
                (texts.ivr if platform == "telephony" else texts.default).append(variant)
                texts.messages.append(where)
            return
        if kind in _TELEPHONY_SPEECH:
            text, ssml = _telephony_speech(message)
            variant = self._variant([text] if text else [], where, parameters, lines)
            if variant:
                texts.ivr.append(variant)
                texts.messages.append(where)
                if ssml:
                    lines.append(
                        _Line(where, "SSML markup", "twinteller's IVR answer is plain text: the words are kept")
                    )
            return
        if kind in _TELEPHONY_AUDIO:
            audio = message.get("audioUri") or (message.get("telephonyPlayAudio") or {}).get("audioUri", "")
            lines.append(
                _Line(where, f"telephony audio {audio}".strip(), "twinteller's IVR speaks text; it plays no audio")
            )
            return
        if kind in _TELEPHONY_TRANSFER:
            number = message.get("phoneNumber") or (message.get("telephonyTransferCall") or {}).get("phoneNumber", "")
            lines.append(
                _Line(where, f"call transfer to {number}".strip(), "twinteller answers; it does not transfer calls")
            )
            return
        lines.append(_Line(where, _describe(kind, message), "rich messages are not kept: twinteller answers with text"))

    def _variant(self, variants: list[str], where: str, parameters: set[str], lines: list[_Line]) -> str:
        chosen = ""
        for n, variant in enumerate(variants):
            at = f"{where}.speech[{n}]" if len(variants) > 1 else where
            used = _uses_parameters(variant, parameters)
            if used:
                lines.append(
                    _Line(at, repr(variant), f"shows parameter values ({', '.join(used)}): not a static answer")
                )
            elif chosen:
                lines.append(_Line(at, repr(variant), "another variant: twinteller gives one answer per language"))
            else:
                chosen = variant
        return chosen

    @staticmethod
    def _parameter_names(intent: _Intent) -> set[str]:
        return {
            str(p.get("name", ""))
            for response in intent.data.get("responses") or []
            for p in response.get("parameters") or []
        }

    # -- questions

    def _questions(self, intent: _Intent, lines: list[_Line]) -> list[str]:
        questions: list[str] = []
        seen: set[str] = set()
        for phrase in intent.phrases:
            text = phrase.text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").strip()
            if phrase.template:
                lines.append(_Line(phrase.where, repr(phrase.text), "a template (entity names, not customer words)"))
            elif not text:
                lines.append(_Line(phrase.where, repr(phrase.text), "an empty training phrase"))
            elif len(text.encode()) > faqs.MAX_QUESTION_BYTES:
                lines.append(
                    _Line(phrase.where, repr(text[:40] + "..."), f"longer than {faqs.MAX_QUESTION_BYTES} bytes")
                )
            elif text in seen:
                lines.append(_Line(phrase.where, repr(text), "the same question is already listed"))
            elif len(questions) >= faqs.MAX_QUESTIONS:
                lines.append(_Line(phrase.where, repr(text), f"more than {faqs.MAX_QUESTIONS} questions"))
            else:
                seen.add(text)
                questions.append(text)
        return questions

    # -- what twinteller has no place for

    def _settings(self, intent: _Intent, lines: list[_Line]) -> None:
        file, data = intent.file, intent.data
        if intent.parent:
            parent = self.by_id[intent.parent].name
            contexts = data.get("contexts") or []
            for n, context in enumerate(contexts):
                lines.append(
                    _Line(
                        _where(file, f"contexts[{n}]"),
                        f"follow-up of {parent!r}: input context {context!r} not kept",
                        "twinteller has no contexts: the entry answers without the conversation before it",
                    )
                )
            if not contexts:
                lines.append(
                    _Line(
                        _where(file, "parentId"),
                        f"follow-up of {parent!r}",
                        "twinteller has no contexts: the entry answers without the conversation before it",
                    )
                )
        else:
            for n, context in enumerate(data.get("contexts") or []):
                lines.append(
                    _Line(
                        _where(file, f"contexts[{n}]"),
                        f"input context {context!r} not kept",
                        "twinteller has no contexts: the entry answers whenever its questions are asked",
                    )
                )
        if data.get("webhookUsed"):
            lines.append(
                _Line(
                    _where(file, "webhookUsed"),
                    "webhook fulfilment",
                    "twinteller calls no webhooks: it answers with the static text the webhook's reply replaced",
                )
            )
        if data.get("webhookForSlotFilling"):
            lines.append(
                _Line(_where(file, "webhookForSlotFilling"), "webhook for slot filling", "twinteller calls no webhooks")
            )
        for n, event in enumerate(data.get("events") or []):
            lines.append(
                _Line(
                    _where(file, f"events[{n}]"),
                    f"event {event.get('name', '')!r}",
                    "twinteller has no events: the entry answers its questions only",
                )
            )
        priority = data.get("priority", NORMAL_PRIORITY)
        if isinstance(priority, int) and priority >= 0 and priority != NORMAL_PRIORITY:
            lines.append(
                _Line(_where(file, "priority"), f"priority {priority}", "twinteller ranks entries by the model alone")
            )
        for key in ("conditionalResponses", "conditionalFollowupEvents"):
            if data.get(key):
                lines.append(_Line(_where(file, key), key, "twinteller has no conditions: the static text is kept"))
        if data.get("condition"):
            lines.append(
                _Line(_where(file, "condition"), f"condition {data['condition']!r}", "twinteller has no conditions")
            )
        if data.get("liveAgentHandoff"):
            lines.append(
                _Line(_where(file, "liveAgentHandoff"), "live agent handoff", "not kept: the entry only answers")
            )
        for n, response in enumerate(data.get("responses") or []):
            key = f"responses[{n}]"
            if response.get("action"):
                lines.append(
                    _Line(
                        _where(file, f"{key}.action"),
                        f"action {response['action']!r}",
                        "twinteller runs no actions: it answers with static text",
                    )
                )
            for c, context in enumerate(response.get("affectedContexts") or []):
                lines.append(
                    _Line(
                        _where(file, f"{key}.affectedContexts[{c}]"),
                        f"output context {context.get('name', '')!r} not set",
                        "twinteller has no contexts",
                    )
                )
            if response.get("resetContexts"):
                lines.append(_Line(_where(file, f"{key}.resetContexts"), "context reset", "twinteller has no contexts"))
            for p, parameter in enumerate(response.get("parameters") or []):
                at = _where(file, f"{key}.parameters[{p}]")
                name, data_type = parameter.get("name", ""), parameter.get("dataType", "")
                if parameter.get("required"):
                    prompts = [str(q.get("value", "")) for q in parameter.get("prompts") or [] if isinstance(q, dict)]
                    asked = f", prompts {prompts}" if prompts else ""
                    lines.append(
                        _Line(
                            at,
                            f"required parameter {name!r} ({data_type}){asked}",
                            "slot filling is not kept: twinteller answers without asking for it",
                        )
                    )
                else:
                    lines.append(
                        _Line(
                            at,
                            f"parameter {name!r} ({data_type})",
                            "not extracted: twinteller answers with static text (the phrases still train)",
                        )
                    )


def _describe(kind: int | str, message: dict[str, Any]) -> str:
    """A message as the report names it: "card 'Accounts'", "quick replies 'More?' ['Cards']"."""
    name = _KINDS.get(kind, f"message type {kind}") if isinstance(kind, int) else kind.replace("_", " ")
    title = message.get("imageUrl") if kind == 3 else message.get("title")
    if isinstance(title, str) and title:
        name += f" {title!r}"
    replies = message.get("replies")
    if kind == 2 and isinstance(replies, list) and replies:
        name += f" {replies}"
    return name


# -- entities -> lexicon --------------------------------------------------------------------


def _lexicon(entities: dict[str, _Entity], report: Report) -> list[LexiconEntry]:
    taken: dict[str, tuple[str, str]] = {}  # casefolded term -> (canonical, entity)
    entries: list[LexiconEntry] = []
    for entity in sorted(entities.values(), key=lambda e: e.file):
        data = entity.data
        values = [(file, n, entry) for file, _, items in entity.entries for n, entry in enumerate(items)]
        synonyms = [
            (file, n, s, synonym.strip(), entry["value"].strip())
            for file, n, entry in values
            for s, synonym in enumerate(entry.get("synonyms") or [])
            if synonym.strip() and synonym.strip().casefold() != entry["value"].strip().casefold()
        ]
        report.present["entities"] += 1
        report.present["entity values"] += len(values)
        report.present["synonyms"] += len(synonyms)
        what = f"entity @{entity.name} ({len(values)} values, {len(synonyms)} synonyms)"
        if data.get("isRegexp"):
            report.omit(entity.file, what, "a regexp entity: twinteller's lexicon has words, not patterns")
            continue
        composite = sorted({ref for _, _, entry in values for ref in _ENTITY_REFERENCE.findall(entry["value"])})
        if composite:
            report.omit(
                entity.file, what, f"a composite entity (of {', '.join(composite)}): the lexicon maps words to words"
            )
            continue
        report.imported["entities"] += 1
        report.imported["entity values"] += len(values)
        if data.get("automatedExpansion"):
            report.omit(
                _where(entity.file, "automatedExpansion"),
                f"automated expansion of @{entity.name}",
                "only the listed values and synonyms map",
            )
        if data.get("allowFuzzyExtraction"):
            report.omit(
                _where(entity.file, "allowFuzzyExtraction"),
                f"fuzzy matching of @{entity.name}",
                "the lexicon matches the words as listed",
            )
        for file, n, s, term, canonical in synonyms:
            where = _where(file, f"[{n}].synonyms[{s}]")
            known = taken.get(term.casefold())
            if known is not None and known[0] == canonical:
                report.imported["synonyms"] += 1  # the same mapping again (another language)
                continue
            if known is not None:
                report.omit(where, f"{term!r} -> {canonical!r}", f"{term!r} already maps to {known[0]!r} (@{known[1]})")
                continue
            try:
                entry = lexicon.validate(LexiconEntry(term, canonical))
            except InvalidArgument as e:
                report.omit(where, f"{term!r} -> {canonical!r}", f"refused by twinteller's lexicon: {e}")
                continue
            taken[term.casefold()] = (canonical, entity.name)
            entries.append(entry)
            report.imported["synonyms"] += 1
    return sorted(entries, key=lambda e: (e.term.casefold(), e.term, e.canonical))


# -- the export -----------------------------------------------------------------------------


def convert(export: Export) -> Converted:
    agent_file = _agent_file(export)
    if agent_file is None:
        raise SourceError(AGENT, "", "no agent.json: not a Dialogflow ES export")
    root = agent_file[: -len(AGENT)]
    agent = json_object(export.json(agent_file), agent_file, "")
    default = json_string(agent.get("language", languages.EN), agent_file, "language", required=True)
    for n, code in enumerate(json_list(agent.get("supportedLanguages"), agent_file, "supportedLanguages")):
        json_string(code, agent_file, f"supportedLanguages[{n}]", required=True)
    if root + "package.json" in export.files:
        json_object(export.json(root + "package.json"), root + "package.json", "")
    entities = _entities(export, root)
    intents = _intents(export, root, default, set(entities))

    report = Report(PLATFORM)
    converter = _IntentConverter(default, {i.id: i for i in intents}, report)
    records = [r for r in (converter.convert(intent) for intent in intents) if r is not None]
    lexicon_entries = _lexicon(entities, report)
    system = sorted({name for intent in intents for name in intent.sys_entities})
    if system:
        report.present["system entities"] += len(system)
    _other_files(export, root, report)
    return Converted(sorted(records, key=lambda r: r.id), lexicon_entries, report)


def _other_files(export: Export, root: str, report: Report) -> None:
    """Every file the agent's folders do not explain gets its line."""
    known = {root + AGENT, root + "package.json"}
    folders = (root + "intents/", root + "entities/")
    for name in export.names():
        if name in known:
            continue
        if any(name.startswith(f) and "/" not in name[len(f) :] and name.endswith(".json") for f in folders):
            continue
        if not name.startswith(root):
            report.omit(name, "file outside the agent's folder", "not part of the agent: not read")
        elif re.fullmatch(rf"customSmalltalkResponses_{_LANG}\.json", name[len(root) :]):
            report.omit(name, "small talk answers", "Dialogflow's small talk is not kept: add FAQ entries for it")
        else:
            report.omit(name, "file not read", "not part of a Dialogflow ES agent's intents or entities")
