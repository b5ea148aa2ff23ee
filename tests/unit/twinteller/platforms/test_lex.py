"""twinteller.platforms.lex: Amazon Lex V2 LexJson bot exports -> FAQ and lexicon entries.

The exports are written by hand after the documented layout ("JSON format for importing and
exporting bots in Lex V2") and the shape real exports have ("metaData",
"messageGroupsList", "isActive", null for what is not set)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from twinteller.knowledge import faqs, lexicon
from twinteller.knowledge.lexicon import LexiconEntry
from twinteller.knowledge.schema import FaqText
from twinteller.platforms import lex
from twinteller.platforms.mapping import Converted, Export, SourceError

BOT = "BankBot"
EN = f"{BOT}/BotLocales/en_US"
ZH = f"{BOT}/BotLocales/zh_CN"


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def _text(value: str) -> dict[str, Any]:
    return {"plainTextMessage": {"value": value}, "ssmlMessage": None, "customPayload": None, "imageResponseCard": None}


def _group(message: dict[str, Any], *variations: dict[str, Any]) -> dict[str, Any]:
    return {"message": message, "variations": list(variations) or None}


def _say(*texts: str) -> dict[str, Any]:
    """A response of one message group per text, as the export writes it."""
    return {"allowInterrupt": True, "messageGroupsList": [_group(_text(t)) for t in texts]}


def _closing(*texts: str, active: bool = True) -> dict[str, Any]:
    return {"intentClosingSetting": {"isActive": active, "closingResponse": _say(*texts)}}


def _intent(name: str, utterances: list[str] | None, **settings: Any) -> bytes:
    data: dict[str, Any] = {
        "name": name,
        "identifier": name[:10].upper(),
        "description": None,
        "parentIntentSignature": None,
        "sampleUtterances": None if utterances is None else [{"utterance": u} for u in utterances],
        "intentConfirmationSetting": None,
        "intentClosingSetting": None,
        "inputContexts": None,
        "outputContexts": None,
        "kendraConfiguration": None,
        "dialogCodeHook": {"enabled": False},
        "fulfillmentCodeHook": {
            "fulfillmentUpdatesSpecification": None,
            "postFulfillmentStatusSpecification": None,
            "enabled": False,
        },
        "slotPriorities": [],
    }
    data.update(settings)
    return _json(data)


def _slot(name: str, slot_type: str, *, required: bool = False, prompt: str = "") -> bytes:
    return _json(
        {
            "name": name,
            "identifier": name[:10].upper(),
            "description": None,
            "slotTypeName": slot_type,
            "obfuscationSetting": None,
            "valueElicitationSetting": {
                "promptSpecification": {"allowInterrupt": True, "maxRetries": 2, **_say(prompt)} if prompt else None,
                "sampleUtterances": None,
                "defaultValueSpecification": None,
                "waitAndContinueSpecification": None,
                "slotConstraint": "Required" if required else "Optional",
            },
            "multipleValuesSetting": None,
        }
    )


def _slot_type(name: str, values: dict[str, list[str]], **settings: Any) -> bytes:
    data: dict[str, Any] = {
        "name": name,
        "identifier": name[:10].upper(),
        "description": None,
        "slotTypeValues": [
            {"synonyms": [{"value": s} for s in synonyms] or None, "sampleValue": {"value": value}}
            for value, synonyms in values.items()
        ]
        or None,
        "parentSlotTypeSignature": None,
        "valueSelectionSetting": {"resolutionStrategy": "TOP_RESOLUTION", "regexFilter": None},
    }
    data.update(settings)
    return _json(data)


def _locale(identifier: str, name: str) -> bytes:
    return _json(
        {
            "name": name,
            "identifier": identifier,
            "version": None,
            "description": None,
            "voiceSettings": {"voiceId": "Joanna"},
            "nluConfidenceThreshold": 0.4,
        }
    )


SSML = "<speak>A credit card costs <say-as interpret-as='cardinal'>10</say-as> dollars a year &amp; no more.</speak>"
CARD = {"imageResponseCard": {"title": "Branches", "subtitle": None, "imageUrl": None, "buttons": None}}


def _files() -> dict[str, bytes]:
    """A bot in en_US and zh_CN: intents answered by a closing response (with a variation
    and a card), by SSML, by an initial response, after a Lambda and slots (disabled), by
    a Lambda only, only in Chinese, and the built-in fallback; a custom slot type with
    synonyms and one with a regex filter."""
    return {
        "Manifest.json": _json({"metaData": {"schemaVersion": "1", "fileFormat": "LexJson", "resourceType": "BOT"}}),
        f"{BOT}/Bot.json": _json(
            {
                "name": BOT,
                "version": "DRAFT",
                "description": None,
                "identifier": "A4AO2ZTMJS",
                "dataPrivacy": {"childDirected": False},
                "idleSessionTTLInSeconds": 300,
            }
        ),
        f"{EN}/BotLocale.json": _locale("en_US", "English (US)"),
        f"{EN}/Intents/CheckOpeningHours/Intent.json": _intent(
            "CheckOpeningHours",
            ["What are your opening hours", "When do you open "],
            intentClosingSetting={
                "isActive": True,
                "closingResponse": {
                    "allowInterrupt": True,
                    "messageGroupsList": [
                        _group(
                            _text("We are open 9am to 5pm, Monday to Friday."),
                            _text("Our branches open 9 to 5 on weekdays."),
                        ),
                        _group(CARD),
                    ],
                },
            },
        ),
        f"{EN}/Intents/CardFees/Intent.json": _intent(
            "CardFees",
            ["What is the fee for a {CardType} card", "How much does a card cost", "fee for {Amount} withdrawal"],
            intentClosingSetting={
                "isActive": True,
                "closingResponse": {
                    "messageGroupsList": [
                        _group(_text("A credit card costs $10 a year."), {"ssmlMessage": {"value": SSML}})
                    ]
                },
            },
        ),
        f"{EN}/Intents/CardFees/Slots/CardType/Slot.json": _slot("CardType", "CardTypes"),
        f"{EN}/Intents/CardFees/Slots/Amount/Slot.json": _slot("Amount", "AMAZON.Number"),
        f"{EN}/Intents/TransferMoney/Intent.json": _intent(
            "TransferMoney",
            ["Transfer money", "Send {Amount} to my savings"],
            intentConfirmationSetting={
                "isActive": True,
                "promptSpecification": {"maxRetries": 2, **_say("Shall I transfer {Amount}?")},
                "declinationResponse": _say("OK, I have not moved any money."),
            },
            fulfillmentCodeHook={
                "enabled": True,
                "fulfillmentUpdatesSpecification": None,
                "postFulfillmentStatusSpecification": {
                    "successResponse": None,
                    "failureResponse": _say("Sorry, the transfer failed."),
                    "timeoutResponse": None,
                },
            },
            **_closing("Your transfer is done."),
        ),
        f"{EN}/Intents/TransferMoney/Slots/Amount/Slot.json": _slot(
            "Amount", "AMAZON.Number", required=True, prompt="How much would you like to send?"
        ),
        f"{EN}/Intents/CheckBalance/Intent.json": _intent(
            "CheckBalance",
            ["What is my balance", "How much money do I have"],
            fulfillmentCodeHook={"enabled": True},
            initialResponseSetting={"codeHook": {"isActive": True, "enableCodeHookInvocation": True}},
        ),
        f"{EN}/Intents/FallbackIntent/Intent.json": _intent(
            "FallbackIntent",
            None,
            parentIntentSignature="AMAZON.FallbackIntent",
            **_closing("Sorry, I did not get that."),
        ),
        f"{EN}/Intents/Greeting/Intent.json": _intent(
            "Greeting",
            ["hi", "hello"],
            initialResponseSetting={"initialResponse": _say("Hello! How can I help?")},
            outputContexts=[{"name": "greeted", "timeToLiveInSeconds": 90, "turnsToLive": 5}],
        ),
        f"{EN}/SlotTypes/CardTypes/SlotType.json": _slot_type(
            "CardTypes", {"credit": ["cc", "plastic"], "debit": ["debit", "bank card"], "prepaid": []}
        ),
        f"{EN}/SlotTypes/AccountNumber/SlotType.json": _slot_type(
            "AccountNumber",
            {},
            parentSlotTypeSignature="AMAZON.AlphaNumeric",
            valueSelectionSetting={"resolutionStrategy": "ORIGINAL_VALUE", "regexFilter": {"pattern": "[0-9]{8}"}},
        ),
        f"{ZH}/BotLocale.json": _locale("zh_CN", "Chinese (PRC)"),
        f"{ZH}/Intents/CheckOpeningHours/Intent.json": _intent(
            "CheckOpeningHours", ["你们几点开门", "营业时间"], **_closing("我们周一至周五上午九点至下午五点营业。")
        ),
        f"{ZH}/Intents/CardFees/Intent.json": _intent(
            "CardFees", ["{CardType}年费多少"], **_closing("信用卡年费十元。")
        ),
        f"{ZH}/Intents/CardFees/Slots/CardType/Slot.json": _slot("CardType", "CardTypes"),
        f"{ZH}/Intents/ReportLostCard/Intent.json": _intent(
            "ReportLostCard", ["我的卡丢了"], **_closing("请立即致电我们挂失。")
        ),
        f"{ZH}/Intents/FallbackIntent/Intent.json": _intent(
            "FallbackIntent", None, parentIntentSignature="AMAZON.FallbackIntent", **_closing("对不起,我不明白。")
        ),
        f"{ZH}/SlotTypes/CardTypes/SlotType.json": _slot_type("CardTypes", {"信用卡": ["信用咭"]}),
    }


def _convert(files: dict[str, bytes]) -> Converted:
    converted = lex.convert(Export(files))
    for record in converted.faqs:
        faqs.validate(record)
    for entry in converted.lexicon:
        lexicon.validate(entry)
    return converted


def _omitted(converted: Converted) -> list[str]:
    return [f"{o.where} | {o.what} | {o.reason}" for o in converted.report.omitted]


def _one(converted: Converted, *parts: str) -> str:
    """The one report line holding every part."""
    found = [line for line in _omitted(converted) if all(part in line for part in parts)]
    assert len(found) == 1, (parts, _omitted(converted))
    return found[0]


def _counts(converted: Converted) -> dict[str, tuple[int, int]]:
    report = converted.report
    return {kind: (report.present[kind], report.imported[kind]) for kind in lex.KINDS}


# -- the whole bot ---------------------------------------------------------------------------


def test_entries() -> None:
    converted = _convert(_files())
    by_id = {record.id: record for record in converted.faqs}
    assert list(by_id) == ["cardfees", "checkopeninghours", "greeting", "reportlostcard", "transfermoney"]
    fees = by_id["cardfees"]
    assert fees.title == "CardFees"
    assert fees.answer == "A credit card costs $10 a year."
    assert fees.channel_answers == {"ivr": "A credit card costs 10 dollars a year & no more."}
    assert fees.questions == ["What is the fee for a credit card", "How much does a card cost", "信用卡年费多少"]
    assert fees.translations == {"zh-Hans": FaqText(answer="信用卡年费十元。")}
    assert fees.tags == ["imported:lex-v2"]
    assert fees.enabled
    hours = by_id["checkopeninghours"]
    assert hours.answer == "We are open 9am to 5pm, Monday to Friday."
    assert hours.channel_answers == {}
    assert hours.questions == ["What are your opening hours", "When do you open", "你们几点开门", "营业时间"]
    assert hours.translations == {"zh-Hans": FaqText(answer="我们周一至周五上午九点至下午五点营业。")}
    greeting = by_id["greeting"]
    assert (greeting.answer, greeting.questions, greeting.translations) == (
        "Hello! How can I help?",
        ["hi", "hello"],
        {},
    )
    lost = by_id["reportlostcard"]
    assert lost.answer == "请立即致电我们挂失。"
    assert lost.translations == {"zh-Hans": FaqText(answer="请立即致电我们挂失。")}
    assert lost.questions == ["我的卡丢了"]
    transfer = by_id["transfermoney"]
    assert (transfer.answer, transfer.questions) == ("Your transfer is done.", ["Transfer money"])
    assert not transfer.enabled
    assert all(record.tags == ["imported:lex-v2"] for record in converted.faqs)


def test_lexicon() -> None:
    converted = _convert(_files())
    assert converted.lexicon == [
        LexiconEntry("cc", "credit"),
        LexiconEntry("plastic", "credit"),
        LexiconEntry("bank card", "debit"),
        LexiconEntry("信用咭", "信用卡"),
    ]


def test_counts() -> None:
    converted = _convert(_files())
    assert _counts(converted) == {
        "intents": (7, 5),
        "sample utterances": (15, 11),
        "messages": (13, 8),
        "slot types": (3, 2),
        "slot values": (4, 3),
        "synonyms": (5, 4),
        "code hooks": (3, 0),
        "locales": (2, 2),
    }
    report = converted.report.to_dict()
    assert report["platform"] == "lex-v2"
    assert report["counts"]["intents"] == {"present": 7, "imported": 5}
    assert len(report["omitted"]) == len(converted.report.omitted)


def test_omitted() -> None:
    converted = _convert(_files())
    hours = f"{EN}/Intents/CheckOpeningHours/Intent.json"
    closing = "intentClosingSetting.closingResponse.messageGroupsList"
    assert _one(converted, f"{hours}: {closing}[0].variations[0].plainTextMessage", "Our branches open", "the first")
    assert _one(converted, f"{hours}: {closing}[1].message.imageResponseCard", "image response card 'Branches'")
    fees = f"{EN}/Intents/CardFees"
    assert _one(converted, f"{fees}/Intent.json: sampleUtterances[2]", "fee for {Amount}", "of type AMAZON.Number")
    assert _one(converted, f"{fees}/Slots/CardType/Slot.json: valueElicitationSetting", "slot CardType (CardTypes)")
    transfer = f"{EN}/Intents/TransferMoney"
    assert _one(converted, f"{transfer}/Intent.json: fulfillmentCodeHook |", "fulfilment code hook", "Lambda")
    assert _one(converted, f"{transfer}/Intent.json: intentConfirmationSetting", "confirmation prompt")
    assert _one(converted, f"{transfer}/Slots/Amount/Slot.json", "asked with 'How much would you like to send?'")
    assert _one(converted, "failureResponse", "fulfilment failure response of TransferMoney", "the transfer failed")
    assert _one(converted, "intent TransferMoney imported disabled", "a Lambda code hook, asking for Amount")
    balance = f"{EN}/Intents/CheckBalance/Intent.json"
    assert _one(converted, f"{balance} | intent CheckBalance and its 2 sample utterances", "Lambda code hook")
    assert _one(converted, f"{balance}: initialResponseSetting.codeHook", "initial code hook")
    assert _one(converted, f"{EN}/Intents/FallbackIntent/Intent.json: parentIntentSignature", "AMAZON.FallbackIntent")
    assert _one(converted, "outputContexts", "output contexts greeted of Greeting")
    assert _one(converted, "English answer of ReportLostCard", "zh-Hans closing response stands in")
    assert _one(converted, f"{EN}/SlotTypes/AccountNumber/SlotType.json", "a regex filter")
    assert _one(converted, "values of slot type CardTypes (en_US): 'prepaid'")
    assert _one(converted, "synonyms[0]", "synonym 'debit' of 'debit'", "the same as its value")


# -- locales ---------------------------------------------------------------------------------


def test_other_locales() -> None:
    """zh_HK answers in zh-Hant; es_US utterances train, its messages and synonyms do not
    come across; a second English locale's different answer is left out."""
    files = _files()
    hk, es, gb = f"{BOT}/BotLocales/zh_HK", f"{BOT}/BotLocales/es_US", f"{BOT}/BotLocales/en_GB"
    files |= {
        f"{hk}/BotLocale.json": _locale("zh_HK", "Chinese (Hong Kong)"),
        f"{hk}/Intents/Greeting/Intent.json": _intent(
            "Greeting", ["你好"], initialResponseSetting={"initialResponse": _say("你好!有甚麼可以幫你?")}
        ),
        f"{es}/BotLocale.json": _locale("es_US", "Spanish (US)"),
        f"{es}/Intents/Greeting/Intent.json": _intent("Greeting", ["hola"], **_closing("¡Hola!")),
        f"{es}/SlotTypes/Tarjetas/SlotType.json": _slot_type("Tarjetas", {"crédito": ["plástico"]}),
        f"{gb}/BotLocale.json": _locale("en_GB", "English (GB)"),
        f"{gb}/Intents/Greeting/Intent.json": _intent("Greeting", ["hiya", "hello"], **_closing("Hello there!")),
        f"{gb}/Intents/CheckOpeningHours/Intent.json": _intent(
            "CheckOpeningHours", ["opening times"], **_closing("We are open 9am to 5pm, Monday to Friday.")
        ),
    }
    converted = _convert(files)
    greeting = next(r for r in converted.faqs if r.id == "greeting")
    assert greeting.answer == "Hello! How can I help?"  # en_US before en_GB
    assert greeting.questions == ["hi", "hello", "hiya", "你好", "hola"]  # en, zh-Hant, then others
    assert greeting.translations == {"zh-Hant": FaqText(answer="你好!有甚麼可以幫你?")}
    hours = next(r for r in converted.faqs if r.id == "checkopeninghours")
    assert "opening times" in hours.questions
    assert _one(converted, f"{es}/BotLocale.json | locale es_US", "train the entries")
    assert _one(converted, f"{es}/Intents/Greeting/Intent.json: intentClosingSetting", "'¡Hola!'", "twinteller answers")
    assert _one(converted, f"{es}/SlotTypes/Tarjetas/SlotType.json: slotTypeValues | synonyms of slot type Tarjetas")
    assert _one(converted, f"{gb}/Intents/Greeting", "'Hello there!'", "the en_US one is the entry's en answer")
    assert not [line for line in _omitted(converted) if f"{gb}/Intents/CheckOpeningHours" in line]  # the same text
    counts = _counts(converted)
    assert counts["locales"] == (5, 4)
    assert counts["messages"] == (13 + 4, 8 + 2)  # zh_HK and the same en_GB answer came across
    assert counts["sample utterances"] == (15 + 5, 11 + 5)  # "hello" of en_GB is there already
    assert LexiconEntry("plástico", "crédito") not in converted.lexicon


def test_manifest_spelled_as_documented_in_a_folder() -> None:
    """The docs' lower-case manifest.json and "metadata", the export inside a folder."""
    files = {f"export/{name}": content for name, content in _files().items() if name != "Manifest.json"}
    files["export/manifest.json"] = _json(
        {"metadata": {"schemaVersion": "1.0", "fileFormat": "LexJson", "resourceType": "Bot"}}
    )
    files["export/README.txt"] = b"exported by hand"
    assert lex.detect(Export(files))
    converted = _convert(files)
    assert len(converted.faqs) == 5
    assert _one(converted, "export/README.txt | file", "not part of a LexJson bot export")


# -- answers ---------------------------------------------------------------------------------


def _greeting(**settings: Any) -> dict[str, bytes]:
    files = _files()
    files[f"{EN}/Intents/Greeting/Intent.json"] = _intent("Greeting", ["hi", "hello"], **settings)
    return files


def test_ssml_only() -> None:
    """A group with SSML only: its words are the text answer; no separate ivr answer."""
    speech = {"messageGroupsList": [_group({"ssmlMessage": {"value": "<speak>Hello <break time='1s'/>there</speak>"}})]}
    converted = _convert(_greeting(intentClosingSetting={"closingResponse": speech}))
    greeting = next(r for r in converted.faqs if r.id == "greeting")
    assert (greeting.answer, greeting.channel_answers) == ("Hello there", {})


def test_groups_are_paragraphs_and_slot_values_are_not_static() -> None:
    files = _greeting(**_closing("Hello!", "Your name is {Name}.", "Ask me anything."))
    files[f"{EN}/Intents/Greeting/Slots/Name/Slot.json"] = _slot("Name", "AMAZON.FirstName")
    converted = _convert(files)
    greeting = next(r for r in converted.faqs if r.id == "greeting")
    assert greeting.answer == "Hello!\n\nAsk me anything."
    assert _one(converted, "messageGroupsList[1].message.plainTextMessage", "fills in slot values ({Name})")


def test_falls_back_to_the_next_response() -> None:
    """An inactive closing response is not said; the initial response answers, and a
    success response after it is left out."""
    files = _greeting(
        initialResponseSetting={"initialResponse": _say("Hi there.")},
        fulfillmentCodeHook={
            "enabled": False,
            "postFulfillmentStatusSpecification": {"successResponse": _say("All done.")},
        },
        **_closing("Bye.", active=False),
    )
    converted = _convert(files)
    assert next(r for r in converted.faqs if r.id == "greeting").answer == "Hi there."
    assert _one(converted, "closing response of Greeting (en_US): 'Bye.'", "inactive")
    assert _one(converted, "fulfilment success response of Greeting", "the initial response is the answer")


def test_no_static_answer() -> None:
    converted = _convert(_greeting())
    assert "greeting" not in {r.id for r in converted.faqs}
    assert _one(converted, "intent Greeting and its 2 sample utterances", "no static closing, initial or fulfilment")


def test_synonym_already_mapped() -> None:
    files = _files()
    files[f"{EN}/SlotTypes/Currencies/SlotType.json"] = _slot_type("Currencies", {"Canadian dollar": ["cc", "CAD"]})
    converted = _convert(files)
    assert LexiconEntry("CAD", "Canadian dollar") in converted.lexicon
    assert LexiconEntry("cc", "Canadian dollar") not in converted.lexicon
    assert _one(converted, "Currencies/SlotType.json: slotTypeValues[0].synonyms[0]", "already rewritten to 'credit'")


def test_ids_stay_apart() -> None:
    files = _files()
    files[f"{EN}/Intents/cardfees/Intent.json"] = _intent("cardfees", ["card fee"], **_closing("Ten dollars."))
    ids = [r.id for r in _convert(files).faqs]
    assert "cardfees" in ids
    assert len(set(ids)) == len(ids) == 6


# -- detect ----------------------------------------------------------------------------------


def test_detect() -> None:
    assert lex.detect(Export(_files()))
    without_manifest = {k: v for k, v in _files().items() if k != "Manifest.json"}
    assert lex.detect(Export(without_manifest))  # told by the layout; convert says what is missing
    tsv = "Question\tAnswer\tSource\tMetadata\tSuggestedQuestions\tIsContextOnly\tPrompts\tQnaId\n"
    tsv += "Hi\tHello\tEditorial\t\t[]\tfalse\t[]\t1\n"
    assert not lex.detect(Export({"kb.tsv": tsv.encode()}))
    assert not lex.detect(Export({"manifest.json": _json({"manifest_version": 3, "name": "An extension"})}))
    assert not lex.detect(Export({"Manifest.json": b"{not json"}))
    assert not lex.detect(Export({"faqs.csv": b"id,title,answer\n"}))


# -- malformed exports -----------------------------------------------------------------------


def _error(files: dict[str, bytes]) -> str:
    with pytest.raises(SourceError) as raised:
        lex.convert(Export(files))
    return str(raised.value)


def test_no_manifest() -> None:
    message = _error({k: v for k, v in _files().items() if k != "Manifest.json"})
    assert message.startswith("Manifest.json: missing: not a Lex V2 export")


def test_not_lexjson() -> None:
    files = _files()
    files["Manifest.json"] = _json({"metaData": {"schemaVersion": "1", "fileFormat": "TSV", "resourceType": "BOT"}})
    assert _error(files).startswith("Manifest.json: metadata.fileFormat: 'TSV' is not LexJson")


def test_custom_vocabulary_export() -> None:
    files = _files()
    files["Manifest.json"] = _json({"metadata": {"fileFormat": "LexJson", "resourceType": "CustomVocabulary"}})
    assert _error(files).startswith("Manifest.json: metadata.resourceType: a custom vocabulary export")


def test_bad_json() -> None:
    files = _files()
    files[f"{EN}/Intents/Greeting/Intent.json"] = b'{"name": "Greeting",\n "sampleUtterances": [}'
    assert _error(files).startswith(f"{EN}/Intents/Greeting/Intent.json: line 2 column 23: not valid JSON")


def test_intent_folder_without_intent_json() -> None:
    files = _files()
    del files[f"{EN}/Intents/CardFees/Intent.json"]
    assert _error(files) == f"{EN}/Intents/CardFees/Intent.json: missing: every intent folder has its Intent.json"


def test_locale_folder_without_bot_locale_json() -> None:
    files = _files()
    del files[f"{ZH}/BotLocale.json"]
    assert _error(files) == f"{ZH}/BotLocale.json: missing: every locale folder has its BotLocale.json"


def test_intent_without_utterances() -> None:
    files = _files()
    files[f"{EN}/Intents/Greeting/Intent.json"] = _intent("Greeting", [], **_closing("Hello!"))
    message = _error(files)
    assert (
        message == f"{EN}/Intents/Greeting/Intent.json: sampleUtterances: none: a custom intent needs sample utterances"
    )


def test_utterance_with_an_undefined_slot() -> None:
    files = _files()
    files[f"{EN}/Intents/Greeting/Intent.json"] = _intent("Greeting", ["hi", "hello {Name}"], **_closing("Hello!"))
    message = _error(files)
    assert message.startswith(f"{EN}/Intents/Greeting/Intent.json: sampleUtterances[1]: 'hello {{Name}}' references")
    assert "a slot the intent does not define" in message


def test_slot_with_a_missing_slot_type() -> None:
    files = _files()
    files[f"{EN}/Intents/CardFees/Slots/CardType/Slot.json"] = _slot("CardType", "CardKinds")
    message = _error(files)
    assert message.startswith(
        f"{EN}/Intents/CardFees/Slots/CardType/Slot.json: slotTypeName: references missing slot type 'CardKinds'"
    )


def test_wrong_types() -> None:
    files = _files()
    files[f"{EN}/Intents/Greeting/Intent.json"] = _json({"name": "Greeting", "sampleUtterances": "hi"})
    assert _error(files) == f"{EN}/Intents/Greeting/Intent.json: sampleUtterances: expected a JSON list, found a string"
    files[f"{EN}/Intents/Greeting/Intent.json"] = _json([])
    assert _error(files) == f"{EN}/Intents/Greeting/Intent.json: expected a JSON object, found a list"
