"""insights/tags.py: a short name for each cluster, in its language and script, made of
what sets it apart from the other clusters."""

from __future__ import annotations

from insights.tags import fits, language, tags

STANDING = [
    "how do I cancel a standing order",
    "cancel my standing order to the gym",
    "please stop the standing order",
    "want to cancel the standing order for rent",
]
SET_UP = [
    "set up a standing order to my landlord",
    "how to set up a standing order",
    "can i set up a monthly standing order",
    "set up standing order online",
]
POINTS = ["how many reward points do I have", "redeem my reward points", "reward points expiring?"]


def test_english_tags_name_what_sets_each_cluster_apart() -> None:
    found = tags({"a": STANDING, "b": SET_UP, "c": POINTS}, {"a": "en", "b": "en", "c": "en"})
    # Both standing-order clusters keep the phrase, each with the word that separates them.
    assert "standing order" in found["a"] and "cancel" in found["a"]
    assert "standing order" in found["b"] and "set" in found["b"]
    assert found["a"] != found["b"]
    assert "reward points" in found["c"] or "points" in found["c"]
    assert all(len(t) <= 32 for t in found.values())


def test_chinese_tags_are_in_the_clusters_script() -> None:
    traditional = ["我想查詢信用卡積分", "信用卡積分幾時到期", "點樣用信用卡積分換禮品"]
    simplified = ["信用卡积分怎么查", "信用卡积分可以换什么", "我的信用卡积分过期了吗"]
    other = ["我想改月結單日期", "月結單日期可以改嗎", "月結單幾時出"]
    found = tags({"t": traditional, "s": simplified, "o": other}, {"t": "zh-Hant", "s": "zh-Hans", "o": "zh-Hant"})
    assert "積分" in found["t"], found
    assert "积分" in found["s"], found
    assert "結單" in found["o"], found


def test_a_cluster_with_nothing_to_name_it_gets_no_tag() -> None:
    assert tags({"a": ["how do I", "can you"], "b": POINTS}, {"a": "en", "b": "en"})["a"] == ""


def test_the_language_is_the_recorded_one_of_most_members_else_read_off_the_text() -> None:
    assert language(["a", "b", "c"], ["zh-Hant", "zh-Hant", "en"]) == "zh-Hant"
    assert language(["我的信用卡积分", "积分怎么查", "points?"], ["", "", ""]) == "zh-Hans"
    assert language(["123", "?"], ["", ""]) == "en"


def test_a_tag_fits_while_most_members_use_its_words() -> None:
    assert fits("cancel standing order", STANDING)
    assert not fits("current credit", ["what is my credit score", "can you tell me my current credit score",
                                       "check my credit score", "why did my credit score drop"])  # fmt: skip
    assert fits("信用卡積分", ["信用卡积分怎么查", "积分几时到期", "我想问积分"])  # members as recorded: simplified
    assert not fits("月結單", ["信用卡积分怎么查", "积分几时到期"])
    assert not fits("", STANDING) and not fits("points", [])


def test_a_word_one_member_says_does_not_join_the_tag() -> None:
    """The first tag of a credit-score cluster was "current credit": a phrase of one member's
    ("my current credit score") pushed out the phrase all of them say."""
    scores = [
        "what is my credit score", "how can I check my credit score", "where can I see my credit rating",
        "can you tell me my current credit score", "how do I improve my credit score",
        "why did my credit score go down", "does a late payment hurt my credit score",
    ]  # fmt: skip
    points = ["how many reward points do I have", "check my rewards points balance", "redeem reward points"]
    assert tags({"a": scores, "b": points}, {"a": "en", "b": "en"})["a"] == "credit score"
