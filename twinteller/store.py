"""The etcd store: the one module that talks to etcd (through `aetcd`).

Every unary call has its own timeout (aetcd's client-wide timeout would also cut the
long-lived watch stream), every failure becomes `StoreError`, and watches come back as
plain `Event`s so callers never see aetcd types.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import aetcd
import aetcd.exceptions
import grpc

from twinteller.errors import StoreError

log = logging.getLogger(__name__)
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
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"etcd endpoint must be host:port, got {endpoint!r}")
    return host.strip("[]"), int(port)


class Store:
    def __init__(self, endpoint: str, *, timeout: float = 2.0) -> None:
        host, port = parse_endpoint(endpoint)
        self.endpoint = endpoint
        self._timeout = timeout
        self._client = aetcd.Client(
            host=host,
            port=port,
            options={
                "grpc.keepalive_time_ms": 5000,
                "grpc.keepalive_timeout_ms": 2000,
                "grpc.keepalive_permit_without_calls": 1,
            },
        )

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        try:
            await self._client.close()
        except Exception:  # closing a broken channel must not mask the real error
            log.debug("etcd client close failed", exc_info=True)

    async def _call(self, what: str, op: Awaitable[T], timeout: float | None = None) -> T:
        try:
            return await asyncio.wait_for(op, timeout or self._timeout)
        except (TimeoutError, aetcd.exceptions.ClientError, grpc.RpcError, OSError) as e:
            raise StoreError(f"etcd {what} failed: {type(e).__name__} {e}") from e

    async def get(self, key: str) -> Entry | None:
        result = await self._call("get", self._client.get(key.encode()))
        return None if result is None else _entry(result)

    async def get_many(self, *names: str) -> list[Entry | None]:
        """Several keys in one round trip (one read-only transaction), in order."""
        tx = self._client.transactions
        _, results = await self._call(
            "get_many", self._client.transaction(compare=[], success=[tx.get(k.encode()) for k in names], failure=[])
        )
        return [_entry(found[0][1]) if found else None for found in results]

    async def get_prefix(self, prefix: str) -> tuple[list[Entry], int]:
        """All entries under `prefix` and the store revision they were read at."""
        result = await self._call("get_prefix", self._client.get_prefix(prefix.encode()))
        revision = result.header.revision if result.header is not None else 0
        return [_entry(kv) for kv in result], revision

    async def put(self, key: str, value: bytes | str, *, lease: int | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        await self._call("put", self._client.put(key.encode(), data, lease=lease))

    async def delete(self, key: str) -> None:
        await self._call("delete", self._client.delete(key.encode()))

    async def create(self, key: str, value: bytes | str, *, lease: int | None = None) -> bool:
        """Put `key` only if it does not exist; True if this call created it."""
        data = value.encode() if isinstance(value, str) else value
        tx = self._client.transactions
        ok, _ = await self._call(
            "create",
            self._client.transaction(
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
    ) -> bool:
        """Atomically write `puts` if every key in `absent` does not exist and every key in
        `unchanged` still has that mod_revision (0 = must not exist). True if written."""
        tx = self._client.transactions
        compare = [tx.create(k.encode()) == 0 for k in absent]
        compare += [tx.mod(k.encode()) == rev for k, rev in unchanged.items()]
        ops = [tx.put(k.encode(), v, lease=lease) for k, v in puts.items()]
        ok, _ = await self._call("commit", self._client.transaction(compare=compare, success=ops, failure=[]))
        return bool(ok)

    async def grant(self, ttl: int) -> int:
        lease = await self._call("lease grant", self._client.lease(ttl))
        return int(lease.id)

    async def keepalive(self, lease_id: int) -> int:
        """Refresh a lease once; returns its remaining TTL (0 when it has expired)."""
        reply = await self._call("lease keepalive", self._client.refresh_lease(lease_id))
        return int(reply.TTL) if reply is not None else 0

    async def revoke(self, lease_id: int) -> None:
        await self._call("lease revoke", self._client.revoke_lease(lease_id))

    async def watch_prefix(self, prefix: str, start_revision: int) -> AsyncIterator[Event]:
        """Events under `prefix` from `start_revision` on, until the stream breaks
        (then StoreError: the caller re-reads and watches again, with backoff)."""
        try:
            watch = await self._call("watch", self._client.watch_prefix(prefix.encode(), start_revision=start_revision))
        except StoreError:
            raise
        try:
            async for event in watch:
                kind = "put" if event.kind == aetcd.rtypes.EventKind.PUT else "delete"
                yield Event(kind, event.kv.key.decode(), event.kv.value, event.kv.mod_revision)
        except (aetcd.exceptions.ClientError, grpc.RpcError) as e:
            raise StoreError(f"etcd watch of {prefix} broke: {e}") from e
        finally:
            try:
                await asyncio.wait_for(watch.cancel(), self._timeout)
            except Exception:
                log.debug("watch cancel failed", exc_info=True)
