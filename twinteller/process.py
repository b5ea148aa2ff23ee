"""The life of a worker process (trainer, insights): one Store, one long task, SIGTERM or
SIGINT cancels it and the process exits cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable

from twinteller.etcd.store import Store
from twinteller.tls import Tls


def run_with_store(etcd: str, tls: Tls | None, work: Callable[[Store], Awaitable[None]]) -> None:
    async def serve() -> None:
        async with Store(etcd, tls) as store:
            task = asyncio.ensure_future(work(store))
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, task.cancel)
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(serve())
