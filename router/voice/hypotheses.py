"""Which of a speech recogniser's hypotheses to answer (its n-best list, scored together).

A recogniser hears "I lost my card" and offers "I lost my car" (0.55), "I lost my card"
(0.40); its first guess is the likelier sound, not the likelier banking question. The
router reads every hypothesis with the model in one batched call and picks the reading
that best combines the two: the recogniser's confidence and the model's, as a geometric
mean, so neither can carry a hypothesis the other finds implausible:

    score = recogniser ** RECOGNISER_WEIGHT * model ** (1 - RECOGNISER_WEIGHT)

where `model` is the top intent's probability, times OUT_OF_DOMAIN when the text is far
from every training question (the dialogue policy's own similarity threshold): "lost my
car" may lean towards a card intent, but nothing the bank was asked resembles it. Ties go
to the recogniser's order.
"""

from __future__ import annotations

from dataclasses import dataclass

RECOGNISER_WEIGHT = 0.5
OUT_OF_DOMAIN = 0.2  # a reading no training question resembles keeps a fifth of its weight
FLOOR = 1e-6


@dataclass(frozen=True)
class Reading:
    text: str
    recogniser: float  # the recogniser's confidence, 0..1
    model: float  # the top intent's probability
    in_domain: bool  # similarity to the nearest training question at or above the policy's threshold

    @property
    def score(self) -> float:
        model = max(self.model * (1.0 if self.in_domain else OUT_OF_DOMAIN), FLOOR)
        return float(max(self.recogniser, FLOOR) ** RECOGNISER_WEIGHT * model ** (1 - RECOGNISER_WEIGHT))


def best(readings: list[Reading]) -> int:
    """The index of the reading to answer (the first of equals)."""
    if not readings:
        raise ValueError("best: no readings")
    scores = [r.score for r in readings]
    return scores.index(max(scores))
