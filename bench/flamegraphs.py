"""`make bench-profile`: where the routers', the insights worker's and the zones' CPU goes
per turn, sampled with py-spy under load.

Starts a plaintext local cluster (as `make bench` does), drives turns through both routers
at one concurrency from load-client processes, and meanwhile records each Python process
of the turn path with py-spy (`--nonblocking`, so the sampled process is never paused;
`--subprocesses` for a zone, whose model runs in Triton's Python-backend stub). It writes
one flame graph per process (SVG, open it in a browser) and its collapsed stacks (.txt),
and prints, per process, its CPU
per turn and the functions that hold most of its samples ("self": on the stack's top;
"total": anywhere on it).

    python -m bench.flamegraphs [--seconds 20] [--concurrency 64] [--out docs/profiles]

Needs ptrace rights over the cluster's processes (root here, or
kernel.yama.ptrace_scope=0).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.performance import cpu_seconds, from_clients
from twinteller.devcluster.local_cluster import PROJECT_ROOT, Layout, LocalCluster
from twinteller.tls import PLAINTEXT_ENV

PROFILED = ("router-a", "router-b", "insights", "zone-a")
TOP = 12


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not found:
        raise SystemExit("py-spy is not installed: pip install -r requirements.txt")
    return found


async def record(pid: int, seconds: float, out: Path, fmt: str, subprocesses: bool) -> None:
    argv = [py_spy(), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "100",
            "--nonblocking", "--format", fmt, "--output", str(out)]  # fmt: skip
    if subprocesses:
        argv.append("--subprocesses")
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()
    if process.returncode != 0:
        print(f"py-spy on pid {pid}: {err.decode(errors='replace').strip()[-400:]}", file=sys.stderr)


def hot_functions(raw: Path) -> tuple[int, Counter[str], Counter[str]]:
    """From py-spy's collapsed stacks ("frame;frame;... count"): all samples, samples per
    top frame, samples per frame anywhere on the stack (once per stack)."""
    total, own, anywhere = 0, Counter[str](), Counter[str]()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f.split(" (")[0] + " (" + f.rsplit("/", 1)[-1] if "/" in f else f for f in stack.split(";")]
        n = int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            anywhere[frame] += n
    return total, own, anywhere


async def profile(args: argparse.Namespace) -> None:
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="twinteller-profile-") as tmp:
        work = Path(tmp)
        with LocalCluster(work / "cluster", Layout.free(), plaintext=True) as cluster:
            layout = cluster.layout
            routers = [layout.router_target(z) for z in ("a", "b")]
            env = {PLAINTEXT_ENV: "1"}
            print("warming up ...", flush=True)
            await from_clients("warm-up", "router", routers, args.concurrency, 3, work, env)
            pids = {name: cluster.processes[name].pid for name in PROFILED}
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            # Two recordings in turn, one py-spy per process at a time (each costs CPU): the
            # collapsed stacks summarised below, then the flame graphs. The load covers both.
            load = asyncio.create_task(
                from_clients("profiled", "router", routers, args.concurrency, 2 * args.seconds + 6, work, env)
            )
            await asyncio.sleep(3)
            for fmt, suffix in (("raw", "txt"), ("flamegraph", "svg")):
                await asyncio.gather(*(record(pid, args.seconds, out / f"{name}.{suffix}", fmt, name.startswith("zone"))
                                       for name, pid in pids.items()))  # fmt: skip
            result, calls = await load
            spent = {name: 1000 * (cpu_seconds(pid) - before[name]) / calls for name, pid in pids.items()}
    errors = dict(result.errors) or "none"
    print(f"\n{result.count} turns measured at concurrency {args.concurrency}: {result.rate:.1f} /s, "
          f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms; errors {errors}")  # fmt: skip
    for name in PROFILED:
        raw = out / f"{name}.txt"
        print(f"\n== {name}: {spent[name]:.2f} ms CPU per turn; flame graph {out / (name + '.svg')}")
        if not raw.exists():
            continue
        total, own, anywhere = hot_functions(raw)
        print(f"   {'self %':>7} {'total %':>8}  function")
        for frame, n in own.most_common(TOP):
            print(f"   {100 * n / total:7.1f} {100 * anywhere[frame] / total:8.1f}  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="recorded seconds")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--out", default=str(PROJECT_ROOT / "docs" / "profiles"), help="where the flame graphs go")
    args = parser.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    asyncio.run(profile(args))


if __name__ == "__main__":
    main()
