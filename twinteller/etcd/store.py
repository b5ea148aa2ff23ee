"""The etcd store: the one module that talks to etcd (through `aetcd`).

Every unary call has its own time budget (aetcd's client-wide timeout would also cut the
long-lived watch stream). Within it, transient failures (a member died, the etcd leader
changed) are retried with jittered backoff; what is left becomes `StoreError`. Watches come
back as plain `Event`s so callers never see aetcd types.

Retrying is safe for every operation here: reads and puts are idempotent, and a
transaction whose first attempt did land fails its compare on the retry, which callers
already treat as "someone else wrote it" (they re-read and find their own write).

Endpoints: one `host:port` (a DNS name may resolve to all members: one channel balancing
round-robin over them), or a comma-separated list of IP `host:port` members, one channel
each. Calls go round the members; a member that failed a call (dead, cut off, or without
a leader) is passed over for `AVOID_S`, so across a partition calls go to the members
that answer instead of trying the silent ones again and again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aetcd
import aetcd.exceptions
import aetcd.rpc
import aetcd.utils
import aetcd.watcher
import grpc

from twinteller import tls as transport
from twinteller.backoff import Backoff
from twinteller.errors import StoreError

log = logging.getLogger(__name__)
PAGE = 500  # entries per read of a prefix
AVOID_S = 5.0  # a member that failed a call is tried last for this long
ATTEMPT_MIN_S = 0.3  # the shortest wait for one attempt's answer
BIG_TXN = 64  # a transaction of more operations than this gets the whole budget in one attempt
T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    key: str
    value: bytes
    mod_revision: int
    create_revision: int
    lease: int


@dataclass(frozen=True)
class Event:
    kind: str  # "put" | "delete"
    key: str
    value: bytes  # empty on delete
    revision: int


def _entry(kv: Any) -> Entry:
    return Entry(kv.key.decode(), kv.value, kv.mod_revision, kv.create_revision, kv.lease)


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """ "host:port", "1.2.3.4:port" or "[v6]:port"."""
    host, _, port = endpoint.strip().rpartition(":")
    bare_v6 = ":" in host and not (host.startswith("[") and host.endswith("]"))
    if not host or bare_v6 or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"etcd endpoint must be host:port (IPv6 as [addr]:port), got {endpoint!r}")
    return host.strip("[]"), int(port)


def channel_target(endpoints: str) -> str:
    """The gRPC target for `endpoints` ("h:p" or "ip:p,ip:p,...")."""
    members = [parse_endpoint(e) for e in endpoints.split(",")]
    if len(members) == 1:
        host, port = members[0]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        addresses = [(ipaddress.ip_address(host), port) for host, port in members]
    except ValueError:
        raise ValueError(
            f"several etcd endpoints must be IP addresses ({endpoints!r}); "
            "for DNS names give one name that resolves to every member"
        ) from None
    if len({a.version for a, _ in addresses}) > 1:
        raise ValueError(f"etcd endpoints mix IPv4 and IPv6: {endpoints!r}")
    if addresses[0][0].version == 6:
        return "ipv6:" + ",".join(f"[{a}]:{p}" for a, p in addresses)
    return "ipv4:" + ",".join(f"{a}:{p}" for a, p in addresses)


def _transient(error: BaseException) -> bool:
    """Worth another try: the member is gone, etcd is between leaders, or the member has
    lost its leader (a lease keepalive stream refused by such a member ends INTERNAL)."""
    transient = (
        aetcd.exceptions.ConnectionFailedError,
        aetcd.exceptions.ConnectionTimeoutError,
        aetcd.exceptions.InternalError,
    )
    return isinstance(error, transient)


class _Client(aetcd.Client):  # type: ignore[misc]
    """aetcd's client over a TLS channel when given credentials (aetcd dials plaintext only)."""

    def __init__(
        self, host: str, port: int, options: dict[str, Any], credentials: grpc.ChannelCredentials | None
    ) -> None:
        super().__init__(host=host, port=port, options=options)
        self._credentials = credentials
        # etcd's "require leader": a member that has lost its leader (cut off from the
        # quorum) refuses at once with UNAVAILABLE "no leader", and the call is retried on
        # another member, instead of waiting out the budget for an answer that cannot come.
        self.metadata = (("hasleader", "true"),)

    async def connect(self) -> None:
        if self._credentials is None or self._connected.is_set():
            await super().connect()
            return
        # What aetcd's connect does, with a secure channel; nothing here awaits, so no
        # other task can see a half-made client.
        self.channel = aetcd.rpc.secure_channel(f"{self._host}:{self._port}", self._credentials, self._options.items())
        self.kvstub = aetcd.rpc.KVStub(self.channel)
        self.clusterstub = aetcd.rpc.ClusterStub(self.channel)
        self.leasestub = aetcd.rpc.LeaseStub(self.channel)
        self.maintenancestub = aetcd.rpc.MaintenanceStub(self.channel)
        self._watcher = aetcd.watcher.Watcher(aetcd.rpc.WatchStub(self.channel), timeout=self._timeout)
        self._connected.set()


class Store:
    """`tls`: mutual TLS with the etcd members (each verified as twinteller-etcd); None:
    plaintext, for development."""

    def __init__(self, endpoint: str, tls: transport.Tls | None, *, timeout: float = 2.0) -> None:
        channel_target(endpoint)  # ValueError on endpoints that cannot make a channel
        members = [parse_endpoint(e) for e in endpoint.split(",")]
        self.endpoint = endpoint
        self.tls = tls
        self._timeout = timeout
        self._next = 0
        self._avoid_until: dict[int, float] = {}
        # aetcd dials f"{host}:{port}": a bare IPv6 address goes in brackets.
        self._clients = [self._member(f"[{h}]" if ":" in h else h, p, tls) for h, p in members]
        self._client = self._clients[0]  # for its transaction builders, the same for every member

    def _member(self, host: str, port: int, tls: transport.Tls | None) -> _Client:
        options: dict[str, Any] = {} if tls is None else {"grpc.ssl_target_name_override": transport.ETCD}
        return _Client(
            host,
            port,
            credentials=None if tls is None else tls.channel_credentials(),
            options=options
            | {
                # One DNS name may resolve to every member: balance over them.
                "grpc.lb_policy_name": "round_robin",
                # A member behind a link gone silent (a cut between sites) is dropped from
                # the balancer within 3 s, and a watch stream on it is reopened on another.
                # etcd refuses pings closer than its --grpc-keepalive-min-time with a
                # too_many_pings GOAWAY: our members run with 1 s (5 s by default; the
                # README's "etcd" says so for an etcd of your own).
                "grpc.keepalive_time_ms": 2000,
                "grpc.keepalive_timeout_ms": 1000,
                "grpc.keepalive_permit_without_calls": 1,
                "grpc.http2.max_pings_without_data": 0,
                # A restarted member (or all of etcd after an outage) is used again
                # within about a second, not after gRPC's default backoff of up to 2 min.
                "grpc.initial_reconnect_backoff_ms": 100,
                "grpc.min_reconnect_backoff_ms": 1000,  # also gRPC's connect timeout
                "grpc.max_reconnect_backoff_ms": 1000,
                # A page of a prefix holding big values (a knowledge base of long FAQ
                # entries) can pass gRPC's default 4 MiB; etcd itself sends up to its limit.
                "grpc.max_receive_message_length": 64 * 1024 * 1024,
            },
        )

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for client in self._clients:
            try:
                await client.close()
            except Exception:  # closing a broken channel must not mask the real error
                log.debug("etcd client close failed", exc_info=True)

    def _in_order(self) -> list[_Client]:
        """The members to try, next in turn first, those that failed lately last."""
        count = len(self._clients)
        start, self._next = self._next, (self._next + 1) % count
        turn = [self._clients[(start + i) % count] for i in range(count)]
        now = time.monotonic()
        return sorted(turn, key=lambda c: self._avoid_until.get(id(c), 0.0) > now)

    def _avoid(self, client: _Client) -> None:
        self._avoid_until[id(client)] = time.monotonic() + AVOID_S

    async def _call(self, what: str, op: Callable[[_Client], Awaitable[T]], *, patient: bool = False) -> T:
        """`op` on a member within the time budget, retried on transient failures on the
        next member. An attempt that has no answer within a third of the budget is
        abandoned: a member behind a cut link answers nothing. `patient`: a big transaction
        that may take longer, given the whole budget."""
        deadline = time.monotonic() + self._timeout
        attempt_s = self._timeout if patient else max(self._timeout / 3, ATTEMPT_MIN_S)
        backoff = Backoff(initial=0.02, maximum=0.25)
        members = self._in_order()
        attempt = 0
        while True:
            client = members[attempt % len(members)]
            attempt += 1
            try:
                return await asyncio.wait_for(op(client), max(min(attempt_s, deadline - time.monotonic()), 0.001))
            except (TimeoutError, aetcd.exceptions.ClientError, grpc.RpcError, OSError) as e:
                delay = backoff.next_delay()
                # No answer in its share of the budget: a silent member, worth another.
                retryable = (isinstance(e, TimeoutError) and not patient) or _transient(e)
                if retryable:
                    self._avoid(client)
                if not retryable or time.monotonic() + delay >= deadline:
                    raise StoreError(f"etcd {what} failed: {type(e).__name__} {e}") from e
                log.debug("etcd %s: %s; retrying", what, e)
                await asyncio.sleep(delay)

    async def get(self, key: str) -> Entry | None:
        result = await self._call("get", lambda c: c.get(key.encode()))
        return None if result is None else _entry(result)

    async def get_many(self, *names: str) -> list[Entry | None]:
        """Several keys in one round trip (one read-only transaction), in order."""
        tx = self._client.transactions
        _, results = await self._call(
            "get_many",
            lambda c: c.transaction(compare=[], success=[tx.get(k.encode()) for k in names], failure=[]),
        )
        return [_entry(found[0][1]) if found else None for found in results]

    async def _range(self, what: str, request: Any) -> Any:
        """One RangeRequest, as aetcd's own calls make it (its get_prefix has no limit)."""

        async def read(client: _Client) -> Any:
            await client.connect()  # the stub exists once connected
            return await client.kvstub.Range(request, metadata=client.metadata)

        return await self._call(what, read)

    async def _pages(self, what: str, start: bytes, end: bytes) -> tuple[list[Entry], int]:
        """Every entry with start <= key < end, read a page at a time, all pages at the first
        page's revision (one consistent view): a range can outgrow one reply (a week of
        traffic counts does), and the store revision it was read at."""
        entries: list[Entry] = []
        revision = 0
        while True:
            request = aetcd.rpc.RangeRequest(key=start, range_end=end, limit=PAGE, revision=revision)
            response = await self._range(what, request)
            revision = revision or int(response.header.revision)
            entries += [_entry(item) for item in response.kvs]
            if not response.more or not response.kvs:
                return entries, revision
            start = response.kvs[-1].key + b"\0"

    async def get_prefix(self, prefix: str) -> tuple[list[Entry], int]:
        """All entries under `prefix` and the store revision they were read at."""
        return await self._pages("get_prefix", prefix.encode(), aetcd.utils.prefix_range_end(prefix.encode()))

    async def get_range(self, start: str, end: str) -> list[Entry]:
        """The entries with start <= key < end, in key order (a time range of time-keyed
        records, without reading the rest)."""
        entries, _ = await self._pages("get_range", start.encode(), end.encode())
        return entries

    async def newest(self, prefix: str, limit: int) -> list[Entry]:
        """The last `limit` entries under `prefix` in key order, last first: etcd sorts and
        cuts, so a long history is not read whole."""
        start = prefix.encode()
        request = aetcd.rpc.RangeRequest(
            key=start,
            range_end=aetcd.utils.prefix_range_end(start),
            limit=limit,
            sort_order=aetcd.rpc.RangeRequest.DESCEND,
            sort_target=aetcd.rpc.RangeRequest.KEY,
        )
        response = await self._range("newest", request)
        return [_entry(item) for item in response.kvs]

    async def put(self, key: str, value: bytes | str, *, lease: int | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        await self._call("put", lambda c: c.put(key.encode(), data, lease=lease))

    async def delete(self, key: str) -> None:
        await self._call("delete", lambda c: c.delete(key.encode()))

    async def create(self, key: str, value: bytes | str, *, lease: int | None = None) -> bool:
        """Put `key` only if it does not exist; True if this call created it."""
        data = value.encode() if isinstance(value, str) else value
        tx = self._client.transactions
        ok, _ = await self._call(
            "create",
            lambda c: c.transaction(
                compare=[tx.create(key.encode()) == 0],
                success=[tx.put(key.encode(), data, lease=lease)],
                failure=[],
            ),
        )
        return bool(ok)

    async def commit(
        self,
        *,
        absent: list[str],
        unchanged: dict[str, int],
        puts: dict[str, bytes],
        lease: int | None = None,
        deletes: tuple[str, ...] = (),
        leased: tuple[tuple[str, bytes, int], ...] = (),
    ) -> int:
        """Atomically write `puts` (and delete `deletes`) if every key in `absent` does not
        exist and every key in `unchanged` still has that mod_revision (0 = must not exist).
        `leased`: more puts, each (key, value, lease) under its own lease. Returns the
        revision the write got (the keys' new mod_revision), or 0 if a compare failed."""
        tx = self._client.transactions
        compare = [tx.create(k.encode()) == 0 for k in absent]
        compare += [tx.mod(k.encode()) == rev for k, rev in unchanged.items()]
        ops = [tx.put(k.encode(), v, lease=lease) for k, v in puts.items()]
        ops += [tx.put(k.encode(), v, lease=own) for k, v, own in leased]
        ops += [tx.delete(k.encode()) for k in deletes]
        ok, responses = await self._call(
            "commit",
            lambda c: c.transaction(compare=compare, success=ops, failure=[]),
            patient=len(ops) > BIG_TXN,
        )
        if not ok:
            return 0
        if not responses:
            return 1
        first = responses[0]  # a ResponseOp: response_put or response_delete_range
        return int(getattr(first, first.WhichOneof("response")).header.revision)

    async def grant(self, ttl: int) -> int:
        lease = await self._call("lease grant", lambda c: c.lease(ttl))
        return int(lease.id)

    async def keepalive(self, lease_id: int) -> int:
        """Refresh a lease once; returns its remaining TTL (0 when it has expired)."""
        reply = await self._call("lease keepalive", lambda c: c.refresh_lease(lease_id))
        return int(reply.TTL) if reply is not None else 0

    async def revoke(self, lease_id: int) -> None:
        await self._call("lease revoke", lambda c: c.revoke_lease(lease_id))

    async def members(self) -> list[tuple[str, list[str]]]:
        """(name, client URLs) of every member of the etcd cluster."""

        async def read(client: _Client) -> list[tuple[str, list[str]]]:
            return [(m.name, list(m.client_urls)) async for m in client.members()]

        return await self._call("members", read)

    async def db_size(self) -> int:
        """The database size of the member that answers (bytes, as counted against the quota)."""
        status = await self._call("status", lambda c: c.status())
        return int(status.db_size)

    async def alarms(self) -> list[str]:
        """Raised alarms ("NOSPACE", "CORRUPT"), cluster-wide."""

        async def read(client: _Client) -> list[str]:
            return [aetcd.rpc.AlarmType.Name(a.alarm_type) async for a in client.list_alarms()]

        return await self._call("alarms", read)

    async def leader_member(self) -> str:
        """The name of the etcd member leading the cluster now ("" while there is none)."""
        status = await self._call("status", lambda c: c.status())
        return str(status.leader.name) if status.leader is not None else ""

    async def watch_prefix(self, prefix: str, start_revision: int) -> AsyncIterator[Event]:
        """Events under `prefix` from `start_revision` on, until the stream breaks
        (then StoreError: the caller re-reads and watches again, with backoff)."""

        async def start(client: _Client) -> tuple[_Client, Any]:
            return client, await client.watch_prefix(prefix.encode(), start_revision=start_revision)

        client, watch = await self._call("watch", start)
        try:
            async for event in watch:
                kind = "put" if event.kind == aetcd.rtypes.EventKind.PUT else "delete"
                yield Event(kind, event.kv.key.decode(), event.kv.value, event.kv.mod_revision)
        except (aetcd.exceptions.ClientError, grpc.RpcError) as e:
            self._avoid(client)  # the watch opened again goes to another member
            raise StoreError(f"etcd watch of {prefix} broke: {e}") from e
        finally:
            try:
                await asyncio.wait_for(watch.cancel(), self._timeout)
            except Exception:
                log.debug("watch cancel failed", exc_info=True)
