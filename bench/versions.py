"""`make bench-versions`: what a second model version loaded in every zone costs (a canary
or a version under test sits beside the active one: README "Releases").

Starts its own cluster (one etcd, zones a and b, routers a and b) and measures, for each
zone's Triton (tritonserver and its python-backend stub processes, found under its pid):
proportional memory (PSS, from /proc/<pid>/smaps_rollup, so shared pages are not counted
twice) and idle CPU over `--idle-s`, first with the active version alone, then with a second
version loaded beside it, and how long the zones took to load it. The second version is a
copy of the active one's files under the next free version number (the same model, so the
same cost as any trained version of today's base); it is removed afterwards. Then, with both
loaded, the same steady load for `--load-s` on each, to show a turn costs no more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from twinteller.devcluster.load import ConversationLoad
from twinteller.devcluster.local_cluster import PROJECT_ROOT, Layout, LocalCluster
from twinteller.etcd import keys

MODELS = PROJECT_ROOT / "model_repo" / "intent"
TICKS = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """`pid` and its descendants (Triton's python backend runs each model in a stub process)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            queue.extend(int(c) for c in children)
    return found


def pss_mb(pid: int) -> float:
    total = 0
    for member in tree(pid):
        for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total / 1024


def cpu_s(pid: int) -> float:
    spent = 0
    for member in tree(pid):
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        spent += int(fields[11]) + int(fields[12])  # utime, stime
    return spent / TICKS


def measure(cluster: LocalCluster, idle_s: float) -> dict[str, tuple[float, float]]:
    """Zone -> (PSS MB, idle CPU %)."""
    pids = {zone: cluster.triton_pid(zone) for zone in cluster.layout.zones}
    before = {zone: cpu_s(pid) for zone, pid in pids.items()}
    time.sleep(idle_s)
    return {z: (pss_mb(pid), 100 * (cpu_s(pid) - before[z]) / idle_s) for z, pid in pids.items()}


async def load_second(cluster: LocalCluster, timeout_s: float) -> tuple[str, float]:
    """Copy the active version as the next version, have every zone load it; (version, seconds)."""
    store = cluster.store()
    try:
        active = (await store.get(keys.ACTIVE_VERSION)).value.decode()  # type: ignore[union-attr]
        version = str(max(int(p.name) for p in MODELS.iterdir() if p.name.isdigit()) + 1)
        shutil.copytree(MODELS / active, MODELS / version)
        await store.put(keys.model_version(version), json.dumps({"trained_at": time.time(), "report": {}}))
        started = time.monotonic()
        await store.put(keys.LOADED_VERSIONS, json.dumps([active, version]))
        while time.monotonic() - started < timeout_s:
            entries, _ = await store.get_prefix(keys.ZONES)
            if entries and all(version in json.loads(e.value).get("versions", []) for e in entries):
                return version, time.monotonic() - started
            await asyncio.sleep(0.2)
        raise TimeoutError(f"version {version} not loaded in {timeout_s}s")
    finally:
        await store.close()


def steady(cluster: LocalCluster, seconds: float) -> tuple[int, float]:
    routers = [cluster.layout.router_target(z) for z in cluster.layout.routers]
    with ConversationLoad(routers, cluster.tls, workers=2, max_s=seconds + 30) as load:
        time.sleep(seconds)
    answered = [r for r in load.records() if not r.error]
    latencies = sorted(r.latency for r in answered)
    return len(answered), latencies[int(0.99 * (len(latencies) - 1))] * 1000 if latencies else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle-s", type=float, default=10.0)
    parser.add_argument("--load-s", type=float, default=20.0)
    args = parser.parse_args()
    second = ""
    with tempfile.TemporaryDirectory(prefix="bench-versions-") as run_dir:
        cluster = LocalCluster(Path(run_dir), Layout.free(), env={"OTEL_TRACES_EXPORTER": "none"})
        print("starting a cluster (etcd, zones a and b, routers a and b) ...", flush=True)
        try:
            with cluster:
                one = measure(cluster, args.idle_s)
                turns_one, p99_one = steady(cluster, args.load_s)
                second, load_s = asyncio.run(load_second(cluster, 300))
                two = measure(cluster, args.idle_s)
                turns_two, p99_two = steady(cluster, args.load_s)
        finally:
            if second:
                shutil.rmtree(MODELS / second, ignore_errors=True)
    print(f"second version loaded in every zone in {load_s:.1f}s")
    for zone in sorted(one):
        (pss1, cpu1), (pss2, cpu2) = one[zone], two[zone]
        print(f"zone {zone}: Triton PSS {pss1:7.1f} MB -> {pss2:7.1f} MB (+{pss2 - pss1:.1f} MB);"
              f" idle CPU {cpu1:.1f}% -> {cpu2:.1f}%")  # fmt: skip
    print(f"steady load {args.load_s:.0f}s, 2 workers: one version {turns_one} turns p99 {p99_one:.1f} ms;"
          f" two loaded {turns_two} turns p99 {p99_two:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
