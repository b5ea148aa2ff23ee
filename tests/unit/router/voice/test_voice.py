"""router/voice: spoken numbers normalised (English and Cantonese), keypad entries parsed,
replies made speakable and rendered as valid, escaped SSML, and n-best readings scored."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from router.voice import hypotheses, keypad, spoken, ssml
from twinteller.errors import InvalidArgument

SSML = "{http://www.w3.org/2001/10/synthesis}"
XML = "{http://www.w3.org/XML/1998/namespace}"


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("one hundred and fifty pounds", "150 pounds"),
        ("transfer two thousand five hundred dollars to savings", "transfer 2500 dollars to savings"),
        ("fifteen oh five", "1505"),
        ("four five six seven", "4567"),
        ("the last four are four five six seven.", "the last 4 are 4567."),
        ("card ending double five one two", "card ending 5512"),
        ("my account number is oh one two three", "my account number is 0123"),
        ("twenty twenty four", "2024"),
        ("I lost my card", "I lost my card"),
        ("double check my balance", "double check my balance"),
        ("oh no where is my card", "oh no where is my card"),
        ("三千五百蚊", "3500蚊"),
        ("轉兩萬三去儲蓄戶口", "轉23000去儲蓄戶口"),
        ("千五蚊得唔得", "1500蚊得唔得"),
        ("卡號尾四位係零九八七", "卡號尾四位係0987"),
        ("我張卡唔見咗", "我張卡唔見咗"),
        # Words that only look like numbers stay words:
        ("which one is it", "which one is it"),
        ("the second one please", "the second one please"),
        ("no one answered the phone", "no one answered the phone"),
        ("a hundred and fifty dollars", "150 dollars"),
        ("我想問一下一次性嘅卡", "我想問一下一次性嘅卡"),
        ("萬一唔見咗張卡點算", "萬一唔見咗張卡點算"),
        ("第二個", "第二個"),
        ("十分緊急，轉五蚊", "十分緊急，轉5蚊"),
        ("", ""),
    ],
)
def test_spoken_numbers_become_figures(said: str, written: str) -> None:
    assert spoken.normalise(said) == written


@pytest.mark.parametrize(
    ("pressed", "kind", "digits"),
    [
        ("4567#", "digits", "4567"),
        ("4567", "digits", "4567"),
        ("45*4567#", "digits", "4567"),
        ("*", "repeat", ""),
        ("*#", "repeat", ""),
        ("0", "agent", ""),
        ("2", "digits", "2"),
        ("", "none", ""),
        ("#", "none", ""),
        ("12*", "none", ""),
    ],
)
def test_keypad_entries(pressed: str, kind: str, digits: str) -> None:
    keys = keypad.parse(pressed)
    assert (keys.kind, keys.digits) == (kind, digits)


def test_a_key_picks_an_option_and_an_amount_takes_star_as_its_point() -> None:
    assert keypad.parse("2").choice(3) == 2
    assert keypad.parse("4").choice(3) is None
    assert keypad.parse("12").choice(3) is None
    assert keypad.parse("150*50#").amount() == "150.50"
    assert keypad.parse("150*5#").amount() == "150.50"
    assert keypad.parse("0150#").amount() == "150"
    assert keypad.parse("1*2*3#").amount() is None


@pytest.mark.parametrize("pressed", ["12a", "1 2", "１２", "12#3", "+", "1" * 33])
def test_anything_but_keys_is_refused_naming_dtmf(pressed: str) -> None:
    with pytest.raises(InvalidArgument, match="dtmf"):
        keypad.parse(pressed)


def test_a_reply_is_made_speakable() -> None:
    text = "Your card **ending ****4567** was sent. See https://bank.example/track or write to help@bank.example."
    said = ssml.speakable(text + " Fee: HK$1,500.5.", "en")
    assert "http" not in said and "@" not in said and "*" not in said
    assert "our website" in said and "4 5 6 7" in said and "1500.50 Hong Kong dollars" in said
    chinese = ssml.speakable("手續費HK$50，詳情請看 www.bank.hk", "zh-Hant")
    assert "50港元" in chinese and "www" not in chinese and "我們的網站" in chinese


@pytest.mark.parametrize("language", ["en", "zh-Hant", "zh-Hans"])
def test_ssml_is_valid_escaped_xml_in_the_voice_of_the_language(language: str) -> None:
    text = ssml.speakable('Fees <today> & "tomorrow": ****4567. 1500.50 is the amount!', language)
    root = ElementTree.fromstring(ssml.ssml(text, language))  # parses: valid XML
    assert root.tag == f"{SSML}speak" and root.get(f"{XML}lang") == ssml.VOICE_LANGUAGE[language]
    sentences = ["".join(s.itertext()) for s in root.findall(f"{SSML}s")]
    assert len(sentences) == 2  # not cut inside "1500.50"
    assert '<today> & "tomorrow"' in sentences[0] and sentences[0].endswith("4567.")
    [digits] = root.iter(f"{SSML}say-as")
    assert digits.get("interpret-as") == "digits" and digits.text == "4567"


def test_an_amount_with_its_currency_code_after_it_is_read_as_a_name() -> None:
    assert ssml.speakable("A transfer of 1500.5 EUR takes a day.", "en") == "A transfer of 1500.50 euros takes a day."
    assert ssml.speakable("轉賬1,500 HKD", "zh-Hant") == "轉賬1500港元"


def test_a_menu_path_is_read_with_a_pause() -> None:
    assert ssml.speakable("Open Cards > Track delivery.", "en") == "Open Cards, Track delivery."
    assert ssml.speakable("在「卡片 > 追蹤派遞」查看", "zh-Hant") == "在「卡片、追蹤派遞」查看"
    assert ssml.speakable("a -> b, 3>2", "en") == "a -> b, 3>2"


def test_the_reading_that_makes_sense_wins_over_the_recognisers_first_guess() -> None:
    # The probabilities saturate; the nearest question's similarity tells the misheard word
    # (the real model's figures for these two).
    car = hypotheses.Reading("I lost my car", recogniser=0.62, model=0.905, similarity=0.66, in_domain=True)
    card = hypotheses.Reading("I lost my card", recogniser=0.38, model=1.0, similarity=0.92, in_domain=True)
    assert hypotheses.best([car, card]) == 1
    # A clear recogniser keeps its first reading when both are plausible.
    top_up = hypotheses.Reading("top up my account", recogniser=0.7, model=0.97, similarity=0.86, in_domain=True)
    top_of = hypotheses.Reading("top of my account", recogniser=0.3, model=0.42, similarity=0.76, in_domain=True)
    assert hypotheses.best([top_up, top_of]) == 0
    # Out of domain costs a reading most of its weight.
    near = hypotheses.Reading("a", recogniser=0.6, model=0.9, similarity=0.59, in_domain=False)
    far = hypotheses.Reading("b", recogniser=0.4, model=0.9, similarity=0.61, in_domain=True)
    assert hypotheses.best([near, far]) == 1
    same = hypotheses.Reading("pin", recogniser=0.5, model=0.5, similarity=0.8, in_domain=True)
    assert hypotheses.best([same, same]) == 0
    with pytest.raises(ValueError):
        hypotheses.best([])
