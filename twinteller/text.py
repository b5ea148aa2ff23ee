"""Text normalisation applied to every utterance before the model.

No whitespace or ASCII assumption: NFKC folds full-width forms (common in Chinese input
methods) to their usual forms, control characters go, runs of any Unicode space collapse.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    # Control characters separate words (tabs, newlines); format characters (zero-width
    # space, soft hyphen) sit inside words and are dropped.
    visible = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in folded if unicodedata.category(c) != "Cf"
    )
    return _SPACES.sub(" ", visible).strip()
