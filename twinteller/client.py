"""The channel every IVR/app backend should use to call twinteller (README "Calling it").

- All routers in one channel, balanced round-robin, so losing a router loses no turn.
- Client-side health checking (`grpc.health.v1` Watch): a router that starts draining
  reports NOT_SERVING and the channel stops picking it before it closes.
- Retries on UNAVAILABLE: a turn is idempotent by (session_id, turn_id), so a retry that
  reaches another router gets the stored reply instead of a second answer.
- Keepalive pings find a router that vanished without a FIN (or behind a cut link)
  within 3 s; a restarted router is reconnected within a second.

The chaos tests and `make bench-failover` call the cluster through exactly this channel.
"""

from __future__ import annotations

import ipaddress
import json

import grpc

from twinteller.tls import ROUTER, Tls
from twinteller.tls import aio_channel as tls_aio_channel
from twinteller.tls import channel as tls_channel

SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "healthCheckConfig": {"serviceName": ""},
        "methodConfig": [
            {
                "name": [{"service": "twinteller.v1.Assistant"}],
                "retryPolicy": {
                    "maxAttempts": 5,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    # RESOURCE_EXHAUSTED comes with grpc-retry-pushback-ms: the retry waits that long.
                    "retryableStatusCodes": ["UNAVAILABLE", "RESOURCE_EXHAUSTED"],
                },
            }
        ],
    }
)
OPTIONS = [
    ("grpc.service_config", SERVICE_CONFIG),
    # A router behind a link that went silent (a cut between data centres: no FIN, no
    # RST) is found within 3 s: the calls in flight on it fail UNAVAILABLE and the retry
    # policy resends them to another router. The routers allow a ping a second.
    ("grpc.keepalive_time_ms", 2_000),
    ("grpc.keepalive_timeout_ms", 1_000),
    ("grpc.http2.max_pings_without_data", 0),  # keep pinging an idle connection too
    # A restarted router is connected again within a second (gRPC's default reconnect
    # backoff grows to two minutes): in a rolling restart the next router may go down
    # right after this one is back.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


def target(routers: list[str]) -> str:
    """One gRPC target for several routers: "ipv4:h:p,h:p" (IP literals), or the single
    address as given (e.g. a DNS name that resolves to every router)."""
    if len(routers) == 1:
        return routers[0]
    for router in routers:
        host = router.rpartition(":")[0].strip("[]")
        ipaddress.ip_address(host)  # ValueError: several routers must be IP literals
    return "ipv4:" + ",".join(routers)


def channel(routers: list[str], tls: Tls | None, server_name: str = ROUTER) -> grpc.Channel:
    """`tls`: the caller's certificate (sent when the routers ask for one) and the CA the
    routers' certificates come from; the routers are verified as `server_name` (empty:
    as the address dialled). None: plaintext, for development."""
    return tls_channel(target(routers), tls, server_name, OPTIONS)


def aio_channel(routers: list[str], tls: Tls | None, server_name: str = ROUTER) -> grpc.aio.Channel:
    return tls_aio_channel(target(routers), tls, server_name, OPTIONS)


def describe(error: BaseException) -> str:
    """A failed call, in one line: its status code and details."""
    if isinstance(error, grpc.aio.AioRpcError):
        return f"{error.code().name}: {error.details()}"
    return f"{type(error).__name__}: {error}"
