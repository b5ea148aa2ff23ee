"""The inspection's judgements (twinteller/cli/inspection.py): facts in, one verdict per item out;
a RISK wherever the cluster is in danger, a WARN where it needs attention soon."""

from __future__ import annotations

import datetime

from twinteller.cli.inspection import (
    OK,
    RISK,
    WARN,
    Check,
    Objectives,
    judge_certificates,
    judge_disk,
    judge_etcd,
    judge_faqs,
    judge_routers,
    judge_traffic,
    judge_zones,
)
from twinteller.knowledge.faqs import FaqRecord
from twinteller.v1 import operations_pb2 as opb

MIB = 2**20


def verdicts(checks: list[Check]) -> list[str]:
    return [c.verdict for c in checks]


def test_etcd_healthy_three_members() -> None:
    checks = judge_etcd(["e1", "e2", "e3"], {"e1": 20 * MIB, "e2": 20 * MIB, "e3": 21 * MIB}, "e2", [], 2048 * MIB)
    assert set(verdicts(checks)) == {OK}


def test_etcd_risks() -> None:
    quota = 100 * MIB
    checks = judge_etcd(["e1"], {"e1": 85 * MIB}, "", ["NOSPACE"], quota)
    assert verdicts(checks) == [RISK, WARN, RISK, RISK]  # alarm, no tolerance, no leader, 85% of the quota
    assert judge_etcd(["e1", "e2", "e3"], {"e1": 65 * MIB, "e2": "refused", "e3": 1}, "e1", [], quota)[-3:] == [
        Check("etcd", WARN, "member e1: database 65.0 MiB, 65.0% of the quota"),
        Check("etcd", RISK, "member e2 does not answer: refused"),
        Check("etcd", OK, "member e3: database 0.0 MiB, 0.0% of the quota"),
    ]


def test_routers() -> None:
    assert set(verdicts(judge_routers({"r-a": "SERVING", "r-b": "SERVING"}, "r-a"))) == {OK}
    assert verdicts(judge_routers({"r-a": "NOT_SERVING"}, "")) == [RISK, RISK]
    assert verdicts(judge_routers({}, "")) == [RISK]


def test_zones() -> None:
    registered = {"a": {"endpoint": "h:1", "versions": ["1", "2"]}, "b": {"endpoint": "h:2", "versions": ["1"]}}
    checks = judge_zones(["a", "b", "c"], registered, "2", {"a": "ready", "b": "ready"})
    assert [(c.verdict, c.detail.split(" ")[1]) for c in checks] == [(OK, "a"), (RISK, "b"), (RISK, "c")]
    assert "does not serve the active version 2" in checks[1].detail
    assert judge_zones(["a"], {"a": registered["a"]}, "2", {"a": "not ready"})[0].verdict == RISK


def test_certificates() -> None:
    now = datetime.datetime(2026, 11, 29, tzinfo=datetime.UTC)
    checks = judge_certificates(
        {
            "ok.crt": now + datetime.timedelta(days=200),
            "soon.crt": now + datetime.timedelta(days=5),
            "gone.crt": now - datetime.timedelta(days=1),
            "bad.crt": "unreadable",
        },
        now,
        14,
    )
    assert {c.detail.split(":")[0]: c.verdict for c in checks} == {
        "bad.crt": RISK,
        "gone.crt": RISK,
        "ok.crt": OK,
        "soon.crt": WARN,
    }
    assert verdicts(judge_certificates({}, now, 14)) == [OK]


def test_faqs_expiring_soon() -> None:
    today = datetime.date(2026, 11, 29)
    records = [
        FaqRecord("a", "A", "x", expires_at="2026-12-05"),
        FaqRecord("b", "B", "x", expires_at="2027-06-01"),
        FaqRecord("c", "C", "x", expires_at="2026-12-01", enabled=False),  # off anyway
        FaqRecord("d", "D", "x", expires_at="2026-11-01"),  # already gone from the model
        FaqRecord("e", "E", "x"),
    ]
    (check,) = judge_faqs(records, today, 14)
    assert check.verdict == WARN and "a (2026-12-05)" in check.detail and "b " not in check.detail
    assert verdicts(judge_faqs(records[1:], today, 14)) == [OK]


def stats(
    router: str, turns: int, errors: int = 0, fallbacks: int = 0, rerouted: int = 0, p99: float = 50
) -> opb.TurnStats:
    return opb.TurnStats(router=router, window_s=900, turns=turns, errors=errors, fallbacks=fallbacks,
                         rerouted=rerouted, p50_ms=20, p99_ms=p99)  # fmt: skip


def test_traffic_within_objectives() -> None:
    assert set(verdicts(judge_traffic([stats("a", 500, fallbacks=20), stats("b", 500)], {}, Objectives()))) == {OK}
    assert verdicts(judge_traffic([], {}, Objectives())) == [OK]  # no turns: nothing to judge


def test_traffic_out_of_objectives() -> None:
    checks = judge_traffic(
        [stats("a", 100, errors=5, fallbacks=40, rerouted=10, p99=3000)], {"b": "UNAVAILABLE: down"}, Objectives()
    )
    judged = {c.detail.split(" (")[0]: c.verdict for c in checks[1:]}
    assert judged == {
        "error rate 5.00%": RISK,
        "fallback rate 42.11%": WARN,  # of the 95 turns answered
        "rerouted turns 10.00%": WARN,
        "p99 3000 ms": RISK,
        "100 turns in the last 900 s on 1 router(s)": OK,
    }
    assert checks[0] == Check("traffic", RISK, "router b gave no figures: UNAVAILABLE: down")


def test_disk() -> None:
    o = Objectives()
    assert verdicts(judge_disk("/m", (100, 50, 50), 10 * MIB, o)) == [OK, OK]
    assert verdicts(judge_disk("/m", (100, 92, 8), 0, o)) == [WARN, OK]
    assert verdicts(judge_disk("/m", (100, 97, 3), 0, o)) == [RISK, OK]
    assert verdicts(judge_disk("/m", "No such file", 0, o)) == [RISK, OK]
    assert verdicts(judge_disk("", "", 0, o)) == [OK]
