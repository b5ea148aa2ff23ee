"""twinteller.platforms.aiml: AIML 1.0 and 2.0 categories grouped by their answer into FAQ
entries (srai reductions as more questions of their target), what is left out and why, and
every malformed file refused naming the file and line."""

from __future__ import annotations

import time

import pytest

from twinteller.knowledge import faqs
from twinteller.knowledge.faqs import FaqRecord
from twinteller.platforms import aiml
from twinteller.platforms.mapping import Converted, Export, Omission, SourceError, faq_id

TAGS = ["imported:aiml"]


def document(*lines: str, version: str = "2.0", head: str = "") -> bytes:
    """An AIML file: line 1 the XML declaration, line 2 <aiml>, then one line per argument
    (the first on line 3)."""
    text = f'<?xml version="1.0" encoding="UTF-8"?>{head}\n<aiml version="{version}">\n'
    return (text + "".join(line + "\n" for line in lines) + "</aiml>\n").encode()


def category(pattern: str, template: str, context: str = "") -> str:
    return f"<category><pattern>{pattern}</pattern>{context}<template>{template}</template></category>"


def convert(files: dict[str, bytes]) -> Converted:
    converted = aiml.convert(Export(files))
    for record in converted.faqs:
        assert faqs.validate(record) is record
    assert converted.lexicon == []
    assert converted.report.platform == "aiml"
    return converted


def one(*lines: str) -> Converted:
    return convert({"bank.aiml": document(*lines)})


def by_question(converted: Converted, question: str) -> FaqRecord:
    (record,) = [r for r in converted.faqs if question in r.questions]
    return record


def counts(converted: Converted) -> dict[str, tuple[int, int]]:
    data = converted.report.to_dict()["counts"]
    return {kind: (c["present"], c["imported"]) for kind, c in data.items()}


def refused(files: dict[str, bytes]) -> str:
    with pytest.raises(SourceError) as caught:
        aiml.convert(Export(files))
    return str(caught.value)


# -- a bank's bot, end to end ------------------------------------------------------------------

BALANCE = document(
    category("WHAT IS MY BALANCE", "You can see your balance in the app under Accounts.<br/>Or call 2233 8000."),
    category("BALANCE *", "<srai>WHAT IS MY BALANCE</srai>"),
    category("HOW MUCH MONEY DO I HAVE", "<srai>BALANCE PLEASE</srai>"),
    category("^ CHECK MY BALANCE ^", "<srai>HOW MUCH MONEY DO I HAVE</srai>"),
    category("* BALANCE *", "<srai>WHAT IS MY BALANCE</srai>"),
    "<category><pattern>我 的 余额</pattern><template>您可以在应用程式中",
    "查看余额。</template></category>",
    category("余额多少", "<srai>我的余额</srai>"),
    category("HELLO", "<random><li>Hello, how can I help?</li><li>Hi there.</li></random>"),
    category("MY NAME IS *", "Nice to meet you, <star/>."),
    category("TRANSFER LIMIT", '<condition name="tier"><li value="gold">50,000</li><li>20,000</li></condition>'),
    category("YES", "I have ordered a new card.", "<that>DO YOU WANT A NEW CARD</that>"),
)
CARDS = (
    '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    '<aiml version="1.0.1" xmlns="http://alicebot.org/2001/AIML-1.0.1">\n'
    + category("LOST CARD", "Call 2233 8000 at once: we block the card.")
    + "\n"
    + category("I LOST MY CARD", "<srai>LOST CARD</srai>")
    + '\n<topic name="CARDS">\n'
    + category("BLOCK IT", "The card is blocked.")
    + "\n</topic>\n"
    + category("FEES", "A new card costs £5. <srai>LOST CARD</srai>")
    + "\n</aiml>\n"
).encode("iso-8859-1")
BOT = {
    "bot/aiml/cards.aiml": CARDS,
    "bot/sets/accounttype.txt": b"SAVINGS\nCURRENT\n",
    "bot/aiml/balance.aiml": BALANCE,
}


def test_a_bank_bot_becomes_one_entry_per_answer() -> None:
    converted = convert(BOT)
    assert converted.faqs == [
        FaqRecord(
            id="what_is_my_balance",
            title="what is my balance",
            answer="You can see your balance in the app under Accounts.\nOr call 2233 8000.",
            questions=["what is my balance", "balance", "how much money do i have", "check my balance"],
            tags=TAGS,
        ),
        FaqRecord(
            id=faq_id("我 的 余额"),
            title="我的余额",
            answer="您可以在应用程式中查看余额。",
            questions=["我的余额", "余额多少"],
            tags=TAGS,
        ),
        FaqRecord(id="hello", title="hello", answer="Hello, how can I help?", questions=["hello"], tags=TAGS),
        FaqRecord(
            id="lost_card",
            title="lost card",
            answer="Call 2233 8000 at once: we block the card.",
            questions=["lost card", "i lost my card"],
            tags=TAGS,
        ),
        FaqRecord(
            id="fees",
            title="fees",
            answer="A new card costs £5. Call 2233 8000 at once: we block the card.",
            questions=["fees"],
            tags=TAGS,
        ),
    ]


def test_the_report_says_what_was_left_out_where_and_why() -> None:
    omitted = convert(BOT).report.omitted
    assert [(o.where, o.what) for o in omitted] == [
        ("bot/aiml/balance.aiml: line 4", "pattern 'BALANCE *'"),
        ("bot/aiml/balance.aiml: line 7", "pattern '* BALANCE *'"),
        ("bot/aiml/balance.aiml: line 11", "answer 'Hi there.'"),
        ("bot/aiml/balance.aiml: line 12", "category 'MY NAME IS *'"),
        ("bot/aiml/balance.aiml: line 13", "category 'TRANSFER LIMIT'"),
        ("bot/aiml/balance.aiml: line 14", "category 'YES'"),
        ("bot/aiml/cards.aiml: line 6", "category 'BLOCK IT'"),
        ("bot/sets/accounttype.txt", "file"),
    ]
    reasons = [o.reason for o in omitted]
    assert reasons[0].startswith("wildcard dropped: * stands for words the customer adds")
    assert reasons[1] == "mostly wildcards (2 of 3 words): too little of the question is known"
    assert reasons[2] == "<random> picks one of its answers; twinteller gives one, the first"
    assert reasons[3] == "template uses <star/>: the answer repeats the customer's words"
    assert reasons[4] == "template uses <condition>: the answer depends on conversation variables"
    assert reasons[5] == (
        "answers only after the bot said 'DO YOU WANT A NEW CARD'; twinteller keeps no conversation context"
    )
    assert reasons[6] == "answers only in topic 'CARDS'; twinteller keeps no conversation context"
    assert reasons[7].startswith("not AIML")


def test_the_report_counts_are_exact() -> None:
    converted = convert(BOT)
    assert counts(converted) == {
        "categories": (15, 10),
        "patterns": (15, 10),
        "srai": (7, 6),
        "that": (1, 0),
        "topic": (1, 0),
        "conditions": (1, 0),
        "groups": (5, 5),
    }
    assert converted.report.to_dict()["platform"] == "aiml"


def test_the_output_does_not_depend_on_the_order_files_come_in() -> None:
    first = convert(BOT)
    again = convert(dict(reversed(BOT.items())))
    assert again.faqs == first.faqs
    assert again.report.to_dict() == first.report.to_dict()


def test_the_shipped_sample_converts() -> None:
    from twinteller.knowledge.schema import DATA_DIR

    sample = DATA_DIR / "platform_samples" / "aiml" / "bank.aiml"
    if not sample.exists():
        pytest.skip("no AIML sample")
    converted = convert({"bank.aiml": sample.read_bytes()})
    assert converted.faqs
    assert all(r.questions and r.tags == TAGS for r in converted.faqs)


# -- detect ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "files",
    [
        {"bank.aiml": b"not even xml"},
        {"bot/AIML/Bank.AIML": document()},
        {"export": document()},
        {"bot.xml": b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- a bot -->\n<!DOCTYPE aiml>\n<aiml version="1.0"/>'},
        {"bot.xml": b'<a:aiml xmlns:a="http://alicebot.org/2001/AIML-1.0.1"></a:aiml>'},
        {"README.md": b"hi", "x/bot.aiml": document()},
    ],
)
def test_detect_an_aiml_export(files: dict[str, bytes]) -> None:
    assert aiml.detect(Export(files))


@pytest.mark.parametrize(
    "files",
    [
        {"domain.yml": b"intents:\n  - greet\n"},
        {"agent.json": b'{"displayName": "aiml"}'},
        {"feed.xml": b'<?xml version="1.0"?><rss><aiml/></rss>'},
        {"notes.txt": b"An AIML file has an <aiml> root"},
        {"__MACOSX/bot/._bank.aiml": b"\x00\x05\x16\x07"},
        {"bot/._bank.aiml": b"\x00\x05\x16\x07"},
    ],
)
def test_detect_refuses_other_exports(files: dict[str, bytes]) -> None:
    assert not aiml.detect(Export(files))


def test_an_xml_file_with_an_aiml_root_is_read_whatever_its_name() -> None:
    converted = convert({"bot.xml": document(category("HI", "Hello.")), "notes.txt": b"x"})
    assert [r.id for r in converted.faqs] == ["hi"]
    assert [o.where for o in converted.report.omitted] == ["notes.txt"]


def test_an_export_without_aiml_is_refused() -> None:
    assert "no AIML" in refused({"notes.txt": b"hello"})


# -- srai ------------------------------------------------------------------------------------


def test_an_srai_chain_is_followed_to_the_answer() -> None:
    converted = one(
        category("STEP 0", "<srai>step 1</srai>"),
        category("STEP 1", "<srai>STEP 2</srai>"),
        category("STEP 2", "<srai>STEP 3</srai>"),
        category("STEP 3", "Open the app."),
    )
    assert [(r.id, r.questions, r.answer) for r in converted.faqs] == [
        ("step_3", ["step 3", "step 0", "step 1", "step 2"], "Open the app.")
    ]
    assert counts(converted)["srai"] == (3, 3)
    assert counts(converted)["groups"] == (1, 1)


@pytest.mark.parametrize(
    ("patterns", "srai", "expected"),
    [
        (["CARD *", "CARD LOST"], "CARD LOST", "CARD LOST"),  # a word before *
        (["CARD *", "CARD LOST", "_ LOST"], "CARD LOST", "_ LOST"),  # _ before a word
        (["CARD *", "CARD ^"], "CARD LOST", "CARD ^"),  # ^ before *
        (["CARD #", "CARD LOST"], "CARD LOST", "CARD #"),  # # before a word
        (["CARD #", "$CARD LOST"], "CARD LOST", "$CARD LOST"),  # $ first of all
        (["CARD ^", "CARD STOLEN"], "CARD", "CARD ^"),  # ^ takes no word
        (["CARD *", "CARD STOLEN"], "card stolen?", "CARD STOLEN"),  # case and punctuation
        (["CARD * NOW", "CARD *"], "CARD WAS LOST NOW", "CARD * NOW"),  # * takes two words
        (["I WANT *", "I WANT A <set>accounttype</set> ACCOUNT"], "I WANT A SAVINGS ACCOUNT", "I WANT A"),
        (["我的 *", "我的余额"], "我 的 余额", "我的余额"),  # Chinese with or without spaces
        (["我 的 *", "我的卡"], "我的余额", "我 的 *"),
    ],
)
def test_srai_matches_as_an_aiml_interpreter_does(patterns: list[str], srai: str, expected: str) -> None:
    lines = [category(p, f"Answer {n}.") for n, p in enumerate(patterns)]
    converted = one(*lines, category("ASK ME", f"<srai>{srai}</srai>"))
    answer = next(n for n, p in enumerate(patterns) if p.startswith(expected))
    assert by_question(converted, "ask me").answer == f"Answer {answer}."


def test_srai_inside_text_gives_the_target_answer_and_its_own_entry() -> None:
    converted = one(
        category("OPENING HOURS", "9am to 5pm."),
        category("WHEN ARE YOU OPEN", "<srai>OPENING HOURS</srai>"),
        category(
            "BRANCH", "Our branches open <srai>opening hours</srai> <random><li>Welcome!</li><li>Hi!</li></random>"
        ),
    )
    assert [(r.questions, r.answer) for r in converted.faqs] == [
        (["opening hours", "when are you open"], "9am to 5pm."),
        (["branch"], "Our branches open 9am to 5pm. Welcome!"),
    ]
    assert [(o.where, o.what) for o in converted.report.omitted] == [("bank.aiml: line 5", "answer 'Hi!'")]


def test_a_reduction_to_a_category_left_out_is_left_out() -> None:
    converted = one(
        category("MY NAME IS *", "Hello <star/>."),
        category("WHO AM I", "<srai>MY NAME IS BOB</srai>"),
        category("GREET", "Hi. <srai>MY NAME IS ANN</srai>"),
        category("PLEASE *", "<srai><star/></srai>"),
        category("REPEAT", "<sr/>"),
    )
    assert converted.faqs == []
    assert [(o.where, o.reason) for o in converted.report.omitted] == [
        ("bank.aiml: line 3", "template uses <star/>: the answer repeats the customer's words"),
        (
            "bank.aiml: line 4",
            "reduces to 'MY NAME IS BOB' (bank.aiml: line 3), which is left out: "
            "template uses <star/>: the answer repeats the customer's words",
        ),
        (
            "bank.aiml: line 5",
            "srai 'MY NAME IS ANN' reaches bank.aiml: line 3, which is left out: "
            "template uses <star/>: the answer repeats the customer's words",
        ),
        ("bank.aiml: line 6", "template uses <star/>: the answer repeats the customer's words"),
        (
            "bank.aiml: line 7",
            "template uses <sr/>: it reduces the customer's words to another category, so the answer depends on them",
        ),
    ]
    assert counts(converted)["srai"] == (4, 0)


def test_a_reduction_that_only_reaches_a_category_with_a_context_is_left_out() -> None:
    converted = one(
        category("YES", "Your new card is on its way.", "<that>SHALL I ORDER A CARD</that>"),
        category("YES PLEASE", "<srai>YES</srai>"),
    )
    assert converted.faqs == []
    assert converted.report.omitted[1] == Omission(
        "bank.aiml: line 4", "category 'YES PLEASE'", "srai 'YES' reaches only categories with a <that> or <topic>"
    )


# -- questions from patterns -------------------------------------------------------------------


def test_patterns_become_plain_questions_or_are_left_out_with_the_reason() -> None:
    converted = one(
        category("HOW DO I OPEN AN ACCOUNT", "Apply in the app."),
        category("OPEN ACCOUNT _", "<srai>HOW DO I OPEN AN ACCOUNT</srai>"),
        category("# NEW ACCOUNT #", "<srai>HOW DO I OPEN AN ACCOUNT</srai>"),
        category("$OPEN AN ACCOUNT", "<srai>HOW DO I OPEN AN ACCOUNT</srai>"),
        category("OPEN A <set>accounttype</set> ACCOUNT", "<srai>HOW DO I OPEN AN ACCOUNT</srai>"),
        category("*", "<srai>HOW DO I OPEN AN ACCOUNT</srai>"),
        category("^ #", "<srai>HOW DO I OPEN AN ACCOUNT</srai>"),
        category("* ACCOUNT _", "<srai>HOW DO I OPEN AN ACCOUNT</srai>"),
        category('ARE YOU <bot name="name"/>', "<srai>HOW DO I OPEN AN ACCOUNT</srai>"),
        category("Open Account *", "<srai>HOW DO I OPEN AN ACCOUNT</srai>"),
    )
    (record,) = converted.faqs
    assert record.questions == [
        "how do i open an account",
        "open account",
        "new account",
        "open an account",
        "open a account",
    ]
    assert [(o.where, o.what, o.reason) for o in converted.report.omitted] == [
        (
            "bank.aiml: line 4",
            "pattern 'OPEN ACCOUNT _'",
            "wildcard dropped: _ stands for words the customer adds; "
            "the training question keeps the pattern's words 'open account'",
        ),
        (
            "bank.aiml: line 7",
            "pattern 'OPEN A <set>ACCOUNTTYPE</set> ACCOUNT'",
            "wildcard dropped: <set>accounttype</set> stands for words the customer adds; "
            "the training question keeps the pattern's words 'open a account'",
        ),
        ("bank.aiml: line 8", "pattern '*'", "only wildcards: it matches any words, so it is no question to train on"),
        (
            "bank.aiml: line 9",
            "pattern '^ #'",
            "only wildcards: it matches any words, so it is no question to train on",
        ),
        (
            "bank.aiml: line 10",
            "pattern '* ACCOUNT _'",
            "mostly wildcards (2 of 3 words): too little of the question is known",
        ),
        (
            "bank.aiml: line 11",
            "pattern 'ARE YOU <bot name=\"name\"/>'",
            'the pattern holds <bot name="name"/>, whose words are not in the export',
        ),
        (
            "bank.aiml: line 12",
            "pattern 'OPEN ACCOUNT *'",
            "the same question 'open account' as bank.aiml: line 4",
        ),
    ]
    assert counts(converted)["patterns"] == (10, 5)
    assert counts(converted)["categories"] == (10, 5)


def test_a_group_without_a_usable_question_is_left_out() -> None:
    converted = one(category("*", "Sorry, I did not understand."), category("_ *", "<srai>ANYTHING</srai>"))
    assert converted.faqs == []
    assert [(o.where, o.what) for o in converted.report.omitted] == [
        ("bank.aiml: line 3", "pattern '*'"),
        ("bank.aiml: line 3", "category '*' and the 1 reduction to it"),
        ("bank.aiml: line 4", "pattern '_ *'"),
    ]
    assert counts(converted)["groups"] == (1, 0)
    assert counts(converted)["categories"] == (2, 0)


def test_chinese_patterns_and_answers_lose_the_spaces_between_characters() -> None:
    converted = one(
        category("我 想 开户", "请带身份证\n  到任何分行办理。"),
        category("點樣開戶", "<srai>我想开户</srai>"),
        category("开户 *", "<srai>我想开户</srai>"),
    )
    (record,) = converted.faqs
    assert record.title == "我想开户"
    assert record.questions == ["我想开户", "點樣開戶", "开户"]
    assert record.answer == "请带身份证到任何分行办理。"
    assert faqs.ID_PATTERN.fullmatch(record.id)


def test_two_patterns_with_the_same_id_keep_apart() -> None:
    converted = one(category("BALANCE", "One."), category("BALANCE _", "Two."))
    assert [r.id for r in converted.faqs] == ["balance", f"balance_{aiml_hash('BALANCE _')}"]


def aiml_hash(name: str) -> str:
    import hashlib

    return hashlib.sha256(name.encode()).hexdigest()[:8]


def test_a_long_pattern_is_no_question_and_a_long_title_is_cut() -> None:
    long_words = " ".join(["WORD"] * 120)  # 599 bytes
    converted = one(
        category(" ".join(["BIG"] * 60), "An answer."),
        category(long_words, "<srai>" + " ".join(["BIG"] * 60) + "</srai>"),
    )
    (record,) = converted.faqs
    assert len(record.title.encode()) <= faqs.MAX_TITLE and record.title.endswith("...")
    assert record.questions == [" ".join(["big"] * 60)]
    assert converted.report.omitted[0].reason == "599 bytes, a question holds at most 512"


def test_no_more_questions_than_an_entry_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faqs, "MAX_QUESTIONS", 2)
    converted = one(
        category("CARD FEES", "Free."),
        category("FEES FOR CARDS", "<srai>CARD FEES</srai>"),
        category("WHAT DOES A CARD COST", "<srai>CARD FEES</srai>"),
    )
    assert converted.faqs[0].questions == ["card fees", "fees for cards"]
    assert converted.report.omitted[0].reason == "the entry has 2 questions already, the most it holds"


# -- answers from templates --------------------------------------------------------------------


def test_answers_keep_text_and_line_breaks_and_drop_formatting() -> None:
    converted = one(
        category(
            "RATES",
            "  Our   <b>savings</b> rate\n is <em>3%</em>.<br/><br/><br/>See <a href='https://bank.example/rates'>rates</a>.",
        ),
        category("STEPS", "Three steps:<ul><li>Open the app</li><li>Tap <i>Cards</i></li></ul><p>Done.</p>"),
        category("SHOUT", "<uppercase>call us</uppercase> <formal>harbour bank</formal> <sentence>thanks.</sentence>"),
        category("LINK", '<a href="https://bank.example">https://bank.example</a>'),
        category("CDATA", "<![CDATA[Fees < 5 & more]]>"),
    )
    assert [r.answer for r in converted.faqs] == [
        "Our savings rate is 3%.\n\nSee rates (https://bank.example/rates).",
        "Three steps:\n\n- Open the app\n- Tap Cards\n\nDone.",
        "CALL US Harbour Bank Thanks.",
        "https://bank.example",
        "Fees < 5 & more",
    ]


def test_an_empty_template_is_no_answer() -> None:
    converted = one(category("HI", " <br/> "), category("BYE", ""))
    assert converted.faqs == []
    assert {o.reason for o in converted.report.omitted} == {"the template gives no text to answer with"}


def test_an_answer_too_long_for_an_entry_is_left_out() -> None:
    converted = one(
        category("TERMS", "x" * 5000),
        category("READ THE TERMS", "<srai>TERMS</srai>"),
        category("SHOW THE TERMS", "<srai>TERMS</srai>"),
    )
    assert converted.faqs == []
    assert converted.report.omitted == [
        Omission(
            "bank.aiml: line 3",
            "category 'TERMS' and the 2 reductions to it",
            "its answer is 5000 bytes, an answer holds at most 4096",
        )
    ]
    assert counts(converted)["categories"] == (3, 0)


@pytest.mark.parametrize(
    ("template", "shown", "why"),
    [
        ("You said <star/>", "<star/>", "the answer repeats the customer's words"),
        ('<star index="2"/>', "<star/>", "the answer repeats the customer's words"),
        ("<thatstar/>", "<thatstar/>", "the answer repeats words of the bot's last reply"),
        ("I said <that/>", "<that/>", "the answer repeats the bot's last reply"),
        ("<input/>", "<input/>", "the answer repeats what the customer said before"),
        ('<set name="product">card</set>', "<set>", "it sets a conversation variable"),
        ('Hello <get name="name"/>', "<get/>", "the answer reads a conversation variable"),
        ('<think><set name="topic">CARDS</set></think>Sure.', "<think>", "it sets conversation variables"),
        ('I am <bot name="name"/>', "<bot/>", "the answer reads a bot property, whose value is not in the export"),
        ("It is <date/>", "<date/>", "the answer depends on the date and time"),
        ("<learn>extra.aiml</learn>", "<learn>", "it teaches the bot new categories during the conversation"),
        ("<system>ls</system>", "<system>", "it runs a command on the bot's server"),
        ("<javascript>1+1</javascript>", "<javascript>", "it runs code on the bot's server"),
        ("<sraix>BALANCE</sraix>", "<sraix>", "it asks another bot or service"),
        ("<person>I am</person>", "<person>", "the answer swaps pronouns at run time"),
        ("<img src='card.png'/>", "<img/>", "which twinteller has no equivalent for: it answers with static text"),
    ],
)
def test_a_template_that_depends_on_the_conversation_is_left_out(template: str, shown: str, why: str) -> None:
    converted = one(category("ASK", template))
    assert converted.faqs == []
    (omission,) = converted.report.omitted
    assert omission.where == "bank.aiml: line 3"
    assert omission.what == "category 'ASK'"
    assert omission.reason in (f"template uses {shown}: {why}", f"template uses {shown}, {why}")


def test_srai_inside_learn_is_not_checked() -> None:
    learned = "<learn><category><pattern>X</pattern><template><srai>NOWHERE</srai></template></category></learn>"
    converted = one(category("TEACH", learned))
    assert converted.report.omitted[0].reason.startswith("template uses <learn>")


# -- context -----------------------------------------------------------------------------------


def test_that_and_topic_other_than_any_are_left_out() -> None:
    converted = convert(
        {
            "a.aiml": document(
                category("YES", "Here are our rates."),
                category("YES", "Your card is blocked.", "<that>SHALL I BLOCK YOUR CARD</that>"),
                category("NO", "OK.", "<that>*</that><topic>*</topic>"),
                category("RATES", "Rates.", "<topic>SAVINGS</topic>"),
                '<topic name="*">' + category("HELP", "Call us.") + "</topic>",
                '<topic name="LOANS">' + category("RATES", "Loan rates.", "<that>ASK * RATES</that>") + "</topic>",
            )
        }
    )
    assert [r.questions for r in converted.faqs] == [["yes"], ["no"], ["help"]]
    assert [(o.where, o.reason) for o in converted.report.omitted] == [
        (
            "a.aiml: line 4",
            "answers only after the bot said 'SHALL I BLOCK YOUR CARD'; twinteller keeps no conversation context "
            "(the same pattern without a context is at a.aiml: line 3)",
        ),
        ("a.aiml: line 6", "answers only in topic 'SAVINGS'; twinteller keeps no conversation context"),
        (
            "a.aiml: line 8",
            "answers only after the bot said 'ASK * RATES' and in topic 'LOANS'; "
            "twinteller keeps no conversation context",
        ),
    ]
    assert counts(converted)["that"] == (2, 0)
    assert counts(converted)["topic"] == (2, 0)


def test_a_pattern_given_twice_keeps_the_first() -> None:
    converted = convert(
        {
            "a.aiml": document(category("CARD FEES", "Free.")),
            "b.aiml": document(category("card  fees", "Five dollars.")),
        }
    )
    assert [r.answer for r in converted.faqs] == ["Free."]
    assert converted.report.omitted == [
        Omission(
            "b.aiml: line 3",
            "category 'CARD FEES'",
            "the same pattern as a.aiml: line 3: a bot answers it from one category; the first is kept",
        )
    ]


def test_other_elements_are_reported() -> None:
    converted = one(
        '<meta name="author" content="bank"/>',
        "<category><pattern>HI</pattern><description>greeting</description><template>Hello.</template></category>",
    )
    assert [r.id for r in converted.faqs] == ["hi"]
    assert [(o.where, o.what) for o in converted.report.omitted] == [
        ("bank.aiml: line 3", "<meta>"),
        ("bank.aiml: line 4", "<description> in a category"),
    ]


# -- malformed files ---------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE aiml [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<aiml><category><pattern>HI</pattern><template>&lol9;</template></category></aiml>
"""


def test_a_billion_laughs_file_is_refused_before_anything_is_expanded() -> None:
    started = time.monotonic()
    message = refused({"bot/laughs.aiml": BILLION_LAUGHS})
    assert time.monotonic() - started < 5
    assert message.startswith("bot/laughs.aiml: line 3: DTD/entities not allowed")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<aiml>\n<category>\n</aiml>", "bank.aiml: line 3 column 3: not well-formed XML: mismatched tag"),
        (b"", "bank.aiml: line 1 column 1: not well-formed XML: no element found"),
        (
            b"<aiml>\n<category><pattern>A&B</pattern>",
            "bank.aiml: line 2 column 23: not well-formed XML: not well-formed (invalid token)",
        ),
        (
            document(category("HI", "Hello&nbsp;there.")),
            "bank.aiml: line 3 column 47: not well-formed XML: undefined entity",
        ),
        (
            b"<aiml>\n\xff\xfe</aiml>",
            "bank.aiml: line 2 column 1: not well-formed XML: not well-formed (invalid token)",
        ),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE aiml [\n<!ENTITY passwd SYSTEM "file:///etc/passwd">\n]>\n'
            b"<aiml>&passwd;</aiml>",
            "bank.aiml: line 3: DTD/entities not allowed",
        ),
        (
            b'<?xml version="1.0"?>\n<rss version="2.0"><aiml/></rss>',
            "bank.aiml: line 2: the root element is <rss>, not <aiml>",
        ),
        (
            document("<category>", "<template>Hi.</template></category>"),
            "bank.aiml: line 3: a category without a <pattern>",
        ),
        (
            document("<category><pattern>HI</pattern>", "</category>"),
            "bank.aiml: line 3: a category without a <template>",
        ),
        (
            document("<category><pattern>HI</pattern>", "<pattern>HELLO</pattern><template>Hi.</template></category>"),
            "bank.aiml: line 4: a category with a second <pattern>",
        ),
        (document(category("HI", "A."), category(" ", "B.")), "bank.aiml: line 4: an empty <pattern>"),
        (
            document("<topic>", category("HI", "A."), "</topic>"),
            "bank.aiml: line 3: a <topic> around categories without a name",
        ),
        (document(category("HI", "A."), category("HELLO", "<srai> </srai>")), "bank.aiml: line 4: an empty <srai>"),
        (
            document(category("HI", "Hello."), category("OPEN AN ACCOUNT", "Sure. <srai>ACCOUNT OPENING</srai>")),
            "bank.aiml: line 4: srai 'ACCOUNT OPENING' references no category",
        ),
        (
            document(category("YES", "<srai>NOWHERE</srai>", "<that>SHALL I</that>")),
            "bank.aiml: line 3: srai 'NOWHERE' references no category",
        ),
        (
            document(category("BALANCE", "<random><li>A</li><li><srai>NOWHERE</srai></li></random>")),
            "bank.aiml: line 3: srai 'NOWHERE' references no category",
        ),
        (
            document(category("BALANCE *", "<srai>BALANCE NOW</srai>")),
            "bank.aiml: line 3: srai cycle: 'BALANCE *' -> 'BALANCE *'",
        ),
        (
            document(category("A", "<srai>B</srai>"), category("B", "<srai>C</srai>"), category("C", "<srai>A</srai>")),
            "bank.aiml: line 5: srai cycle: 'A' -> 'B' -> 'C' -> 'A'",
        ),
        (
            document(category("A", "Yes: <srai>B</srai>"), category("B", "<srai>A</srai>")),
            "bank.aiml: line 4: srai cycle: 'A' -> 'B' -> 'A'",
        ),
        (
            document(
                *[category(f"STEP {n}", f"<srai>STEP {n + 1}</srai>") for n in range(40)], category("STEP 40", "Done.")
            ),
            "bank.aiml: line 34: srai reductions nested deeper than 32",
        ),
        (
            document(category("DEEP", "<b>" * 150 + "x" + "</b>" * 150)),
            "bank.aiml: line 3: elements nested deeper than 100",
        ),
    ],
)
def test_a_malformed_file_is_refused_naming_the_file_and_line(content: bytes, message: str) -> None:
    assert refused({"bank.aiml": content, "other.aiml": document(category("OTHER", "Fine."))}).startswith(message)


def test_a_malformed_file_anywhere_refuses_the_whole_export() -> None:
    message = refused({"a.aiml": document(category("HI", "Hello.")), "z/b.aiml": b"<aiml><category></aiml>"})
    assert message.startswith("z/b.aiml: line 1 column 19: not well-formed XML: mismatched tag")


def test_an_srai_cycle_across_files_names_the_file() -> None:
    message = refused(
        {
            "a.aiml": document(category("CARD", "<srai>LOST CARD</srai>")),
            "b.aiml": document(category("LOST CARD", "<srai>CARD</srai>")),
        }
    )
    assert message == "b.aiml: line 3: srai cycle: 'CARD' -> 'LOST CARD' -> 'CARD'"


def test_source_errors_are_invalid_arguments() -> None:
    from twinteller.errors import InvalidArgument

    with pytest.raises(InvalidArgument):
        aiml.convert(Export({"bank.aiml": b"<html/>"}))
