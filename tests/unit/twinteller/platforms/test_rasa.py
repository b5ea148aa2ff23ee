"""twinteller.platforms.rasa: Rasa 2.x and 3.x projects (YAML NLU data, domain, rules, stories,
config, in one file or a whole folder) as FAQ and lexicon entries, with a report of everything
that could not come across, and the errors a malformed project raises (naming the file and
the key path with its line)."""

from __future__ import annotations

import hashlib
import textwrap

import pytest

from twinteller.knowledge import faqs, lexicon
from twinteller.knowledge.lexicon import LexiconEntry
from twinteller.knowledge.schema import FaqText
from twinteller.platforms import rasa
from twinteller.platforms.mapping import Converted, Export, SourceError, faq_id


def y(text: str) -> bytes:
    return textwrap.dedent(text).lstrip("\n").encode()


# -- a Rasa 3.x bank assistant, as `rasa init` lays it out -----------------------------------

NLU = y(
    r"""
    version: "3.1"

    nlu:
    - intent: greet
      examples: |
        - hey
        - hello there
    - intent: ask_opening_hours
      examples: |
        - when are you open on [Monday](day)?
        - are you open on [sat](day:Saturday)
        - is the branch open [tomorrow]{"entity": "day", "role": "when", "value": "next day"}
        - when are you open on Monday?
    - intent: faq/ask_fees
      examples: |
        - what are your fees
        - how much does an account cost
    - intent: faq/ask_atm
      examples:
      - text: |
          where is the nearest ATM
        metadata:
          sentiment: neutral
      - text: find an atm
    - intent: check_balance
      examples: |
        - what's my balance
        - how much money is in my [savings]{"entity": "account", "group": "1"} account
    - intent: transfer_money
      examples: |
        - send [500](amount) [HKD](currency)
        - transfer money
    - intent: report_lost_card
      examples: |
        - I lost my card
        - my card is gone
    - synonym: credit
      examples: |
        - credit card account
        - credit account
    - regex: account_number
      examples: |
        - \d{10,12}
    - lookup: banks
      examples: |
        - JPMC
        - Comerica
        - Bank of America
    """
)
DOMAIN = y(
    """
    version: "3.1"
    intents:
      - greet
      - ask_opening_hours
      - faq
      - check_balance:
          use_entities: []
      - transfer_money
      - report_lost_card
      - goodbye
    entities:
      - day
      - account
      - amount
      - currency
      - city:
          roles: [from, to]
    slots:
      amount:
        type: float
        mappings:
        - type: from_entity
          entity: amount
      currency:
        type: text
        mappings:
        - type: from_entity
          entity: currency
      account_type:
        type: categorical
        values: [savings, current]
        mappings:
        - type: custom
    responses:
      utter_greet:
      - text: "Hello! How can I help?"
        buttons:
        - title: "Balance"
          payload: "/check_balance"
      - text: "Hi there!"
      utter_opening_hours:
      - text: "We are open 9am to 5pm, Monday to Saturday."
      - text: "Our branches open 9-5."
        channel: slack
      - text: "We're open nine to five."
        channel: twilio_voice
      - text: "Open 9 to 5 for {account_type} holders."
      utter_faq/ask_fees:
      - text: "Our current account has no monthly fee."
      utter_faq/ask_atm:
      - text: "Find ATMs in the app under Locations."
        image: "https://example.com/atm.png"
      utter_transfer_money:
      - text: "You can transfer money in the app."
      - text: "Sending {amount} {currency} takes one working day."
      - text: "Your {account_type} account sends it today."
      utter_lost_card:
      - text: "Freeze your card in the app, then call us."
      - custom:
          blocks: []
      utter_goodbye:
      - text: "Bye"
      utter_ask_amount:
      - text: "How much, {name}?"
      utter_vip:
      - condition:
        - type: slot
          name: vip
          value: true
        text: "Welcome back."
    actions:
      - action_check_balance
      - utter_greet
    forms:
      transfer_form:
        required_slots:
        - amount
    session_config:
      session_expiration_time: 60
    """
)
RULES = y(
    """
    version: "3.1"
    rules:
    - rule: greet
      steps:
      - intent: greet
      - action: utter_greet
    - rule: answer faqs
      steps:
      - intent: faq
      - action: utter_faq
    - rule: lost card
      steps:
      - intent: report_lost_card
      - action: utter_lost_card
    - rule: balance
      steps:
      - intent: check_balance
      - action: action_check_balance
    - rule: start transfer
      condition:
      - active_loop: null
      steps:
      - intent: transfer_money
      - action: transfer_form
      - active_loop: transfer_form
    """
)
STORIES = y(
    """
    version: "3.1"
    stories:
    - story: opening hours
      steps:
      - intent: ask_opening_hours
      - action: utter_opening_hours
    - story: greet then hours
      steps:
      - intent: greet
      - action: utter_greet
      - intent: ask_opening_hours
      - action: utter_opening_hours
    """
)
CONFIG = y(
    """
    recipe: default.v1
    language: en
    pipeline:
    - name: WhitespaceTokenizer
    policies:
    - name: RulePolicy
    assistant_id: placid-reef
    """
)
PROJECT = {
    "data/nlu.yml": NLU,
    "domain.yml": DOMAIN,
    "data/rules.yml": RULES,
    "data/stories.yml": STORIES,
    "config.yml": CONFIG,
    "actions/actions.py": b"from rasa_sdk import Action\n",
    "credentials.yml": b"rest:\n",
    "tests/test_stories.yml": b"stories: []\n",
    ".git/HEAD": b"ref: refs/heads/main\n",
    ".git/config": b"[core]\n",
}

# -- a Rasa 2.x project in Chinese: retrieval intents answered by respond_faq, the domain's
# responses under 2.0's `templates`, the retrieval responses in a training data file ------------

NLU_ZH = y(
    """
    version: "2.0"
    nlu:
    - intent: faq/fees
      examples: |
        - 开户要收费吗
        - 账户有什么费用
    - intent: 查询余额
      examples: |
        - 我的余额是多少
        - 查一下[储蓄](account:储蓄账户)余额
    - synonym: 信用卡
      examples: |
        - 信用咭
    """
)
DOMAIN_ZH = y(
    """
    version: "2.0"
    intents:
    - faq
    - 查询余额
    entities:
    - account
    templates:
      utter_查询余额:
      - text: 请在手机应用查看余额。
      - text: 请致电查询余额。
        channel: audiocodes
    actions:
    - respond_faq
    """
)
RESPONSES_ZH = y(
    """
    version: "2.0"
    responses:
      utter_faq/fees:
      - text: 开户免费。
    """
)
RULES_ZH = y(
    """
    version: "2.0"
    rules:
    - rule: respond to FAQs
      steps:
      - intent: faq
      - action: respond_faq
    """
)


def zh_project(language: str = "zh") -> Export:
    return Export(
        {
            "config.yml": f"language: {language}\n".encode(),
            "domain.yml": DOMAIN_ZH,
            "data/nlu.yml": NLU_ZH,
            "data/responses.yml": RESPONSES_ZH,
            "data/rules.yml": RULES_ZH,
        }
    )


def checked(converted: Converted) -> Converted:
    """The conversion, after every entry passes the checks an import applies."""
    for record in converted.faqs:
        faqs.validate(record)
    for entry in converted.lexicon:
        lexicon.validate(entry)
    assert converted.report.platform == "rasa"
    return converted


def by_id(converted: Converted) -> dict[str, faqs.FaqRecord]:
    return {r.id: r for r in converted.faqs}


def counts(converted: Converted) -> dict[str, tuple[int, int]]:
    report = converted.report
    return {kind: (report.present[kind], report.imported[kind]) for kind in sorted(set(report.present))}


def omitted(converted: Converted) -> list[tuple[str, str]]:
    return [(o.where, o.what) for o in converted.report.omitted]


def reason(converted: Converted, what: str) -> str:
    reasons = [o.reason for o in converted.report.omitted if o.what == what]
    assert len(reasons) == 1, (what, omitted(converted))
    return reasons[0]


def sha8(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:8]


def error(files: dict[str, bytes]) -> str:
    with pytest.raises(SourceError) as raised:
        rasa.convert(Export(files))
    return str(raised.value)


# -- the 3.x project --------------------------------------------------------------------


@pytest.fixture(scope="module")
def converted() -> Converted:
    return checked(rasa.convert(Export(PROJECT)))


def test_each_intent_with_a_static_answer_is_one_entry(converted: Converted) -> None:
    assert [r.id for r in converted.faqs] == [
        "ask_opening_hours",
        "faq.ask_atm",
        "faq.ask_fees",
        "greet",
        "report_lost_card",
        "transfer_money",
    ]
    entries = by_id(converted)
    assert entries["greet"] == faqs.FaqRecord(
        id="greet",
        title="Greet",
        answer="Hello! How can I help?",
        questions=["hey", "hello there"],
        tags=["imported:rasa"],
    )
    # A retrieval intent: its own response utter_faq/<key>; the title is the response key.
    assert entries["faq.ask_fees"] == faqs.FaqRecord(
        id="faq.ask_fees",
        title="Ask fees",
        answer="Our current account has no monthly fee.",
        questions=["what are your fees", "how much does an account cost"],
        tags=["imported:rasa", "retrieval"],
    )
    # The extended example format ("- text: |" with metadata) reads as the plain one.
    assert entries["faq.ask_atm"].questions == ["where is the nearest ATM", "find an atm"]
    assert entries["faq.ask_atm"].answer == "Find ATMs in the app under Locations."


def test_annotations_are_taken_out_of_the_questions(converted: Converted) -> None:
    hours = by_id(converted)["ask_opening_hours"]
    # [Monday](day), [sat](day:Saturday), [tomorrow]{...}; the fourth example is the first once
    # its annotation is out, so it is reported, not repeated.
    assert hours.questions == ["when are you open on Monday?", "are you open on sat", "is the branch open tomorrow"]
    assert by_id(converted)["transfer_money"].questions == ["send 500 HKD", "transfer money"]
    assert reason(converted, "'when are you open on Monday?'") == (
        "the same question as nlu[2] (intent ask_opening_hours).examples[1] once annotations are out"
    )


def test_which_response_answers_an_intent(converted: Converted) -> None:
    entries = by_id(converted)
    # A rule `intent: report_lost_card` -> `action: utter_lost_card` names the response.
    assert entries["report_lost_card"].answer == "Freeze your card in the app, then call us."
    # A story of exactly those two steps does too (when no rule does).
    assert entries["ask_opening_hours"].answer == "We are open 9am to 5pm, Monday to Saturday."
    # Else the response utter_<intent>.
    assert entries["transfer_money"].answer == "You can transfer money in the app."
    # A rule that answers with a custom action: no static answer.
    assert "check_balance" not in entries
    assert reason(converted, "intent check_balance") == (
        "no static text answer: answered by action_check_balance (data/rules.yml: rules[4] (rule balance))"
    )


def test_voice_variations_are_the_ivr_answer_and_other_channels_are_reported(converted: Converted) -> None:
    hours = by_id(converted)["ask_opening_hours"]
    assert hours.channel_answers == {"ivr": "We're open nine to five."}
    assert reason(converted, "variation 2 of utter_opening_hours (channel slack)") == (
        "a variation for Rasa's slack channel: only voice channels come across (as ivr)"
    )


def test_twinteller_slots_become_the_slot_answer(converted: Converted) -> None:
    transfer = by_id(converted)["transfer_money"]
    assert transfer.slots == ["amount", "currency"]
    assert transfer.slot_answer == "Sending {amount} {currency} takes one working day."
    assert transfer.answer == "You can transfer money in the app."
    # A variation that needs one of Rasa's own slots is reported.
    assert reason(converted, "variation 3 of utter_transfer_money") == (
        "needs slot account_type filled by the conversation"
    )
    assert reason(converted, "variation 4 of utter_opening_hours") == (
        "needs slot account_type filled by the conversation"
    )


def test_other_variations_and_rich_content_are_reported(converted: Converted) -> None:
    assert reason(converted, "variation 2 of utter_greet") == (
        "twinteller has one answer per channel and language; Rasa picks a variation at random"
    )
    assert reason(converted, "buttons of utter_greet").startswith("twinteller replies in text only")
    assert reason(converted, "image of utter_faq/ask_atm").startswith("twinteller replies in text only")
    assert reason(converted, "variation 2 of utter_lost_card") == "no text (custom): twinteller replies in text"


def test_synonyms_and_annotated_values_become_lexicon_entries(converted: Converted) -> None:
    assert converted.lexicon == [
        LexiconEntry("credit account", "credit"),
        LexiconEntry("credit card account", "credit"),
        LexiconEntry("sat", "Saturday"),
        LexiconEntry("tomorrow", "next day"),
    ]


def test_counts(converted: Converted) -> None:
    assert counts(converted) == {
        "actions": (1, 0),
        "entities": (5, 0),
        "examples": (16, 13),
        "forms": (1, 0),
        "intents": (8, 6),
        "lookup tables": (1, 0),
        "regexes": (1, 0),
        "responses": (9, 6),
        "rules": (5, 3),
        "slots": (3, 2),
        "stories": (2, 1),
        "synonyms": (4, 4),
    }


def test_every_omission_says_where(converted: Converted) -> None:
    assert omitted(converted) == [
        ("actions/actions.py", "custom action code"),
        ("config.yml: assistant_id", "assistant id"),
        ("config.yml: pipeline", "NLU pipeline"),
        ("config.yml: policies", "dialogue policies"),
        ("config.yml: recipe", "training recipe"),
        ("credentials.yml", "connector settings"),
        ("data/nlu.yml: nlu[4] (intent faq/ask_atm).examples[1].metadata", "example metadata"),
        ("data/nlu.yml: nlu[9] (regex account_number)", "regex account_number (1 pattern)"),
        ("data/nlu.yml: nlu[10] (lookup banks)", "lookup table banks (3 entries)"),
        ("domain.yml: session_config", "session settings"),
        ("tests/test_stories.yml", "test data"),
        (".git", "hidden (2 files)"),
        ("domain.yml: intents[7]", "intent goodbye"),
        ("data/nlu.yml: nlu[2] (intent ask_opening_hours).examples[4]", "'when are you open on Monday?'"),
        ("domain.yml: responses.utter_opening_hours[2]", "variation 2 of utter_opening_hours (channel slack)"),
        ("domain.yml: responses.utter_opening_hours[4]", "variation 4 of utter_opening_hours"),
        ("data/nlu.yml: nlu[5] (intent check_balance)", "intent check_balance"),
        ("domain.yml: responses.utter_faq/ask_atm[1]", "image of utter_faq/ask_atm"),
        ("domain.yml: responses.utter_greet[1]", "buttons of utter_greet"),
        ("domain.yml: responses.utter_greet[2]", "variation 2 of utter_greet"),
        ("domain.yml: responses.utter_lost_card[2]", "variation 2 of utter_lost_card"),
        ("domain.yml: responses.utter_transfer_money[3]", "variation 3 of utter_transfer_money"),
        ("domain.yml: responses.utter_ask_amount", "response utter_ask_amount"),
        ("domain.yml: responses.utter_goodbye", "response utter_goodbye"),
        ("domain.yml: responses.utter_vip", "response utter_vip"),
        ("data/rules.yml: rules[4] (rule balance)", "rule 'balance'"),
        ("data/rules.yml: rules[5] (rule start transfer)", "rule 'start transfer'"),
        ("data/stories.yml: stories[2] (story greet then hours)", "story 'greet then hours'"),
        ("domain.yml: actions[1]", "custom action action_check_balance"),
        ("domain.yml: forms.transfer_form", "form transfer_form"),
        ("domain.yml: slots.account_type", "slot account_type (categorical)"),
        ("domain.yml: entities[2]", "entity account with groups 1"),
        ("domain.yml: entities[3]", "entity amount"),
        ("domain.yml: entities[5]", "entity city with roles from, to"),
        ("domain.yml: entities[4]", "entity currency"),
        ("domain.yml: entities[1]", "entity day with roles when"),
        ("domain.yml: intents[4]", "use_entities of intent check_balance"),
    ]
    assert reason(converted, "intent goodbye") == "declared in the domain with no training examples"
    assert reason(converted, "lookup table banks (3 entries)").startswith("twinteller has no patterns")
    assert reason(converted, "regex account_number (1 pattern)").startswith("twinteller has no patterns")
    assert reason(converted, "custom action action_check_balance").startswith("custom actions run code")
    assert reason(converted, "rule 'balance'") == "answers with custom action action_check_balance, which runs code"
    assert reason(converted, "story 'greet then hours'").startswith("a conversation flow")


def test_ids_and_everything_else_are_stable(converted: Converted) -> None:
    again = checked(rasa.convert(Export(dict(reversed(list(PROJECT.items()))))))
    assert again.faqs == converted.faqs
    assert again.lexicon == converted.lexicon
    assert again.report.to_dict() == converted.report.to_dict()
    # An intent that gains an answer later takes a new id; the others keep theirs.
    grown = dict(PROJECT, **{"data/more.yml": y("nlu:\n- intent: Greet\n  examples: |\n    - yo\n")})
    more = checked(rasa.convert(Export(grown)))
    assert [r.id for r in more.faqs] == [r.id for r in converted.faqs]


def test_detect() -> None:
    assert rasa.detect(Export(PROJECT))
    assert rasa.detect(Export({"data/nlu.yml": NLU}))
    assert rasa.detect(Export({"domain.yml": DOMAIN}))
    assert rasa.detect(Export({"domain.yml": y("intents:\n- greet\n")}))  # called domain
    assert rasa.detect(Export({"bot/main.yaml": y('version: "2.0"\nintents:\n- greet\n')}))  # a Rasa version
    assert rasa.detect(Export({"data/rules.yml": RULES}))
    assert rasa.detect(zh_project())
    assert not rasa.detect(Export({"docker-compose.yml": y('version: "3.8"\nservices:\n  rasa: {}\n')}))
    assert not rasa.detect(Export({"settings.yml": y("intents:\n- greet\n")}))  # neither versioned nor domain.yml
    assert not rasa.detect(Export({"agent.json": b'{"displayName": "x"}', "intents/a.json": b"{}"}))
    assert not rasa.detect(Export({"data/nlu.yml": b"nlu: [\n"}))  # not YAML: no error, just not Rasa
    assert not rasa.detect(Export({"data/nlu.yml": b"- intent: greet\n"}))
    assert not rasa.detect(Export({"faq.tsv": b"Question\tAnswer\n"}))
    assert not rasa.detect(Export({".github/workflows/ci.yml": y("rules:\n- steps: []\n")}))


# -- the 2.x project in Chinese ----------------------------------------------------------


@pytest.mark.parametrize(("code", "language"), [("zh", "zh-Hans"), ("zh_HK", "zh-Hant"), ("zh-TW", "zh-Hant")])
def test_a_chinese_project_is_the_translation_and_the_entries_own_texts(code: str, language: str) -> None:
    converted = checked(rasa.convert(zh_project(code)))
    balance_id = faq_id("查询余额")
    assert [r.id for r in converted.faqs] == sorted(["faq.fees", balance_id])
    entries = by_id(converted)
    assert entries["faq.fees"] == faqs.FaqRecord(
        id="faq.fees",
        title="Fees",
        answer="开户免费。",
        questions=["开户要收费吗", "账户有什么费用"],
        tags=["imported:rasa", "retrieval"],
        translations={language: FaqText(answer="开户免费。")},
    )
    # A Chinese intent name is the title in both; an audiocodes variation is the IVR answer.
    assert entries[balance_id] == faqs.FaqRecord(
        id=balance_id,
        title="查询余额",
        answer="请在手机应用查看余额。",
        channel_answers={"ivr": "请致电查询余额。"},
        questions=["我的余额是多少", "查一下储蓄余额"],
        tags=["imported:rasa"],
        translations={
            language: FaqText(
                title="查询余额", answer="请在手机应用查看余额。", channel_answers={"ivr": "请致电查询余额。"}
            )
        },
    )
    assert converted.lexicon == [LexiconEntry("信用咭", "信用卡"), LexiconEntry("储蓄", "储蓄账户")]
    assert omitted(converted) == [
        ("config.yml: language", f"English texts ({language})"),
        ("domain.yml: entities[1]", "entity account"),
    ]
    assert "also the entries' own texts until they are translated" in reason(converted, f"English texts ({language})")
    assert counts(converted) == {
        "actions": (0, 0),  # respond_faq is Rasa's retrieval action, not code
        "entities": (1, 0),
        "examples": (4, 4),
        "forms": (0, 0),
        "intents": (2, 2),
        "lookup tables": (0, 0),
        "regexes": (0, 0),
        "responses": (2, 2),
        "rules": (1, 1),  # the retrieval group's rule serves its members
        "slots": (0, 0),
        "stories": (0, 0),
        "synonyms": (2, 2),
    }


def test_a_language_twinteller_does_not_answer_in_is_refused() -> None:
    message = error({"config.yml": b"language: de\n", "data/nlu.yml": NLU})
    assert message == "config.yml: language: 'de' is not a language twinteller answers in (en, zh-Hant, zh-Hans)"
    message = error({"config.yml": b"language: en\n", "config/other.yml": b"language: zh\n", "data/nlu.yml": NLU})
    assert message == "config/other.yml: language: 'zh' differs from 'en' in config.yml"


# -- merging, and the smaller rules ------------------------------------------------------


def test_files_are_merged_and_an_intent_in_two_files_is_one_entry() -> None:
    files = {
        "data/nlu/a.yml": y("nlu:\n- intent: greet\n  examples: |\n    - hi\n    - hey\n"),
        "data/nlu/b.yaml": y("nlu:\n- intent: greet\n  examples: |\n    - hey\n    - good morning\n"),
        "domain/responses.yml": y("responses:\n  utter_greet:\n  - text: Hello!\n"),
        "domain/intents.yml": y("intents:\n- greet\n"),
    }
    converted = checked(rasa.convert(Export(files)))
    assert [(r.id, r.questions, r.answer) for r in converted.faqs] == [
        ("greet", ["hi", "hey", "good morning"], "Hello!")
    ]
    assert counts(converted)["intents"] == (1, 1)
    assert counts(converted)["examples"] == (4, 3)
    assert omitted(converted) == [("data/nlu/b.yaml: nlu[1] (intent greet).examples[1]", "'hey'")]


def test_names_two_intents_would_share_keep_their_own_ids() -> None:
    files = {
        "nlu.yml": y(
            """
            nlu:
            - intent: Check_Balance
              examples: |
                - balance please
            - intent: check_balance
              examples: |
                - what is my balance
            responses:
              utter_Check_Balance:
              - text: One.
              utter_check_balance:
              - text: Two.
            """
        )
    }
    first = checked(rasa.convert(Export(files)))
    ids = [r.id for r in first.faqs]
    # The name that is its own id keeps it, whichever sorts first; the other keeps a hash of its name.
    assert ids == ["check_balance", faq_id("Check_Balance") + "_" + sha8("Check_Balance")]
    assert by_id(first)["check_balance"].answer == "Two."
    assert ids == [r.id for r in checked(rasa.convert(Export(files))).faqs]


def test_the_first_rule_then_story_wins_and_later_ones_are_reported() -> None:
    files = {
        "data/nlu.yml": y("nlu:\n- intent: thanks\n  examples: |\n    - thanks\n"),
        "data/stories.yml": y(
            """
            stories:
            - story: thanks story
              steps:
              - intent: thanks
              - action: utter_youre_welcome
            """
        ),
        "data/rules.yml": y(
            """
            rules:
            - rule: thanks rule
              steps:
              - intent: thanks
              - action: utter_no_problem
            - rule: thanks again
              steps:
              - intent: thanks
              - action: utter_youre_welcome
            """
        ),
        "domain.yml": y(
            """
            responses:
              utter_no_problem:
              - text: No problem.
              utter_youre_welcome:
              - text: You're welcome.
              utter_thanks:
              - text: Thank you!
            """
        ),
    }
    converted = checked(rasa.convert(Export(files)))
    assert [r.answer for r in converted.faqs] == ["No problem."]
    assert reason(converted, "rule 'thanks again'") == (
        "intent thanks came across with the answer of an earlier rule or story"
    )
    assert reason(converted, "story 'thanks story'") == (
        "intent thanks came across with the answer of an earlier rule or story"
    )
    assert counts(converted)["rules"] == (2, 1)
    assert counts(converted)["responses"] == (3, 1)


def test_intents_without_a_static_answer_say_why() -> None:
    files = {
        "data/nlu.yml": y(
            """
            nlu:
            - intent: affirm
              examples: |
                - yes
            - intent: mood_unhappy
              examples: |
                - I am sad
            - intent: pay_bill
              examples: |
                - pay my bill
            - intent: faq/ask_limits
              examples: |
                - what are my limits
            - intent: ask_rate
              examples: |
                - what is the rate
            - intent: ask_vip
              examples: |
                - am I a VIP
            - intent: ask_quote
              examples: |
                - how much for 500
            """
        ),
        "data/stories.yml": y(
            """
            stories:
            - story: sad path
              steps:
              - intent: mood_unhappy
              - action: utter_cheer_up
              - action: utter_did_that_help
            """
        ),
        "domain.yml": y(
            """
            slots:
              amount:
                type: float
              rate:
                type: float
            responses:
              utter_cheer_up:
              - text: Here is something to cheer you up.
              utter_did_that_help:
              - text: Did that help you?
              utter_ask_rate:
              - text: The rate is {rate}.
              utter_ask_vip:
              - text: Welcome back!
                condition:
                - type: slot
                  name: vip
                  value: true
              - text: Nice to see you.
                channel: slack
              utter_ask_quote:
              - text: That is {amount} in total.
            """
        ),
    }
    converted = checked(rasa.convert(Export(files)))
    assert converted.faqs == []
    assert reason(converted, "intent affirm") == (
        "no static text answer: answered by nothing (no rule or story affirm -> utter_..., no response utter_affirm)"
    )
    assert reason(converted, "intent mood_unhappy") == (
        "no static text answer: answered by utter_cheer_up within a conversation flow "
        "(data/stories.yml: stories[1] (story sad path))"
    )
    assert reason(converted, "intent faq/ask_limits") == (
        "no static text answer: answered by nothing (no response utter_faq/ask_limits)"
    )
    assert reason(converted, "intent ask_rate") == (
        "no static text answer: utter_ask_rate needs slot rate filled by the conversation"
    )
    assert reason(converted, "intent ask_vip") == (
        "no static text answer: utter_ask_vip has no text variation for every channel "
        "(only channel-specific, conditional or non-text ones)"
    )
    assert reason(converted, "intent ask_quote") == (
        "no static text answer: utter_ask_quote needs slot amount filled by the conversation in every variation "
        "(a slot answer needs a plain answer beside it)"
    )
    assert counts(converted)["intents"] == (7, 0)
    assert counts(converted)["examples"] == (7, 0)


def test_conditional_variations_are_reported() -> None:
    files = {
        "nlu.yml": y("nlu:\n- intent: hello\n  examples: |\n    - hello\n"),
        "domain.yml": y(
            """
            slots:
              vip:
                type: bool
            responses:
              utter_hello:
              - text: Welcome back, valued customer.
                condition:
                - type: slot
                  name: vip
                  value: true
              - text: Hello!
              - text: Hello on the phone.
                channel: voice
              - text: Hello again on the phone.
                channel: audiocodes
            """
        ),
    }
    converted = checked(rasa.convert(Export(files)))
    assert [(r.answer, r.channel_answers) for r in converted.faqs] == [("Hello!", {"ivr": "Hello on the phone."})]
    assert reason(converted, "variation 1 of utter_hello") == (
        "conditional on slot vip: twinteller answers the same in every conversation"
    )
    assert reason(converted, "variation 4 of utter_hello (channel audiocodes)").startswith("twinteller has one answer")


def test_example_lines_that_rasa_skips_are_reported() -> None:
    nlu = b"nlu:\n- intent: greet\n  examples: |\n    - hi\n    -\n      hello\n\n    - [Sara](name)\n"
    files = {"nlu.yml": nlu, "domain.yml": y("responses:\n  utter_greet:\n  - text: Hi!\n")}
    converted = checked(rasa.convert(Export(files)))
    assert [r.questions for r in converted.faqs] == [["hi", "Sara"]]
    assert omitted(converted) == [
        ("nlu.yml: nlu[1] (intent greet).examples[2]", "empty example"),
        ("nlu.yml: nlu[1] (intent greet).examples[3]", "'hello'"),
        ("nlu.yml: nlu[1] (intent greet).examples[4]", "entity name"),
    ]
    assert reason(converted, "'hello'") == "an example line must start with '- ' (Rasa skips it too)"
    assert counts(converted)["examples"] == (4, 2)


def test_every_annotation_form_is_read() -> None:
    nlu = y(
        """
        nlu:
        - intent: travel
          examples: |
            - from [Berlin]{"entity": "city", "role": "departure"} to [SF]{"entity": "city", "value": "San Francisco"}
            - fly to [Paris]{"entity": "city", "role": "destination"}
            - a [large]{"entity": "size", "group": "1"} [pepperoni](topping)
            - my [savings]("account") account
            - to [HK][{"entity": "city", "value": "Hong Kong"}, {"entity": "location"}]
        """
    )
    files = {"nlu.yml": nlu, "domain.yml": y("responses:\n  utter_travel:\n  - text: Have a good trip.\n")}
    converted = checked(rasa.convert(Export(files)))
    assert converted.faqs[0].questions == [
        "from Berlin to SF",
        "fly to Paris",
        "a large pepperoni",
        "my savings account",
        "to HK",
    ]
    assert converted.lexicon == [LexiconEntry("HK", "Hong Kong"), LexiconEntry("SF", "San Francisco")]
    assert [what for _, what in omitted(converted)] == [
        "entity account",
        "entity city with roles departure, destination",
        "entity location",
        "entity size with groups 1",
        "entity topping",
    ]


def test_lexicon_refusals_and_conflicts_are_reported() -> None:
    long = "a" * 65
    nlu = y(
        f"""
        nlu:
        - synonym: credit
          examples: |
            - Credit
            - credit account
            - {long}
        - synonym: loan
          examples: |
            - credit account
            - Credit Account
        - intent: ask
          examples: |
            - my [credit account](account:credit) please
        """
    )
    converted = checked(rasa.convert(Export({"nlu.yml": nlu})))
    assert converted.lexicon == [LexiconEntry("credit account", "credit")]
    assert omitted(converted) == [
        ("nlu.yml: nlu[3] (intent ask)", "intent ask"),
        ("nlu.yml: nlu[1] (synonym credit).examples[1]", "synonym 'Credit' -> 'credit'"),
        ("nlu.yml: nlu[1] (synonym credit).examples[3]", f"synonym {long!r} -> 'credit'"),
        ("nlu.yml: nlu[2] (synonym loan).examples[1]", "synonym 'credit account' -> 'loan'"),
        ("nlu.yml: nlu[2] (synonym loan).examples[2]", "synonym 'Credit Account' -> 'loan'"),
        ("nlu.yml: nlu[3] (intent ask).examples[1]", "entity account"),
    ]
    assert reason(converted, "synonym 'Credit' -> 'credit'") == (
        "the lexicon refuses it: canonical: the same as the term"
    )
    assert reason(converted, f"synonym {long!r} -> 'credit'").startswith("the lexicon refuses it: term: 65 characters")
    assert reason(converted, "synonym 'credit account' -> 'loan'") == "'credit account' already maps to 'credit'"
    assert counts(converted)["synonyms"] == (5, 1)  # the annotation repeats a synonym: counted once


def test_questions_twinteller_cannot_hold_are_reported() -> None:
    long = "why " * 130  # 520 bytes
    nlu = y(
        f"""
        nlu:
        - intent: why
          examples: |
            - {long}
        - intent: how
          examples: |
            - how
            - {long}
        """
    )
    domain = y("responses:\n  utter_why:\n  - text: Because.\n  utter_how:\n  - text: Like this.\n")
    converted = checked(rasa.convert(Export({"nlu.yml": nlu, "domain.yml": domain})))
    assert [(r.id, r.questions) for r in converted.faqs] == [("how", ["how"])]
    assert [(where, o.reason) for where, o in zip(omitted(converted), converted.report.omitted, strict=True)] == [
        (("nlu.yml: nlu[2] (intent how).examples[2]", repr(long.strip()[:40] + "...")), "over 512 bytes"),
        (("nlu.yml: nlu[1] (intent why).examples[1]", repr(long.strip()[:40] + "...")), "over 512 bytes"),
        (("nlu.yml: nlu[1] (intent why)", "intent why"), "no example came across (each is reported)"),
        (("domain.yml: responses.utter_why", "response utter_why"), reason(converted, "response utter_why")),
    ]
    assert counts(converted)["examples"] == (3, 1)


def test_an_unused_response_may_need_variables_a_custom_action_fills() -> None:
    files = {
        "nlu.yml": y("nlu:\n- intent: hi\n  examples: |\n    - hi\n"),
        "domain.yml": y("responses:\n  utter_hi:\n  - text: Hi.\n  utter_receipt:\n  - text: Paid {payee}.\n"),
    }
    converted = checked(rasa.convert(Export(files)))
    assert [r.answer for r in converted.faqs] == ["Hi."]
    assert ("domain.yml: responses.utter_receipt", "response utter_receipt") in omitted(converted)


def test_escaped_braces_are_plain_braces() -> None:
    files = {
        "nlu.yml": y("nlu:\n- intent: hi\n  examples: |\n    - hi\n"),
        "domain.yml": y("responses:\n  utter_hi:\n  - text: 'Reply {{yes}} to agree.'\n"),
    }
    assert [r.answer for r in checked(rasa.convert(Export(files))).faqs] == ["Reply {yes} to agree."]


def test_rules_without_a_domain_are_not_checked_against_it() -> None:
    files = {
        "data/nlu.yml": y("nlu:\n- intent: greet\n  examples: |\n    - hi\n"),
        "data/rules.yml": y("rules:\n- rule: hi\n  steps:\n  - intent: greet\n  - action: utter_hello\n"),
    }
    converted = checked(rasa.convert(Export(files)))
    assert converted.faqs == []
    assert reason(converted, "intent greet") == (
        "no static text answer: answered by nothing (no response utter_hello, which "
        "data/rules.yml: rules[1] (rule hi) names)"
    )


def test_files_that_are_not_rasa_data_are_reported() -> None:
    files = {
        "data/nlu.yml": y("nlu:\n- intent: greet\n  examples: |\n    - hi\n"),
        "docker-compose.yml": y('version: "3.8"\nservices:\n  rasa: {}\n'),
        "data/legacy.md": b"## intent:greet\n- hi\n",
        "README.md": b"hello\n",
        "empty.yml": b"",
        "endpoints.yml": b"action_endpoint:\n  url: http://localhost:5055/webhook\n",
        "data/extra.yml": y("nlu: []\nfancy: true\n"),
    }
    converted = checked(rasa.convert(Export(files)))
    assert omitted(converted) == [
        ("README.md", "file"),
        ("data/extra.yml: fancy", "key fancy"),
        ("data/legacy.md", "file"),
        ("docker-compose.yml", "file"),
        ("endpoints.yml", "connector settings"),
        ("data/nlu.yml: nlu[1] (intent greet)", "intent greet"),
    ]
    assert reason(converted, "key fancy") == "not part of Rasa 2.x/3.x training data, domain or config"
    assert converted.report.omitted[0].reason == "not Rasa YAML data"
    assert "rasa data convert nlu -f yaml" in converted.report.omitted[2].reason


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("ask_fees", "Ask fees"),
        ("faq/ask_fees", "Ask fees"),
        ("askFees", "Ask fees"),
        ("ATM_fees", "ATM fees"),
        ("greet+check_balance", "Greet check balance"),
        ("查询余额", "查询余额"),
        ("_", "_"),
    ],
)
def test_titles_are_the_intent_names_humanised(name: str, title: str) -> None:
    assert rasa._title(name) == title


# -- malformed projects -------------------------------------------------------------------


def test_bad_yaml() -> None:
    message = error({"data/nlu.yml": b"nlu:\n- intent: greet\n  examples: [\n"})
    assert message.startswith("data/nlu.yml: line 4 column 1: not valid YAML")


def test_top_level_not_a_mapping() -> None:
    assert error({"data/nlu.yml": b"- intent: greet\n"}) == (
        "data/nlu.yml: top level: expected a mapping of Rasa keys (nlu, responses, ...), got a list"
    )


def test_nlu_not_a_list() -> None:
    assert error({"data/nlu.yml": b"nlu:\n  intent: greet\n"}) == (
        "data/nlu.yml: nlu at line 2: expected a list of intents, synonyms, regexes and lookup tables, got a mapping"
    )


@pytest.mark.parametrize(
    ("nlu", "message"),
    [
        ("nlu:\n- greet\n", "nlu[1] at line 2: expected a mapping, got a string"),
        ("nlu:\n- intents: greet\n", "nlu[1] at line 2: expected one of intent, synonym, regex, lookup"),
        ("nlu:\n- intent:\n  examples: |\n    - hi\n", "nlu[1] at line 2: intent: expected a name"),
        (
            "nlu:\n- intent: greet\n  examples: |\n    - hi\n- intent: bye\n  examples: |\n    - ciao\n"
            "- intent: thanks\n",
            "nlu[3] (intent thanks) at line 8: no examples",
        ),
        ("nlu:\n- intent: greet\n  examples: []\n", "nlu[1] (intent greet) at line 2: no examples"),
        (
            "nlu:\n- intent: greet\n  examples:\n  - text: hi\n  - text: 42\n",
            "nlu[1] (intent greet).examples[2] at line 5: not a string (int): "
            "expected '- text: ...' or a block of '- ' lines",
        ),
        (
            "nlu:\n- intent: greet\n  examples:\n  - [hi, hey]\n",
            "nlu[1] (intent greet).examples[1] at line 4: not a string (a list): "
            "expected '- text: ...' or a block of '- ' lines",
        ),
        (
            "nlu:\n- synonym: credit\n  examples: 42\n",
            "nlu[1] (synonym credit) at line 3: examples: expected a block of '- ' lines, got int",
        ),
        (
            'nlu:\n- intent: greet\n  examples: |\n    - hi\n\n    - hi [Sara]{"entity": }\n',
            'nlu[1] (intent greet).examples[2] at line 6: entity annotation {"entity": } is not valid JSON: '
            "Expecting value",
        ),
        (
            'nlu:\n- intent: greet\n  examples: |\n    - hi [Sara]{"value": "x"}\n',
            'nlu[1] (intent greet).examples[1] at line 4: entity annotation {"value": "x"}: '
            '"entity" must name the entity',
        ),
    ],
)
def test_malformed_nlu(nlu: str, message: str) -> None:
    assert error({"data/nlu.yml": nlu.encode()}) == f"data/nlu.yml: {message}"


def test_a_response_needing_a_variable_that_is_neither_slot_nor_entity() -> None:
    files = {
        "data/nlu.yml": y("nlu:\n- intent: greet\n  examples: |\n    - hi\n"),
        "domain.yml": y(
            """
            intents:
            - greet
            responses:
              utter_greet:
              - text: "Hi {name}!"
            """
        ),
    }
    assert (
        error(files)
        == "domain.yml: responses.utter_greet[1].text at line 5: {name} is neither a slot nor an entity in the domain"
    )
    # As an entity (or a slot) it is known: the variation is reported instead.
    files["domain.yml"] += b"  - text: Hi!\nentities:\n- name\n"
    converted = checked(rasa.convert(Export(files)))
    assert [r.answer for r in converted.faqs] == ["Hi!"]
    assert reason(converted, "variation 1 of utter_greet") == "needs slot name filled by the conversation"


def test_a_rule_naming_a_response_the_domain_lacks() -> None:
    files = {
        "data/nlu.yml": y("nlu:\n- intent: greet\n  examples: |\n    - hi\n"),
        "data/rules.yml": y("rules:\n- rule: say hi\n  steps:\n  - intent: greet\n  - action: utter_hello\n"),
        "domain.yml": y("responses:\n  utter_greet:\n  - text: Hi!\n"),
    }
    assert error(files) == (
        "data/rules.yml: rules[1] (rule say hi).steps[2] at line 5: action utter_hello: no such response in the domain"
    )
    files["data/rules.yml"] = y("stories:\n- story: s\n  steps:\n  - intent: greet\n  - action: utter_hi\n")
    assert error(files) == (
        "data/rules.yml: stories[1] (story s).steps[2] at line 5: action utter_hi: no such response in the domain"
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"domain.yml": b"responses:\n  utter_x: hi\n"},
            "domain.yml: responses.utter_x at line 2: expected a list of variations (- text: ...)",
        ),
        (
            {"domain.yml": b"responses:\n- utter_x\n"},
            "domain.yml: responses at line 2: expected a mapping of responses, got a list",
        ),
        (
            {"domain.yml": b"responses:\n  utter_x:\n  - text: [a]\n"},
            "domain.yml: responses.utter_x[1].text at line 3: expected a string, got a list",
        ),
        (
            {"domain.yml": b"responses:\n  utter_x:\n  - hi\n"},
            "domain.yml: responses.utter_x[1] at line 3: expected a mapping, got a string",
        ),
        (
            {"domain.yml": b"responses:\n  utter_x:\n  - text: hi\nintents:\n- [a]\n"},
            "domain.yml: intents[1] at line 5: expected a name or {name: ...}",
        ),
        (
            {"domain.yml": b"responses:\n  utter_x:\n  - text: hi\nslots: [a]\n"},
            "domain.yml: slots at line 4: expected a mapping, got a list",
        ),
        (
            {
                "data/nlu.yml": b"nlu:\n- intent: a\n  examples: '- a'\n",
                "data/s.yml": b"stories:\n- story: a\n  steps: x\n",
            },
            "data/s.yml: stories[1] (story a) at line 2: steps: expected a list of steps",
        ),
        (
            {
                "data/nlu.yml": b"nlu:\n- intent: a\n  examples: '- a'\n",
                "data/s.yml": b"rules:\n- rule: a\n  steps:\n  - x\n",
            },
            "data/s.yml: rules[1] (rule a).steps[1] at line 4: expected a mapping, got a string",
        ),
        (
            {"data/nlu.yml": b"nlu:\n- intent: a\n  examples: '- a'\n", "data/s.yml": b"rules: 3\n"},
            "data/s.yml: rules at line 1: expected a list, got int",
        ),
        (
            {"config.yml": b"language: [en]\n", "data/nlu.yml": NLU},
            "config.yml: language at line 1: expected a language code",
        ),
    ],
)
def test_malformed_domain_and_flows(files: dict[str, bytes], message: str) -> None:
    assert error(files) == message


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"README.md": b"# my bot\n"}, "README.md: no nlu or responses found: not a Rasa 2.x/3.x project"),
        (
            {"domain.yml": b"intents:\n- greet\n", "data/nlu.yml": b"nlu: []\n"},
            "the export (2 files): no nlu or responses found: not a Rasa 2.x/3.x project",
        ),
    ],
)
def test_no_rasa_content(files: dict[str, bytes], message: str) -> None:
    assert error(files) == message
