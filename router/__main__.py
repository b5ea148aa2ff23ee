"""`python -m router --zone a --listen 127.0.0.1:50051 --etcd 127.0.0.1:2379`."""

from __future__ import annotations

import asyncio
import logging
import signal

import uvloop

from router.app import Router
from twinteller.config import RouterConfig, router_config
from twinteller.process import exit_after
from twinteller.telemetry import setup_tracing

STOP_DEADLINE_S = 40.0


async def serve(config: RouterConfig) -> None:
    router = Router(config)
    await router.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    # Drain notice, grace and the bounded etcd steps take well under this (router/app.py).
    exit_after(STOP_DEADLINE_S, f"router-{config.zone}")
    logging.getLogger(__name__).info("draining (grace %.1fs)", config.grace_s)
    await router.stop()


def main() -> None:
    config = router_config()
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s router-{config.zone} %(levelname)s %(message)s")
    setup_tracing(f"twinteller-router-{config.zone}")
    uvloop.run(serve(config))


if __name__ == "__main__":
    main()
