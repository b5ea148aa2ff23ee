"""The local two-zone cluster of real processes: etcd (one member, or three for HA), two
Triton zones, the trainer (lifecycle jobs), the insights worker, the reference legacy bot
(router a reaches it over HTTP/JSON, router b over gRPC: both adapters in use), two
routers, the console.

Used by `make run` (fixed, documented ports), by the integration tests and `make eval`
(free ports). Every hop is mutual TLS with certificates from a local CA it issues in
`run_dir/tls` (twinteller/cli/certificates.py), and the routers ask every caller for a
client certificate; `plaintext=True` (`make run PLAINTEXT=1`) is for development only.
Every process is started in its own session and stopped by pid: SIGTERM,
then SIGKILL after a grace period (at once after `hurry`). Zone agents make the kernel
kill their tritonserver if they die, so nothing is orphaned; with `die_with_parent`
(`make run`) every process gets SIGTERM from the kernel when the launcher dies. The chaos
tests and `make bench-failover` use `kill`/`restart` here to break and mend single
processes, and `kill_site` ends a whole site's at once.

Sites: routers and zone agents belong to the site of their zone (a, b); etcd members to
the site their `EtcdMember` says (two per site plus a witness in the HA layout). The
trainer, insights worker, legacy bot and console belong to no site here.

`make run` is twinteller/devcluster/launcher.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from twinteller.cli.certificates import COMPONENTS, Issued, issue
from twinteller.etcd import keys
from twinteller.etcd.store import Store
from twinteller.tls import PLAINTEXT_ENV, ROUTER, Tls
from twinteller.tls import channel as tls_channel

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The admin API token of the local cluster (make run, tests): local use only.
LOCAL_ADMIN_TOKEN = "local-dev-token"
TLS_ENV_PREFIX = "TWINTELLER_TLS_"  # the certificate files of a process, from its environment
INSIGHTS_INTERVAL_S = 5.0  # how often the local insights worker recomputes (15 s by default)
T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ZonePorts:
    grpc: int
    http: int
    metrics: int


@dataclass(frozen=True)
class EtcdMember:
    name: str
    client: int
    peer: int
    site: str = "a"  # a, b, or witness: a third place that holds no traffic


WITNESS = "witness"
HOME = "a"  # the site of the processes that belong to none (trainer, insights, legacy, console)
# The site of each member, by cluster size. Five: two members per site and a witness, so
# losing either site leaves 3 of 5, a quorum (README "Two sites").
_SITE_OF_MEMBER = {1: ("a",), 3: ("a", "b", WITNESS), 5: ("a", "a", "b", "b", WITNESS)}
ONE_MEMBER = (EtcdMember("etcd-1", 2379, 2380),)
# Client ports after etcd's own local convention (2379, 22379, 32379); peers one up.
SITES_AND_WITNESS = tuple(
    EtcdMember(f"etcd-{i + 1}", port, port + 1, site)
    for i, (port, site) in enumerate(zip((2379, 12379, 22379, 32379, 42379), _SITE_OF_MEMBER[5], strict=True))
)


@dataclass(frozen=True)
class Layout:
    etcd_members: tuple[EtcdMember, ...] = ONE_MEMBER
    zones: dict[str, ZonePorts] = field(
        default_factory=lambda: {"a": ZonePorts(8001, 8000, 8002), "b": ZonePorts(8011, 8010, 8012)}
    )
    routers: dict[str, int] = field(default_factory=lambda: {"a": 50051, "b": 50052})
    router_metrics: dict[str, int] = field(default_factory=lambda: {"a": 9464, "b": 9465})
    console: int = 8080
    legacy_http: int = 8090
    legacy_grpc: int = 8091
    # Each site's address (twinteller/devcluster/network.py: sites as network namespaces);
    # every site is 127.0.0.1 when empty.
    hosts: dict[str, str] = field(default_factory=dict)

    def host(self, site: str) -> str:
        """The address of `site`; processes of no site (trainer, insights worker, legacy
        bot, console) live at HOME."""
        return self.hosts.get(site, "127.0.0.1")

    @classmethod
    def free(cls, etcd_members: int = 1, hosts: dict[str, str] | None = None) -> Layout:
        return cls(
            tuple(
                EtcdMember(f"etcd-{i + 1}", free_port(), free_port(), site)
                for i, site in enumerate(_SITE_OF_MEMBER.get(etcd_members, ("a",) * etcd_members))
            ),
            {z: ZonePorts(free_port(), free_port(), free_port()) for z in ("a", "b")},
            {z: free_port() for z in ("a", "b")},
            {z: free_port() for z in ("a", "b")},
            free_port(),
            legacy_http=free_port(),
            legacy_grpc=free_port(),
            hosts=hosts or {},
        )

    @property
    def etcd(self) -> str:
        """The --etcd value every process gets: all members, comma-separated."""
        return ",".join(f"{self.host(m.site)}:{m.client}" for m in self.etcd_members)

    def router_target(self, zone: str) -> str:
        return f"{self.host(zone)}:{self.routers[zone]}"

    @property
    def console_url(self) -> str:
        return f"http://{self.host(HOME)}:{self.console}/"

    def metrics_url(self, zone: str) -> str:
        """The router's Prometheus endpoint."""
        return f"http://{self.host(zone)}:{self.router_metrics[zone]}/metrics"

    def legacy_address(self, zone: str) -> str:
        """How the router of `zone` reaches the legacy bot: a over HTTP, b over gRPC."""
        if zone == "a":
            return f"http://{self.host(HOME)}:{self.legacy_http}"
        return f"grpc://{self.host(HOME)}:{self.legacy_grpc}"


class EtcdReader:
    """One event loop on a thread of its own, with one Store, for the cluster's readiness
    and leader reads: a grpc.aio channel must not outlive its loop, as it would with a new
    `asyncio.run` (and a new Store) for every poll."""

    def __init__(self, endpoint: str, tls: Tls | None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="etcd-reader", daemon=True)
        self._thread.start()
        self._store = self._submit(self._open(endpoint, tls))

    @staticmethod
    async def _open(endpoint: str, tls: Tls | None) -> Store:
        return Store(endpoint, tls, timeout=1.0)

    def _submit(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def run(self, read: Callable[[Store], Awaitable[T]]) -> T:
        async def call() -> T:
            return await read(self._store)

        return self._submit(call())

    def close(self) -> None:
        self._submit(self._store.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


class LocalCluster:
    def __init__(
        self,
        run_dir: Path,
        layout: Layout,
        *,
        env: dict[str, str] | None = None,
        router_args: list[str] | None = None,
        plaintext: bool = False,
        die_with_parent: bool = False,
        places: dict[str, list[str]] | None = None,
    ) -> None:
        self.run_dir = run_dir
        # The command prefix that runs a process inside its site (`ip netns exec <name>`),
        # by site; none: every process runs where the launcher does.
        self._places = places or {}
        # The kernel sends each process SIGTERM when the thread that started it dies (Linux
        # PR_SET_PDEATHSIG, through util-linux `setpriv`): for a launcher that starts every
        # process from its main thread, never for tests that may restart one from another.
        self._die_with_parent = die_with_parent and shutil.which("setpriv") is not None
        self.hurry = False  # set: stop without waiting for graceful exits
        self.layout = layout
        # The CA and every component's certificate; None in plaintext.
        addresses = sorted(set(layout.hosts.values()))
        names = {component: addresses for component in COMPONENTS} if addresses else None
        self.certificates: Issued | None = None if plaintext else issue(run_dir / "tls", names=names)
        # A plaintext cluster drops the TLS files a caller's shell exports (`make run` prints
        # them): every process would refuse both together.
        inherited = {k: v for k, v in os.environ.items() if not (plaintext and k.startswith(TLS_ENV_PREFIX))}
        self._env = {
            **inherited,
            "PYTHONPATH": str(PROJECT_ROOT),
            "HF_HUB_OFFLINE": "1",
            "TWINTELLER_ADMIN_TOKENS": f"admin:{LOCAL_ADMIN_TOKEN}",
            **({PLAINTEXT_ENV: "1"} if plaintext else {}),
            **(env or {}),
        }
        self._router_args = router_args or []
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._reader: EtcdReader | None = None

    @property
    def tls(self) -> Tls | None:
        """The identity of a caller (tools, tests): the `client` certificate."""
        return None if self.certificates is None else self.certificates.tls("client")

    def channel(self, zone: str) -> grpc.Channel:
        """A blocking channel to the router of `zone`, as a caller with the client certificate."""
        return tls_channel(self.layout.router_target(zone), self.tls, ROUTER)

    def store(self) -> Store:
        """A Store on the cluster's etcd, as a caller with the client certificate."""
        return Store(self.layout.etcd, self.tls)

    def environment(self, component: str) -> dict[str, str]:
        """TWINTELLER_TLS_* of a process of `component` (router, zone, client); none in plaintext."""
        return {} if self.certificates is None else self.certificates.environment(component)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, timeout: float = 240.0) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        try:
            self.start_etcd()
            self.wait_etcd_ready(deadline - time.monotonic())
            for zone in self.layout.zones:
                self.start_zone(zone)
            self.start_trainer()
            self.start_insights()
            self.start_legacy()
            self.wait_zones_registered(set(self.layout.zones), deadline - time.monotonic())
            self.wait_legacy_ready(deadline - time.monotonic())
            for zone in self.layout.routers:
                self.start_router(zone)
            for zone in self.layout.routers:
                self.wait_router_serving(zone, deadline - time.monotonic())
            self.start_console()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Routers first (drain), then zones (deregister) and the trainer, then etcd."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        order = sorted(self.processes, key=lambda n: (not n.startswith("router"), n.startswith("etcd")))
        for name in order:
            self.stop_process(name)

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- processes --------------------------------------------------------------------------
    def site_of(self, name: str) -> str:
        """The site a process runs in: its etcd member's, its zone's, else HOME."""
        member = next((m for m in self.layout.etcd_members if m.name == name), None)
        if member is not None:
            return member.site
        kind, _, zone = name.partition("-")
        return zone if kind in ("zone", "router") else HOME

    def _spawn(self, name: str, argv: list[str], component: str = "client") -> subprocess.Popen[bytes]:
        log = (self.run_dir / f"{name}.log").open("ab")
        if self._die_with_parent:
            argv = ["setpriv", "--pdeathsig", "TERM", "--", *argv]
        # `ip netns exec` replaces itself with the command: the pid we hold is the process's.
        argv = [*self._places.get(self.site_of(name), []), *argv]
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**self._env, **self.environment(component)},
            cwd=PROJECT_ROOT,
            start_new_session=True,
        )
        log.close()
        self.processes[name] = process
        return process

    def start_etcd(self) -> None:
        for member in self.layout.etcd_members:
            self.start_etcd_member(member.name)

    def start_etcd_member(self, name: str) -> None:
        """Start (or restart, on its kept data dir) one member of the etcd cluster."""
        etcd = shutil.which("etcd") or "/usr/bin/etcd"
        member = next(m for m in self.layout.etcd_members if m.name == name)
        scheme = "http" if self.certificates is None else "https"
        host = self.layout.host
        client = f"{scheme}://{host(member.site)}:{member.client}"
        peer = f"{scheme}://{host(member.site)}:{member.peer}"
        cluster = ",".join(f"{m.name}={scheme}://{host(m.site)}:{m.peer}" for m in self.layout.etcd_members)
        self._spawn(
            name,
            [
                etcd,
                "--name",
                name,
                "--data-dir",
                # Named by cluster size and scheme: a one-member data dir cannot join
                # three, nor back, and its peers' URLs are stored with their scheme.
                str(self.run_dir / f"{name}-of-{len(self.layout.etcd_members)}-{scheme}-data"),
                "--listen-client-urls",
                client,
                "--advertise-client-urls",
                client,
                "--listen-peer-urls",
                peer,
                "--initial-advertise-peer-urls",
                peer,
                "--initial-cluster",
                cluster,
                "--initial-cluster-token",
                f"twinteller-{self.layout.etcd_members[0].client}",
                "--log-level",
                "warn",
                # A member cut off from the leader asks before it campaigns: no term raised
                # in vain, so the leader is not deposed when the link heals (etcd 3.4 has it off).
                "--pre-vote=true",
                # Clients ping every 2 s to find a member behind a silent link (5 s by default).
                "--grpc-keepalive-min-time=1s",
                # One knowledge-base import (up to 1000 entries) is one transaction.
                "--max-txn-ops",
                "2048",
                "--max-request-bytes",
                str(10 * 1024 * 1024),
                *self._etcd_tls(),
            ],
        )

    def _etcd_tls(self) -> list[str]:
        """Mutual TLS for clients and peers alike: a certificate from the local CA or no
        connection (etcd reads the files at every handshake: renewing needs no restart)."""
        if self.certificates is None:
            return []
        files = {
            "cert-file": self.certificates.cert("etcd"),
            "key-file": self.certificates.key("etcd"),
            "trusted-ca-file": self.certificates.ca,
        }
        flags = [f"--{prefix}{flag}={path}" for prefix in ("", "peer-") for flag, path in files.items()]
        return [*flags, "--client-cert-auth", "--peer-client-cert-auth"]

    def start_zone(self, zone: str) -> None:
        ports = self.layout.zones[zone]
        self._spawn(
            f"zone-{zone}",
            [
                sys.executable,
                "-m",
                "zone",
                "--zone",
                zone,
                "--etcd",
                self.layout.etcd,
                "--host",
                self.layout.host(zone),
                "--grpc-port",
                str(ports.grpc),
                "--http-port",
                str(ports.http),
                "--metrics-port",
                str(ports.metrics),
                "--model-repo",
                str(PROJECT_ROOT / "model_repo"),
                "--run-dir",
                str(self.run_dir),
            ],
            component="zone",
        )

    def start_trainer(self) -> None:
        self._spawn(
            "trainer",
            [
                sys.executable,
                "-m",
                "trainer",
                "--etcd",
                self.layout.etcd,
                "--model-repo",
                str(PROJECT_ROOT / "model_repo"),
                "--cache",
                str(PROJECT_ROOT / "build" / "embeddings.npz"),
            ],
        )

    def start_insights(self) -> None:
        self._spawn(
            "insights",
            [
                sys.executable,
                "-m",
                "insights",
                "--etcd",
                self.layout.etcd,
                "--question-cache",
                str(PROJECT_ROOT / "build" / "embeddings-insights.npz"),
                "--interval-s",
                str(INSIGHTS_INTERVAL_S),
            ],
        )

    def start_legacy(self) -> None:
        argv = [
            "--listen",
            f"{self.layout.host(HOME)}:{self.layout.legacy_http}",
            "--grpc-listen",
            f"{self.layout.host(HOME)}:{self.layout.legacy_grpc}",
            "--log",
            str(self.run_dir / "legacy-conversations.jsonl"),
        ]
        self._spawn("legacy", [sys.executable, "-m", "legacy", *argv])

    def start_console(self) -> None:
        routers = ",".join(self.layout.router_target(z) for z in self.layout.routers)
        argv = ["--listen", f"{self.layout.host(HOME)}:{self.layout.console}", "--target", routers]
        self._spawn("console", [sys.executable, "-m", "console", *argv])

    def start_router(self, zone: str) -> None:
        self._spawn(
            f"router-{zone}",
            [
                sys.executable,
                "-m",
                "router",
                "--zone",
                zone,
                "--etcd",
                self.layout.etcd,
                "--listen",
                self.layout.router_target(zone),
                "--router-id",
                f"router-{zone}",
                "--metrics-listen",
                f"{self.layout.host(zone)}:{self.layout.router_metrics[zone]}",
                "--legacy",
                self.layout.legacy_address(zone),
                "--turn-log",
                str(self.run_dir / f"turns-router-{zone}.sqlite3"),
                # Callers of the public API need a certificate too (the tests, the tools).
                *(["--tls-client-ca", str(self.certificates.ca)] if self.certificates else []),
                *self._router_args,
            ],
            component="router",
        )

    def stop_process(self, name: str, grace: float = 15.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        if not self.hurry:
            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while process.poll() is None and time.monotonic() < deadline and not self.hurry:
                time.sleep(0.05)
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group we created for it, by pid
        process.wait()

    def site_processes(self, site: str) -> list[str]:
        """The running processes of `site`: its etcd members, zone agent and router."""
        members = {m.name for m in self.layout.etcd_members if m.site == site}
        return [n for n in self.processes if n in members or n in (f"zone-{site}", f"router-{site}")]

    def kill_site(self, site: str) -> list[str]:
        """Every process of `site` killed in the same instant (SIGKILL to each group, then
        reaped): what a data centre's power loss looks like. The names killed."""
        names = self.site_processes(site)
        for name in names:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.processes[name].pid, signal.SIGKILL)
        for name in names:
            self.processes.pop(name).wait()
        return names

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Crash one process we started (`etcd-2`, `zone-a`, `router-b`): signal its
        process group, by the pid we hold, and reap it; `restart(name)` brings it back."""
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait()

    def restart(self, name: str) -> None:
        """Start `name` again (after `kill` or `stop_process`) with its original arguments."""
        singles = {
            "trainer": self.start_trainer,
            "insights": self.start_insights,
            "console": self.start_console,
            "legacy": self.start_legacy,
        }
        if name in singles:
            singles[name]()
            return
        kind, _, which = name.partition("-")
        starters = {"etcd": self.start_etcd_member, "zone": self.start_zone, "router": self.start_router}
        starters[kind](name if kind == "etcd" else which)

    def triton_pid(self, zone: str) -> int:
        return int((self.run_dir / f"triton-{zone}.pid").read_text())

    # -- readiness --------------------------------------------------------------------------
    @staticmethod
    def _wait(check, deadline: float, what: str) -> None:  # type: ignore[no-untyped-def]
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{what} did not become ready in time")

    def _read(self, read: Callable[[Store], Awaitable[T]], default: T) -> T:
        """Run `read` against etcd on the reader thread; `default` if etcd does not answer."""
        if self._reader is None:
            self._reader = EtcdReader(self.layout.etcd, self.tls)
        try:
            return self._reader.run(read)
        except Exception:
            return default

    def wait_etcd_ready(self, timeout: float) -> None:
        async def probe(store: Store) -> bool:
            await store.get(keys.ROOT)
            return True

        self._wait(lambda: self._read(probe, False), time.monotonic() + timeout, "etcd")

    def registered_zones(self) -> set[str]:
        async def read(store: Store) -> set[str]:
            entries, _ = await store.get_prefix(keys.ZONES)
            return {e.key[len(keys.ZONES) :] for e in entries}

        return self._read(read, set())

    def router_leader(self) -> str:
        """The router id holding the leader key ("router-a"), "" if none."""

        async def read(store: Store) -> str:
            entry = await store.get(keys.LEADER)
            return "" if entry is None else entry.value.decode()

        return self._read(read, "")

    def etcd_leader(self) -> str:
        """The name of the etcd member that leads the raft group ("etcd-2"), "" if none."""

        async def read(store: Store) -> str:
            return await store.leader_member()

        return self._read(read, "")

    def wait_zones_registered(self, zones: set[str], timeout: float) -> None:
        self._wait(lambda: zones <= self.registered_zones(), time.monotonic() + timeout, f"zones {sorted(zones)}")

    def names(self) -> list[str]:
        """Every process of the full cluster, in start order."""
        members = [m.name for m in self.layout.etcd_members]
        zones = [f"zone-{z}" for z in self.layout.zones]
        routers = [f"router-{z}" for z in self.layout.routers]
        return [*members, *zones, "trainer", "insights", "legacy", *routers, "console"]

    def heal(self, timeout: float = 180.0) -> None:
        """Start whatever is not running, then wait until the whole cluster serves again:
        etcd answers, every zone is registered, the legacy bot answers, every router is
        SERVING, a leader leads."""
        deadline = time.monotonic() + timeout
        for name in self.names():
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                self.processes.pop(name, None)
                self.restart(name)
        self.wait_etcd_ready(deadline - time.monotonic())
        self.wait_zones_registered(set(self.layout.zones), deadline - time.monotonic())
        self.wait_legacy_ready(deadline - time.monotonic())
        for zone in self.layout.routers:
            self.wait_router_serving(zone, deadline - time.monotonic())
        self._wait(lambda: bool(self.router_leader()), deadline, "a router leader")

    def router_health(self, zone: str, service: str = "") -> str:
        try:
            with self.channel(zone) as channel:
                request = health_pb2.HealthCheckRequest(service=service)
                reply = health_pb2_grpc.HealthStub(channel).Check(request, timeout=1.0)
                return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
        except grpc.RpcError as e:
            return f"down ({e.code().name})"

    def legacy_ready(self) -> bool:
        try:
            url = f"http://{self.layout.host(HOME)}:{self.layout.legacy_http}/health"
            with urllib.request.urlopen(url, timeout=1) as reply:
                return reply.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_legacy_ready(self, timeout: float) -> None:
        self._wait(self.legacy_ready, time.monotonic() + timeout, "legacy bot")

    def wait_router_serving(self, zone: str, timeout: float, service: str = "") -> None:
        """Until the router's health `service` ("" overall; "twinteller.store": on etcd) is SERVING."""
        what = f"router {zone} {service or 'serving'}"
        self._wait(lambda: self.router_health(zone, service) == "SERVING", time.monotonic() + timeout, what)
