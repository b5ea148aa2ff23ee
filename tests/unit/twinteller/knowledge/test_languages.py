"""twinteller.knowledge.languages: which language a turn is answered in, script
conversion, and the fallback chain of a missing translation."""

from __future__ import annotations

import pytest

from twinteller.knowledge.languages import (
    EN,
    HANS,
    HANT,
    chain,
    choose,
    convert,
    detect,
    from_locale,
    to_simplified,
    to_traditional,
    well_formed_locale,
)


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("en-GB", EN),
        ("en", EN),
        ("EN_us", EN),
        ("zh-HK", HANT),
        ("zh-TW", HANT),
        ("zh-MO", HANT),
        ("zh-Hant", HANT),
        ("zh-Hant-HK", HANT),
        ("zh_hk", HANT),
        ("yue", HANT),
        ("yue-Hant-HK", HANT),
        ("yue-CN", HANS),
        ("zh-CN", HANS),
        ("zh-SG", HANS),
        ("zh-Hans", HANS),
        ("zh-Hans-HK", HANS),  # the script wins over the region
        ("zh", None),  # Chinese, script unknown: the text says
        ("fr-FR", None),  # a language we do not answer in: the text says
        ("", None),
        ("not a locale", None),
    ],
)
def test_the_locale_says_the_language(locale: str, language: str | None) -> None:
    assert from_locale(locale) == language


@pytest.mark.parametrize("locale", ["en-GB", "zh-Hant-HK", "yue", "sr-Latn-RS", "en_GB", "de-CH-1996"])
def test_well_formed_locales(locale: str) -> None:
    assert well_formed_locale(locale)


@pytest.mark.parametrize("locale", ["e", "english!", "zh--HK", "zh-", "12-34", "zh HK", "中文", "en-GB-toolongsubtag"])
def test_malformed_locales(locale: str) -> None:
    assert not well_formed_locale(locale)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("my card hasn't arrived", EN),
        ("我的卡還沒有收到", HANT),  # 還 and 沒 are traditional
        ("我的卡还没有收到", HANS),
        ("我張卡仲未收到", HANT),
        ("我想check下個balance", HANT),  # code-mixed is Chinese; 個 is traditional
        ("我想check下个balance", HANS),
        ("張credit card bill幾時要找數", HANT),
        ("我唔知點算", HANT),  # no script-specific character: Cantonese leans traditional
        ("我要取消", "zh"),  # Chinese, script unknown
        ("2", None),
        ("OK", None),
        ("HKD 500", None),
        ("👍", None),
    ],
)
def test_the_text_says_the_language(text: str, language: str | None) -> None:
    assert detect(text) == language


def test_a_conversation_keeps_its_language_until_the_customer_switches() -> None:
    assert choose("", "我張卡唔見咗", "") == HANT
    assert choose("", "2", HANT) == HANT  # a bare choice says nothing
    assert choose("", "我要取消", HANS) == HANS  # Chinese of no visible script keeps its script
    assert choose("", "我要取消", "") == HANT  # ... or takes the default Chinese
    assert choose("", "我要取消", "", default_chinese=HANS) == HANS
    assert choose("", "actually, how do I top up?", HANT) == EN  # switched
    assert choose("zh-CN", "how do I top up?", EN) == HANS  # the locale wins over the text
    assert choose("fr-FR", "我的卡還沒有收到", EN) == HANT  # a locale we cannot answer in: the text
    assert choose("", "?", "") == EN


def test_script_conversion() -> None:
    assert to_simplified("我張卡唔見咗，賬戶裡面嘅錢") == "我张卡唔见咗，账户里面嘅钱"
    assert to_traditional("账户里面的钱") == "賬户裏面的錢"  # Hong Kong forms
    assert to_simplified("no Chinese here") == "no Chinese here"
    assert convert("银行卡", HANT) == "銀行卡" and convert("銀行卡", HANS) == "银行卡" and convert("x", EN) == "x"


def test_the_fallback_chain() -> None:
    assert chain(HANT) == ((HANT, "as is"), (HANS, "converted"), (EN, "as is"))
    assert chain(HANS) == ((HANS, "as is"), (HANT, "converted"), (EN, "as is"))
    assert chain(EN) == ((EN, "as is"),)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I tried taking money from the 提款机 but no cash came out", EN),  # one Chinese word
        ("iPhone定Samsung好用啲", HANT),
        ("Tax return點填", HANT),
        ("OK 好", "zh"),
    ],
)
def test_code_mixed_text_is_chinese_as_the_model_reads_it(text: str, language: str) -> None:
    assert detect(text) == language
