"""A Jepsen-style history of conversations, and its checker (README "Partitions").

`drive` is a customer-facing backend as the README asks one to be: it calls through the
recommended channel (twinteller/client.py: every router it knows, retries on
UNAVAILABLE) and, when a call still fails, resends the same (session_id, turn_id) until it
is answered or `attempts` run out, as a turn is idempotent by its ids. Every call is
recorded: its ids, which try it was, when it started and ended (wall clock, one machine),
the status code, and what the customer was told.

`check` compares a history with the record the cluster kept after healing: the stored
reply of every turn (`turns/<sid>/<tid>` in etcd), each session's context, the turn log.
It counts calls, acknowledged turns (answered at least once), refused calls, and the
anomalies: an acknowledged turn missing from the record (lost) or recorded with another
reply than the customer got (changed), one turn acknowledged with two different replies
(duplicated), a context missing an acknowledged turn or holding them out of order
(backwards), a refusal with a code a client may not retry, and acknowledged turns
missing from the turn log.

`python -m twinteller.devcluster.history --routers h:p,h:p --name a --out F` runs `drive`
(twinteller/devcluster/sites.py starts one inside each site); bounded by `--duration-s`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import grpc

from twinteller import client
from twinteller.cli.certificates import Issued
from twinteller.devcluster.load import QUESTIONS
from twinteller.tls import Tls
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

# What a client may resend the same turn on: the turn's outcome is unknown or it was refused.
RETRYABLE = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED"})


@dataclass(frozen=True)
class Call:
    client: str
    session_id: str
    turn_id: str
    attempt: int  # 1, then 2.. for the same turn resent by the client
    started: float  # time.time()
    ended: float
    code: str  # "OK" or the status code's name
    reply: str = ""  # what the customer was told ("" when refused)
    zone: str = ""
    details: str = ""  # the status details of a refusal

    @property
    def ok(self) -> bool:
        return self.code == "OK"


@dataclass
class Verdict:
    calls: int = 0
    acknowledged: int = 0
    refused: int = 0
    refused_not_retryable: int = 0
    abandoned: int = 0  # turns never acknowledged after every resend
    lost: int = 0
    changed: int = 0
    duplicated: int = 0
    backwards: int = 0
    missing_from_log: int = 0
    conflicts_reconciled: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def anomalies(self) -> int:
        return self.lost + self.changed + self.duplicated + self.backwards + self.refused_not_retryable

    def note(self, what: str) -> None:
        if len(self.examples) < 10:
            self.examples.append(what)

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "anomalies": self.anomalies}


def _turn_number(turn_id: str) -> int:
    return int(turn_id) if turn_id.isdigit() else 0


def check(
    calls: Iterable[Call],
    replies: Mapping[tuple[str, str], str | None],
    contexts: Mapping[str, list[str]],
    *,
    history_turns: int,
    logged: set[tuple[str, str]] | None = None,
    conflicts: int = 0,
) -> Verdict:
    """`replies`: the stored reply of each (session, turn) asked about (None: not stored);
    `contexts`: each session's turn ids in its stored context, in order; `logged`: the
    (session, turn) pairs the turn log holds (None: not checked)."""
    verdict = Verdict(conflicts_reconciled=conflicts)
    told: dict[tuple[str, str], set[str]] = defaultdict(set)
    tried: set[tuple[str, str]] = set()
    for call in calls:
        verdict.calls += 1
        ids = (call.session_id, call.turn_id)
        tried.add(ids)
        if call.ok:
            told[ids].add(call.reply)
        else:
            verdict.refused += 1
            if call.code not in RETRYABLE:
                verdict.refused_not_retryable += 1
                verdict.note(f"{ids}: refused with {call.code}")
    verdict.acknowledged = len(told)
    verdict.abandoned = len(tried - told.keys())
    for ids, got in sorted(told.items()):
        if len(got) > 1:
            verdict.duplicated += 1
            verdict.note(f"{ids}: told {sorted(got)}")
        stored = replies.get(ids)
        if stored is None:
            verdict.lost += 1
            verdict.note(f"{ids}: acknowledged, not in the record")
        elif stored not in got:
            verdict.changed += 1
            verdict.note(f"{ids}: told {sorted(got)}, recorded {stored!r}")
        if logged is not None and ids not in logged:
            verdict.missing_from_log += 1
    by_session: dict[str, list[str]] = defaultdict(list)
    for session_id, turn_id in told:
        by_session[session_id].append(turn_id)
    for session_id, turn_ids in by_session.items():
        expected = sorted(turn_ids, key=_turn_number)[-history_turns:]
        stored_order = [t for t in contexts.get(session_id, []) if t in expected]
        if stored_order != expected:
            verdict.backwards += 1
            verdict.note(f"{session_id}: context {contexts.get(session_id)} for acknowledged {expected}")
    return verdict


def drive(
    routers: list[str],
    tls: Tls | None,
    name: str,
    *,
    workers: int = 3,
    duration_s: float = 30.0,
    turns_per_session: int = 5,
    interval_s: float = 0.1,
    timeout_s: float = 3.0,
    attempts: int = 8,
) -> list[Call]:
    """Conversations for `duration_s` (each worker finishes the turn it is on, resends
    included, so the whole stops within duration_s + attempts * timeout_s)."""
    calls: list[Call] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + duration_s

    def work(worker: int) -> None:
        with client.channel(routers, tls) as channel:
            stub = pb_grpc.AssistantStub(channel)
            while time.monotonic() < stop_at:
                session = f"{name}-{worker}-{uuid.uuid4().hex[:10]}"
                for turn in range(1, turns_per_session + 1):
                    if time.monotonic() >= stop_at:
                        break
                    text = QUESTIONS[(worker + turn) % len(QUESTIONS)]
                    request = pb.ConverseRequest(session_id=session, turn_id=str(turn), text=text)
                    for attempt in range(1, attempts + 1):
                        call = _call(stub, request, name, attempt, timeout_s)
                        with lock:
                            calls.append(call)
                        if call.ok:
                            break
                        time.sleep(min(0.05 * 2**attempt, 1.0))
                    time.sleep(interval_s)

    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration_s + attempts * (timeout_s + 1.0) + 10)
    with lock:
        return list(calls)


def _call(stub: pb_grpc.AssistantStub, request: pb.ConverseRequest, name: str, attempt: int, timeout: float) -> Call:
    started = time.time()
    try:
        reply = stub.Converse(request, timeout=timeout)
    except grpc.RpcError as e:
        code, details = e.code().name, str(e.details())[:200]  # type: ignore[attr-defined]
        return Call(name, request.session_id, request.turn_id, attempt, started, time.time(), code, details=details)
    ended = time.time()
    return Call(name, request.session_id, request.turn_id, attempt, started, ended, "OK", reply.reply, reply.zone)


def write(calls: list[Call], path: Path) -> None:
    path.write_text("".join(json.dumps(asdict(c)) + "\n" for c in calls))


def read(path: Path) -> list[Call]:
    return [Call(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m twinteller.devcluster.history", description=__doc__)
    parser.add_argument("--routers", required=True, help="host:port,host:port")
    parser.add_argument("--name", required=True, help="this client's name, a prefix of its session ids")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--duration-s", type=float, default=30.0)
    parser.add_argument("--timeout-s", type=float, default=3.0)
    parser.add_argument("--tls-dir", type=Path, help="the cluster's certificates (client's used); none: plaintext")
    args = parser.parse_args(argv)
    tls = Issued(args.tls_dir).tls("client") if args.tls_dir else None
    calls = drive(
        args.routers.split(","), tls, args.name, workers=args.workers, duration_s=args.duration_s,
        timeout_s=args.timeout_s,
    )  # fmt: skip
    write(calls, args.out)


if __name__ == "__main__":
    main()
