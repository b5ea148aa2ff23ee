"""Turn counts per minute, shared through etcd so that trends are seen across all routers,
not per process: each router writes `traffic/<minute>/<router id>` (router/observability/traffic.py),
the insights worker (insights/insight_worker.py) reads every router's buckets.

A bucket is {"minute": m, "counts": [[intent, action, channel, zone, n], ...], "languages":
{reply language: n}}; `minute` is Unix time // 60 (a bucket written before replies had a
language has no "languages").
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

TurnKey = tuple[str, str, str, str]  # intent, action, channel, zone


@dataclass
class Bucket:
    minute: int
    counts: Counter[TurnKey] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)  # turns by reply language

    def to_json(self) -> bytes:
        rows = [[*key, n] for key, n in sorted(self.counts.items())]
        data = {"minute": self.minute, "counts": rows, "languages": dict(sorted(self.languages.items()))}
        return json.dumps(data, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Bucket:
        data = json.loads(raw)
        counts: Counter[TurnKey] = Counter()
        for intent, action, channel, zone, n in data["counts"]:
            counts[(intent, action, channel, zone)] += int(n)
        languages = Counter({language: int(n) for language, n in data.get("languages", {}).items()})
        return cls(int(data["minute"]), counts, languages)
