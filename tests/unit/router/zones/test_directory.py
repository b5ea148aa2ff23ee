"""router.zones.directory.ZoneDirectory with a fake clock: no etcd, no sleeping."""

from __future__ import annotations

import json

from router.zones.directory import OWN_EVIDENCE_S, Zone, ZoneDirectory

SUSPECT_S = 2.0
PENALTY = 4


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def registration(endpoint: str) -> bytes:
    return json.dumps({"endpoint": endpoint}).encode()


def health(healthy: bool) -> bytes:
    return json.dumps({"healthy": healthy}).encode()


def directory(clock: FakeClock, *names: str, local: str = "a") -> ZoneDirectory:
    d = ZoneDirectory(local, suspect_s=SUSPECT_S, locality_penalty=PENALTY, clock=clock)
    d.set_registrations({n: registration(f"{n}.example:8001") for n in names})
    return d


def plan_names(d: ZoneDirectory) -> list[str]:
    return [z.name for z in d.plan()]


def test_registrations_parsed() -> None:
    d = directory(FakeClock(), "a", "b")
    assert d.zones == {"a": Zone("a", "a.example:8001"), "b": Zone("b", "b.example:8001")}


def test_registrations_replace_previous_set() -> None:
    d = directory(FakeClock(), "a", "b")
    d.set_registrations({"b": registration("b2:1")})
    assert d.zones == {"b": Zone("b", "b2:1")}
    assert plan_names(d) == ["b"]


def test_malformed_registrations_ignored() -> None:
    d = directory(FakeClock())
    d.set_registrations(
        {
            "a": registration("a:1"),
            "b": b"{not json",
            "c": json.dumps({"host": "c"}).encode(),  # no endpoint
            "d": b"\xff\xfe",  # not even UTF-8
            "e": b"",
        }
    )
    assert d.zones == {"a": Zone("a", "a:1")}
    assert plan_names(d) == ["a"]


def test_registration_that_is_json_but_not_an_object_is_ignored() -> None:
    d = directory(FakeClock())
    d.set_registrations({"a": registration("a:1"), "b": b"[1, 2]", "c": b"42"})
    assert d.zones == {"a": Zone("a", "a:1")}


def test_health_that_is_json_but_not_an_object_is_ignored() -> None:
    d = directory(FakeClock(), "a")
    d.set_health({"a": b"null"})
    assert d.state("a").healthy


def test_zone_without_health_verdict_is_trusted() -> None:
    d = directory(FakeClock(), "a", "b")
    assert d.state("a").healthy and d.state("b").healthy
    assert d.serving()


def test_set_health_marks_zone_unhealthy_and_demotes_it() -> None:
    d = directory(FakeClock(), "a", "b")
    d.set_health({"a": health(False), "b": health(True)})
    assert not d.state("a").healthy
    assert d.state("b").healthy
    assert plan_names(d) == ["b", "a"]
    assert d.serving()


def test_set_health_replaces_previous_verdicts() -> None:
    d = directory(FakeClock(), "a", "b")
    d.set_health({"a": health(False)})
    d.set_health({"b": health(True)})
    # "a" has no verdict any more: trusted again.
    assert d.state("a").healthy
    assert plan_names(d) == ["a", "b"]


def test_malformed_health_entries_ignored() -> None:
    d = directory(FakeClock(), "a", "b")
    d.set_health({"a": b"garbage", "b": json.dumps({"status": "down"}).encode()})
    assert d.state("a").healthy and d.state("b").healthy


def test_mark_failed_makes_zone_suspect_for_suspect_s() -> None:
    clock = FakeClock(100.0)
    d = directory(clock, "a", "b")
    d.mark_failed("a")
    assert d.state("a").suspect
    assert not d.state("b").suspect
    assert plan_names(d) == ["b", "a"]

    clock.now = 100.0 + SUSPECT_S - 0.01
    assert d.state("a").suspect
    assert plan_names(d) == ["b", "a"]

    clock.now = 100.0 + SUSPECT_S + 0.01
    assert not d.state("a").suspect
    assert plan_names(d) == ["a", "b"]


def test_mark_failed_again_extends_suspicion() -> None:
    clock = FakeClock(100.0)
    d = directory(clock, "a", "b")
    d.mark_failed("a")
    clock.now = 101.5
    d.mark_failed("a")
    clock.now = 100.0 + SUSPECT_S + 0.5
    assert d.state("a").suspect
    clock.now = 101.5 + SUSPECT_S + 0.01
    assert not d.state("a").suspect


def test_mark_ok_clears_suspicion_at_once() -> None:
    clock = FakeClock()
    d = directory(clock, "a", "b")
    d.mark_failed("a")
    d.mark_ok("a")
    assert not d.state("a").suspect
    assert plan_names(d) == ["a", "b"]
    d.mark_ok("b")  # never failed: harmless
    assert not d.state("b").suspect


def test_not_serving_when_only_zone_is_unhealthy() -> None:
    d = directory(FakeClock(), "a")
    assert d.serving()
    d.set_health({"a": health(False)})
    assert not d.serving()
    # Still in the plan: tried as a last resort.
    assert plan_names(d) == ["a"]


def test_not_serving_when_only_zone_is_suspect_until_it_recovers() -> None:
    clock = FakeClock()
    d = directory(clock, "a")
    d.mark_failed("a")
    assert not d.serving()
    assert plan_names(d) == ["a"]
    clock.now += SUSPECT_S + 0.01
    assert d.serving()


def test_not_serving_without_zones() -> None:
    d = directory(FakeClock())
    assert not d.serving()
    assert d.plan() == []


def test_serving_with_one_good_zone_of_two() -> None:
    d = directory(FakeClock(), "a", "b")
    d.set_health({"a": health(False)})
    d.mark_failed("a")
    assert d.serving()
    d.mark_failed("b")
    assert not d.serving()


def test_health_of_unregistered_zone_does_not_make_serving() -> None:
    d = directory(FakeClock(), "a")
    d.set_health({"a": health(False), "b": health(True)})
    assert not d.serving()
    assert plan_names(d) == ["a"]


def test_outstanding_counts_and_never_negative() -> None:
    d = directory(FakeClock(), "a", "b")
    d.end("a")  # end without begin
    assert d.state("a").outstanding == 0
    d.begin("a")
    d.begin("a")
    assert d.state("a").outstanding == 2
    d.end("a")
    d.end("a")
    d.end("a")
    assert d.state("a").outstanding == 0
    # The extra end() left no debt behind.
    d.begin("a")
    assert d.state("a").outstanding == 1
    assert d.state("b").outstanding == 0


def test_plan_spreads_load_to_remote_beyond_penalty() -> None:
    d = directory(FakeClock(), "a", "b")
    for _ in range(PENALTY):
        d.begin("a")
    assert plan_names(d) == ["a", "b"]
    d.begin("a")
    assert plan_names(d) == ["b", "a"]
    d.end("a")
    assert plan_names(d) == ["a", "b"]


def test_plan_uses_this_routers_local_zone() -> None:
    d = directory(FakeClock(), "a", "b", "c", local="b")
    assert plan_names(d)[0] == "b"


def test_plan_returns_registered_zone_objects_in_order() -> None:
    clock = FakeClock()
    d = directory(clock, "a", "b", "c")
    d.set_health({"b": health(False)})
    d.mark_failed("a")
    for _ in range(3):
        d.begin("c")
    # c healthy (3 + 4), then demoted: a (0, local) before b (0 + 4).
    assert d.plan() == [Zone("c", "c.example:8001"), Zone("a", "a.example:8001"), Zone("b", "b.example:8001")]


def test_health_flag_must_be_literally_true() -> None:
    d = directory(FakeClock(), "a")
    d.set_health({"a": b'{"healthy": "false"}'})
    assert not d.state("a").healthy


def test_a_zone_that_answered_lately_outweighs_the_leaders_unhealthy_verdict() -> None:
    """Across a cut between sites the leader (in the other site) publishes this site's own
    zone unhealthy; this router, which has its answers, keeps it while they keep coming."""
    clock = FakeClock()
    d = directory(clock, "a", "b")
    d.mark_ok("a")
    d.set_health({"a": health(False), "b": health(True)})
    d.mark_failed("b")  # unreachable from here
    assert d.state("a").healthy and d.serving()
    assert plan_names(d)[0] == "a"
    clock.now += OWN_EVIDENCE_S - 0.1
    d.mark_ok("a")  # still answering
    clock.now += OWN_EVIDENCE_S - 0.1
    assert d.state("a").healthy


def test_the_leaders_verdict_holds_once_this_router_has_had_no_answer_for_a_while() -> None:
    clock = FakeClock()
    d = directory(clock, "a")
    d.mark_ok("a")
    d.set_health({"a": health(False)})
    clock.now += OWN_EVIDENCE_S
    assert not d.state("a").healthy and not d.serving()


def test_a_failure_or_a_new_registration_ends_this_routers_own_evidence() -> None:
    """A zone whose Triton was killed and came back within OWN_EVIDENCE_S waits for the
    leader's verdict like any other, instead of riding on answers from before its crash."""
    clock = FakeClock()
    d = directory(clock, "a", "b")
    d.mark_ok("a")
    d.set_health({"a": health(False), "b": health(True)})
    d.mark_failed("a")
    clock.now += SUSPECT_S  # no longer suspect
    assert not d.state("a").healthy
    d.mark_ok("b")
    d.set_registrations({"a": registration("a.example:8001")})  # b left the registry ...
    d.set_registrations({"a": registration("a.example:8001"), "b": registration("b.example:8001")})
    d.set_health({"a": health(False), "b": health(False)})
    assert not d.state("b").healthy  # ... and came back: judged afresh
