"""The turn log copied across sites: each router pushes its own rows to every router of
another zone (`Replicator`), which stores them (router/admin/replication_service.py, the
internal `twinteller.internal.TurnReplication` service).

Push, not pull: a router ships while it lives, so a site lost outright loses from the
turn log only what its routers had not shipped yet (rows are flushed every 0.5 s and
shipped every `interval_s`), never a conversation's record (every acknowledged turn is
in etcd). Each peer has its own mark in the sender's log: a peer that was away (a cut
link, a restart) gets everything it missed, in batches, when it is back; a batch sent
again after a lost acknowledgement is stored once. Peers come from the routers' own
registrations in etcd (`routers/<id>`: zone and address), mirrored; while etcd cannot be
reached, the last known peers are kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict

import grpc

from router.observability.turn_log import TurnLog
from twinteller.backoff import Backoff
from twinteller.client import describe
from twinteller.internal import replication_pb2 as rpb
from twinteller.internal import replication_pb2_grpc as rpb_grpc
from twinteller.tls import ROUTER, Tls, aio_channel
from twinteller.v1 import operations_pb2 as opb

log = logging.getLogger(__name__)
BATCH = 500  # rows per call


def peers_of(registrations: dict[str, bytes], identity: str, zone: str) -> dict[str, str]:
    """Router id -> address, for the registered routers of other zones than `zone`."""
    peers = {}
    for key, raw in registrations.items():
        router_id = key.rpartition("/")[2]
        data = json.loads(raw)
        if router_id != identity and data.get("zone") != zone:
            peers[router_id] = str(data.get("address") or data.get("listen", ""))
    return peers


class Replicator:
    def __init__(self, turn_log: TurnLog, tls: Tls | None, *, interval_s: float = 0.5, timeout_s: float = 5.0) -> None:
        self._log = turn_log
        self._tls = tls
        self._interval = interval_s
        self._timeout = timeout_s
        self._peers: dict[str, str] = {}
        self._channels: dict[str, tuple[str, grpc.aio.Channel]] = {}
        self._backoffs: dict[str, Backoff] = {}
        self._not_before: dict[str, float] = {}

    def set_peers(self, peers: dict[str, str]) -> None:
        self._peers = peers

    async def _stub(self, peer: str, address: str) -> rpb_grpc.TurnReplicationStub:
        known = self._channels.get(peer)
        if known is None or known[0] != address:
            if known is not None:
                await known[1].close()  # the peer moved (a restart elsewhere)
            self._channels[peer] = (address, aio_channel(address, self._tls, ROUTER))
        return rpb_grpc.TurnReplicationStub(self._channels[peer][1])

    async def ship(self, peer: str, address: str) -> int:
        """Send `peer` what it has not had, batch after batch; the rows sent."""
        sent = 0
        while True:
            rows, mark = await self._log.unshipped(peer, BATCH)
            if not rows:
                return sent
            request = rpb.AppendTurnsRequest(
                origin=self._log.identity, turns=[opb.TurnRecord(**asdict(r)) for r in rows]
            )
            await (await self._stub(peer, address)).Append(request, timeout=self._timeout)
            await self._log.shipped(peer, mark)
            sent += len(rows)
            if len(rows) < BATCH:
                return sent

    async def ship_all(self) -> None:
        """Once to every peer (a router that stops ships its last turns)."""
        await asyncio.gather(*(self.ship(p, a) for p, a in self._peers.items()), return_exceptions=True)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._interval)
            for peer, address in list(self._peers.items()):
                if loop.time() < self._not_before.get(peer, 0.0):
                    continue
                backoff = self._backoffs.setdefault(peer, Backoff(initial=self._interval, maximum=10.0))
                try:
                    await self.ship(peer, address)
                    backoff.reset()
                except (grpc.RpcError, OSError) as e:
                    delay = backoff.next_delay()
                    self._not_before[peer] = loop.time() + delay
                    log.warning("turn log not shipped to %s (%s); again in %.1f s", peer, describe(e), delay)

    async def close(self) -> None:
        for _, channel in self._channels.values():
            await channel.close()
        self._channels.clear()
