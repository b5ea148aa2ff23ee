"""The one in-memory etcd of the unit tests: the `Store` calls the router's and workers'
policy code makes, with etcd's semantics where they matter (revisions, compare-and-swap
transactions, leases as numbers), plus what a test needs to steer and observe it.

- `down = True`: every call fails with StoreError, as when etcd is unreachable.
- `during["get_range"] = hook`: runs once, inside the next call of that method (another
  writer acting while a read or write is in flight).
- `calls`, `puts`, `commits`, `grants`, `deleted`: what was asked of it, in order.
"""

from __future__ import annotations

from collections.abc import Callable

from twinteller.errors import StoreError
from twinteller.etcd.store import Entry, Store


class MemoryStore(Store):
    def __init__(self, *, revision: int = 0, first_lease: int = 7001) -> None:  # no etcd client on purpose
        self.data: dict[str, Entry] = {}
        self.revision = revision
        self.first_lease = first_lease
        self.down = False
        self.during: dict[str, Callable[[], object]] = {}
        self.calls: list[str] = []
        self.puts: list[tuple[str, bytes, int | None]] = []
        self.commits: list[dict[str, bytes]] = []
        self.grants: list[int] = []  # the TTL of each lease granted
        self.deleted: list[str] = []

    def _reach(self, what: str) -> None:
        self.calls.append(what)
        hook = self.during.pop(what, None)
        if hook is not None:
            hook()
        if self.down:
            raise StoreError(f"etcd {what} failed: fake outage")

    def put_now(self, key: str, value: bytes | str, lease: int = 0) -> int:
        """A write by someone else (or the test's setup), straight in; its revision."""
        self.revision += 1
        old = self.data.get(key)
        data = value.encode() if isinstance(value, str) else value
        self.data[key] = Entry(key, data, self.revision, old.create_revision if old else self.revision, lease)
        return self.revision

    async def get(self, key: str) -> Entry | None:
        self._reach("get")
        return self.data.get(key)

    async def get_many(self, *names: str) -> list[Entry | None]:
        self._reach("get_many")
        return [self.data.get(n) for n in names]

    async def get_range(self, start: str, end: str) -> list[Entry]:
        self._reach("get_range")
        return [self.data[k] for k in sorted(self.data) if start <= k < end]

    async def get_prefix(self, prefix: str) -> tuple[list[Entry], int]:
        self._reach("get_prefix")
        return [self.data[k] for k in sorted(self.data) if k.startswith(prefix)], self.revision

    async def newest(self, prefix: str, limit: int) -> list[Entry]:
        self._reach("newest")
        return [self.data[k] for k in sorted(self.data, reverse=True) if k.startswith(prefix)][:limit]

    async def put(self, key: str, value: bytes | str, *, lease: int | None = None) -> None:
        self._reach("put")
        self.put_now(key, value, lease or 0)
        self.puts.append((key, self.data[key].value, lease))

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
        self._reach("commit")
        if any(k in self.data for k in absent):
            return 0
        for key, revision in unchanged.items():
            entry = self.data.get(key)
            if (entry.mod_revision if entry else 0) != revision:
                return 0
        self.revision += 1
        for key, value in puts.items():
            old = self.data.get(key)
            created = old.create_revision if old else self.revision
            self.data[key] = Entry(key, value, self.revision, created, lease or 0)
        for key, value, own in leased:
            self.data[key] = Entry(key, value, self.revision, self.revision, own)
        for key in deletes:
            self.data.pop(key, None)
            self.deleted.append(key)
        self.commits.append(dict(puts) | {key: value for key, value, _ in leased})
        return self.revision

    async def grant(self, ttl: int) -> int:
        self._reach("grant")
        self.grants.append(ttl)
        return self.first_lease + len(self.grants) - 1
