"""Zone choice for one model call: an ordered list of zones to try.

Policy (a small pure function so unit tests drive it directly):
- zones the leader reports unhealthy, or that failed a call of ours recently (suspect),
  go last: they are tried only when nothing better is left;
- among the rest, the router's own zone is preferred, unless another zone has more than
  `locality_penalty` fewer calls in flight from this router (spread load by outstanding
  requests; the penalty keeps traffic local while both are lightly loaded).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ZoneState:
    name: str
    healthy: bool
    suspect: bool
    outstanding: int


def order_zones(local_zone: str, zones: list[ZoneState], locality_penalty: int) -> list[str]:
    def score(zone: ZoneState) -> tuple[int, int, int]:
        demoted = int(not zone.healthy or zone.suspect)
        load = zone.outstanding + (0 if zone.name == local_zone else locality_penalty)
        return (demoted, load, int(zone.name != local_zone))

    return [z.name for z in sorted(zones, key=score)]
