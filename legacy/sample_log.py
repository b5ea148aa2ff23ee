"""Writes legacy/data/conversations.jsonl: the reference bot's conversation log, as the old
system would have kept it, for the migration demo and tests. Customers' words are BANKING77
*training* questions (never test ones) and some of our Chinese training questions, put
into conversations of one to three turns and answered by the reference rule file.

    python -m legacy.sample_log            # rewrites the file (deterministic)
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

from legacy.bot import Bot
from twinteller.knowledge.schema import BANKING77, CHINESE_QUESTIONS, read_labelled_csv
from twinteller.migration.rules import parse

DATA = Path(__file__).with_name("data")
OUT = DATA / "conversations.jsonl"
START = 1_767_225_600.0  # 2026-01-01 00:00 UTC: the log is from before the migration
LINES = 800


def main() -> None:
    rng = random.Random(77)
    book, _ = parse((DATA / "rules.json").read_bytes())
    english = [text for text, _ in read_labelled_csv(BANKING77 / "train.csv")]
    chinese = [q for qs in json.loads(CHINESE_QUESTIONS.read_text(encoding="utf-8"))["questions"].values() for q in qs]
    texts = (
        rng.sample(english, LINES - 60)
        + rng.sample(chinese, 40)
        + ["hi", "hello there", "thanks a lot", "agent please"] * 5
    )
    rng.shuffle(texts)
    written = io.StringIO()
    bot = Bot(book, written)
    at, n, session = START, 0, 0
    while n < len(texts):
        session += 1
        channel = rng.choice(["app", "app", "ivr", "web"])
        for _ in range(min(rng.choice([1, 1, 2, 3]), len(texts) - n)):
            bot.answer(texts[n], f"L{session:05d}", channel)
            n += 1
        at += rng.uniform(20, 200)
    # The bot stamps the present; the log is dated as when the old system wrote it.
    stamped, at = [], START
    for line in written.getvalue().splitlines():
        record = json.loads(line)
        at += rng.uniform(5, 60)
        stamped.append(json.dumps({**record, "at": round(at, 3)}, ensure_ascii=False))
    OUT.write_text("\n".join(stamped) + "\n", encoding="utf-8")
    print(f"wrote {len(stamped)} lines to {OUT}")


if __name__ == "__main__":
    main()
