"""What the insights worker (insights/insight_worker.py) computes and the admin API serves, as
stored in etcd (`insights/<name>`): unrecognised-query clusters, trending intents and
clusters, satisfaction. One JSON document, `insights/latest`, rewritten each round."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

LATEST = "latest"
TRAFFIC_MINUTES = 30


@dataclass(frozen=True)
class Member:
    key: str  # the unrecognised record's etcd key (removed when the cluster is adopted)
    text: str
    at: float
    channel: str


@dataclass(frozen=True)
class Split:
    """A two-way split of a cluster, suggested before a knowledge manager splits it."""

    member_keys: list[str]  # the side it would take off (the smaller)
    distance: float  # 1 - cosine of the two sides' centres: how different they are
    tag: str = ""  # of the side taken off
    rest_tag: str = ""  # of the side that stays


@dataclass(frozen=True)
class DayCount:
    day: float  # Unix time of the day's start (UTC)
    count: int


@dataclass(frozen=True)
class Cluster:
    id: str  # stable while its oldest member stays
    label: str  # its most distinctive terms
    size: int
    first_seen: float
    last_seen: float
    representatives: list[str]  # the members nearest its centre
    members: list[Member]  # newest first, at most MAX_MEMBERS
    suggested_faq: str = ""  # an FAQ close enough to take these as training questions
    suggested_similarity: float = 0.0
    proposed_id: str = ""  # else: a new FAQ, pre-filled
    proposed_title: str = ""
    tag: str = ""  # a short name in its language (insights/tags.py), kept while it lives
    language: str = ""  # en, zh-Hant or zh-Hans: what most members were written in
    split: Split | None = None  # suggested, shown before a split
    daily: list[DayCount] = field(default_factory=list)  # members per day, the last 14 days


@dataclass(frozen=True)
class Trend:
    kind: str  # "intent" | "cluster" | "language" (replies in it)
    name: str  # the intent, or the cluster id
    label: str  # the cluster's label; the intent again
    window_count: int
    baseline_count: int
    expected: float  # in the window, had it kept its baseline share of all turns
    score: float  # (window - expected) / sqrt(expected + 1)


@dataclass(frozen=True)
class Rating:
    """Feedback of one group: an intent, a channel, a model version, a day or a language."""

    by: str  # "intent" | "channel" | "model_version" | "day" | "language"
    key: str
    count: int
    mean: float
    satisfied: float  # share of ratings 4 or 5


@dataclass(frozen=True)
class Traffic:
    """One zone's turns in one minute, across all routers."""

    minute: int  # Unix time // 60
    zone: str
    turns: int
    answered: int  # ANSWER
    handoffs: int
    fallbacks: int


@dataclass(frozen=True)
class Document:
    computed_at: float
    clusters: list[Cluster] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    traffic: list[Traffic] = field(default_factory=list)  # the last TRAFFIC_MINUTES

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Document:
        data = json.loads(raw)
        clusters = [
            Cluster(
                **{
                    **c,
                    "members": [Member(**m) for m in c["members"]],
                    "split": Split(**c["split"]) if c.get("split") else None,
                    "daily": [DayCount(**d) for d in c.get("daily", [])],
                }
            )
            for c in data.get("clusters", [])
        ]
        trends = [Trend(**t) for t in data.get("trends", [])]
        ratings = [Rating(**r) for r in data.get("ratings", [])]
        traffic = [Traffic(**t) for t in data.get("traffic", [])]
        return cls(data["computed_at"], clusters, trends, ratings, traffic)
