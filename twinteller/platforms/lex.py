"""Amazon Lex V2 bot exports (the LexJson zip) -> FAQ and lexicon entries (mapping.py).

The export, as the Lex V2 console and CreateExport write it ("JSON format for importing and
exporting bots in Lex V2"); a bot locale export has the same layout for one locale:

    Manifest.json     {"metadata": {"schemaVersion", "fileFormat": "LexJson", "resourceType": "BOT"}}
    <Bot>/Bot.json
    <Bot>/BotLocales/<locale>/BotLocale.json
    <Bot>/BotLocales/<locale>/Intents/<Intent>/Intent.json
    <Bot>/BotLocales/<locale>/Intents/<Intent>/Slots/<Slot>/Slot.json
    <Bot>/BotLocales/<locale>/SlotTypes/<Type>/SlotType.json
    <Bot>/BotLocales/<locale>/CustomVocabulary/CustomVocabulary.json

Real exports write "metaData" and "messageGroupsList"; the documented "metadata" and the
API's "messageGroups" are read as well.

How it maps (every thing left out has a line in the report):

- One FAQ entry per custom intent (by name, across its locales) that has a static answer:
  id `Ids().of(name)`, title the name, tag `imported:lex-v2`.
- The answer is the first of the intent's closing response, initial response and
  post-fulfilment success response that has static text; each of its message groups is one
  paragraph (Lex sends every group). In a group, the first plain-text message is kept and
  its other variations are left out. A message that fills in slot values ("{Amount}") is
  not static and is left out.
- SSML messages (tags stripped, entities decoded) are the entry's "ivr" channel answer; a
  group with SSML only gives its words to the text answer too.
- English locales (en_US, then en_GB, then others) give the entry's own answer, Chinese
  ones (zh_CN -> zh-Hans; zh_HK, zh_TW, yue_HK -> zh-Hant: `language_of`) its translations.
  An intent answered only in Chinese keeps that answer as its own text too (reported).
  Locales of other languages: their utterances still train the entry; their messages and
  slot type synonyms are left out.
- Questions: the sample utterances of every locale, whitespace collapsed. A `{Slot}` is
  filled in with the first value of the slot's custom slot type (in that locale); an
  utterance with a slot of a built-in type (AMAZON.Number ...) or a type with no values is
  left out: twinteller's questions are plain text, and a made-up value could mislead.
- An entry whose answer Lex only gave after work twinteller does not do (an enabled code
  hook, a required slot it asked for, a confirmation prompt) is imported disabled, to be
  checked before it goes live: "Your transfer is done" must not become a static answer.
- Left out, each with where: code hooks (Lambda), slot elicitation, confirmation prompts,
  input/output contexts, Kendra, cards and custom payloads, fulfilment progress and failure
  messages, built-in intents (AMAZON.*: twinteller has its own fallback), custom vocabulary.
- Slot type values' synonyms -> LexiconEntry(term=synonym, canonical=value); a synonym the
  same as its value, too long for the lexicon, or already mapped to another value is left
  out. The resolution strategy (ORIGINAL_VALUE / TOP_RESOLUTION) does not change this.

Counts: intents (by name), sample utterances, messages (the intents' response messages,
variations included), slot types, slot values (imported: rewritten to by a synonym, or
filled into a question), synonyms, code hooks, locales (imported: of a language twinteller
answers in).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from twinteller.knowledge import languages
from twinteller.knowledge.faqs import MAX_ANSWER_BYTES, MAX_QUESTION_BYTES, MAX_QUESTIONS, MAX_TITLE, FaqRecord
from twinteller.knowledge.lexicon import MAX_TERM, LexiconEntry
from twinteller.knowledge.schema import FaqText
from twinteller.platforms.mapping import (
    Converted,
    Export,
    Ids,
    Report,
    SourceError,
    fit,
    json_list,
    json_object,
    json_string,
    language_of,
    short,
)

PLATFORM = "lex-v2"
TAG = "imported:lex-v2"
IVR = "ivr"
BUILT_IN = "AMAZON."
MANIFEST = "Manifest.json"
KINDS = (
    "intents",
    "sample utterances",
    "messages",
    "slot types",
    "slot values",
    "synonyms",
    "code hooks",
    "locales",
)
# Which locale of a language answers first; others of that language follow by name.
PREFERRED_LOCALES = ("en_US", "en_GB", "zh_HK", "yue_HK", "zh_TW", "zh_CN")

_LOCALE_FILE = re.compile(r"^(?P<dir>(?:.*/)?BotLocales/[^/]+)/(?P<rest>.+)$")
_SLOT_REF = re.compile(r"\{([^{}]*)\}")
_SSML_TAG = re.compile(r"<[^>]*>")
_GROUP_KEYS = ("messageGroupsList", "messageGroups", "messageGroupList")
_KIND_NAMES = {"text": "message", "ssml": "SSML message", "card": "image response card", "payload": "custom payload"}
_CARD_REASON = "cards and custom payloads are a channel's own UI; twinteller answers in text"
_OTHER_LANGUAGE = f"twinteller answers in {', '.join(languages.LANGUAGES)}"


# -- what an export holds ------------------------------------------------------------------


@dataclass
class _SlotType:
    name: str
    file: str
    values: list[tuple[str, list[str]]]  # (value, its synonyms)
    why_none: str  # why a type has no values: "a regex filter", "a grammar" ...


@dataclass
class _Slot:
    name: str
    where: str  # "<file>: <key>"
    type_name: str
    required: bool
    prompt: str


@dataclass
class _Message:
    where: str  # key path in the intent file
    kind: str  # text, ssml, card, payload
    text: str


@dataclass
class _Response:
    """One response specification of an intent (its closing response, ...)."""

    label: str
    where: str
    groups: list[list[_Message]]  # each group: its message, then its variations
    active: bool


@dataclass
class _Locale:
    id: str
    dir: str
    language: str | None
    slot_types: dict[str, _SlotType] = field(default_factory=dict)
    intents: list[_Intent] = field(default_factory=list)


@dataclass
class _Intent:
    name: str
    locale: _Locale
    file: str
    parent: str  # parentIntentSignature: a built-in intent's
    utterances: list[str]
    slots: dict[str, _Slot]
    answers: list[_Response]  # the responses that can be the answer, in order
    others: list[_Response]  # responses that never are (fulfilment progress, failure)
    review: list[str]  # why the entry is imported disabled
    hooks: bool


@dataclass
class _Answer:
    text: str
    ivr: str
    messages: int  # how many of the export's messages it holds


# -- detect and convert --------------------------------------------------------------------


def detect(export: Export) -> bool:
    """A manifest that says LexJson, or (no manifest) the BotLocales layout."""
    manifest = _manifest(export)
    if manifest is not None:
        try:
            return _lexjson(_metadata(export.json(manifest)).get("fileFormat"))
        except SourceError:
            return False
    return any(_LOCALE_FILE.match(name) and name.endswith("/BotLocale.json") for name in export.files)


def convert(export: Export) -> Converted:
    report = Report(PLATFORM)
    for kind in KINDS:
        report.present[kind] += 0
        report.imported[kind] += 0
    root = _check_manifest(export)
    locales = _read_locales(export, root, report)
    for locale in locales:
        report.present["locales"] += 1
        if locale.language is not None:
            report.imported["locales"] += 1
        else:
            report.omit(
                f"{locale.dir}/BotLocale.json",
                f"locale {locale.id}",
                f"{_OTHER_LANGUAGE}: its sample utterances train the entries; its messages and synonyms are left out",
            )
    by_name: dict[str, list[_Intent]] = {}
    for locale in locales:
        for intent in locale.intents:
            by_name.setdefault(intent.name, []).append(intent)
    ids = Ids()
    filled: set[tuple[str, str, str]] = set()  # (locale dir, slot type, value) filled into a question
    faqs = []
    for name in sorted(by_name):
        report.present["intents"] += 1
        record = _faq(name, by_name[name], ids, report, filled)
        if record is not None:
            report.imported["intents"] += 1
            faqs.append(record)
    lexicon = _lexicon(locales, filled, report)
    return Converted(faqs, lexicon, report)


# -- the manifest and the layout -----------------------------------------------------------


def _manifest(export: Export) -> str | None:
    found = [name for name in export.files if name.rsplit("/", 1)[-1].lower() == MANIFEST.lower()]
    return min(found, key=lambda name: (name.count("/"), name), default=None)


def _metadata(data: Any) -> dict[str, Any]:
    meta = data.get("metadata", data.get("metaData")) if isinstance(data, dict) else None
    return meta if isinstance(meta, dict) else {}


def _lexjson(value: Any) -> bool:
    return isinstance(value, str) and value.replace("_", "").lower() == "lexjson"


def _check_manifest(export: Export) -> str:
    """The folder the export lies in ("" or "MyBot_export/"), once its manifest says LexJson."""
    manifest = _manifest(export)
    if manifest is None:
        raise SourceError(MANIFEST, "", "missing: not a Lex V2 export (export the bot with the LexJson file format)")
    meta = _metadata(export.json(manifest))
    if not _lexjson(meta.get("fileFormat")):
        raise SourceError(
            manifest,
            "metadata.fileFormat",
            f"{meta.get('fileFormat')!r} is not LexJson: not a Lex V2 export (export the bot as LexJson)",
        )
    resource = meta.get("resourceType")
    if isinstance(resource, str) and "vocabulary" in resource.lower():
        raise SourceError(
            manifest, "metadata.resourceType", "a custom vocabulary export has no intents: export the bot"
        )
    return manifest[: -len(MANIFEST)]


def _read_locales(export: Export, root: str, report: Report) -> list[_Locale]:
    folders: dict[str, dict[str, str]] = {}  # locale dir -> path inside it -> full path
    for name in sorted(export.files):
        if name.lower() == f"{root}{MANIFEST}".lower():
            continue
        match = _LOCALE_FILE.match(name) if name.startswith(root) else None
        if match:
            folders.setdefault(match["dir"], {})[match["rest"]] = name
        elif name.rsplit("/", 1)[-1] == "Bot.json":
            json_object(export.json(name), name, "")
        else:
            report.omit(name, "file", "not part of a LexJson bot export; not read")
    if not folders:
        raise SourceError(f"{root}{MANIFEST}", "", "the export has no BotLocales/<locale>/BotLocale.json")
    locales = [_read_locale(export, folder, files, report) for folder, files in folders.items()]
    return sorted(locales, key=_locale_order)


def _locale_order(locale: _Locale) -> tuple[int, int, str]:
    rank = {languages.EN: 0, languages.HANT: 1, languages.HANS: 2}.get(locale.language or "", 3)
    preferred = PREFERRED_LOCALES.index(locale.id) if locale.id in PREFERRED_LOCALES else len(PREFERRED_LOCALES)
    return rank, preferred, locale.id


def _read_locale(export: Export, folder: str, files: dict[str, str], report: Report) -> _Locale:
    path = f"{folder}/BotLocale.json"
    if "BotLocale.json" not in files:
        raise SourceError(path, "", "missing: every locale folder has its BotLocale.json")
    data = json_object(export.json(path), path, "")
    locale_id = json_string(data.get("identifier"), path, "identifier") or folder.rsplit("/", 1)[-1]
    locale = _Locale(locale_id, folder, language_of(locale_id))
    known = {"BotLocale.json"}
    for name in sorted(
        {rest.split("/")[1] for rest in files if rest.startswith("SlotTypes/") and rest.count("/") >= 2}
    ):
        known.add(f"SlotTypes/{name}/SlotType.json")
        slot_type = _read_slot_type(export, f"{folder}/SlotTypes/{name}/SlotType.json", name)
        locale.slot_types[slot_type.name] = slot_type
    intent_folders = sorted(
        {rest.split("/")[1] for rest in files if rest.startswith("Intents/") and rest.count("/") >= 2}
    )
    for name in intent_folders:
        known.add(f"Intents/{name}/Intent.json")
        slot_folders = sorted(
            {rest.split("/")[3] for rest in files if rest.startswith(f"Intents/{name}/Slots/") and rest.count("/") >= 4}
        )
        known.update(f"Intents/{name}/Slots/{slot}/Slot.json" for slot in slot_folders)
        locale.intents.append(_read_intent(export, locale, name, slot_folders, report))
    for rest, name in files.items():
        if rest in known:
            continue
        if rest.startswith("CustomVocabulary/"):
            report.omit(name, f"custom vocabulary of {locale.id}", "speech recognition hints; twinteller reads text")
        else:
            report.omit(name, "file", "not part of a LexJson bot export; not read")
    return locale


def _read_slot_type(export: Export, path: str, folder: str) -> _SlotType:
    if path not in export.files:
        raise SourceError(path, "", "missing: every slot type folder has its SlotType.json")
    data = json_object(export.json(path), path, "")
    name = json_string(data.get("name"), path, "name") or folder
    values = []
    for i, item in enumerate(json_list(data.get("slotTypeValues"), path, "slotTypeValues")):
        where = f"slotTypeValues[{i}]"
        item = json_object(item, path, where)
        sample = json_object(item.get("sampleValue") or {}, path, f"{where}.sampleValue")
        value = json_string(sample.get("value"), path, f"{where}.sampleValue.value")
        synonyms = []
        for j, synonym in enumerate(json_list(item.get("synonyms"), path, f"{where}.synonyms")):
            synonym = json_object(synonym, path, f"{where}.synonyms[{j}]")
            synonyms.append(json_string(synonym.get("value"), path, f"{where}.synonyms[{j}].value"))
        if value.strip():
            values.append((value, synonyms))
    selection = data.get("valueSelectionSetting")
    if isinstance(selection, dict) and selection.get("regexFilter"):
        why = "a regex filter"
    elif data.get("externalSourceSetting"):
        why = "a grammar"
    elif data.get("compositeSlotTypeSetting"):
        why = "made of sub-slots"
    elif data.get("parentSlotTypeSignature"):
        why = f"extends {data['parentSlotTypeSignature']}"
    else:
        why = "no values"
    return _SlotType(name, path, values, why)


def _read_intent(export: Export, locale: _Locale, folder: str, slot_folders: list[str], report: Report) -> _Intent:
    path = f"{locale.dir}/Intents/{folder}/Intent.json"
    if path not in export.files:
        raise SourceError(path, "", "missing: every intent folder has its Intent.json")
    data = json_object(export.json(path), path, "")
    name = json_string(data.get("name"), path, "name") or folder
    parent = json_string(data.get("parentIntentSignature"), path, "parentIntentSignature")
    utterances = []
    for i, item in enumerate(json_list(data.get("sampleUtterances"), path, "sampleUtterances")):
        item = json_object(item, path, f"sampleUtterances[{i}]")
        utterances.append(json_string(item.get("utterance"), path, f"sampleUtterances[{i}].utterance"))
    if not parent and not any(u.strip() for u in utterances):
        raise SourceError(path, "sampleUtterances", "none: a custom intent needs sample utterances")
    slots: dict[str, _Slot] = {}
    for i, item in enumerate(json_list(data.get("slots"), path, "slots")):
        slot = _read_slot(json_object(item, path, f"slots[{i}]"), path, f"slots[{i}]", "", locale)
        slots[slot.name] = slot
    for slot_folder in slot_folders:
        slot_path = f"{locale.dir}/Intents/{folder}/Slots/{slot_folder}/Slot.json"
        if slot_path not in export.files:
            raise SourceError(slot_path, "", "missing: every slot folder has its Slot.json")
        slot = _read_slot(json_object(export.json(slot_path), slot_path, ""), slot_path, "", slot_folder, locale)
        slots[slot.name] = slot
    for i, utterance in enumerate(utterances):
        for ref in _SLOT_REF.findall(utterance):
            if ref not in slots:
                raise SourceError(
                    path,
                    f"sampleUtterances[{i}]",
                    f"{utterance!r} references {{{ref}}}, a slot the intent does not define",
                )
    closing = json_object(data.get("intentClosingSetting") or {}, path, "intentClosingSetting")
    initial = json_object(data.get("initialResponseSetting") or {}, path, "initialResponseSetting")
    fulfilment = json_object(data.get("fulfillmentCodeHook") or {}, path, "fulfillmentCodeHook")
    post = json_object(
        fulfilment.get("postFulfillmentStatusSpecification") or {},
        path,
        "fulfillmentCodeHook.postFulfillmentStatusSpecification",
    )
    updates = json_object(
        fulfilment.get("fulfillmentUpdatesSpecification") or {},
        path,
        "fulfillmentCodeHook.fulfillmentUpdatesSpecification",
    )
    post_key = "fulfillmentCodeHook.postFulfillmentStatusSpecification"
    updates_key = "fulfillmentCodeHook.fulfillmentUpdatesSpecification"
    answers = [
        _response(closing.get("closingResponse"), "closing response", "intentClosingSetting.closingResponse", path,
                  active=_active(closing)),
        _response(initial.get("initialResponse"), "initial response", "initialResponseSetting.initialResponse", path),
        _response(post.get("successResponse"), "fulfilment success response", f"{post_key}.successResponse", path),
    ]  # fmt: skip
    others = [
        _response(post.get("failureResponse"), "fulfilment failure response", f"{post_key}.failureResponse", path),
        _response(post.get("timeoutResponse"), "fulfilment timeout response", f"{post_key}.timeoutResponse", path),
        _response(updates.get("startResponse"), "fulfilment start update", f"{updates_key}.startResponse", path),
        _response(updates.get("updateResponse"), "fulfilment progress update", f"{updates_key}.updateResponse", path),
    ]
    intent = _Intent(name, locale, path, parent, utterances, slots, answers, others, [], False)
    _features(intent, data, report)
    return intent


def _read_slot(data: dict[str, Any], file: str, key: str, folder: str, locale: _Locale) -> _Slot:
    prefix = f"{key}." if key else ""
    name = json_string(data.get("name", data.get("slotName")), file, f"{prefix}name") or folder
    if not name:
        raise SourceError(file, f"{prefix}name", "missing: every slot has a name")
    type_name = json_string(data.get("slotTypeName"), file, f"{prefix}slotTypeName")
    if not type_name:
        raise SourceError(file, f"{prefix}slotTypeName", "missing: every slot has a slot type")
    if not type_name.startswith(BUILT_IN) and type_name not in locale.slot_types:
        raise SourceError(
            file,
            f"{prefix}slotTypeName",
            f"references missing slot type {type_name!r}: neither AMAZON.* nor in {locale.dir}/SlotTypes/",
        )
    setting_key = "valueElicitationSetting" if "valueElicitationSetting" in data else "slotValueElicitationSetting"
    setting = json_object(data.get(setting_key) or {}, file, f"{prefix}{setting_key}")
    constraint = setting.get("slotConstraint", data.get("slotConstraint"))
    prompt = _response(setting.get("promptSpecification"), "prompt", f"{prefix}{setting_key}.promptSpecification", file)
    first = next((m.text for group in prompt.groups for m in group if m.kind in ("text", "ssml")), "")
    where = f"{file}: {prefix}{setting_key}" if setting else f"{file}: {key or 'slotTypeName'}"
    return _Slot(name, where, type_name, constraint == "Required", first)


def _active(setting: dict[str, Any]) -> bool:
    return setting.get("active", setting.get("isActive")) is not False


def _response(spec: Any, label: str, key: str, file: str, *, active: bool = True) -> _Response:
    spec = json_object(spec or {}, file, key)
    list_key = next((k for k in _GROUP_KEYS if spec.get(k) is not None), _GROUP_KEYS[0])
    groups = []
    for g, group in enumerate(json_list(spec.get(list_key), file, f"{key}.{list_key}")):
        where = f"{key}.{list_key}[{g}]"
        group = json_object(group, file, where)
        found = []
        message = _message(group.get("message"), file, f"{where}.message")
        if message is not None:
            found.append(message)
        for v, variation in enumerate(json_list(group.get("variations"), file, f"{where}.variations")):
            message = _message(variation, file, f"{where}.variations[{v}]")
            if message is not None:
                found.append(message)
        if found:
            groups.append(found)
    return _Response(label, f"{file}: {key}", groups, active)


def _message(data: Any, file: str, where: str) -> _Message | None:
    data = json_object(data or {}, file, where)
    for key, kind in (("plainTextMessage", "text"), ("ssmlMessage", "ssml"), ("customPayload", "payload")):
        part = data.get(key)
        if part is not None:
            value = json_string(json_object(part, file, f"{where}.{key}").get("value"), file, f"{where}.{key}.value")
            if value.strip():
                return _Message(f"{where}.{key}", kind, value)
    card = data.get("imageResponseCard")
    if card is not None:
        title = json_string(
            json_object(card, file, f"{where}.imageResponseCard").get("title"), file, f"{where}.imageResponseCard"
        )
        return _Message(f"{where}.imageResponseCard", "card", title)
    return None


def _features(intent: _Intent, data: dict[str, Any], report: Report) -> None:
    """Report the parts of an intent twinteller does not carry (code hooks, slots, prompts,
    contexts), and note which of them make its answer one to check before it goes live."""
    path, of = intent.file, f"{intent.name} ({intent.locale.id})"
    hooks = []
    if _enabled(data.get("dialogCodeHook")):
        hooks.append(("dialogCodeHook", "dialog code hook", "a Lambda function steers each turn of the dialogue"))
    if _enabled(data.get("fulfillmentCodeHook")):
        hooks.append(("fulfillmentCodeHook", "fulfilment code hook", "a Lambda function fulfils the intent"))
    initial = data.get("initialResponseSetting")
    hook = initial.get("codeHook") if isinstance(initial, dict) else None
    if isinstance(hook, dict) and _active(hook) and hook.get("enableCodeHookInvocation") is not False:
        hooks.append(("initialResponseSetting.codeHook", "initial code hook", "a Lambda function runs first"))
    for key, what, why in hooks:
        report.present["code hooks"] += 1
        report.omit(f"{path}: {key}", f"{what} of {of}", f"{why}; twinteller runs no code, it answers from static text")
    if hooks:
        intent.hooks = True
        intent.review.append("a Lambda code hook")
    for slot in intent.slots.values():
        prompt = f", asked with '{short(slot.prompt)}'" if slot.required and slot.prompt else ""
        if slot.required:
            intent.review.append(f"asking for {slot.name}")
            why = "twinteller does not ask for details: the entry answers without them"
        else:
            why = "twinteller keeps no slot values: the entry answers without them"
        report.omit(slot.where, f"slot {slot.name} ({slot.type_name}) of {of}{prompt}", why)
    confirmation = data.get("intentConfirmationSetting")
    if isinstance(confirmation, dict) and _active(confirmation) and confirmation.get("promptSpecification"):
        intent.review.append("a confirmation prompt")
        report.omit(
            f"{path}: intentConfirmationSetting",
            f"confirmation prompt of {of}",
            "twinteller does not ask for confirmation: it answers at once",
        )
    for key in ("inputContexts", "outputContexts"):
        contexts = data.get(key)
        if isinstance(contexts, list) and contexts:
            names = ", ".join(str(c.get("name", "?")) if isinstance(c, dict) else str(c) for c in contexts)
            report.omit(
                f"{path}: {key}",
                f"{key[:-8]} contexts {names} of {of}",
                "twinteller has no conversation contexts: the entry answers whenever its questions match",
            )
    if data.get("kendraConfiguration"):
        report.omit(f"{path}: kendraConfiguration", f"Kendra search of {of}", "answers searched at run time")


def _enabled(hook: Any) -> bool:
    return isinstance(hook, dict) and hook.get("enabled") is True and _active(hook)


# -- intents -> FAQ entries ----------------------------------------------------------------


def _faq(
    name: str, versions: list[_Intent], ids: Ids, report: Report, filled: set[tuple[str, str, str]]
) -> FaqRecord | None:
    for version in versions:
        report.present["sample utterances"] += len(version.utterances)
        for response in version.answers + version.others:
            report.present["messages"] += sum(len(group) for group in response.groups)
    built_in = next((v for v in versions if v.parent), None)
    if built_in is not None:
        report.omit(
            f"{built_in.file}: parentIntentSignature",
            f"built-in intent {name} ({built_in.parent})",
            _built_in_reason(built_in.parent),
        )
        return None
    answers: dict[str, tuple[_Intent, _Answer, str]] = {}  # language -> (version, answer, its response)
    for version in versions:
        for response in version.others:
            if response.groups:
                report.omit(
                    response.where,
                    f"{response.label} of {name} ({version.locale.id}): '{short(_first(response))}'",
                    "said while or when a Lambda fulfilment runs or fails; twinteller runs no code",
                )
        found = _locale_answer(name, version, report)
        if found is None:
            continue
        response, answer = found
        language = version.locale.language
        assert language is not None
        if language not in answers:
            answers[language] = (version, answer, response.label)
            report.imported["messages"] += answer.messages
            continue
        first, kept, _ = answers[language]
        if (answer.text, answer.ivr) == (kept.text, kept.ivr):
            report.imported["messages"] += answer.messages
        else:
            report.omit(
                response.where,
                f"{response.label} of {name} ({version.locale.id}): '{short(answer.text)}'",
                f"the {first.locale.id} one is the entry's {language} answer",
            )
    if not answers:
        reason = (
            "its answer comes from a Lambda code hook; twinteller answers from static text"
            if any(v.hooks for v in versions)
            else "it has no static closing, initial or fulfilment message in English or Chinese"
        )
        count = sum(len(v.utterances) for v in versions)
        report.omit(versions[0].file, f"intent {name} and its {count} sample utterances", reason)
        return None
    questions = _questions(versions, report, filled)
    if languages.EN in answers:
        base = answers.pop(languages.EN)[1]
    else:
        language = next(lang for lang in languages.TRANSLATED if lang in answers)
        version, base, label = answers[language]
        report.omit(
            version.file,
            f"English answer of {name}",
            f"no English locale has one: the {language} {label} stands in as the entry's own text until one is written",
        )
    translations = {
        language: FaqText(answer=answer.text, channel_answers={IVR: answer.ivr} if answer.ivr else {})
        for language, (_, answer, _) in sorted(answers.items())
    }
    review = list(dict.fromkeys(reason for version in versions for reason in version.review))
    if review:
        report.omit(
            versions[0].file,
            f"intent {name} imported disabled",
            f"in Lex its answer came after {', '.join(review)}: enable it once the answer stands on its own",
        )
    return FaqRecord(
        id=ids.of(name),
        title=fit(name, MAX_TITLE),
        answer=base.text,
        channel_answers={IVR: base.ivr} if base.ivr else {},
        questions=questions,
        tags=[TAG],
        enabled=not review,
        translations=translations,
    )


def _built_in_reason(signature: str) -> str:
    if signature == "AMAZON.FallbackIntent":
        return "twinteller answers what it does not understand itself (its fallback and unrecognised queries)"
    if signature in ("AMAZON.QnAIntent", "AMAZON.KendraSearchIntent", "AMAZON.BedrockAgentIntent"):
        return "its answers are searched or generated at run time from a knowledge source; import that source instead"
    return "a built-in intent: twinteller has no built-in intents"


def _locale_answer(name: str, version: _Intent, report: Report) -> tuple[_Response, _Answer] | None:
    """The answer of one locale's intent, reporting every response message left out."""
    locale = version.locale
    chosen: tuple[_Response, _Answer] | None = None
    for response in version.answers:
        if not response.groups:
            continue
        what = f"{response.label} of {name} ({locale.id}): '{short(_first(response))}'"
        if locale.language is None:
            report.omit(response.where, what, f"{_OTHER_LANGUAGE}; the {locale.id} utterances still train the entry")
        elif not response.active:
            report.omit(response.where, what, "inactive in the bot")
        elif chosen is not None:
            report.omit(
                response.where, what, f"the {chosen[0].label} is the answer: twinteller gives one answer per entry"
            )
        else:
            answer = _answer(response, version, report)
            if answer is not None:
                chosen = (response, answer)
    return chosen


def _answer(response: _Response, intent: _Intent, report: Report) -> _Answer | None:
    texts: list[str] = []
    spoken: list[str] = []
    used, ssml = 0, False
    for group in response.groups:
        text: _Message | None = None
        speech: _Message | None = None
        for message in group:
            refs = [r for r in _SLOT_REF.findall(message.text) if r in intent.slots]
            if message.kind in ("card", "payload"):
                reason = _CARD_REASON
            elif refs:
                shown = ", ".join("{" + ref + "}" for ref in refs)
                reason = f"it fills in slot values ({shown}); twinteller answers with static text"
            elif message.kind == "text" and text is None:
                text = message
                continue
            elif message.kind == "ssml" and speech is None:
                speech = message
                continue
            else:
                reason = "a variation: twinteller gives one answer per entry; the first is kept"
            report.omit(
                f"{intent.file}: {message.where}", f"{_KIND_NAMES[message.kind]} '{short(message.text)}'", reason
            )
        if text is None and speech is None:
            continue
        words = _speech(speech.text) if speech is not None else ""
        texts.append(text.text.strip() if text is not None else words)
        spoken.append(words or (text.text.strip() if text is not None else ""))
        ssml = ssml or speech is not None
        used += (text is not None) + (speech is not None)
    if not texts:
        return None
    answer = "\n\n".join(texts)
    ivr = "\n\n".join(spoken) if ssml else ""
    size = max(len(answer.encode()), len(ivr.encode()))
    if size > MAX_ANSWER_BYTES:
        report.omit(
            response.where,
            f"{response.label} of {intent.name} ({intent.locale.id})",
            f"{size} bytes: twinteller's answers hold at most {MAX_ANSWER_BYTES}",
        )
        return None
    return _Answer(answer, "" if ivr == answer else ivr, used)


def _speech(ssml: str) -> str:
    """The words of an SSML message: tags out (a break is a space), entities decoded."""
    return " ".join(html.unescape(_SSML_TAG.sub(" ", ssml)).split())


def _questions(versions: list[_Intent], report: Report, filled: set[tuple[str, str, str]]) -> list[str]:
    questions: list[str] = []
    seen: set[str] = set()
    for version in versions:
        for i, utterance in enumerate(version.utterances):
            where = f"{version.file}: sampleUtterances[{i}]"
            question, fills, missing = _fill(utterance, version)
            question = " ".join(question.split())
            if missing:
                report.omit(
                    where,
                    f"sample utterance '{utterance}'",
                    f"{{{missing.name}}} is a slot of type {missing.type_name}, with no values to fill in; "
                    "twinteller's questions are plain text",
                )
            elif not question:
                report.omit(where, "an empty sample utterance", "nothing to train on")
            elif len(question.encode()) > MAX_QUESTION_BYTES:
                report.omit(where, f"sample utterance '{short(question)}'", f"longer than {MAX_QUESTION_BYTES} bytes")
            elif question in seen:
                report.imported["sample utterances"] += 1  # the same question, already there
            elif len(questions) >= MAX_QUESTIONS:
                report.omit(where, f"sample utterance '{short(question)}'", f"over {MAX_QUESTIONS} questions")
            else:
                questions.append(question)
                seen.add(question)
                filled.update(fills)
                report.imported["sample utterances"] += 1
    return questions


def _fill(utterance: str, intent: _Intent) -> tuple[str, set[tuple[str, str, str]], _Slot | None]:
    """The utterance with each {Slot} as the first value of its slot type, the values used,
    and the first slot that has no value to fill in."""
    parts: list[str] = []
    fills: set[tuple[str, str, str]] = set()
    last = 0
    for match in _SLOT_REF.finditer(utterance):
        slot = intent.slots[match.group(1)]
        slot_type = intent.locale.slot_types.get(slot.type_name)
        if slot_type is None or not slot_type.values:
            return utterance, set(), slot
        value = slot_type.values[0][0]
        fills.add((intent.locale.dir, slot_type.name, value))
        parts += [utterance[last : match.start()], value]
        last = match.end()
    return "".join([*parts, utterance[last:]]), fills, None


# -- slot types -> lexicon -----------------------------------------------------------------


def _lexicon(locales: list[_Locale], filled: set[tuple[str, str, str]], report: Report) -> list[LexiconEntry]:
    entries: list[LexiconEntry] = []
    canonical_of: dict[str, str] = {}  # term, case-folded -> its canonical
    for locale in locales:
        for slot_type in sorted(locale.slot_types.values(), key=lambda t: t.name):
            values = slot_type.values
            report.present["slot types"] += 1
            report.present["slot values"] += len(values)
            report.present["synonyms"] += sum(len(synonyms) for _, synonyms in values)
            what = f"slot type {slot_type.name} ({locale.id})"
            if not values:
                report.omit(slot_type.file, what, f"{slot_type.why_none}: twinteller has no entity types")
                continue
            used = {value for d, t, value in filled if (d, t) == (locale.dir, slot_type.name)}
            if locale.language is None:
                if any(synonyms for _, synonyms in values):
                    report.omit(
                        f"{slot_type.file}: slotTypeValues",
                        f"synonyms of {what}",
                        f"{_OTHER_LANGUAGE}; the lexicon rewrites every customer's words",
                    )
            else:
                used |= _synonyms(slot_type, entries, canonical_of, report)
            report.imported["slot values"] += sum(1 for value, _ in values if value in used)
            if used:
                report.imported["slot types"] += 1
            left = [value for value, _ in values if value not in used]
            if left:
                report.omit(
                    f"{slot_type.file}: slotTypeValues",
                    f"values of {what}: {', '.join(repr(v) for v in left)}",
                    "twinteller has no entity types: a value comes across only as what its synonyms are "
                    "rewritten to, or filled into a question",
                )
    return entries


def _synonyms(
    slot_type: _SlotType, entries: list[LexiconEntry], canonical_of: dict[str, str], report: Report
) -> set[str]:
    """Lexicon entries of a slot type's synonyms; the values they came across as."""
    came: set[str] = set()
    for i, (value, synonyms) in enumerate(slot_type.values):
        canonical = value.strip()
        for j, synonym in enumerate(synonyms):
            term = synonym.strip()
            known = canonical_of.get(term.casefold())
            if not term:
                reason = "empty"
            elif term.casefold() == canonical.casefold():
                reason = "the same as its value: nothing to rewrite"
            elif len(term) > MAX_TERM or len(canonical) > MAX_TERM:
                reason = f"the lexicon's terms hold at most {MAX_TERM} characters"
            elif known is not None and known != canonical:
                reason = f"already rewritten to '{known}'"
            else:
                report.imported["synonyms"] += 1
                came.add(value)
                if known is None:
                    canonical_of[term.casefold()] = canonical
                    entries.append(LexiconEntry(term, canonical))
                continue
            report.omit(
                f"{slot_type.file}: slotTypeValues[{i}].synonyms[{j}]", f"synonym '{synonym}' of '{value}'", reason
            )
    return came


# -- helpers -------------------------------------------------------------------------------


def _first(response: _Response) -> str:
    return next((m.text for group in response.groups for m in group), "")
