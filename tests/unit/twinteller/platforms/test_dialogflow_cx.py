"""twinteller.platforms.dialogflow_cx: Dialogflow CX JSON packages (hand-written after Google's
"JSON package export format": percent-encoded folder names, English + zh-HK, routes with
text, to pages, to webhooks and to forms, entity types of each kind) -> FAQ and lexicon
entries, the report of what did not come across, and the errors of a malformed package."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from twinteller.knowledge import faqs, lexicon
from twinteller.knowledge.lexicon import LexiconEntry
from twinteller.knowledge.schema import FaqText
from twinteller.platforms import dialogflow_cx
from twinteller.platforms.mapping import Converted, Export, Omission, SourceError, faq_id

TOP = "Bank%20Agent/"  # the zip's top folder
START = "flows/Default%20Start%20Flow/"
EXCHANGE = "查詢匯率"  # "check the exchange rate"
EXCHANGE_DIR = "%E6%9F%A5%E8%A9%A2%E5%8C%AF%E7%8E%87"
BALANCE = "Your balance is under Accounts in the app."


def text(lines: list[str], language: str | None = "en") -> dict[str, Any]:
    message: dict[str, Any] = {"text": {"text": lines}}
    if language:
        message["languageCode"] = language
    return message


def phrases(language: str, *texts: str | list[dict[str, str]]) -> dict[str, Any]:
    return {
        "trainingPhrases": [
            {
                "id": f"tp-{n}",
                "parts": [{"text": t}] if isinstance(t, str) else t,
                "repeatCount": 1,
                "languageCode": language,
            }
            for n, t in enumerate(texts)
        ]
    }


def intent(folder: str, meta: dict[str, Any], **languages: dict[str, Any]) -> dict[str, Any]:
    files = {f"intents/{folder}/{folder}.json": meta}
    for language, data in languages.items():
        files[f"intents/{folder}/trainingPhrases/{language.replace('_', '-')}.json"] = data
    return files


def package() -> dict[str, Any]:
    """A small bank agent: path (inside the top folder) -> JSON content."""
    files: dict[str, Any] = {
        "agent.json": {
            "name": "00000000-0000-0000-0000-0000000000aa",
            "displayName": "Bank Agent",
            "defaultLanguageCode": "en",
            "supportedLanguageCodes": ["zh-HK", "fr"],
            "timeZone": "Asia/Hong_Kong",
            "startFlow": "Default Start Flow",
        },
        # entity types
        "entityTypes/card_type/card_type.json": {
            "name": "e1",
            "displayName": "card_type",
            "kind": "KIND_MAP",
            "autoExpansionMode": "AUTO_EXPANSION_MODE_DEFAULT",
            "enableFuzzyExtraction": True,
        },
        "entityTypes/card_type/excludedPhrases/en.json": {"excludedPhrases": [{"value": "card"}]},
        "entityTypes/card_type/entities/en.json": {
            "entities": [
                {"value": "credit card", "synonyms": ["credit card", "credit", "CC"]},
                {"value": "debit card", "synonyms": ["debit card", "debit", "x" * 65]},
            ]
        },
        "entityTypes/card_type/entities/zh-HK.json": {
            "entities": [{"value": "credit card", "synonyms": ["信用卡", "Credit Card"]}]
        },
        "entityTypes/account%20number/account%20number.json": {
            "name": "e2",
            "displayName": "account number",
            "kind": "KIND_REGEXP",
        },
        "entityTypes/account%20number/entities/en.json": {"entities": [{"value": r"\d{8}", "synonyms": [r"\d{8}"]}]},
        "entityTypes/branch/branch.json": {"name": "e3", "displayName": "branch", "kind": "KIND_LIST"},
        "entityTypes/branch/entities/en.json": {
            "entities": [{"value": "Central", "synonyms": ["Central"]}, {"value": "Mong Kok", "synonyms": ["Mong Kok"]}]
        },
        # flows
        f"{START}Default%20Start%20Flow.json": {
            "name": "00000000-0000-0000-0000-000000000000",
            "displayName": "Default Start Flow",
            "transitionRoutes": [
                {
                    "intent": "Check Balance",
                    "triggerFulfillment": {
                        "messages": [
                            text([BALANCE, "Open the app and tap Accounts."]),
                            text(["你可以喺手機App嘅「戶口」查看結餘。"], "zh-HK"),
                            text(["Votre solde est dans l'application."], "fr"),
                            {
                                "outputAudioText": {
                                    "ssml": "<speak>Your balance is in the app.<break time='1s'/>Tap &amp; see.</speak>"
                                },
                                "languageCode": "en",
                            },
                            {"payload": {"richContent": []}, "languageCode": "en"},
                        ],
                        "setParameterActions": [{"parameter": "topic", "value": "balance"}],
                    },
                    "name": "r1",
                },
                {"intent": EXCHANGE, "triggerFulfillment": {}, "targetPage": "Exchange Rates", "name": "r2"},
                {"intent": "Order Cheque Book", "targetPage": "Cheque Book Form", "name": "r3"},
                {"intent": "Card Status", "triggerFulfillment": {"webhook": "Card Service", "tag": "st"}, "name": "r4"},
            ],
            "eventHandlers": [
                {"event": "sys.no-match-default", "triggerFulfillment": {"messages": [text(["Sorry?"])]}},
            ],
            "transitionRouteGroups": ["Small Talk"],
            "nluSettings": {"modelType": "MODEL_TYPE_ADVANCED", "classificationThreshold": 0.3},
        },
        f"{START}pages/Exchange%20Rates.json": {
            "name": "p1",
            "displayName": "Exchange Rates",
            "entryFulfillment": {
                "messages": [
                    text(["See today's rates at bank.example/rates."]),
                    text(["今日匯率請瀏覽 bank.example/rates。"], "zh-HK"),
                ]
            },
        },
        f"{START}pages/Cheque%20Book%20Form.json": {
            "name": "p2",
            "displayName": "Cheque Book Form",
            "form": {
                "parameters": [
                    {
                        "displayName": "count",
                        "entityType": "@sys.number",
                        "required": True,
                        "fillBehavior": {"initialPromptFulfillment": {"messages": [text(["How many?"])]}},
                    }
                ]
            },
            "transitionRoutes": [
                {
                    "condition": '$page.params.status = "FINAL"',
                    "triggerFulfillment": {"messages": [text(["Your cheque book is on its way."])]},
                    "targetPage": "End Session",
                    "name": "r5",
                }
            ],
        },
        f"{START}pages/Main%20Menu.json": {
            "name": "p3",
            "displayName": "Main Menu",
            "entryFulfillment": {"messages": [text(["What can I do for you?"])]},
        },
        f"{START}transitionRouteGroups/Small%20Talk.json": {
            "name": "g1",
            "displayName": "Small Talk",
            "transitionRoutes": [
                {"intent": "Thanks", "triggerFulfillment": {"messages": [text(["You're welcome."], None)]}},
                {"intent": "Check Balance", "triggerFulfillment": {"messages": [text(["Check the app."])]}},
            ],
        },
        "flows/Branches/Branches.json": {
            "name": "f2",
            "displayName": "Branches",
            "transitionRoutes": [
                {
                    "intent": "Opening Hours",
                    "condition": "true",
                    "triggerFulfillment": {
                        "messages": [text(["Branches open 9am to 5pm, Monday to Friday."], None)],
                        "webhook": "Card Service",
                    },
                    "targetFlow": "Default Start Flow",
                },
                {"condition": "$session.params.branch = null", "targetPage": "End Session"},
            ],
        },
        # others
        "webhooks/Card%20Service.json": {
            "name": "w1",
            "displayName": "Card Service",
            "genericWebService": {"uri": "https://bank.example/cards"},
            "timeout": "5s",
        },
        "testCases/Balance%20test.json": {"displayName": "Balance test", "testCaseConversationTurns": []},
        "playbooks/Helper/Helper.json": {"displayName": "Helper", "goal": "help"},
        "generativeSettings/en.json": {"languageCode": "en"},
    }
    files |= intent(
        "Check%20Balance",
        {"name": "i1", "displayName": "Check Balance", "priority": 500000, "labels": {"head": "head"}},
        en=phrases("en", "what's my balance", "how much money do I have", "what's my balance"),
        zh_HK=phrases("zh-HK", "我有幾多錢"),
        fr=phrases("fr", "quel est mon solde"),
    )
    files |= intent(
        EXCHANGE_DIR,
        {"name": "i2", "priority": 500000},  # no displayName: the decoded folder name is its name
        en=phrases("en", "exchange rate"),
        zh_HK=phrases("zh-HK", "匯率幾多"),
    )
    files |= intent(
        "Order%20Cheque%20Book",
        {
            "name": "i3",
            "displayName": "Order Cheque Book",
            "parameters": [{"id": "count", "entityType": "@sys.number"}, {"id": "card", "entityType": "@card_type"}],
        },
        en=phrases("en", [{"text": "order "}, {"text": "2", "parameterId": "count"}, {"text": " cheque books"}]),
    )
    files |= intent("Card%20Status", {"name": "i4", "displayName": "Card Status"}, en=phrases("en", "where is my card"))
    files |= intent(
        "Opening%20Hours",
        {"name": "i5", "displayName": "Opening Hours"},
        en=phrases("en", "when are you open", "opening hours"),
    )
    files |= intent(
        "Default%20Negative%20Intent",
        {"name": "i6", "displayName": "Default Negative Intent", "isFallback": True},
        en=phrases("en", "buy bitcoin"),
    )
    files |= intent("Unused", {"name": "i7", "displayName": "Unused"}, en=phrases("en", "never routed"))
    files |= intent("Thanks", {"name": "i8", "displayName": "Thanks"}, en=phrases("en", "thank you", "thanks"))
    return files


def export(files: dict[str, Any], top: str = TOP) -> Export:
    return Export(
        {
            top + path: content if isinstance(content, bytes) else json.dumps(content, ensure_ascii=False).encode()
            for path, content in files.items()
        }
    )


@pytest.fixture(scope="module")
def converted() -> Converted:
    return dialogflow_cx.convert(export(package()))


def by_title(result: Converted) -> dict[str, faqs.FaqRecord]:
    return {r.title: r for r in result.faqs}


def omissions(result: Converted, what: str) -> list[Omission]:
    return [o for o in result.report.omitted if what in o.what]


def the(result: Converted, what: str) -> Omission:
    found = omissions(result, what)
    assert len(found) == 1, (what, found)
    return found[0]


# -- detect -------------------------------------------------------------------------------


def test_detects_a_cx_package_with_or_without_a_top_folder() -> None:
    assert dialogflow_cx.detect(export(package()))
    assert dialogflow_cx.detect(export(package(), top=""))


def test_detects_a_cx_package_with_intents_but_no_flows() -> None:
    files = {k: v for k, v in package().items() if not k.startswith("flows/")}
    assert dialogflow_cx.detect(export(files))


def test_does_not_detect_a_dialogflow_es_export() -> None:
    es = {
        "agent.json": {"description": "", "language": "en", "supportedLanguages": ["zh-hk"], "webhook": {}},
        "package.json": {"version": "1.0.0"},
        "intents/Check Balance.json": {"name": "Check Balance", "responses": [{"messages": []}]},
        "intents/Check Balance_usersays_en.json": [{"data": [{"text": "what's my balance"}]}],
        "entities/card.json": {"name": "card"},
        "entities/card_entries_en.json": [{"value": "credit card", "synonyms": ["credit"]}],
    }
    assert not dialogflow_cx.detect(export(es))
    assert not dialogflow_cx.detect(export(es, top=""))


def test_does_not_detect_an_es_export_even_with_a_flows_folder() -> None:
    files = package() | {"intents/Check Balance_usersays_en.json": [{"data": [{"text": "balance"}]}]}
    assert not dialogflow_cx.detect(export(files))


def test_does_not_detect_other_exports() -> None:
    assert not dialogflow_cx.detect(Export({}))
    assert not dialogflow_cx.detect(Export({"domain.yml": b"intents: []", "data/nlu.yml": b"nlu: []"}))
    assert not dialogflow_cx.detect(export({"agent.json": {"defaultLanguageCode": "en"}}))  # nothing beside it
    lex: dict[str, Any] = {"manifest.json": {}, "Bank/Bot.json": {}, "Bank/BotLocales/en_US/Intents/A/Intent.json": {}}
    assert not dialogflow_cx.detect(export(lex))


def test_an_intent_named_agent_is_not_the_package_top() -> None:
    files = {"intents/agent/agent.json": {"displayName": "agent"}, "flows/F/F.json": {"displayName": "F"}}
    assert not dialogflow_cx.detect(export(files, top=""))
    with pytest.raises(SourceError, match=r"agent\.json"):
        dialogflow_cx.convert(export(files, top=""))


# -- FAQ entries ----------------------------------------------------------------------------


def test_every_answered_intent_is_one_faq(converted: Converted) -> None:
    # in the order of the intents' folder names (percent-encoded, as the package has them)
    assert [r.title for r in converted.faqs] == [EXCHANGE, "Check Balance", "Opening Hours", "Thanks"]
    assert [r.id for r in converted.faqs] == [faq_id(EXCHANGE), "check_balance", "opening_hours", "thanks"]
    for record in converted.faqs:
        assert faqs.validate(record) is record
        assert record.tags == ["imported:dialogflow-cx"]


def test_route_text_is_the_answer_with_translations_ivr_and_all_phrases(converted: Converted) -> None:
    record = by_title(converted)["Check Balance"]
    assert record.answer == BALANCE
    assert record.channel_answers == {"ivr": "Your balance is in the app. Tap & see."}
    assert record.translations == {"zh-Hant": FaqText(answer="你可以喺手機App嘅「戶口」查看結餘。")}
    # default language first, then supportedLanguageCodes; the repeated phrase once; French still trains
    assert record.questions == ["what's my balance", "how much money do I have", "我有幾多錢", "quel est mon solde"]


def test_percent_encoded_chinese_intent_answered_by_the_page_it_leads_to(converted: Converted) -> None:
    record = by_title(converted)[EXCHANGE]
    assert record.id == faq_id(EXCHANGE) and faqs.ID_PATTERN.fullmatch(record.id)
    assert record.answer == "See today's rates at bank.example/rates."
    assert record.translations == {"zh-Hant": FaqText(answer="今日匯率請瀏覽 bank.example/rates。")}
    assert record.questions == ["exchange rate", "匯率幾多"]
    assert record.channel_answers == {}


def test_a_route_group_answers_and_a_message_without_language_is_the_default(converted: Converted) -> None:
    assert by_title(converted)["Thanks"].answer == "You're welcome."
    assert by_title(converted)["Thanks"].questions == ["thank you", "thanks"]
    assert by_title(converted)["Opening Hours"].answer == "Branches open 9am to 5pm, Monday to Friday."


def test_the_same_package_without_a_top_folder_converts_the_same(converted: Converted) -> None:
    bare = dialogflow_cx.convert(export(package(), top=""))
    assert bare.faqs == converted.faqs
    assert bare.lexicon == converted.lexicon
    assert bare.report.present == converted.report.present
    assert bare.report.imported == converted.report.imported
    assert [(o.where, o.what, o.reason) for o in bare.report.omitted] == [
        (o.where.removeprefix(TOP), o.what, o.reason.replace(TOP, "")) for o in converted.report.omitted
    ]


def test_output_is_deterministic_whatever_the_file_order(converted: Converted) -> None:
    files = export(package()).files
    shuffled = Export(dict(sorted(files.items(), reverse=True)))
    again = dialogflow_cx.convert(shuffled)
    assert again.faqs == converted.faqs
    assert again.lexicon == converted.lexicon
    assert again.report.to_dict() == converted.report.to_dict()


# -- what did not come across --------------------------------------------------------------


def test_intents_without_a_static_answer_are_omitted_with_the_reason(converted: Converted) -> None:
    webhook = the(converted, "intent Card Status")
    assert webhook.where == f"{TOP}{START}Default%20Start%20Flow.json: transitionRoutes[3]"
    assert webhook.reason.startswith("answered by webhook 'Card Service'")
    form = the(converted, "intent Order Cheque Book")
    assert form.reason.startswith("leads to page 'Cheque Book Form' which collects parameters (count)")
    assert the(converted, "intent Unused").reason.startswith("no route answers it")
    assert the(converted, "intent Unused").where == f"{TOP}intents/Unused/Unused.json"
    assert "negative intent" in the(converted, "intent Default Negative Intent").reason
    assert the(converted, "intent Card Status").what == "intent Card Status (1 training phrase)"


def test_another_route_with_another_answer_is_reported(converted: Converted) -> None:
    other = the(converted, "route for intent Check Balance")
    assert other.where == f"{TOP}{START}transitionRouteGroups/Small%20Talk.json: transitionRoutes[1]"
    assert "Default%20Start%20Flow.json: transitionRoutes[0] came across" in other.reason


def test_variants_payloads_parameters_and_other_languages_are_reported(converted: Converted) -> None:
    route = f"{TOP}{START}Default%20Start%20Flow.json: transitionRoutes[0]"
    variant = the(converted, "text variant")
    assert variant.where == f"{route}.triggerFulfillment.messages[0].text.text[1]"
    assert variant.what == "text variant 'Open the app and tap Accounts.'"
    assert the(converted, "custom payload").where == f"{route}.triggerFulfillment.messages[4]"
    assert the(converted, "sets parameters").where == f"{route}.triggerFulfillment.setParameterActions"
    french = the(converted, "answer in fr")
    assert french.where == route and "still train" in french.reason
    assert the(converted, "labels").where == f"{TOP}intents/Check%20Balance/Check%20Balance.json: labels"


def test_a_webhook_beside_static_text_and_a_flow_transition_are_reported(converted: Converted) -> None:
    also = the(converted, "webhook 'Card Service'")
    assert also.where == f"{TOP}flows/Branches/Branches.json: transitionRoutes[0].triggerFulfillment.webhook"
    assert "static text is the answer" in also.reason
    assert the(converted, "transition to flow").where == f"{TOP}flows/Branches/Branches.json: transitionRoutes[0]"


def test_conditions_events_forms_pages_and_other_parts_are_reported(converted: Converted) -> None:
    conditions = omissions(converted, "condition route")
    assert [o.where for o in conditions] == [
        f"{TOP}flows/Branches/Branches.json: transitionRoutes[1]",
        f"{TOP}{START}pages/Cheque%20Book%20Form.json: transitionRoutes[0]",
    ]
    assert the(converted, "event handler").where == f"{TOP}{START}Default%20Start%20Flow.json: eventHandlers[0]"
    nlu = the(converted, "NLU settings of flow Default Start Flow")
    assert nlu.where == f"{TOP}{START}Default%20Start%20Flow.json: nluSettings"
    parameter = the(converted, "form parameter count")
    assert parameter.where == f"{TOP}{START}pages/Cheque%20Book%20Form.json: form.parameters[0]"
    assert the(converted, "page Main Menu").where == f"{TOP}{START}pages/Main%20Menu.json: entryFulfillment"
    assert the(converted, "webhook Card Service (https://bank.example/cards)").where == (
        f"{TOP}webhooks/Card%20Service.json"
    )
    assert the(converted, "test case Balance test").where == f"{TOP}testCases/Balance%20test.json"
    assert the(converted, "playbooks Helper").where == f"{TOP}playbooks/Helper"
    assert the(converted, "generativeSettings en").where == f"{TOP}generativeSettings/en.json"


def test_no_entry_is_reported_twice_and_every_omission_names_a_file(converted: Converted) -> None:
    keys = [(o.where, o.what) for o in converted.report.omitted]
    assert len(keys) == len(set(keys))
    assert all(o.where.startswith(TOP) and o.what and o.reason for o in converted.report.omitted)


# -- lexicon ------------------------------------------------------------------------------


def test_map_synonyms_become_lexicon_entries(converted: Converted) -> None:
    assert converted.lexicon == [
        LexiconEntry("credit", "credit card"),
        LexiconEntry("CC", "credit card"),
        LexiconEntry("debit", "debit card"),
        LexiconEntry("信用卡", "credit card"),
    ]
    for entry in converted.lexicon:
        assert lexicon.validate(entry) is entry


def test_refused_synonyms_regexp_and_list_entities_are_reported(converted: Converted) -> None:
    refused = the(converted, "synonym 'xxx")
    assert refused.where == f"{TOP}entityTypes/card_type/entities/en.json: entities[1].synonyms"
    assert refused.reason.startswith("refused by the lexicon: term: 65 characters")
    regexp = the(converted, "regexp entity type account number")
    assert regexp.where == f"{TOP}entityTypes/account%20number/account%20number.json"
    assert "no patterns" in regexp.reason
    assert the(converted, "list entity type branch (2 values)").where == f"{TOP}entityTypes/branch/branch.json"
    card_type = f"{TOP}entityTypes/card_type/card_type.json"
    assert the(converted, "automatic expansion of entity type card_type").where == card_type
    assert the(converted, "fuzzy extraction of entity type card_type").where == card_type
    excluded = the(converted, "excluded phrases of entity type card_type")
    assert excluded.where == f"{TOP}entityTypes/card_type/excludedPhrases/en.json"


def test_a_term_mapped_to_two_values_keeps_the_first() -> None:
    files = package()
    files["entityTypes/card_type/entities/en.json"]["entities"].append({"value": "cash card", "synonyms": ["CC"]})
    result = dialogflow_cx.convert(export(files))
    assert LexiconEntry("CC", "credit card") in result.lexicon
    assert the(result, "synonym 'CC' of 'cash card'").reason == "the term already maps to 'credit card'"


# -- counts ---------------------------------------------------------------------------------


def test_report_counts_are_exact(converted: Converted) -> None:
    counts = converted.report.to_dict()["counts"]
    assert counts == {
        "entity types": {"present": 3, "imported": 1},
        "entity values": {"present": 6, "imported": 3},
        "flows": {"present": 2, "imported": 2},
        "intents": {"present": 8, "imported": 4},
        "pages": {"present": 3, "imported": 1},
        "routes": {"present": 9, "imported": 4},
        "synonyms": {"present": 5, "imported": 4},
        "training phrases": {"present": 15, "imported": 11},
        "webhooks": {"present": 1, "imported": 0},
    }
    assert converted.report.platform == "dialogflow-cx"
    assert set(counts) == set(dialogflow_cx.KINDS)


def test_counts_cover_an_agent_with_nothing_in_it() -> None:
    result = dialogflow_cx.convert(export({"agent.json": {"defaultLanguageCode": "en"}}))
    assert result.faqs == [] and result.lexicon == [] and result.report.omitted == []
    assert result.report.to_dict()["counts"] == {k: {"present": 0, "imported": 0} for k in sorted(dialogflow_cx.KINDS)}


# -- languages and messages -----------------------------------------------------------------


def small(route: dict[str, Any], agent: dict[str, Any] | None = None, **languages: dict[str, Any]) -> dict[str, Any]:
    files: dict[str, Any] = {
        "agent.json": agent or {"defaultLanguageCode": "en", "supportedLanguageCodes": ["zh-HK"]},
        "flows/Main/Main.json": {"displayName": "Main", "transitionRoutes": [{"intent": "Fees", **route}]},
    }
    return files | intent("Fees", {"displayName": "Fees"}, **(languages or {"en": phrases("en", "fees")}))


def test_an_agent_with_a_chinese_default_keeps_english_as_the_entry_own_answer() -> None:
    route = {"triggerFulfillment": {"messages": [text(["免費。"], "zh-HK"), text(["It's free."], "en")]}}
    agent = {"defaultLanguageCode": "zh-HK", "supportedLanguageCodes": ["en", "zh-CN", "zh-TW"]}
    files = small(route, agent, zh_HK=phrases("zh-HK", "收費"), en=phrases("en", "fees"))
    files["flows/Main/Main.json"]["transitionRoutes"][0]["triggerFulfillment"]["messages"] += [
        text(["免费。"], "zh-CN"),
        text(["免費喔。"], "zh-TW"),
    ]
    result = dialogflow_cx.convert(export(files))
    (record,) = result.faqs
    assert record.answer == "It's free."
    assert record.translations == {"zh-Hant": FaqText(answer="免費。"), "zh-Hans": FaqText(answer="免费。")}
    assert record.questions == ["收費", "fees"]
    assert the(result, "answer in zh-TW").reason == "the zh-HK answer is its zh-Hant one"


def test_a_chinese_only_answer_is_the_entry_own_answer() -> None:
    result = dialogflow_cx.convert(export(small({"triggerFulfillment": {"messages": [text(["免費。"], "zh-HK")]}})))
    (record,) = result.faqs
    assert record.answer == "免費。" and record.translations == {}
    faqs.validate(record)


def test_an_answer_only_in_other_languages_is_not_an_faq() -> None:
    result = dialogflow_cx.convert(export(small({"triggerFulfillment": {"messages": [text(["Gratuit."], "fr")]}})))
    assert result.faqs == []
    assert "languages twinteller does not answer in" in the(result, "intent Fees").reason
    assert result.report.imported["intents"] == 0 and result.report.imported["training phrases"] == 0


def test_several_text_messages_are_said_in_turn() -> None:
    route = {"triggerFulfillment": {"messages": [text(["No fee."]), text(["  "]), text(["Ask us anything."])]}}
    (record,) = dialogflow_cx.convert(export(small(route))).faqs
    assert record.answer == "No fee.\nAsk us anything."


def test_audio_text_alone_is_the_answer_and_ssml_tags_are_stripped() -> None:
    route = {"triggerFulfillment": {"messages": [{"outputAudioText": {"text": "It is free."}}]}}
    (record,) = dialogflow_cx.convert(export(small(route))).faqs
    assert record.answer == "It is free." and record.channel_answers == {}
    ssml = '<speak><p>Fees: <say-as interpret-as="currency">HKD 0</say-as> &lt;none&gt;</p></speak>'
    route = {"triggerFulfillment": {"messages": [text(["Free."]), {"outputAudioText": {"ssml": ssml}}]}}
    (record,) = dialogflow_cx.convert(export(small(route))).faqs
    assert record.channel_answers == {"ivr": "Fees: HKD 0 <none>"}


def test_zh_hk_audio_text_is_the_translation_ivr_answer() -> None:
    messages = [
        text(["Free."]),
        text(["免費。"], "zh-HK"),
        {"outputAudioText": {"text": "唔使錢。"}, "languageCode": "zh-HK"},
    ]
    (record,) = dialogflow_cx.convert(export(small({"triggerFulfillment": {"messages": messages}}))).faqs
    assert record.translations == {"zh-Hant": FaqText(answer="免費。", channel_answers={"ivr": "唔使錢。"})}
    faqs.validate(record)


def test_calls_audio_hand_offs_channels_and_conditional_cases_are_reported() -> None:
    messages = [
        text(["Free."]),
        {"playAudio": {"audioUri": "gs://bank/fees.wav"}},
        {"telephonyTransferCall": {"phoneNumber": "+85221234567"}},
        {"liveAgentHandoff": {"metadata": {}}},
        {"text": {"text": ["Tap here"]}, "channel": "DF_MESSENGER"},
        {"conversationSuccess": {}},
    ]
    route = {"triggerFulfillment": {"messages": messages, "conditionalCases": [{"cases": []}]}}
    result = dialogflow_cx.convert(export(small(route)))
    (record,) = result.faqs
    assert record.answer == "Free."
    at = f"{TOP}flows/Main/Main.json: transitionRoutes[0].triggerFulfillment"
    assert the(result, "audio 'gs://bank/fees.wav'").where == f"{at}.messages[1]"
    assert the(result, "call transfer to '+85221234567'").where == f"{at}.messages[2]"
    assert the(result, "hand-off to a live agent").where == f"{at}.messages[3]"
    assert the(result, "message for channel 'DF_MESSENGER'").where == f"{at}.messages[4]"
    assert the(result, "conversation success").where == f"{at}.messages[5]"
    assert the(result, "conditional responses").where == f"{at}.conditionalCases"


def test_a_route_with_a_condition_beside_its_intent_is_not_an_answer() -> None:
    route = {"condition": "$session.params.vip = true", "triggerFulfillment": {"messages": [text(["Free."])]}}
    result = dialogflow_cx.convert(export(small(route)))
    assert result.faqs == []
    assert the(result, "intent Fees").reason.startswith("answers only when '$session.params.vip = true'")


def test_a_route_to_another_flow_without_text_is_not_an_answer() -> None:
    result = dialogflow_cx.convert(export(small({"targetFlow": "Cards"})))
    assert the(result, "intent Fees").reason.startswith("leads to flow 'Cards' without a static answer")


def test_an_agent_level_route_group_answers() -> None:
    files = small({"targetFlow": "Cards"})
    files["transitionRouteGroups/FAQ.json"] = {
        "displayName": "FAQ",
        "transitionRoutes": [
            {"intent": "Fees", "triggerFulfillment": {"messages": [text(["Free."])]}, "targetPage": "End Session"}
        ],
    }
    result = dialogflow_cx.convert(export(files))
    assert [(r.title, r.answer) for r in result.faqs] == [("Fees", "Free.")]
    assert result.report.imported["routes"] == 1 and result.report.present["routes"] == 2
    assert result.report.imported["flows"] == 0
    assert the(result, "route for intent Fees").reason.startswith("leads to flow 'Cards'")


def test_a_route_may_name_its_intent_by_resource_name() -> None:
    files = small({"triggerFulfillment": {"messages": [text(["Free."])]}})
    files["intents/Fees/Fees.json"]["name"] = "3f2a"
    files["flows/Main/Main.json"]["transitionRoutes"][0]["intent"] = "projects/p/locations/l/agents/a/intents/3f2a"
    assert [r.title for r in dialogflow_cx.convert(export(files)).faqs] == ["Fees"]


def test_unusable_training_phrases_are_reported_and_line_breaks_joined() -> None:
    long = "fee " * 200
    files = small({"triggerFulfillment": {"messages": [text(["Free."])]}}, en=phrases("en", "fees\nplease", "", long))
    result = dialogflow_cx.convert(export(files))
    (record,) = result.faqs
    assert record.questions == ["fees please"]
    assert the(result, "training phrase ''").reason.startswith("empty")
    long_at = f"{TOP}intents/Fees/trainingPhrases/en.json: trainingPhrases[2]"
    assert the(result, "training phrase 'fee fee").where == long_at
    assert result.report.imported["training phrases"] == 1 and result.report.present["training phrases"] == 3


# -- malformed packages ---------------------------------------------------------------------


def convert_error(files: dict[str, Any]) -> str:
    with pytest.raises(SourceError) as e:
        dialogflow_cx.convert(export(files))
    return str(e.value)


def test_bad_json_names_the_file_and_line() -> None:
    files = package() | {"intents/Thanks/trainingPhrases/en.json": b'{"trainingPhrases": [\n  {"parts": }\n]}'}
    message = convert_error(files)
    assert message.startswith(f"{TOP}intents/Thanks/trainingPhrases/en.json: line 2 column")
    assert "not valid JSON" in message


def test_a_package_without_agent_json() -> None:
    files = {k: v for k, v in package().items() if k != "agent.json"}
    assert convert_error(files).startswith("agent.json: missing")


def test_agent_json_without_a_default_language() -> None:
    files = package() | {"agent.json": {"displayName": "Bank Agent"}}
    assert convert_error(files) == f"{TOP}agent.json: defaultLanguageCode: required"


def test_an_intent_folder_without_its_json() -> None:
    files = {k: v for k, v in package().items() if k != "intents/Thanks/Thanks.json"}
    message = convert_error(files)
    assert message.startswith(f"{TOP}intents/Thanks/Thanks.json: missing")
    assert "without its Thanks.json" in message


@pytest.mark.parametrize(
    "meta",
    ["entityTypes/branch/branch.json", f"{START}Default%20Start%20Flow.json", "intents/Unused/Unused.json"],
)
def test_any_resource_folder_without_its_json(meta: str) -> None:
    files = {k: v for k, v in package().items() if k != meta}
    assert convert_error(files).startswith(f"{TOP}{meta}: missing: ")


def test_an_answered_intent_with_no_examples() -> None:
    files = {k: v for k, v in package().items() if not k.startswith("intents/Thanks/trainingPhrases/")}
    message = convert_error(files)
    assert message.startswith(f"{TOP}intents/Thanks/Thanks.json: trainingPhrases: an intent with no examples")


def test_an_unanswered_intent_may_have_no_examples() -> None:
    files = {k: v for k, v in package().items() if not k.startswith("intents/Unused/trainingPhrases/")}
    assert "intent Unused (0 training phrases)" in [o.what for o in dialogflow_cx.convert(export(files)).report.omitted]


def test_a_route_naming_a_missing_intent() -> None:
    files = package()
    files[f"{START}transitionRouteGroups/Small%20Talk.json"]["transitionRoutes"][0]["intent"] = "Thank You"
    assert convert_error(files) == (
        f"{TOP}{START}transitionRouteGroups/Small%20Talk.json: transitionRoutes[0].intent: "
        "names intent 'Thank You', which does not exist"
    )


def test_a_part_naming_no_parameter_of_its_intent() -> None:
    files = package()
    parts = files["intents/Order%20Cheque%20Book/trainingPhrases/en.json"]["trainingPhrases"][0]["parts"]
    parts[1]["parameterId"] = "amount"
    assert convert_error(files) == (
        f"{TOP}intents/Order%20Cheque%20Book/trainingPhrases/en.json: trainingPhrases[0].parts[1].parameterId: "
        "'amount' names no parameter of intent 'Order Cheque Book'"
    )


def test_a_parameter_of_a_missing_entity_type() -> None:
    files = package()
    files["intents/Order%20Cheque%20Book/Order%20Cheque%20Book.json"]["parameters"][1]["entityType"] = "@card"
    assert convert_error(files) == (
        f"{TOP}intents/Order%20Cheque%20Book/Order%20Cheque%20Book.json: parameters[1].entityType: "
        "references missing entity type '@card'"
    )


def test_a_parameter_may_use_an_entity_type_by_its_decoded_folder_name() -> None:
    files = package()
    files["intents/Order%20Cheque%20Book/Order%20Cheque%20Book.json"]["parameters"][1]["entityType"] = "@account number"
    assert dialogflow_cx.convert(export(files)).faqs


def test_a_wrongly_shaped_file_names_the_key() -> None:
    files = package()
    files["intents/Thanks/trainingPhrases/en.json"] = {"trainingPhrases": {"parts": []}}
    assert (
        convert_error(files)
        == f"{TOP}intents/Thanks/trainingPhrases/en.json: trainingPhrases: expected a JSON list, found an object"
    )
    files = package()
    files["flows/Branches/Branches.json"]["transitionRoutes"][0]["triggerFulfillment"]["messages"][0] = "hi"
    assert convert_error(files) == (
        f"{TOP}flows/Branches/Branches.json: transitionRoutes[0].triggerFulfillment.messages[0]:"
        " expected a JSON object, found a string"
    )


def test_report_kinds_are_counted_once_per_thing(converted: Converted) -> None:
    present = Counter(converted.report.present)
    assert all(present[k] >= converted.report.imported[k] for k in dialogflow_cx.KINDS)
