"""The life of a worker process (trainer, insights): one Store, one long task, SIGTERM or
SIGINT cancels it and the process exits cleanly; and the deadline every process keeps once
asked to stop (`exit_after`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable

from twinteller.etcd.store import Store
from twinteller.tls import Tls

log = logging.getLogger(__name__)
WORKER_STOP_S = 20.0


def exit_after(seconds: float, what: str) -> None:
    """Once a process has been asked to stop: if it is still here after `seconds` (a step
    waiting on an etcd that is gone with it, a thread still computing), it exits at once.
    A supervisor, or a launcher killed outright (its children get SIGTERM from the kernel),
    must never find it left behind; a graceful stop well inside the deadline is unchanged."""

    def expire() -> None:
        log.error("%s: still stopping %.0fs after it was asked to: exiting now", what, seconds)
        logging.shutdown()
        os._exit(1)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


def run_with_store(etcd: str, tls: Tls | None, work: Callable[[Store], Awaitable[None]]) -> None:
    async def serve() -> None:
        async with Store(etcd, tls) as store:
            task = asyncio.ensure_future(work(store))
            loop = asyncio.get_running_loop()

            def stop() -> None:
                task.cancel()
                exit_after(WORKER_STOP_S, "worker")

            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop)
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(serve())
