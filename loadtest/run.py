"""`make loadtest`: a bounded, headless Locust run (loadtest/locustfile.py) against the local
cluster, with CSV and HTML reports and thresholds that fail the run.

    python -m loadtest.run                          # starts its own cluster on free ports
    python -m loadtest.run --kill-zone-at 20        # ... and SIGKILLs zone a's Triton 20 s in
    python -m loadtest.run --target 127.0.0.1:50051,127.0.0.1:50052   # a running cluster

Reports go to `--out` (run/loadtest): report_stats.csv, report_stats_history.csv,
report_failures.csv, report_exceptions.csv and report.html. The exit status is Locust's:
0 when the failure ratio and p99 met `--max-fail-ratio` and `--max-p99-ms`, else 1.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from twinteller.devcluster.local_cluster import PROJECT_ROOT, Layout, LocalCluster

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def command(args: argparse.Namespace, target: str) -> list[str]:
    args.out.mkdir(parents=True, exist_ok=True)
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.run_time}s",
        "--stop-timeout",
        "10",
        "--host",
        target,
        "--csv",
        str(args.out / "report"),
        "--csv-full-history",
        "--html",
        str(args.out / "report.html"),
        "--only-summary",
        "--max-fail-ratio",
        str(args.max_fail_ratio),
        "--max-p99-ms",
        str(args.max_p99_ms),
        "--think-min",
        str(args.think_min),
        "--think-max",
        str(args.think_max),
    ]


def summary(out: Path) -> str:
    """One line per request kind from Locust's CSV: count, failures, p50, p99, rate."""
    lines = []
    with (out / "report_stats.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            lines.append(
                f"{row['Name']:22} {int(row['Request Count']):7} requests {int(row['Failure Count']):5} failed"
                f"  p50 {row['50%']:>6} ms  p99 {row['99%']:>6} ms  {float(row['Requests/s']):7.1f}/s"
            )
    return "\n".join(lines)


def run(args: argparse.Namespace, target: str, cluster: LocalCluster | None) -> int:
    # The users call as the local cluster's client; against --target, with TWINTELLER_TLS_*.
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **(cluster.environment("client") if cluster else {})}
    locust = subprocess.Popen(command(args, target), env=env, cwd=PROJECT_ROOT)
    killer = None
    if cluster is not None and args.kill_zone_at:

        def kill_zone() -> None:
            pid = cluster.triton_pid("a")
            print(f"loadtest: SIGKILL zone a's tritonserver (pid {pid}) {args.kill_zone_at}s in", flush=True)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

        killer = threading.Timer(args.kill_zone_at, kill_zone)
        killer.start()
    try:
        code = locust.wait(timeout=args.run_time + 60)
    except subprocess.TimeoutExpired:
        locust.kill()
        code = locust.wait()
    finally:
        if killer is not None:
            killer.cancel()
    print(summary(args.out))
    print(f"reports in {args.out}; {'PASSED' if code == 0 else 'FAILED'} (exit {code})", flush=True)
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", help="routers host:port,...; default: start a local cluster")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=5.0)
    parser.add_argument("--run-time", type=int, default=60, help="seconds")
    parser.add_argument("--kill-zone-at", type=float, default=0.0, help="SIGKILL zone a's Triton after this many s")
    parser.add_argument("--max-fail-ratio", type=float, default=0.0)
    parser.add_argument("--max-p99-ms", type=float, default=2000.0)
    parser.add_argument("--think-min", type=float, default=0.5)
    parser.add_argument("--think-max", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "run" / "loadtest")
    args = parser.parse_args()
    if args.target:
        if args.kill_zone_at:
            raise SystemExit("--kill-zone-at needs the cluster this command starts (no --target)")
        raise SystemExit(run(args, args.target, None))
    with tempfile.TemporaryDirectory(prefix="twinteller-loadtest-") as run_dir:
        layout = Layout.free()
        print(f"loadtest: starting a local cluster (logs in {run_dir})", flush=True)
        with LocalCluster(Path(run_dir), layout) as cluster:
            routers = ",".join(layout.router_target(z) for z in layout.routers)
            code = run(args, routers, cluster)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
