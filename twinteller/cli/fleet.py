"""The routers registered in etcd (`routers/<id>`, on each router's lease while it serves),
and a call to each one's admin API: how `locate` and `inspect` reach every router."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from twinteller.client import describe
from twinteller.etcd import keys
from twinteller.etcd.store import Store
from twinteller.tls import ROUTER, Tls, aio_channel

__all__ = ["ask_all", "describe", "registered"]
T = TypeVar("T")


async def registered(store: Store) -> dict[str, str]:
    """Router id -> the address it is reached at."""
    entries, _ = await store.get_prefix(keys.ROUTERS)
    found = {}
    for entry in entries:
        data = json.loads(entry.value)
        found[entry.key[len(keys.ROUTERS) :]] = str(data.get("address") or data.get("listen", ""))
    return found


async def ask_all(
    addresses: dict[str, str], call: Callable[[grpc.aio.Channel], Awaitable[T]], tls: Tls | None
) -> dict[str, T | BaseException]:
    """`call` on a channel to every router at once; each router's answer, or its error."""

    async def one(address: str) -> T:
        async with aio_channel(address, tls, ROUTER) as channel:
            return await call(channel)

    answers = await asyncio.gather(*(one(a) for a in addresses.values()), return_exceptions=True)
    return dict(zip(addresses, answers, strict=True))
