"""How SIMILARITY_POWER (router/voice/hypotheses.py) was chosen: the n-best lists of
twinteller/data/nbest_tuning.json read by the served model (version 1, in process, as a
zone's Python backend reads them, the lexicon's script conversion applied), then scored
with each power; prints how many lists each power answers with the hypothesis meant.

    python -m bench.nbest_tuning
"""

from __future__ import annotations

import json

from router.voice import hypotheses
from twinteller.devcluster.local_cluster import PROJECT_ROOT
from twinteller.knowledge import languages
from twinteller.knowledge.schema import DATA_DIR
from twinteller.knowledge.text import normalise, reads_chinese
from twinteller.model.encoder import Encoder
from twinteller.model.intent_model import IntentClassifier, chinese_rows
from twinteller.model.multilingual import MultilingualEncoder
from twinteller.model.paths import model_dir

# The dialogue policy's similarity thresholds (twinteller/config.py), English and Chinese.
THRESHOLD, CJK_THRESHOLD = 0.6, 0.65
POWERS = (0, 1, 2, 3, 4, 6, 8)


def main() -> None:
    lists = json.loads((DATA_DIR / "nbest_tuning.json").read_text(encoding="utf-8"))["lists"]
    repo = model_dir(PROJECT_ROOT / "model_repo")
    encoder, multilingual = Encoder(repo / "encoder", threads=2), MultilingualEncoder(threads=2)
    classifier = IntentClassifier.load(repo / "1")
    texts = [classifier.spelled([languages.to_simplified(normalise(t))])[0] for case in lists for t, _ in case["heard"]]
    chinese = multilingual.encode([texts[i] for i in chinese_rows(texts)])
    prediction = classifier.predict(texts, encoder.encode(texts), chinese)
    scores = zip(texts, prediction.probabilities, prediction.similarity, strict=True)
    read = {t: (float(p.max()), float(s)) for t, p, s in scores}
    readings = []
    row = 0
    for case in lists:
        case_readings = []
        for text, confidence in case["heard"]:
            model, similarity = read[texts[row]]
            in_domain = similarity >= (CJK_THRESHOLD if reads_chinese(texts[row]) else THRESHOLD)
            case_readings.append(hypotheses.Reading(text, confidence, model, similarity, in_domain))
            row += 1
        readings.append((case_readings, case["right"]))
    for power in POWERS:
        hypotheses.SIMILARITY_POWER = power  # the module constant the score reads
        right = sum(hypotheses.best(case) == meant for case, meant in readings)
        print(f"SIMILARITY_POWER {power}: {right}/{len(readings)} lists answered with the hypothesis meant")


if __name__ == "__main__":
    main()
