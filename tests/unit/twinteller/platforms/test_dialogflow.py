"""twinteller.platforms.dialogflow: Dialogflow ES agent exports ("Export as ZIP") as FAQ and
lexicon entries, with a report of everything that could not come across, and the errors a
malformed export raises (naming the file and the key or line)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from twinteller.knowledge import faqs, lexicon
from twinteller.knowledge.lexicon import LexiconEntry
from twinteller.knowledge.schema import FaqText
from twinteller.platforms import dialogflow
from twinteller.platforms.mapping import Converted, Export, Omission, SourceError, faq_id

TOP = "BankAgent/"  # the zip's top folder


def dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode()


def text(speech: str | list[str], lang: str = "en", platform: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": 0,
        "title": "",
        "textToSpeech": "",
        "lang": lang,
        "condition": "",
        "speech": speech,
    }
    if platform:
        message["platform"] = platform
    return message


def intent(id: str, name: str, messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    response = {
        "resetContexts": False,
        "action": extra.pop("action", ""),
        "affectedContexts": extra.pop("affectedContexts", []),
        "parameters": extra.pop("parameters", []),
        "messages": messages,
        "speech": [],
    }
    data = {
        "id": id,
        "name": name,
        "auto": True,
        "contexts": [],
        "responses": [response],
        "priority": 500000,
        "webhookUsed": False,
        "webhookForSlotFilling": False,
        "fallbackIntent": False,
        "events": [],
        "conditionalResponses": [],
        "condition": "",
        "conditionalFollowupEvents": [],
    }
    data.update(extra)
    return data


def says(lang: str, *phrases: str | list[dict[str, Any]], template: bool = False) -> list[dict[str, Any]]:
    """Training phrases: a string is one plain part; a list is the parts."""
    return [
        {
            "id": f"p{n}",
            "data": [{"text": p, "userDefined": False}] if isinstance(p, str) else p,
            "isTemplate": template,
            "count": 0,
            "lang": lang,
            "updated": 0,
        }
        for n, p in enumerate(phrases)
    ]


def part(text: str, meta: str, alias: str) -> dict[str, Any]:
    return {"text": text, "alias": alias, "meta": meta, "userDefined": True}


PARAMETER_ACCOUNT = {"id": "x1", "required": False, "dataType": "@account", "name": "account", "value": "$account"}
PARAMETER_AMOUNT = {
    "id": "x2",
    "required": True,
    "dataType": "@sys.unit-currency",
    "name": "amount",
    "value": "$amount",
    "prompts": [{"lang": "en", "value": "How much?"}, {"lang": "zh-hk", "value": "幾多錢？"}],
    "isList": False,
}
PARAMETER_CARD = {
    "id": "x3",
    "required": True,
    "dataType": "@card",
    "name": "card",
    "value": "$card",
    "prompts": [{"lang": "en", "value": "Which card?"}],
}


def agent_files() -> dict[str, Any]:
    """A small bank agent, English with Hong Kong Chinese and French, as the console exports
    it (without the top folder; `export` adds it)."""
    return {
        "agent.json": {
            "description": "Bank FAQ",
            "language": "en",
            "shortDescription": "",
            "examples": "",
            "linkToDocs": "",
            "disableInteractionLogs": False,
            "disableStackdriverLogs": True,
            "defaultTimezone": "Asia/Hong_Kong",
            "webhook": {"url": "https://bank.example/df", "username": "", "headers": {}, "available": True},
            "isPrivate": True,
            "mlMinConfidence": 0.3,
            "supportedLanguages": ["zh-hk", "fr"],
            "enableOnePlatformResponses": True,
            "onePlatformApiVersion": "v2",
        },
        "package.json": {"version": "1.0.0"},
        # A static answer in three languages, on the phone too, with what cannot come across.
        "intents/Check balance.json": intent(
            "id-balance",
            "Check balance",
            [
                text(["Your balance is in the app under Accounts.", "Open the app to see your balance."]),
                text("You can also ask at any branch."),
                text("請在應用程式的「賬戶」查看結餘。", "zh-hk"),
                text("Vérifiez votre solde dans l'application.", "fr"),
                text("Your balance is in the app.", platform="telephony"),
                {
                    "type": "telephony_synthesize_speech",
                    "platform": "telephony",
                    "lang": "zh-hk",
                    "condition": "",
                    "ssml": "<speak>結餘請查看<break time='1s'/>應用程式 &amp; 網上銀行</speak>",
                },
                {
                    "type": "telephony_play_audio",
                    "platform": "telephony",
                    "lang": "en",
                    "audioUri": "gs://bank/balance.wav",
                },
                text("See your balance in Messenger", platform="facebook"),
                {"type": 1, "lang": "en", "title": "Accounts", "subtitle": "", "buttons": []},
                {"type": 2, "lang": "en", "title": "More?", "replies": ["Statements", "Cards"]},
                {"type": 4, "lang": "en", "payload": {"screen": "accounts"}},
            ],
            action="balance.check",
            parameters=[PARAMETER_ACCOUNT],
            affectedContexts=[{"name": "Checkbalance-followup", "parameters": {}, "lifespan": 2}],
        ),
        "intents/Check balance_usersays_en.json": says(
            "en",
            "What is my balance",
            [{"text": "balance of my ", "userDefined": False}, part("savings", "@account", "account")],
            "What is my balance",  # twice: kept once
            "",
        ),
        "intents/Check balance_usersays_zh-hk.json": says("zh-hk", "我戶口有幾多錢"),
        "intents/Check balance_usersays_fr.json": says("fr", "quel est mon solde"),
        # Its follow-up: an entry of its own, without the context.
        "intents/Check balance - yes.json": intent(
            "id-balance-yes",
            "Check balance - yes",
            [text("Opening your accounts now.")],
            parentId="id-balance",
            rootParentId="id-balance",
            contexts=["Checkbalance-followup"],
        ),
        "intents/Check balance - yes_usersays_en.json": says("en", "yes please", "sure"),
        # Answered only by the webhook.
        "intents/Transfer money.json": intent(
            "id-transfer", "Transfer money", [], webhookUsed=True, parameters=[PARAMETER_AMOUNT]
        ),
        "intents/Transfer money_usersays_en.json": says(
            "en", [{"text": "send ", "userDefined": False}, part("$50", "@sys.unit-currency", "amount")]
        ),
        # A fallback intent.
        "intents/Default Fallback Intent.json": intent(
            "id-fallback",
            "Default Fallback Intent",
            [text(["Sorry, could you say that again?", "Sorry, what was that?"])],
            action="input.unknown",
            fallbackIntent=True,
        ),
        # A welcome intent: its event stays behind, its phrases come.
        "intents/Default Welcome Intent.json": intent(
            "id-welcome",
            "Default Welcome Intent",
            [text("Hello! How can I help?"), text("你好！有咩可以幫到你？", "zh-hk")],
            action="input.welcome",
            events=[{"name": "WELCOME"}],
        ),
        "intents/Default Welcome Intent_usersays_en.json": says("en", "hi", "hello"),
        "intents/Default Welcome Intent_usersays_zh-hk.json": says("zh-hk", "你好"),
        # A static answer the webhook used to replace, and slot filling; a variant with a
        # parameter value is not a static answer.
        "intents/Card fees.json": intent(
            "id-fees",
            "Card fees",
            [
                text(["The $card annual fee is HK$200.", "The annual fee is HK$200."]),
                text("年費為港幣200元。", "zh-hk"),
            ],
            webhookUsed=True,
            parameters=[PARAMETER_CARD],
        ),
        "intents/Card fees_usersays_en.json": says(
            "en", [{"text": "fee for my ", "userDefined": False}, part("gold card", "@card", "card")]
        ),
        "intents/Card fees_usersays_zh-hk.json": says("zh-hk", "年費幾多錢"),
        # Entities.
        "entities/account.json": {
            "id": "e1",
            "name": "account",
            "isOverridable": True,
            "isEnum": False,
            "isRegexp": False,
            "automatedExpansion": True,
            "allowFuzzyExtraction": False,
        },
        "entities/account_entries_en.json": [
            {"value": "savings account", "synonyms": ["savings account", "Savings Account", "saver", "savings a/c"]},
            {"value": "current account", "synonyms": ["current account", "cheque account", "saver"]},
        ],
        "entities/account_entries_zh-hk.json": [{"value": "savings account", "synonyms": ["儲蓄戶口", "saver"]}],
        "entities/card.json": {"id": "e2", "name": "card", "isEnum": False, "isRegexp": False},
        "entities/card_entries_en.json": [
            {"value": "credit card", "synonyms": ["credit card", "gold card", "x" * 65]},
            {"value": "debit card", "synonyms": ["debit card"]},
        ],
        "entities/card_number.json": {"id": "e3", "name": "card_number", "isEnum": False, "isRegexp": True},
        "entities/card_number_entries_en.json": [{"value": "\\d{16}", "synonyms": ["\\d{16}"]}],
        "entities/account_with_amount.json": {"id": "e4", "name": "account_with_amount", "isEnum": True},
        "entities/account_with_amount_entries_en.json": [
            {"value": "@sys.number:number @account:account", "synonyms": ["@sys.number:number @account:account"]}
        ],
    }


def export(files: dict[str, Any], top: str = TOP) -> Export:
    return Export({top + name: value if isinstance(value, bytes) else dump(value) for name, value in files.items()})


@pytest.fixture(scope="module")
def converted() -> Converted:
    return dialogflow.convert(export(agent_files()))


def by_title(converted: Converted) -> dict[str, faqs.FaqRecord]:
    return {record.title: record for record in converted.faqs}


def omitted(converted: Converted, where: str) -> list[Omission]:
    return [o for o in converted.report.omitted if o.where == TOP + where]


# -- detect ---------------------------------------------------------------------------------


@pytest.mark.parametrize("top", ["", TOP, "exports/2024/BankAgent/"])
def test_an_es_export_is_told_at_the_top_or_in_a_folder(top: str) -> None:
    assert dialogflow.detect(export(agent_files(), top))


def test_an_es_layout_is_told_even_when_agent_json_is_broken() -> None:
    files: dict[str, Any] = {**agent_files(), "agent.json": b"{not json"}
    assert dialogflow.detect(export(files))


@pytest.mark.parametrize(
    "files",
    [
        {
            "data/nlu.yml": b"version: '3.1'\nnlu:\n- intent: greet\n  examples: |\n    - hi\n",
            "domain.yml": b"intents: []",
        },
        {  # Dialogflow CX also has an agent.json
            "agent.json": dump({"displayName": "Bank", "defaultLanguageCode": "en", "startFlow": "x"}),
            "flows/Default Start Flow/Default Start Flow.json": dump({}),
        },
        {"agent.json": dump({"displayName": "Bank", "defaultLanguageCode": "en"})},
        {"faq.tsv": b"Question\tAnswer\n"},
        {},
    ],
    ids=["rasa", "cx", "cx-agent-only", "qna", "empty"],
)
def test_other_exports_are_not_es(files: dict[str, bytes]) -> None:
    assert not dialogflow.detect(Export(files))


# -- intents -> FAQ entries -----------------------------------------------------------------


def test_each_intent_with_a_static_text_answer_is_one_entry(converted: Converted) -> None:
    assert [r.title for r in converted.faqs] == [
        "Card fees",
        "Check balance",
        "Check balance - yes",
        "Default Welcome Intent",
    ]
    assert [r.id for r in converted.faqs] == [
        "card_fees",
        "check_balance",
        "check_balance_-_yes",
        "default_welcome_intent",
    ]


def test_an_entry_carries_the_phrases_of_every_language_and_the_answers_per_language_and_channel(
    converted: Converted,
) -> None:
    balance = by_title(converted)["Check balance"]
    assert balance.questions == ["What is my balance", "balance of my savings", "quel est mon solde", "我戶口有幾多錢"]
    # Both English text messages are said, one after the other; of the first, its first variant.
    assert balance.answer == "Your balance is in the app under Accounts.\nYou can also ask at any branch."
    assert balance.channel_answers == {"ivr": "Your balance is in the app."}
    # Hong Kong Chinese is the zh-Hant translation; its SSML is read as the words it says.
    assert balance.translations == {
        "zh-Hant": FaqText(
            answer="請在應用程式的「賬戶」查看結餘。", channel_answers={"ivr": "結餘請查看 應用程式 & 網上銀行"}
        )
    }
    assert balance.tags == ["imported:dialogflow-es"]
    assert balance.enabled
    assert balance.slots == [] and balance.slot_answer == ""


def test_a_follow_up_is_an_entry_of_its_own_tagged_follow_up(converted: Converted) -> None:
    yes = by_title(converted)["Check balance - yes"]
    assert yes.questions == ["yes please", "sure"]
    assert yes.answer == "Opening your accounts now."
    assert yes.tags == ["imported:dialogflow-es", "follow-up"]
    assert omitted(converted, "intents/Check balance - yes.json: contexts[0]") == [
        Omission(
            TOP + "intents/Check balance - yes.json: contexts[0]",
            "follow-up of 'Check balance': input context 'Checkbalance-followup' not kept",
            "twinteller has no contexts: the entry answers without the conversation before it",
        )
    ]


def test_a_variant_showing_parameter_values_is_passed_over(converted: Converted) -> None:
    fees = by_title(converted)["Card fees"]
    assert fees.answer == "The annual fee is HK$200."  # not "The $card annual fee..."
    assert fees.translations == {"zh-Hant": FaqText(answer="年費為港幣200元。")}
    assert fees.questions == ["fee for my gold card", "年費幾多錢"]
    (line,) = omitted(converted, "intents/Card fees.json: responses[0].messages[0].speech[0]")
    assert line.reason == "shows parameter values ($card): not a static answer"


def test_every_entry_and_lexicon_entry_passes_the_knowledge_base_checks(converted: Converted) -> None:
    for record in converted.faqs:
        assert faqs.validate(record) is record
    for entry in converted.lexicon:
        assert lexicon.validate(entry) is entry


def test_ids_are_stable_whatever_the_folder_and_file_order(converted: Converted) -> None:
    files = agent_files()
    again = dialogflow.convert(export(dict(reversed(list(files.items()))), "other/"))
    assert [r.id for r in again.faqs] == [r.id for r in converted.faqs]
    assert [r.to_dict() for r in again.faqs] == [r.to_dict() for r in converted.faqs]
    assert again.lexicon == converted.lexicon
    assert [r.id for r in converted.faqs] == [faq_id(r.title) for r in converted.faqs]
    twice = dialogflow.convert(export(files))
    assert twice.report.to_dict() == converted.report.to_dict()


# -- what stays behind ----------------------------------------------------------------------


def test_the_report_counts_what_the_export_has_and_what_came_across(converted: Converted) -> None:
    report = converted.report.to_dict()
    assert report["platform"] == "dialogflow-es"
    assert report["detected"] is False
    assert report["counts"] == {
        # 6 intent files; fallback and webhook-only stay behind.
        "intents": {"present": 6, "imported": 4},
        "follow-up intents": {"present": 1, "imported": 1},
        # balance 4+1+1, yes 2, transfer 1, welcome 2+1, fees 1+1 = 14; the duplicate and
        # the empty balance phrases, and the transfer one, stay behind.
        "training phrases": {"present": 14, "imported": 11},
        # balance 11, yes 1, fallback 1, welcome 2, fees 2 = 17 messages; used: balance
        # en text x2, zh-hk text, en telephony, zh-hk synthesize (5), yes 1, welcome 2, fees 2.
        "responses": {"present": 17, "imported": 10},
        "webhooks": {"present": 2, "imported": 0},
        # account (taken), card (taken), card_number (regexp), account_with_amount (composite).
        "entities": {"present": 4, "imported": 2},
        "entity values": {"present": 7, "imported": 5},
        # account en: saver, savings a/c, cheque account, saver; zh-hk: 儲蓄戶口, saver;
        # card: gold card, x*65; composite and regexp: none differ from their values.
        "synonyms": {"present": 8, "imported": 6},
        "system entities": {"present": 1, "imported": 0},
    }


def test_every_thing_left_out_has_its_line(converted: Converted) -> None:
    lines = {(o.where.removeprefix(TOP), o.what, o.reason) for o in converted.report.omitted}
    balance = "intents/Check balance.json"
    expected = {
        (
            f"{balance}: responses[0].messages[0].speech[1]",
            "'Open the app to see your balance.'",
            "another variant: twinteller gives one answer per language",
        ),
        (f"{balance}: responses[0].messages[3]", "response in fr", "twinteller does not answer in fr"),
        (
            f"{balance}: responses[0].messages[5]",
            "SSML markup",
            "twinteller's IVR answer is plain text: the words are kept",
        ),
        (
            f"{balance}: responses[0].messages[6]",
            "telephony audio gs://bank/balance.wav",
            "twinteller's IVR speaks text; it plays no audio",
        ),
        (
            f"{balance}: responses[0].messages[7]",
            "facebook text",
            "a response for facebook only: twinteller answers on its own channels",
        ),
        (
            f"{balance}: responses[0].messages[8]",
            "card 'Accounts'",
            "rich messages are not kept: twinteller answers with text",
        ),
        (
            f"{balance}: responses[0].messages[9]",
            "quick replies 'More?' ['Statements', 'Cards']",
            "rich messages are not kept: twinteller answers with text",
        ),
        (
            f"{balance}: responses[0].messages[10]",
            "custom payload",
            "rich messages are not kept: twinteller answers with text",
        ),
        (
            "intents/Check balance_usersays_en.json: [2]",
            "'What is my balance'",
            "the same question is already listed",
        ),
        ("intents/Check balance_usersays_en.json: [3]", "''", "an empty training phrase"),
        (
            f"{balance}: responses[0].action",
            "action 'balance.check'",
            "twinteller runs no actions: it answers with static text",
        ),
        (
            f"{balance}: responses[0].affectedContexts[0]",
            "output context 'Checkbalance-followup' not set",
            "twinteller has no contexts",
        ),
        (
            f"{balance}: responses[0].parameters[0]",
            "parameter 'account' (@account)",
            "not extracted: twinteller answers with static text (the phrases still train)",
        ),
        (
            "intents/Transfer money.json",
            "intent 'Transfer money'",
            "answered by the webhook: no static text answer",
        ),
        (
            "intents/Default Fallback Intent.json",
            "intent 'Default Fallback Intent'",
            "a fallback intent: twinteller's own fallback answers what nothing matches",
        ),
        (
            "intents/Default Welcome Intent.json: events[0]",
            "event 'WELCOME'",
            "twinteller has no events: the entry answers its questions only",
        ),
        (
            "intents/Default Welcome Intent.json: responses[0].action",
            "action 'input.welcome'",
            "twinteller runs no actions: it answers with static text",
        ),
        (
            "intents/Card fees.json: webhookUsed",
            "webhook fulfilment",
            "twinteller calls no webhooks: it answers with the static text the webhook's reply replaced",
        ),
        (
            "intents/Card fees.json: responses[0].parameters[0]",
            "required parameter 'card' (@card), prompts ['Which card?']",
            "slot filling is not kept: twinteller answers without asking for it",
        ),
        (
            "intents/Check balance - yes.json: contexts[0]",
            "follow-up of 'Check balance': input context 'Checkbalance-followup' not kept",
            "twinteller has no contexts: the entry answers without the conversation before it",
        ),
        (
            "intents/Card fees.json: responses[0].messages[0].speech[0]",
            "'The $card annual fee is HK$200.'",
            "shows parameter values ($card): not a static answer",
        ),
        (
            "entities/account.json: automatedExpansion",
            "automated expansion of @account",
            "only the listed values and synonyms map",
        ),
        (
            "entities/account_entries_en.json: [1].synonyms[2]",
            "'saver' -> 'current account'",
            "'saver' already maps to 'savings account' (@account)",
        ),
        (
            "entities/card_entries_en.json: [0].synonyms[2]",
            f"'{'x' * 65}' -> 'credit card'",
            "refused by twinteller's lexicon: term: 65 characters, at most 64 allowed",
        ),
        (
            "entities/card_number.json",
            "entity @card_number (1 values, 0 synonyms)",
            "a regexp entity: twinteller's lexicon has words, not patterns",
        ),
        (
            "entities/account_with_amount.json",
            "entity @account_with_amount (1 values, 0 synonyms)",
            "a composite entity (of @account:account, @sys.number:number): the lexicon maps words to words",
        ),
    }
    assert lines == expected


def test_a_webhook_only_or_fallback_intent_leaves_no_line_but_its_own(converted: Converted) -> None:
    for file in ("intents/Transfer money.json", "intents/Default Fallback Intent.json"):
        assert [o for o in converted.report.omitted if file.removesuffix(".json") in o.where] == omitted(
            converted, file
        )


# -- entities -> lexicon --------------------------------------------------------------------


def test_each_synonym_maps_to_its_reference_value(converted: Converted) -> None:
    assert converted.lexicon == [
        LexiconEntry("cheque account", "current account"),
        LexiconEntry("gold card", "credit card"),
        LexiconEntry("saver", "savings account"),
        LexiconEntry("savings a/c", "savings account"),
        LexiconEntry("儲蓄戶口", "savings account"),
    ]


# -- languages and the agent's default ------------------------------------------------------


def minimal(messages: list[dict[str, Any]], language: str = "en", **extra: Any) -> dict[str, Any]:
    return {
        "agent.json": {"language": language, "supportedLanguages": []},
        "intents/Fees.json": intent("id-fees", "Fees", messages, **extra),
        "intents/Fees_usersays_en.json": says("en", "what are the fees"),
    }


def test_a_chinese_agent_without_english_answers_in_its_default_language() -> None:
    files = minimal([text("年費為港幣200元。", "zh-hk"), text("年费为港币200元。", "zh-cn")], "zh-hk")
    (record,) = dialogflow.convert(export(files)).faqs
    assert record.answer == "年費為港幣200元。"
    assert record.translations == {
        "zh-Hans": FaqText(answer="年费为港币200元。"),
        "zh-Hant": FaqText(answer="年費為港幣200元。"),
    }


def test_zh_tw_after_zh_hk_is_left_out_one_answer_per_language() -> None:
    files = minimal([text("Fees."), text("香港", "zh-hk"), text("台灣", "zh-tw")])
    converted = dialogflow.convert(export(files))
    assert converted.faqs[0].translations == {"zh-Hant": FaqText(answer="香港")}
    assert omitted(converted, "intents/Fees.json: responses[0].messages[2]") == [
        Omission(
            TOP + "intents/Fees.json: responses[0].messages[2]",
            "response in zh-tw",
            "the zh-Hant answer is the zh-hk one",
        )
    ]


def test_a_default_language_twinteller_does_not_answer_in_is_the_answer_only_without_english() -> None:
    french = dialogflow.convert(export(minimal([text("Les frais.", "fr")], "fr")))
    assert french.faqs[0].answer == "Les frais."
    both = dialogflow.convert(export(minimal([text("Les frais.", "fr"), text("The fees.")], "fr")))
    assert both.faqs[0].answer == "The fees."
    assert both.report.imported["responses"] == 1
    assert omitted(both, "intents/Fees.json: responses[0].messages[0]")[0].reason == "twinteller does not answer in fr"


def test_telephony_text_alone_is_the_answer() -> None:
    files = minimal([text("Press one for fees.", platform="telephony")])
    (record,) = dialogflow.convert(export(files)).faqs
    assert (record.answer, record.channel_answers) == ("Press one for fees.", {})


def test_a_switched_off_intent_comes_across_disabled() -> None:
    (record,) = dialogflow.convert(export(minimal([text("The fees.")], priority=-1))).faqs
    assert not record.enabled


def test_an_intent_with_only_rich_messages_stays_behind_with_them_listed() -> None:
    converted = dialogflow.convert(export(minimal([{"type": 3, "lang": "en", "imageUrl": "https://x/fees.png"}])))
    assert converted.faqs == []
    assert [(o.where.removeprefix(TOP), o.what) for o in converted.report.omitted] == [
        ("intents/Fees.json", "intent 'Fees'"),
        ("intents/Fees.json: responses[0].messages[0]", "image 'https://x/fees.png'"),
    ]


def test_an_intent_triggered_only_by_events_stays_behind() -> None:
    files = minimal([text("Hello.")], events=[{"name": "WELCOME"}])
    del files["intents/Fees_usersays_en.json"]
    converted = dialogflow.convert(export(files))
    assert converted.faqs == []
    assert converted.report.omitted[0].reason == "triggered only by events (WELCOME): no training phrases"


def test_template_phrases_are_not_questions() -> None:
    files = minimal([text("The fees.")])
    files["intents/Fees_usersays_en.json"] += says("en", "@card:card fees", template=True)
    converted = dialogflow.convert(export(files))
    assert converted.faqs[0].questions == ["what are the fees"]
    assert converted.report.omitted[0].reason == "a template (entity names, not customer words)"


def test_small_talk_and_stray_files_are_reported() -> None:
    files: dict[str, Any] = {**minimal([text("The fees.")]), "customSmalltalkResponses_en.json": []}
    converted = dialogflow.convert(Export({**export(files).files, "README.txt": b"hello"}))
    assert [(o.where, o.what) for o in converted.report.omitted] == [
        ("BankAgent/customSmalltalkResponses_en.json", "small talk answers"),
        ("README.txt", "file outside the agent's folder"),
    ]


# -- malformed exports ----------------------------------------------------------------------


def broken(change: dict[str, Any]) -> dict[str, Any]:
    files = agent_files()
    for name, value in change.items():
        if value is None:
            del files[name]
        else:
            files[name] = value
    return files


MALFORMED = {
    "no agent": ({"agent.json": None}, "agent.json: no agent.json: not a Dialogflow ES export"),
    "bad json": (
        {"intents/Card fees.json": b'{\n  "id": "x",\n  "name": \n}'},
        f"{TOP}intents/Card fees.json: line 4 column 1: not valid JSON",
    ),
    "no examples": (
        {"intents/Card fees_usersays_en.json": None, "intents/Card fees_usersays_zh-hk.json": None},
        f"{TOP}intents/Card fees.json: an intent with no examples",
    ),
    "missing entity": (
        {"intents/Card fees_usersays_zh-hk.json": says("zh-hk", [part("金卡", "@card_type", "card")])},
        f"{TOP}intents/Card fees_usersays_zh-hk.json: [0].data[0].meta: references missing entity @card_type",
    ),
    "missing parameter entity": (
        {"entities/card.json": None, "entities/card_entries_en.json": None},
        f"{TOP}intents/Card fees.json: responses[0].parameters[0].dataType: references missing entity @card",
    ),
    "unknown parent": (
        {"intents/Check balance - yes.json": intent("id-yes", "Check balance - yes", [], parentId="id-nope")},
        f"{TOP}intents/Check balance - yes.json: parentId: 'id-nope' matches no intent's id",
    ),
    "phrases without intent": (
        {"intents/Lost card_usersays_en.json": says("en", "lost my card")},
        f"{TOP}intents/Lost card_usersays_en.json: training phrases with no intent",
    ),
    "entries without entity": (
        {"entities/branch_entries_en.json": [{"value": "central", "synonyms": ["central"]}]},
        f"{TOP}entities/branch_entries_en.json: entries with no entity",
    ),
    "intent without name": (
        {"intents/Card fees.json": {"id": "id-fees", "responses": []}},
        f"{TOP}intents/Card fees.json: name: expected a non-empty string, found null",
    ),
    "part without text": (
        {"intents/Card fees_usersays_en.json": says("en", [{"meta": "@card", "alias": "card"}])},
        f"{TOP}intents/Card fees_usersays_en.json: [0].data[0].text: missing",
    ),
    "messages not a list": (
        {"intents/Card fees.json": {"id": "id-fees", "name": "Card fees", "responses": [{"messages": {}}]}},
        f"{TOP}intents/Card fees.json: responses[0].messages: expected a JSON list, found an object",
    ),
    "entries not a list": (
        {"entities/card_entries_en.json": {"value": "credit card"}},
        f"{TOP}entities/card_entries_en.json: expected a JSON list of entries, found an object",
    ),
    "synonym not a string": (
        {"entities/card_entries_en.json": [{"value": "credit card", "synonyms": [3]}]},
        f"{TOP}entities/card_entries_en.json: [0].synonyms[0]: expected a string, found a number",
    ),
    "duplicate id": (
        {"intents/Card fees.json": intent("id-balance", "Card fees", [text("x")])},
        f"{TOP}intents/Check balance.json: id: 'id-balance' is also the id of {TOP}intents/Card fees.json",
    ),
    "agent not an object": ({"agent.json": []}, f"{TOP}agent.json: expected a JSON object, found a list"),
}


@pytest.mark.parametrize("change, message", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_export_names_the_file_and_the_key_or_line(change: dict[str, Any], message: str) -> None:
    with pytest.raises(SourceError) as raised:
        dialogflow.convert(export(broken(change)))
    assert str(raised.value).startswith(message), str(raised.value)


def test_an_empty_intent_folder_is_an_empty_import() -> None:
    converted = dialogflow.convert(export({"agent.json": {"language": "en"}}))
    assert (converted.faqs, converted.lexicon, converted.report.omitted) == ([], [], [])
    assert converted.report.platform == "dialogflow-es"
