"""Keypad (DTMF) input from an IVR, read by the conventions callers know from bank IVRs.

An IVR sends the keys pressed during a turn as one string of `0-9`, `*` and `#`; anything
else is refused (INVALID_ARGUMENT naming `dtmf`, router/api/validation). What they mean:

- `#` ends an entry: "4567#" is 4567 (the `#` is optional; keys after it are refused, an
  IVR sends one entry a turn);
- `*` on its own asks to hear the prompt again (`repeat`); within an entry it erases what
  came before, as callers correct a mistyped entry: "45*4567#" is 4567;
- `0` on its own asks for a person (`agent`), as "press 0 to speak to an adviser";
- digits: a choice among the options a CLARIFY offered ("press 2 for ..."), or a numeric
  slot: an amount (`*` then stands for the decimal point, "150*50#" is 150.50, which the
  amount prompt says) or the last four digits of a card, masked like any card digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from twinteller.errors import InvalidArgument

MAX_KEYS = 32
_KEYS = re.compile(r"[0-9*#]*")


@dataclass(frozen=True)
class Keys:
    kind: str  # "digits" | "repeat" | "agent" | "none"
    digits: str = ""  # the entry, corrections applied (kind "digits")
    raw: str = ""  # as pressed, for an amount's decimal point

    def choice(self, options: int) -> int | None:
        """The option a single key picks (1-based), if it names one of `options`."""
        if self.kind == "digits" and len(self.digits) == 1 and 1 <= int(self.digits) <= options:
            return int(self.digits)
        return None

    def amount(self) -> str | None:
        """The entry as an amount: `*` is the decimal point ("150*50#" -> "150.50")."""
        whole, _, cents = self.raw.rstrip("#").partition("*")
        if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
            return None
        return f"{int(whole)}.{cents.ljust(2, '0')}" if cents else str(int(whole))


def record(dtmf: str) -> str:
    """Keys as a record may keep them: "[key 2]" for one (a menu choice), "[4 keys]" for an
    entry (an amount, a card's last digits: not kept)."""
    entry = dtmf.rstrip("#")
    return f"[key {entry}]" if len(entry) == 1 else f"[{len(entry)} keys]"


def parse(dtmf: str) -> Keys:
    """The keys of one turn; InvalidArgument naming `dtmf` when they are not keys."""
    if not dtmf:
        return Keys("none")
    if len(dtmf) > MAX_KEYS:
        raise InvalidArgument(f"dtmf: at most {MAX_KEYS} keys, got {len(dtmf)}")
    if not _KEYS.fullmatch(dtmf):
        bad = next(c for c in dtmf if c not in "0123456789*#")
        raise InvalidArgument(f"dtmf: only the keys 0-9, * and # (got {bad!r})")
    entry, hash_, after = dtmf.partition("#")
    if hash_ and after:
        raise InvalidArgument("dtmf: keys after # (one entry a turn, # ends it)")
    if entry == "*":
        return Keys("repeat", raw=dtmf)
    if entry == "0":
        return Keys("agent", raw=dtmf)
    digits = entry.rsplit("*", 1)[-1]
    return Keys("digits", digits, dtmf) if digits else Keys("none", raw=dtmf)
