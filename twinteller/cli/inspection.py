"""`twinteller inspect`: the weekly inspection, in one command. It checks the live
cluster and prints a verdict per item (OK, WARN, RISK), and exits 1 when anything is a
RISK (with `--strict`, a WARN too), so a CronJob (helm/twinteller, `inspect.enabled`) or a
pipeline can alert on it.

    twinteller inspect                         # the local cluster (make run)
    twinteller inspect --etcd 10.0.0.1:2379 --zones a,b --model-repo /models \\
        --cert /etc/twinteller/tls/server.crt --window-s 900 --slo-p99-ms 800

Items: etcd (members, leader, alarms, each member's database size against the quota);
routers (registered, SERVING, a leader); zones (every expected zone registered, its model
ready, all on the active version); certificates (days to expiry: this tool's CA and
certificate, `--cert` files, and the certificate every router, zone and etcd member
presents to a new connection); FAQ entries expiring
soon; the last window's error rate, fallback rate, p99 latency and reroutes (from every
router's turn log) against their objectives; free disk of the model repository and the
turn logs' size. The admin token is `--token` or TWINTELLER_ADMIN_TOKEN.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import grpc
import tritonclient.grpc.aio as triton_aio
from cryptography import x509
from grpc_health.v1 import health_pb2, health_pb2_grpc

from twinteller.cli import fleet as routers
from twinteller.config import DEFAULT_ETCD, add_transport_arguments, transport_from_arguments
from twinteller.errors import StoreError
from twinteller.etcd import keys
from twinteller.etcd.store import Store
from twinteller.knowledge.faqs import FaqRecord
from twinteller.tls import (
    ETCD,
    ROUTER,
    ZONE,
    Tls,
    aio_channel,
    presented_certificate,
    triton_arguments,
)
from twinteller.v1 import operations_pb2 as opb
from twinteller.v1 import operations_pb2_grpc as opb_grpc

OK, WARN, RISK = "OK", "WARN", "RISK"
GIB = 1024**3


@dataclass(frozen=True)
class Check:
    area: str
    verdict: str
    detail: str


@dataclass(frozen=True)
class Objectives:
    error_rate: float = 0.01
    fallback_rate: float = 0.2
    p99_ms: float = 1000.0
    reroute_rate: float = 0.05
    etcd_quota_bytes: int = 2 * GIB  # etcd's default --quota-backend-bytes
    faq_days: int = 14
    cert_days: int = 14
    disk_free_share: float = 0.1


# -- judgements: facts in, verdicts out (tests/unit/twinteller/cli/test_inspection.py) ----------------------------
def judge_etcd(
    members: list[str], sizes: dict[str, int | str], leader: str, alarms: list[str], quota: int
) -> list[Check]:
    checks = [Check("etcd", RISK if alarms else OK, f"alarms: {', '.join(alarms)}" if alarms else "no alarms")]
    tolerance = (len(members) - 1) // 2
    checks.append(Check("etcd", OK if tolerance else WARN,
                        f"{len(members)} member(s): {', '.join(members)}; survives losing {tolerance}"))  # fmt: skip
    checks.append(Check("etcd", OK if leader else RISK, f"leader {leader}" if leader else "no leader"))
    for name, size in sorted(sizes.items()):
        if isinstance(size, str):
            checks.append(Check("etcd", RISK, f"member {name} does not answer: {size}"))
            continue
        share = size / quota
        verdict = RISK if share >= 0.8 else WARN if share >= 0.6 else OK
        checks.append(
            Check("etcd", verdict, f"member {name}: database {size / 2**20:.1f} MiB, {share:.1%} of the quota")
        )
    return checks


def judge_routers(health: dict[str, str], leader: str) -> list[Check]:
    if not health:
        return [Check("routers", RISK, "no router is registered")]
    checks = [
        Check("routers", OK if status == "SERVING" else RISK, f"router {router}: {status}")
        for router, status in sorted(health.items())
    ]
    if leader in health:
        checks.append(Check("routers", OK, f"leader {leader}"))
    else:
        checks.append(Check("routers", RISK, f"no serving leader ({leader or 'none'})"))
    return checks


def judge_zones(expected: list[str], registered: dict[str, dict], active: str, ready: dict[str, str]) -> list[Check]:  # type: ignore[type-arg]
    checks = []
    for zone in sorted(set(expected) | set(registered)):
        entry = registered.get(zone)
        if entry is None:
            checks.append(
                Check("zones", RISK, f"zone {zone} is not registered (its model is not ready, or it is down)")
            )
            continue
        versions = [str(v) for v in entry.get("versions", [])]
        if active not in versions:
            checks.append(Check("zones", RISK, f"zone {zone} does not serve the active version {active} ({versions})"))
        elif ready.get(zone) != "ready":
            checks.append(Check("zones", RISK, f"zone {zone}: model version {active} {ready.get(zone, 'not checked')}"))
        else:
            checks.append(Check("zones", OK, f"zone {zone} at {entry.get('endpoint')}: version {active} ready"))
    return checks


def judge_certificates(expiries: dict[str, datetime.datetime | str], now: datetime.datetime, days: int) -> list[Check]:
    if not expiries:
        return [Check("certificates", OK, "none given (--cert): plaintext development mode, nothing expires")]
    checks = []
    for path, expiry in sorted(expiries.items()):
        if isinstance(expiry, str):
            checks.append(Check("certificates", RISK, f"{path}: {expiry}"))
            continue
        left = (expiry - now).total_seconds() / 86400
        verdict = RISK if left < 0 else WARN if left < days else OK
        checks.append(Check("certificates", verdict, f"{path}: expires {expiry:%Y-%m-%d} ({left:.0f} days)"))
    return checks


def judge_faqs(records: Iterable[FaqRecord], today: datetime.date, days: int) -> list[Check]:
    soon = []
    for record in records:
        if record.enabled and record.expires_at:
            expiry = datetime.date.fromisoformat(record.expires_at)
            if today <= expiry <= today + datetime.timedelta(days=days):
                soon.append(f"{record.id} ({record.expires_at})")
    if not soon:
        return [Check("knowledge base", OK, f"no enabled FAQ entry expires in the next {days} days")]
    return [Check("knowledge base", WARN, f"{len(soon)} FAQ entries expire within {days} days: {', '.join(soon)}")]


def judge_traffic(stats: list[opb.TurnStats], failed: dict[str, str], o: Objectives) -> list[Check]:
    checks = [Check("traffic", RISK, f"router {r} gave no figures: {e}") for r, e in sorted(failed.items())]
    turns = sum(s.turns for s in stats)
    if not turns:
        return [*checks, Check("traffic", OK, "no turns in the window: nothing to judge")]
    window = max(s.window_s for s in stats)
    errors, fallbacks, rerouted = (sum(getattr(s, f) for s in stats) for f in ("errors", "fallbacks", "rerouted"))
    p99 = max(s.p99_ms for s in stats)  # the worst router's: a bound on the whole
    for name, value, objective, bad in (
        ("error rate", errors / turns, o.error_rate, RISK),
        ("fallback rate", fallbacks / max(turns - errors, 1), o.fallback_rate, WARN),
        ("rerouted turns", rerouted / turns, o.reroute_rate, WARN),
    ):
        verdict = bad if value > objective else OK
        checks.append(Check("traffic", verdict, f"{name} {value:.2%} (objective {objective:.2%})"))
    checks.append(Check("traffic", RISK if p99 > o.p99_ms else OK, f"p99 {p99:.0f} ms (objective {o.p99_ms:.0f} ms)"))
    dropped = sum(s.dropped for s in stats)
    summary = f"{turns} turns in the last {window:.0f} s on {len(stats)} router(s)"
    checks.append(Check("traffic", WARN if dropped else OK, summary + (f"; {dropped} not logged" if dropped else "")))
    return checks


def judge_disk(path: str, usage: tuple[int, int, int] | str, log_bytes: int, o: Objectives) -> list[Check]:
    logs = Check("disk", OK, f"turn logs {log_bytes / 2**20:.1f} MiB on all routers")
    if not path:
        return [logs]
    if isinstance(usage, str):
        return [Check("disk", RISK, f"model repository {path}: {usage}"), logs]
    total, _used, free = usage
    share = free / total if total else 0.0
    verdict = RISK if share < o.disk_free_share / 2 else WARN if share < o.disk_free_share else OK
    return [Check("disk", verdict, f"model repository {path}: {free / GIB:.1f} GiB free ({share:.0%})"), logs]


# -- gathering the facts -------------------------------------------------------------------------
async def _etcd(store: Store, quota: int) -> list[Check]:
    members = await store.members()
    sizes: dict[str, int | str] = {}
    for name, urls in members:
        endpoint = urls[0].split("://", 1)[-1] if urls else ""
        try:
            async with Store(endpoint, store.tls, timeout=2.0) as member:
                sizes[name] = await member.db_size()
        except (StoreError, ValueError) as e:
            sizes[name] = str(e)
    return judge_etcd([n for n, _ in members], sizes, await store.leader_member(), await store.alarms(), quota)


async def _health(address: str, tls: Tls | None) -> str:
    try:
        async with aio_channel(address, tls, ROUTER) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3)
            return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
    except grpc.aio.AioRpcError as e:
        return f"unreachable ({e.code().name})"


async def _model_ready(endpoint: str, version: str, tls: Tls | None) -> str:
    client = triton_aio.InferenceServerClient(endpoint, **triton_arguments(tls))
    try:
        return "ready" if await client.is_model_ready("intent", version, client_timeout=3) else "not ready"
    except Exception as e:  # tritonclient raises its own exception type for every failure
        return f"not reachable ({type(e).__name__})"
    finally:
        await client.close()


def _served_certificate(address: str, tls: Tls, name: str) -> datetime.datetime | str:
    """When the certificate a live server presents expires: what a renewal that never
    reached a process (a pod not restarted) looks like from outside."""
    try:
        return presented_certificate(address, tls, name).not_valid_after_utc
    except (OSError, ValueError) as e:  # ssl.SSLError is an OSError
        return f"no TLS handshake ({e})"


async def _served(tls: Tls, servers: dict[str, tuple[str, str]]) -> dict[str, datetime.datetime | str]:
    """{what: (address, name)} -> each one's served certificate expiry, all at once."""
    found = await asyncio.gather(*(asyncio.to_thread(_served_certificate, a, tls, n) for a, n in servers.values()))
    return dict(zip(servers, found, strict=True))


def _certificate(path: str) -> datetime.datetime | str:
    try:
        return x509.load_pem_x509_certificate(Path(path).read_bytes()).not_valid_after_utc
    except (OSError, ValueError) as e:
        return f"unreadable ({e})"


async def inspect(args: argparse.Namespace, objectives: Objectives) -> list[Check]:
    checks: list[Check] = []
    metadata = (("authorization", f"Bearer {args.token}"),)
    tls = transport_from_arguments(args)
    async with Store(args.etcd, tls) as store:
        checks += await _etcd(store, objectives.etcd_quota_bytes)
        addresses = await routers.registered(store)
        leader = await store.get(keys.LEADER)
        health = dict(zip(addresses, await asyncio.gather(*(_health(a, tls) for a in addresses.values())), strict=True))
        checks += judge_routers(health, leader.value.decode() if leader else "")
        zones_raw, _ = await store.get_prefix(keys.ZONES)
        zones = {e.key[len(keys.ZONES) :]: json.loads(e.value) for e in zones_raw}
        active_entry = await store.get(keys.ACTIVE_VERSION)
        active = active_entry.value.decode() if active_entry else ""
        ready = {z: await _model_ready(str(z_data.get("endpoint")), active, tls) for z, z_data in zones.items()}
        checks += judge_zones(args.zones.split(",") if args.zones else [], zones, active, ready)
        faq_entries, _ = await store.get_prefix(keys.KB_FAQS)
        checks += judge_faqs((FaqRecord.from_json(e.value) for e in faq_entries), datetime.date.today(), args.faq_days)
        members = await store.members()

    # This tool's own certificate and CA are the cluster's: theirs expire together.
    certificates = [*args.cert, *((str(tls.ca), str(tls.cert)) if tls else ())]
    expiries = {p: _certificate(p) for p in dict.fromkeys(certificates)}
    if tls is not None:  # and what every live server presents
        servers = {f"router {r} at {a}": (a, ROUTER) for r, a in addresses.items()}
        servers |= {f"zone {z} at {d.get('endpoint')}": (str(d.get("endpoint")), ZONE) for z, d in zones.items()}
        servers |= {f"etcd {n} at {u[0]}": (u[0].split("://", 1)[-1], ETCD) for n, u in members if u}
        expiries |= await _served(tls, servers)
    checks += judge_certificates(expiries, datetime.datetime.now(datetime.UTC), objectives.cert_days)

    async def stats(channel: grpc.aio.Channel) -> opb.TurnStats:
        request = opb.GetTurnStatsRequest(window_s=args.window_s)
        return await opb_grpc.OperationsStub(channel).GetTurnStats(request, metadata=metadata, timeout=10)

    answers = await routers.ask_all(addresses, stats, tls)
    figures = [a for a in answers.values() if isinstance(a, opb.TurnStats)]
    failed = {r: routers.describe(a) for r, a in answers.items() if isinstance(a, BaseException)}
    checks += judge_traffic(figures, failed, objectives)
    usage: tuple[int, int, int] | str = ""
    if args.model_repo:
        try:
            usage = tuple(shutil.disk_usage(args.model_repo))  # type: ignore[assignment]
        except OSError as e:
            usage = str(e)
    checks += judge_disk(args.model_repo, usage, sum(s.log_bytes for s in figures), objectives)
    return checks


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="twinteller inspect", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--etcd", default=os.environ.get("TWINTELLER_ETCD", DEFAULT_ETCD))
    parser.add_argument("--token", default=os.environ.get("TWINTELLER_ADMIN_TOKEN", ""))
    add_transport_arguments(parser)
    parser.add_argument("--zones", default="a,b", help="the zones that must be serving (comma-separated)")
    parser.add_argument("--model-repo", default="", help="the model repository's path, for its free disk")
    parser.add_argument("--cert", action="append", default=[], help="a PEM certificate to check (repeatable)")
    parser.add_argument("--window-s", type=int, default=900, help="the window the traffic figures cover")
    parser.add_argument("--faq-days", type=int, default=Objectives.faq_days)
    parser.add_argument("--slo-error-rate", type=float, default=Objectives.error_rate)
    parser.add_argument("--slo-fallback-rate", type=float, default=Objectives.fallback_rate)
    parser.add_argument("--slo-p99-ms", type=float, default=Objectives.p99_ms)
    parser.add_argument("--slo-reroute-rate", type=float, default=Objectives.reroute_rate)
    parser.add_argument("--etcd-quota-bytes", type=int, default=Objectives.etcd_quota_bytes)
    parser.add_argument("--strict", action="store_true", help="exit 1 on a WARN too")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("no admin token: give --token or set TWINTELLER_ADMIN_TOKEN")
    objectives = Objectives(
        error_rate=args.slo_error_rate,
        fallback_rate=args.slo_fallback_rate,
        p99_ms=args.slo_p99_ms,
        reroute_rate=args.slo_reroute_rate,
        etcd_quota_bytes=args.etcd_quota_bytes,
        faq_days=args.faq_days,
    )
    try:
        checks = asyncio.run(inspect(args, objectives))
    except StoreError as e:
        checks = [Check("etcd", RISK, f"etcd does not answer: {e}")]
    for check in checks:
        print(f"[{check.verdict:4}] {check.area:15} {check.detail}")
    verdicts = {c.verdict for c in checks}
    failing = RISK in verdicts or (args.strict and WARN in verdicts)
    counts = ", ".join(f"{sum(c.verdict == v for c in checks)} {v}" for v in (OK, WARN, RISK))
    print(f"inspection: {counts}; {'FAILED' if failing else 'passed'}")
    raise SystemExit(1 if failing else 0)
