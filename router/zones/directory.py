"""What this router knows about the zones: registrations and leader-published health
(both mirrored from etcd), plus its own view: calls in flight, recent failures and
recent answers.

Its own answers outweigh the leader's verdict: a zone that answered this router within
`OWN_EVIDENCE_S`, and has not failed it or left the registry since, is healthy to it,
whatever the leader published. Across sites the
leader's view is one site's: with the link between sites cut, a leader in site b finds
zone a unreachable and publishes it unhealthy, while site a's router reaches zone a
fine; without this rule that router would give up its own zone and stop serving.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from router.zones.balancer import ZoneState, order_zones

log = logging.getLogger(__name__)
OWN_EVIDENCE_S = 5.0


@dataclass(frozen=True)
class Zone:
    name: str
    endpoint: str


class ZoneDirectory:
    def __init__(
        self, local_zone: str, *, suspect_s: float, locality_penalty: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.local_zone = local_zone
        self._suspect_s = suspect_s
        self._penalty = locality_penalty
        self._clock = clock
        self.zones: dict[str, Zone] = {}
        self._healthy: dict[str, bool] = {}
        self._suspect_until: dict[str, float] = {}
        self._answered_at: dict[str, float] = {}
        self._outstanding: dict[str, int] = {}

    # -- fed by etcd mirrors ------------------------------------------------------------
    def set_registrations(self, items: dict[str, bytes]) -> None:
        zones = {}
        for name, raw in items.items():
            try:
                zones[name] = Zone(name, str(json.loads(raw)["endpoint"]))
            except (ValueError, KeyError, TypeError):
                log.warning("ignoring malformed registration of zone %s", name)
        if zones.keys() != self.zones.keys():
            log.info("zones registered: %s", sorted(zones))
        for gone in self.zones.keys() - zones.keys():
            self._answered_at.pop(gone, None)  # a zone that comes back is judged afresh
        self.zones = zones

    def set_health(self, items: dict[str, bytes]) -> None:
        health = {}
        for name, raw in items.items():
            try:
                health[name] = json.loads(raw)["healthy"] is True
            except (ValueError, KeyError, TypeError):
                continue
        self._healthy = health

    # -- fed by this router's own calls -------------------------------------------------
    def mark_failed(self, name: str) -> None:
        self._suspect_until[name] = self._clock() + self._suspect_s
        self._answered_at.pop(name, None)  # its answers are history: the leader's verdict counts again

    def mark_ok(self, name: str) -> None:
        self._suspect_until.pop(name, None)
        self._answered_at[name] = self._clock()

    def begin(self, name: str) -> None:
        self._outstanding[name] = self._outstanding.get(name, 0) + 1

    def end(self, name: str) -> None:
        self._outstanding[name] = max(0, self._outstanding.get(name, 0) - 1)

    # -- queries ------------------------------------------------------------------------
    def state(self, name: str) -> ZoneState:
        answered_lately = self._clock() - self._answered_at.get(name, float("-inf")) < OWN_EVIDENCE_S
        return ZoneState(
            name,
            # No verdict yet: trust the registration.
            healthy=self._healthy.get(name, True) or answered_lately,
            suspect=self._suspect_until.get(name, 0.0) > self._clock(),
            outstanding=self._outstanding.get(name, 0),
        )

    def plan(self) -> list[Zone]:
        """Registered zones in the order to try them."""
        states = [self.state(name) for name in self.zones]
        return [self.zones[name] for name in order_zones(self.local_zone, states, self._penalty)]

    def serving(self) -> bool:
        """At least one registered zone that is neither unhealthy nor suspect."""
        return any(s.healthy and not s.suspect for s in map(self.state, self.zones))
