"""A knowledge manager's correction to the clusters of unrecognised queries, as stored in
etcd (`cluster-rules/<id>`): written by the admin API (router/admin/cluster_service.py),
applied by the insights worker every round (insights/curation.py says what each kind does)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

KINDS = ("split", "merge", "move", "dismiss")


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str  # one of KINDS
    cluster: str  # the cluster split, merged into, dismissed; or the one a member moves into
    other: str = ""  # merge: the cluster merged in
    members: tuple[str, ...] = ()  # split: the keys split off; move: the key moved; dismiss: its keys
    texts: tuple[str, ...] = ()  # dismiss: its members' texts (its centre, once they age out)
    reason: str = ""
    by: str = ""
    at: float = 0.0

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Rule:
        data = json.loads(raw)
        return cls(**{**data, "members": tuple(data.get("members", ())), "texts": tuple(data.get("texts", ()))})
