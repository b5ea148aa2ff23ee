"""Lifecycle jobs (train, deploy, rollback): requested through the admin API by a router,
run by the trainer process (trainer/job_runner.py), both through `jobs/<id>` in etcd."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

KINDS = ("train", "deploy", "rollback")
QUEUED, RUNNING, SUCCEEDED, FAILED = "QUEUED", "RUNNING", "SUCCEEDED", "FAILED"


@dataclass(frozen=True)
class JobRecord:
    id: str
    kind: str
    state: str = QUEUED
    version: str = ""
    message: str = ""
    report: str = ""
    created_by: str = ""
    created_at: float = 0.0
    finished_at: float = 0.0
    generalise: bool = True  # train: add generated question variants (twinteller/model/variants.py)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> JobRecord:
        return cls(**json.loads(raw))

    def finished(self, state: str, at: float, *, message: str, version: str = "", report: str = "") -> JobRecord:
        return replace(self, state=state, finished_at=at, message=message, version=version or self.version,
                       report=report)  # fmt: skip
