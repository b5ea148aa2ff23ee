"""router.zones.balancer.order_zones: the pure zone-ordering policy."""

from __future__ import annotations

from router.zones.balancer import ZoneState, order_zones

PENALTY = 4


def zone(name: str, outstanding: int = 0, *, healthy: bool = True, suspect: bool = False) -> ZoneState:
    return ZoneState(name, healthy=healthy, suspect=suspect, outstanding=outstanding)


def test_local_zone_first_when_idle() -> None:
    assert order_zones("a", [zone("a"), zone("b")], PENALTY) == ["a", "b"]
    # The input order must not matter: the local zone wins, wherever it is listed.
    assert order_zones("b", [zone("a"), zone("b")], PENALTY) == ["b", "a"]


def test_local_zone_first_when_loads_are_equal() -> None:
    assert order_zones("a", [zone("b", 7), zone("a", 7)], PENALTY) == ["a", "b"]


def test_local_zone_kept_up_to_the_penalty() -> None:
    # Local has exactly `penalty` more calls in flight: still local.
    assert order_zones("a", [zone("a", PENALTY), zone("b", 0)], PENALTY) == ["a", "b"]
    assert order_zones("a", [zone("a", 10 + PENALTY), zone("b", 10)], PENALTY) == ["a", "b"]


def test_remote_zone_first_when_local_has_more_than_penalty_extra() -> None:
    assert order_zones("a", [zone("a", PENALTY + 1), zone("b", 0)], PENALTY) == ["b", "a"]
    assert order_zones("a", [zone("a", 20), zone("b", 10)], PENALTY) == ["b", "a"]


def test_zero_penalty_spreads_purely_by_load() -> None:
    assert order_zones("a", [zone("a", 1), zone("b", 0)], 0) == ["b", "a"]
    assert order_zones("a", [zone("a", 1), zone("b", 1)], 0) == ["a", "b"]


def test_unhealthy_local_zone_goes_last_but_stays() -> None:
    assert order_zones("a", [zone("a", healthy=False), zone("b", 50)], PENALTY) == ["b", "a"]


def test_suspect_zone_goes_last_even_when_idle() -> None:
    assert order_zones("a", [zone("a", suspect=True), zone("b", 50)], PENALTY) == ["b", "a"]
    assert order_zones("a", [zone("a", 50), zone("b", suspect=True)], PENALTY) == ["a", "b"]


def test_all_demoted_zones_are_still_returned_in_load_order() -> None:
    zones = [zone("a", 9, healthy=False), zone("b", 0, suspect=True)]
    # Both demoted: among themselves the usual load/locality rule applies (9 vs 0 + 4).
    assert order_zones("a", zones, PENALTY) == ["b", "a"]
    zones = [zone("a", 1, healthy=False), zone("b", 0, suspect=True)]
    assert order_zones("a", zones, PENALTY) == ["a", "b"]


def test_three_zones_ordered_by_effective_load() -> None:
    # Effective loads: a (local) 6, b 1 + 4 = 5, c 0 + 4 = 4.
    zones = [zone("a", 6), zone("b", 1), zone("c", 0)]
    assert order_zones("a", zones, PENALTY) == ["c", "b", "a"]


def test_three_zones_local_first_then_remotes_then_demoted() -> None:
    zones = [zone("c", 0, healthy=False), zone("b", 2), zone("a", 3), zone("d", 1, suspect=True)]
    # Demoted c (0 + 4) and d (1 + 4) follow the healthy ones, in load order.
    assert order_zones("a", zones, PENALTY) == ["a", "b", "c", "d"]


def test_remote_tie_keeps_every_zone_once() -> None:
    zones = [zone("a", 20), zone("b", 3), zone("c", 3)]
    result = order_zones("a", zones, PENALTY)
    assert sorted(result) == ["a", "b", "c"]
    assert result[-1] == "a"


def test_empty() -> None:
    assert order_zones("a", [], PENALTY) == []
