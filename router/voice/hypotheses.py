"""Which of a speech recogniser's hypotheses to answer (its n-best list, scored together).

A recogniser hears "I lost my card" and offers "I lost my car" (0.62), "I lost my card"
(0.38); its first guess is the likelier sound, not the likelier banking question. The
router reads every hypothesis with the model in one batched call and picks the reading
that best combines the two, as a geometric mean, so neither can carry a hypothesis the
other finds implausible:

    score = recogniser ** RECOGNISER_WEIGHT * plausible ** (1 - RECOGNISER_WEIGHT)
    plausible = model * similarity ** SIMILARITY_POWER  (* OUT_OF_DOMAIN below the threshold)

`model` is the top intent's calibrated probability and `similarity` the cosine to the
nearest training question. The probability alone hardly tells a misheard word: it is
sure which intent "lost my car" would be (0.91, against 1.00 for "card"). What tells them
apart is how close the words are to anything customers ask: 0.66 against 0.92. Below the
dialogue policy's similarity threshold a reading keeps only OUT_OF_DOMAIN of its weight.

SIMILARITY_POWER was chosen on a tuning set of 14 n-best lists (twinteller/data/
nbest_tuning.json: English and Cantonese confusions, cart/card, pen/PIN, exchange
great/rate, 蜜碼/密碼, 掛濕/掛失, and lists whose first hypothesis is right), separate from the
integration tests' lists (`python -m bench.nbest_tuning` prints these figures): 9/14 picked right
with the probability alone, 12 with power 1, 13 with 2 and 3, all 14 from 4 on (the
smallest, so the recogniser still counts). Ties go to the recogniser's order.
"""

from __future__ import annotations

from dataclasses import dataclass

RECOGNISER_WEIGHT = 0.5
SIMILARITY_POWER = 4
OUT_OF_DOMAIN = 0.2  # a reading no training question resembles keeps a fifth of its weight
FLOOR = 1e-6


@dataclass(frozen=True)
class Reading:
    text: str
    recogniser: float  # the recogniser's confidence, 0..1
    model: float  # the top intent's probability
    similarity: float  # cosine to the nearest training question
    in_domain: bool  # `similarity` at or above the policy's threshold for the text's language

    @property
    def score(self) -> float:
        plausible = self.model * max(self.similarity, 0.0) ** SIMILARITY_POWER
        plausible = max(plausible * (1.0 if self.in_domain else OUT_OF_DOMAIN), FLOOR)
        return float(max(self.recogniser, FLOOR) ** RECOGNISER_WEIGHT * plausible ** (1 - RECOGNISER_WEIGHT))


def best(readings: list[Reading]) -> int:
    """The index of the reading to answer (the first of equals)."""
    if not readings:
        raise ValueError("best: no readings")
    scores = [r.score for r in readings]
    return scores.index(max(scores))
