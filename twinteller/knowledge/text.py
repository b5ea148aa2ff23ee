"""Text normalisation applied to every utterance before the model.

No whitespace or ASCII assumption: NFKC folds full-width forms (common in Chinese input
methods) to their usual forms, control characters go, runs of any Unicode space collapse.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    # Control characters separate words (tabs, newlines); format characters (zero-width
    # space, soft hyphen) sit inside words and are dropped.
    visible = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in folded if unicodedata.category(c) != "Cf"
    )
    return _SPACES.sub(" ", visible).strip()


def cjk_share(text: str) -> float:
    """The share of CJK ideographs among the non-space characters."""
    visible = [c for c in text if not c.isspace()]
    return sum(1 for c in visible if _CJK.match(c)) / len(visible) if visible else 0.0


# Text is read as Chinese when at least this share of its characters are Chinese: code-mixed
# Cantonese-English ("iPhone定Samsung好用啲", "Tax return點填") too, an English sentence
# with one Chinese word in it not. Chosen on the Chinese tuning set (README "Languages").
CHINESE_SHARE = 0.15


def reads_chinese(text: str) -> bool:
    """Whether the model reads `text` as Chinese: the multilingual encoder and the n-grams
    (twinteller/model/intent_model.py), with Chinese thresholds (router/conversation/dialogue.py)."""
    return cjk_share(text) >= CHINESE_SHARE


def mostly_cjk(text: str) -> bool:
    """Mostly Chinese: a cluster label is made of character pairs (insights/clustering.py)."""
    return cjk_share(text) > 0.5


def is_cjk(char: str) -> bool:
    """One character that is a CJK ideograph."""
    return bool(char) and bool(_CJK.match(char))
