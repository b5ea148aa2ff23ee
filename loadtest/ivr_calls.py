"""What an IVR caller does next in a load test (loadtest/locustfile.py `IvrUser`), as plain
code without gevent, so that unit tests can drive it."""

from __future__ import annotations

import random
from typing import Any

from twinteller.v1 import assistant_pb2 as pb

# Words a recogniser mishears in banking calls, for the n-best lists' wrong hypotheses.
MISHEARD = {"card": "car", "pin": "pen", "top up": "top of", "transfer": "transformer", "fee": "free",
            "cash": "catch", "account": "a count", "rate": "great", "refund": "re fund"}  # fmt: skip
AMOUNTS = ["250#", "1500#", "99*50#", "20000"]  # "*" is the decimal point; "#" may be left off


def misheard(text: str, rng: random.Random) -> str:
    """`text` as a recogniser might mishear it (unchanged when no word is prone to it)."""
    lowered = text.lower()
    prone = [word for word in MISHEARD if word in lowered]
    return lowered.replace(w := rng.choice(prone), MISHEARD[w], 1) if prone else lowered


def ivr_turn(
    reply: pb.ConverseResponse | None, rng: random.Random, queries: list[str], picks: list[str]
) -> tuple[str, dict[str, Any]] | None:
    """The next turn of a call, given the last reply: (its kind, the request's fields), or
    None to hang up. Options are mostly chosen by key, details mostly keyed, and a new
    question is mostly an n-best list."""
    if reply is not None and reply.action == pb.HANDOFF:
        return None  # transferred to a person
    roll = rng.random()
    if reply is not None and reply.action == pb.CLARIFY and reply.alternatives:
        if roll < 0.8:
            return "dtmf", {"dtmf": str(rng.randint(1, len(reply.alternatives)))}
        return "turn", {"text": rng.choice(picks)}
    if reply is not None and reply.action == pb.CLARIFY and reply.intent:  # asking for a detail
        if "key in the amount" in reply.reply and roll < 0.7:  # the IVR prompt says the keys
            return "dtmf", {"dtmf": rng.choice(AMOUNTS)}
        return "turn", {"text": rng.choice(["in euros", "five hundred pounds", "US dollars"])}
    if reply is not None and roll < 0.1:
        return "dtmf", {"dtmf": "*"}  # say that again
    if reply is not None and roll < 0.15:
        return "no_input", {"no_input": True}
    if reply is not None and roll < 0.18:
        return "dtmf", {"dtmf": "0"}  # an adviser, please
    text = rng.choice(queries)
    if rng.random() < 0.7:
        wrong = misheard(text, rng)
        first = rng.uniform(0.4, 0.7)
        heard = [(wrong, first), (text, 1 - first)] if rng.random() < 0.5 else [(text, first), (wrong, 1 - first)]
        if rng.random() < 0.3:
            heard.append((misheard(wrong, rng), 0.05))
        return "nbest", {"hypotheses": [pb.Hypothesis(text=t, confidence=c) for t, c in heard],
                         "heard_language": "en-GB"}  # fmt: skip
    return "turn", {"text": text}
