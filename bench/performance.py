"""`make bench`: where a turn's time goes, measured in one run on this machine.

1. the encoder alone, in this process: sentences/s at batch 32 (the model's own limit);
2. dynamic batching: one standalone Triton serving the model twice, with dynamic batching
   (as deployed) and with batches of one, at high concurrency;
3. the Python limit: a bare `grpc.aio` echo server, and a bare relay in front of it
   (client -> relay -> echo), each its own process;
4. a local cluster (etcd, two Triton zones, two routers): client -> Triton directly (the
   served model), and client -> router -> Triton (a whole turn: session read and write,
   dialogue policy and all), at several concurrencies, in plaintext like the relay;
5. the same two paths through a second cluster with mutual TLS on every hop (as deployed),
   at the lowest and highest concurrency: what TLS costs.

Baselines measured in the same run: the encoder alone and the served model in process
(one sentence p50, batches of 32), a turn's etcd commit made alone, a bare `grpc.aio` echo
and relay. It prints throughput and p50/p99 latency for each path, the CPU every process
spends per turn at the highest concurrency, then issue 20's targets, each against its
baseline, met or missed by how much: CPU per turn outside the model (routers, etcd,
insights worker; the turn log is the routers') in plaintext and TLS; router vs direct
Triton throughput at saturation; what the router adds at concurrency 1 against the etcd
commit's own time + 1 ms; direct Triton at concurrency 1 against the model in process; and
Triton's batched throughput against the model's in process. The machine is shared and
noisy: run it three times before believing it (docs/benchmarks.md). It never fails on a
missed target; it says so.

    python -m bench.performance [--seconds 6] [--concurrency 1,8,32,64]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import itertools
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import numpy as np
import tritonclient.grpc.aio as triton_aio

from router.observability.turn_log import TurnLog, TurnRow
from twinteller.config import ZoneConfig, transport_from_environment
from twinteller.devcluster.local_cluster import PROJECT_ROOT, Layout, LocalCluster, free_port
from twinteller.etcd.store import Store
from twinteller.knowledge.masking import mask
from twinteller.knowledge.schema import BANKING77
from twinteller.model.encoder import Encoder
from twinteller.tls import PLAINTEXT_ENV, ROUTER, aio_channel, triton_arguments
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc
from zone import triton_launcher

MODEL_REPO = PROJECT_ROOT / "model_repo"
ECHO = "/bench.Echo/Echo"
ENCODER_BATCH = 32


@dataclass(frozen=True)
class Result:
    path: str
    concurrency: int
    count: int
    errors: Counter[str]
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        errors = "  errors: " + ", ".join(f"{n} {code}" for code, n in self.errors.items()) if self.errors else ""
        return f"{self.path:26} {self.concurrency:5} {self.rate:9.1f} {self.p50_ms:9.2f} {self.p99_ms:9.2f}{errors}"


def queries() -> list[str]:
    with (BANKING77 / "test.csv").open(newline="", encoding="utf-8") as f:
        return [row["text"] for row in csv.DictReader(f)]


async def closed_loop(
    call: Callable[[int], Awaitable[object]], concurrency: int, seconds: float, warmup_s: float = 1.0
) -> tuple[list[float], Counter[str]]:
    """`concurrency` callers in a closed loop for `seconds` after a warm-up: the latencies
    (seconds) of the calls that started after the warm-up, and their errors by code."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    counter = itertools.count()
    measured_from = time.perf_counter() + warmup_s
    end = measured_from + seconds

    async def worker() -> None:
        while (began := time.perf_counter()) < end:
            try:
                await call(next(counter))
            except Exception as e:
                if began >= measured_from:
                    code = e.code() if isinstance(e, grpc.aio.AioRpcError) else None
                    errors[code.name if code else type(e).__name__] += 1
                continue
            if began >= measured_from:
                latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


def summary(path: str, concurrency: int, latencies: list[float], errors: Counter[str], seconds: float) -> Result:
    if not latencies:
        return Result(path, concurrency, 0, errors, seconds, float("nan"), float("nan"))
    ms = np.array(latencies) * 1000
    p50, p99 = float(np.percentile(ms, 50)), float(np.percentile(ms, 99))
    return Result(path, concurrency, len(latencies), errors, seconds, p50, p99)


async def measure(
    path: str, call: Callable[[int], Awaitable[object]], concurrency: int, seconds: float, warmup_s: float = 1.0
) -> Result:
    return summary(path, concurrency, *await closed_loop(call, concurrency, seconds, warmup_s), seconds)


# -- 1. the encoder alone --------------------------------------------------------------------
def encoder_rate(texts: list[str], seconds: float) -> float:
    encoder = Encoder(MODEL_REPO / "intent" / "encoder", threads=2)
    encoder.encode(texts[:ENCODER_BATCH])  # warm
    done, start = 0, time.perf_counter()
    for batch in itertools.cycle(range(0, len(texts) - ENCODER_BATCH, ENCODER_BATCH)):
        encoder.encode(texts[batch : batch + ENCODER_BATCH])
        done += ENCODER_BATCH
        if time.perf_counter() - start > seconds:
            break
    return done / (time.perf_counter() - start)


def model_in_process(texts: list[str], seconds: float) -> tuple[float, float]:
    """The served model (version 1: speller, encoder, heads) in this process, as a zone's
    Python backend runs it: p50 of one sentence (ms), and sentences/s in batches of 32."""
    from twinteller.model.intent_model import IntentClassifier

    encoder = Encoder(MODEL_REPO / "intent" / "encoder", threads=2)
    classifier = IntentClassifier.load(MODEL_REPO / "intent" / "1")

    def predict(batch: list[str]) -> None:
        batch = classifier.spelled(batch)
        classifier.predict(batch, encoder.encode(batch))

    english = [t for t in texts if t.isascii()]
    predict(english[:ENCODER_BATCH])  # warm
    times = []
    for text in english[:300]:
        began = time.perf_counter()
        predict([text])
        times.append(time.perf_counter() - began)
    done, start = 0, time.perf_counter()
    for batch in itertools.cycle(range(0, len(english) - ENCODER_BATCH, ENCODER_BATCH)):
        predict(english[batch : batch + ENCODER_BATCH])
        done += ENCODER_BATCH
        if time.perf_counter() - start > seconds:
            break
    return 1000 * float(np.median(times)), done / (time.perf_counter() - start)


# -- 0. what a kept turn costs: SQLite (the routers' turn logs) against etcd ----------------------
FOOTPRINT_TURNS = 5000


def sample_rows(texts: list[str]) -> list[TurnRow]:
    return [
        TurnRow(
            time.time(),
            f"session-{uuid.uuid4().hex}",
            str(n % 5 + 1),
            "app",
            mask(text),
            "ANSWER",
            "card_arrival",
            "a",
            "7",
            "twinteller",
            31.5,
            "",
            uuid.uuid4().hex,
            "a:ok",
            "router-a",
        )
        for n, text in enumerate(texts[:FOOTPRINT_TURNS])
    ]


async def footprint(texts: list[str], work: Path) -> dict[str, float]:
    """Bytes on disk per kept turn: the same records in a SQLite turn log and in a fresh
    one-member etcd (as turn keys with the JSON record, the way sessions are kept)."""
    rows = sample_rows(texts * 2)
    log = TurnLog(work / "footprint" / "turns.sqlite3", retention_s=86400)
    for row in rows:
        log.record(row)
    await log.flush()
    await asyncio.to_thread(log._db.execute, "PRAGMA wal_checkpoint(TRUNCATE)")
    sqlite_bytes = log.size_bytes() / len(rows)
    log.close()
    layout = Layout.free()
    etcd = LocalCluster(work / "footprint-etcd", layout, plaintext=True)  # only its etcd is started
    etcd.run_dir.mkdir(parents=True)
    try:
        etcd.start_etcd()
        await asyncio.to_thread(etcd.wait_etcd_ready, 30)
        async with Store(layout.etcd, None) as store:
            before = await store.db_size()
            for batch in range(0, len(rows), 100):
                puts = {f"/footprint/{r.session_id}/{r.turn_id}": json.dumps(r.__dict__).encode()
                        for r in rows[batch : batch + 100]}  # fmt: skip
                await store.commit(absent=[], unchanged={}, puts=puts)
            etcd_bytes = (await store.db_size() - before) / len(rows)
            commit_ms = await commit_time(store, rows)
    finally:
        etcd.stop()
    return {"sqlite_bytes_per_turn": sqlite_bytes, "etcd_bytes_per_turn": etcd_bytes, "commit_p50_ms": commit_ms}


async def commit_time(store: Store, rows: list[TurnRow], count: int = 300) -> float:
    """p50 of a turn's commit made alone (a session's record and the turn's reply, under
    a lease, compared as SessionStore.commit compares them): the etcd commit's own time."""
    lease = await store.grant(600)
    times = []
    for n, row in enumerate(rows[:count]):
        began = time.perf_counter()
        await store.commit(absent=[f"/commit/t/{n}"], unchanged={f"/commit/s/{n}": 0},
                           puts={f"/commit/s/{n}": json.dumps(row.__dict__).encode(), f"/commit/t/{n}": b"r" * 200},
                           lease=lease)  # fmt: skip
        times.append(time.perf_counter() - began)
    return 1000 * float(np.median(times))


# -- Triton calls ------------------------------------------------------------------------------
def infer_call(
    client: triton_aio.InferenceServerClient, model: str, texts: list[str]
) -> Callable[[int], Awaitable[object]]:
    async def call(n: int) -> object:
        data = triton_aio.InferInput("TEXT", [1, 1], "BYTES")
        data.set_data_from_numpy(np.array([[texts[n % len(texts)].encode()]], dtype=np.object_))
        return await client.infer(model, [data], client_timeout=10)

    return call


def batching_repo(root: Path) -> Path:
    """A repository with the served model twice: as deployed (dynamic batching) and with
    batches of one; both read version 1 and the encoder of model_repo/intent."""
    config = (MODEL_REPO / "intent" / "config.pbtxt").read_text()
    single = re.sub(r"dynamic_batching \{[^}]*\}\n", "", config.replace('name: "intent"', 'name: "intent_single"'))
    single = single.replace("max_batch_size: 64", "max_batch_size: 1")
    assert "dynamic_batching" not in single and "max_batch_size: 1" in single
    for name, text in (("intent", config), ("intent_single", single)):
        model = root / name
        model.mkdir(parents=True)
        (model / "config.pbtxt").write_text(text)
        (model / "1").symlink_to(MODEL_REPO / "intent" / "1", target_is_directory=True)
        (model / "encoder").symlink_to(MODEL_REPO / "intent" / "encoder", target_is_directory=True)
    return root


@contextlib.asynccontextmanager
async def standalone_triton(
    config: ZoneConfig, log: Path, start_s: float = 120
) -> AsyncIterator[tuple[subprocess.Popen[bytes], triton_aio.InferenceServerClient]]:
    """A Triton started as a zone starts it (no zone agent), once it is live: its process
    and a client. Stopped on leaving."""
    process = triton_launcher.start(config, log)
    client = triton_aio.InferenceServerClient(config.local_endpoint)
    try:
        deadline = time.monotonic() + start_s
        while True:
            try:
                if await client.is_server_live(client_timeout=1.0):
                    break
            except Exception:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"standalone Triton did not start; see {log}")
            await asyncio.sleep(0.2)
        yield process, client
    finally:
        await client.close()
        process.terminate()
        process.wait(timeout=60)


async def batching(texts: list[str], concurrency: int, seconds: float, workdir: Path) -> list[Result]:
    # Batching, not tracing, is measured here: trace one request in 1000 (see trace_rate).
    config = ZoneConfig(zone="bench", model_repo=batching_repo(workdir / "repo"), run_dir=workdir,
                        grpc_port=free_port(), http_port=free_port(), metrics_port=free_port(),
                        trace_rate=1000, plaintext=True)  # fmt: skip
    async with standalone_triton(config, workdir / "triton-bench.log") as (_, client):
        results = []
        for model, label in (("intent", "triton, dynamic batching"), ("intent_single", "triton, batch of one")):
            await client.load_model(model, client_timeout=120)
            results.append(await measure(label, infer_call(client, model, texts), concurrency, seconds))
            await client.unload_model(model)
        return results


# -- 3. the bare gRPC relay --------------------------------------------------------------------
async def serve_echo(listen: str, upstream: str) -> None:
    """An echo server (no upstream) or a relay to `upstream`, over one reused channel."""
    server = grpc.aio.server()
    channel = grpc.aio.insecure_channel(upstream) if upstream else None
    forward = channel.unary_unary(ECHO) if channel else None

    async def echo(request: bytes, _context: grpc.aio.ServicerContext) -> bytes:
        return await forward(request) if forward else request

    handler = grpc.unary_unary_rpc_method_handler(echo)
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("bench.Echo", {"Echo": handler})])
    server.add_insecure_port(listen)
    await server.start()
    await server.wait_for_termination()


def start_echo(listen: str, upstream: str = "") -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "bench.performance", "--serve-echo", listen, "--upstream", upstream]
    return subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_serving(target: str) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        await asyncio.wait_for(channel.channel_ready(), 30)


async def relay(levels: list[int], seconds: float) -> list[Result]:
    echo_at, relay_at = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    processes = [start_echo(echo_at), start_echo(relay_at, echo_at)]
    request = pb.ConverseRequest(session_id=uuid.uuid4().hex, turn_id="1", text="my card has not arrived")
    payload = request.SerializeToString()
    results = []
    try:
        for target, label in ((echo_at, "grpc.aio echo"), (relay_at, "grpc.aio relay -> echo")):
            await wait_serving(target)
            async with grpc.aio.insecure_channel(target) as channel:
                echo = channel.unary_unary(ECHO)

                async def call(_n: int, echo: grpc.aio.UnaryUnaryMultiCallable = echo) -> object:
                    return await echo(payload, timeout=10)

                for level in levels:
                    results.append(await measure(label, call, level, seconds))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
    return results


# -- 4. the cluster ----------------------------------------------------------------------------
CLIENT_PROCESSES = 2  # at concurrency 8 and above: one Python client process saturates first
TLS = "tls: "  # the paths through the cluster with mutual TLS


async def client_load(kind: str, targets: list[str], concurrency: int, seconds: float) -> dict[str, object]:
    """One load process's share (`--client`): turns through routers, or calls to Triton."""
    texts = queries()
    run = uuid.uuid4().hex[:8]
    tls = transport_from_environment()  # the cluster's client certificate, or TWINTELLER_PLAINTEXT=1
    if kind == "triton":
        clients = [triton_aio.InferenceServerClient(t, **triton_arguments(tls)) for t in targets]
        infers = [infer_call(c, "intent", texts) for c in clients]

        async def call(n: int) -> object:
            return await infers[n % len(infers)](n)
    else:
        channels = [aio_channel(t, tls, ROUTER) for t in targets]
        stubs = [pb_grpc.AssistantStub(c) for c in channels]

        async def call(n: int) -> object:
            request = pb.ConverseRequest(session_id=f"bench-{run}-{n}", turn_id="1", text=texts[n % len(texts)])
            return await stubs[n % len(stubs)].Converse(request, timeout=10)

    calls = 0

    async def counted(n: int) -> object:
        nonlocal calls
        calls += 1
        return await call(n)

    latencies, errors = await closed_loop(counted, concurrency, seconds, warmup_s=2.0)
    return {"latencies": latencies, "errors": dict(errors), "calls": calls}


async def from_clients(
    label: str, kind: str, targets: list[str], level: int, seconds: float, work: Path, env: dict[str, str]
) -> tuple[Result, int]:
    """`level` callers spread over client processes: their figures merged, and how many
    calls they made in all (warm-up included)."""
    processes = CLIENT_PROCESSES if level >= 8 else 1
    shares = [level // processes + (1 if i < level % processes else 0) for i in range(processes)]
    outputs = [work / f"client-{uuid.uuid4().hex[:8]}.json" for _ in shares]
    started = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.performance",
            "--client",
            kind,
            "--targets",
            ",".join(targets),
            "--concurrency",
            str(share),
            "--seconds",
            str(seconds),
            "--json",
            str(out),
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
        )
        for share, out in zip(shares, outputs, strict=True)
    ]
    for process in started:
        await process.wait()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    calls = 0
    for out in outputs:
        data = json.loads(await asyncio.to_thread(out.read_text))
        latencies += data["latencies"]
        errors.update(data["errors"])
        calls += data["calls"]
    return summary(label, level, latencies, errors, seconds), calls


async def cluster_paths(
    cluster: LocalCluster, levels: list[int], seconds: float, work: Path, prefix: str = ""
) -> tuple[list[Result], dict[str, float]]:
    """Direct Triton and router -> Triton at each level, and each process's CPU per turn
    at the highest; `prefix` names the paths of a second cluster (the TLS one)."""
    layout = cluster.layout
    env = cluster.environment("client") or {PLAINTEXT_ENV: "1"}
    zones = [f"127.0.0.1:{layout.zones[z].grpc}" for z in ("a", "b")]
    routers = [layout.router_target(z) for z in ("a", "b")]
    results = []
    spent: dict[str, float] = {}
    for level in levels:
        # Concurrency 1 compares like with like: router a (which prefers zone a) vs zone a.
        both = level > 1
        where = " (a+b)" if both else " (a)"
        direct, _ = await from_clients(prefix + "triton direct" + where, "triton", zones if both else zones[:1],
                                       level, seconds, work, env)  # fmt: skip
        results.append(direct)
        before = {name: cpu_seconds(p.pid) for name, p in cluster.processes.items()}
        clients_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result, calls = await from_clients(prefix + "router -> triton" + where, "router",
                                           routers if both else routers[:1], level, seconds, work, env)  # fmt: skip
        results.append(result)
        if level == max(levels) and calls:
            # Per turn made (warm-up included); the load clients' start-up counts against them.
            spent = cpu_per_turn(cluster, before, calls)
            clients = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = clients.ru_utime + clients.ru_stime - clients_before.ru_utime - clients_before.ru_stime
            spent["load clients"] = 1000 * used / calls
            shown = ", ".join(f"{name} {ms:.2f}" for name, ms in spent.items() if ms >= 0.01)
            print(f"CPU ms per turn at concurrency {level}: {shown}", flush=True)
    return results, spent


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (a zone's Triton and its Python stubs), those alive."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue  # gone meanwhile
        found.append(current)
        pending += [int(c) for c in children]
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants."""
    total = 0.0
    for current in process_tree(pid):
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    total = 0
    for current in process_tree(pid):
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total / 1024


def cpu_per_turn(cluster: LocalCluster, before: dict[str, float], turns: int) -> dict[str, float]:
    return {name: 1000 * (cpu_seconds(p.pid) - before[name]) / turns for name, p in cluster.processes.items()}


OUTSIDE_MODEL = ("router", "etcd", "insights")  # the processes of a turn besides the zones and clients


@dataclass(frozen=True)
class Baselines:
    encoder: float  # sentences/s, the encoder alone in batches of 32
    model_p50_ms: float  # the served model in process, one sentence
    model_rate: float  # the served model in process, sentences/s in batches of 32
    commit_p50_ms: float  # a turn's etcd commit made alone
    cpu: dict[str, dict[str, float]]  # "plaintext" / "tls" -> process -> CPU ms per turn at the top level


def outside_model_ms(spent: dict[str, float]) -> float:
    return sum(ms for name, ms in spent.items() if name.startswith(OUTSIDE_MODEL))


def report(results: list[Result], base: Baselines) -> dict[str, float]:
    print(f"\n{'path':26} {'conc':>5} {'per s':>9} {'p50 ms':>9} {'p99 ms':>9}")
    for r in results:
        print(r.line())
    print(f"{'encoder alone, batch 32':26} {'':5} {base.encoder:9.1f}")
    print(f"{'model in process, batch 32':26} {'':5} {base.model_rate:9.1f}")
    print(f"{'model in process, batch 1':26} {'':5} {'':9} {base.model_p50_ms:9.2f}")
    print(f"{'etcd commit alone':26} {1:5} {'':9} {base.commit_p50_ms:9.2f}")

    def find(prefix: str, level: int) -> Result:
        return next(r for r in results if r.path.startswith(prefix) and r.concurrency == level)

    echo1, relay1 = find("grpc.aio echo", 1), find("grpc.aio relay", 1)
    triton1, router1 = find("triton direct", 1), find("router -> triton", 1)
    relay_adds = relay1.p50_ms - echo1.p50_ms
    router_adds = router1.p50_ms - triton1.p50_ms
    best_triton = max(r.rate for r in results if r.path.startswith("triton direct"))
    best_router = max(r.rate for r in results if r.path.startswith("router -> triton"))
    batched = next(r for r in results if r.path.startswith("triton, dynamic batching"))
    single = next(r for r in results if r.path.startswith("triton, batch of one"))
    low, high = min(r.concurrency for r in results), max(r.concurrency for r in results)
    tls_adds = find(TLS + "router -> triton", low).p50_ms - find("router -> triton", low).p50_ms
    tls_rate = find(TLS + "router -> triton", high).rate / find("router -> triton", high).rate
    print(f"\nmutual TLS on every hop: the router path's p50 at concurrency {low} {tls_adds:+.2f} ms,", end=" ")
    print(f"its throughput at {high} {tls_rate:.0%} of plaintext")
    print(f"at concurrency 1: the bare relay adds {relay_adds:.2f} ms at p50,", end=" ")
    print(f"the router adds {router_adds:.2f} ms over direct Triton")
    print(f"at saturation: router {best_router:.1f} turns/s, direct Triton {best_triton:.1f}/s; dynamic batching "
          f"{batched.rate / single.rate:.2f}x batches of one")  # fmt: skip
    # Issue 20's targets, each against a baseline measured above; (value, op, target, unit).
    checks: dict[str, tuple[float, str, float, str]] = {}
    for transport, spent in base.cpu.items():
        checks[f"cpu_outside_model_ms_{transport}"] = (outside_model_ms(spent), "<=", 1.5, " ms")
    checks["router_vs_direct_throughput"] = (best_router / best_triton, ">=", 0.9, "")
    checks["router_adds_at_c1_ms"] = (router_adds, "<=", base.commit_p50_ms + 1.0, " ms")
    checks["direct_triton_c1_over_model_ms"] = (triton1.p50_ms - base.model_p50_ms, "<=", 1.5, " ms")
    checks["triton_vs_model_batched"] = (batched.rate / base.model_rate, ">=", 0.9, "")
    print("targets (issue 20):")
    for name, (value, op, target, unit) in checks.items():
        met = value <= target if op == "<=" else value >= target
        miss = "met" if met else f"MISSED by {abs(value - target):.2f}{unit}"
        print(f"  {name:32} {value:7.2f}{unit:3}  (target {op} {target:.2f}{unit}: {miss})")
    return {name: value for name, (value, *_) in checks.items()}


async def bench(args: argparse.Namespace) -> None:
    texts = queries()
    levels = [int(c) for c in args.concurrency.split(",")]
    results: list[Result] = []
    cpu: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="twinteller-bench-") as tmp:
        work = Path(tmp)
        kept = await footprint(texts, work)
        print(f"a kept turn: SQLite {kept['sqlite_bytes_per_turn']:.0f} B, etcd {kept['etcd_bytes_per_turn']:.0f} B;"
              f" its etcd commit alone p50 {kept['commit_p50_ms']:.2f} ms")  # fmt: skip
        print(f"encoder alone and the model in process ({args.seconds:.0f} s each) ...", flush=True)
        encoder = encoder_rate(texts, args.seconds)
        model_p50, model_rate = model_in_process(texts, args.seconds)
        print("dynamic batching vs batches of one (standalone Triton) ...", flush=True)
        results += await batching(texts, max(levels), args.seconds, work)
        print("bare grpc.aio echo and relay ...", flush=True)
        results += await relay(levels, args.seconds)
        print("local cluster: direct Triton and router ...", flush=True)
        # Plaintext, like the bare relay it is compared with; then what mutual TLS on every
        # hop (as deployed) costs, at the lowest and highest level.
        with LocalCluster(work / "cluster", Layout.free(), plaintext=True) as cluster:
            found, cpu["plaintext"] = await cluster_paths(cluster, levels, args.seconds, work)
            results += found
        print("local cluster with mutual TLS on every hop ...", flush=True)
        with LocalCluster(work / "tls-cluster", Layout.free()) as cluster:
            found, cpu["tls"] = await cluster_paths(cluster, sorted({min(levels), max(levels)}), args.seconds, work,
                                                    TLS)  # fmt: skip
            results += found
    base = Baselines(encoder, model_p50, model_rate, kept["commit_p50_ms"], cpu)
    figures_of_targets = report(results, base)
    if args.json:
        figures = {"results": [r.__dict__ | {"rate": r.rate} for r in results], "baselines": base.__dict__,
                   "targets": figures_of_targets, "footprint": kept}  # fmt: skip
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(figures, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per path and concurrency")
    parser.add_argument("--concurrency", default="1,8,32,64")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--serve-echo", help=argparse.SUPPRESS)
    parser.add_argument("--upstream", default="", help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=["triton", "router"], help=argparse.SUPPRESS)
    parser.add_argument("--targets", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_echo:
        asyncio.run(serve_echo(args.serve_echo, args.upstream))
        return
    if args.client:
        figures = asyncio.run(client_load(args.client, args.targets.split(","), int(args.concurrency), args.seconds))
        Path(args.json).write_text(json.dumps(figures))
        return
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
