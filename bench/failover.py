"""`make bench-failover`: failover of scenarios 1-3 of the chaos suite, measured.

Starts its own HA cluster (three etcd members, two zones, two routers) on free ports,
measures a baseline under the same steady load, then runs each scenario `--runs` times:

- kill-zone:   SIGKILL zone a's Triton (its agent restarts it; we wait for it to rejoin);
- hang-zone:   SIGSTOP zone a's Triton for `--hang-s` seconds, then SIGCONT;
- kill-leader: SIGKILL the leader router (then start it again).

Then, with `--site-runs` (default 1; 0: none) and as root, the site scenarios of
twinteller/devcluster/sites.py on a cluster of its own laid out as two sites plus a witness
in network namespaces: a site killed outright, links between sites cut for `--fault-s`
or degraded, site b isolated. For each: failed calls and when the last one ended, calls
slower than 1 s, latency before and during the fault (p50, p99, longest), and the history
check (lost, changed, duplicated acknowledged turns; conflicts reconciled).

For each process scenario it prints the failover time, from the fault to the end of the last turn that
still tried the faulty zone (kill-leader: the last turn the client had to resend to the
other router; and the new leader's takeover), as median and max over the runs; the failed
turns; and the latency of the turns that were rerouted (another zone, or a client resend)
as p50/p99 and as a ratio to the baseline's p50/p99. The fault is injected at a known
instant, so "from the fault" bounds "from the first affected turn" from above.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from twinteller.devcluster import sites
from twinteller.devcluster.load import ConversationLoad, TurnRecord
from twinteller.devcluster.local_cluster import Layout, LocalCluster


@dataclass
class Scenario:
    name: str
    target_s: float
    failover_s: list[float] = field(default_factory=list)
    takeover_s: list[float] = field(default_factory=list)
    failed: int = 0
    turns: int = 0
    rerouted: list[float] = field(default_factory=list)  # their latencies
    after: list[str] = field(default_factory=list)  # attempts of turns rerouted once the fault ended


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(0.02)
    raise TimeoutError(what)


def tried(record: TurnRecord, zone: str) -> bool:
    return any(a.startswith(zone + ":") for a in record.attempts)


class Bench:
    def __init__(self, cluster: LocalCluster, workers: int, interval_s: float) -> None:
        self.cluster = cluster
        self.routers = [cluster.layout.router_target(z) for z in cluster.layout.routers]
        self.workers = workers
        self.interval = interval_s

    def load(self, retry: bool) -> ConversationLoad:
        return ConversationLoad(
            self.routers, self.cluster.tls, workers=self.workers, interval_s=self.interval, retry=retry, max_s=120
        )

    def baseline(self, seconds: float) -> list[float]:
        with self.load(retry=False) as load:
            time.sleep(seconds)
        return [r.latency for r in load.records() if not r.error]

    def _zone_fault(self, result: Scenario, fault: Callable[[], float | None]) -> None:
        """`fault()` breaks zone a and returns when it ended (None: when zone a is back)."""
        with self.load(retry=False) as load:
            load.wait_turns(30)
            faulted = time.monotonic()
            ended = fault()
            back = wait_until(lambda: "a" in self.cluster.registered_zones(), 120, "zone a back")
            time.sleep(0.5)
        records = load.records()
        # The turns of the fault itself; what a recovering zone does is not failover.
        window = [r for r in records if r.ended > faulted and r.started < (ended or back)]
        touched = [r.ended for r in window if tried(r, "a") and r.zone != "a"]
        result.failover_s.append(max(touched) - faulted if touched else 0.0)
        result.rerouted += [r.latency for r in window if r.rerouted and not r.error]
        result.failed += sum(1 for r in records if r.error)
        result.turns += len(records)
        result.after += [",".join(r.attempts) for r in records if r.started >= (ended or back) and r.rerouted]

    def kill_zone(self, result: Scenario) -> None:
        def fault() -> None:  # over when zone a registers again, restarted by its agent
            os.kill(self.cluster.triton_pid("a"), signal.SIGKILL)
            wait_until(lambda: "a" not in self.cluster.registered_zones(), 10, "zone a gone")

        self._zone_fault(result, fault)

    def hang_zone(self, result: Scenario, hang_s: float) -> None:
        pid = self.cluster.triton_pid("a")

        def fault() -> float:
            os.kill(pid, signal.SIGSTOP)
            try:
                time.sleep(hang_s)
            finally:
                os.kill(pid, signal.SIGCONT)
            return time.monotonic()

        self._zone_fault(result, fault)

    def kill_leader(self, result: Scenario) -> None:
        leader = self.cluster.router_leader()
        with self.load(retry=True) as load:
            load.wait_turns(30)
            self.cluster.kill(leader)
            killed = time.monotonic()
            new = wait_until(lambda: self.cluster.router_leader() not in ("", leader), 15, "new leader")
            load.wait_turns(len(load.records()) + 30)
        records = load.records()
        resent = [r for r in records if r.client_attempt > 1]
        result.takeover_s.append(new - killed)
        result.failover_s.append(max((r.ended for r in resent), default=killed) - killed)
        result.rerouted += [r.latency for r in resent if not r.error]
        result.failed += sum(1 for r in records if r.error)
        result.turns += len(records)


def report(result: Scenario, base: list[float]) -> None:
    p50, p99 = percentile(base, 0.5), percentile(base, 0.99)
    fo = result.failover_s
    print(f"{result.name}  ({len(fo)} runs, {result.turns} turns)")
    print(
        f"  failover      median {statistics.median(fo):.3f}s  max {max(fo):.3f}s"
        f"  (target median <= {result.target_s:.0f}s)"
    )
    if result.takeover_s:
        tk = result.takeover_s
        print(f"  new leader    median {statistics.median(tk):.3f}s  max {max(tk):.3f}s  (target <= 3s)")
    print(f"  failed turns  {result.failed}  (target 0)")
    r50, r99 = percentile(result.rerouted, 0.5), percentile(result.rerouted, 0.99)
    if result.after:
        print(f"  after the fault: {len(result.after)} turns still rerouted ({', '.join(sorted(set(result.after)))})")
    print(
        f"  rerouted      {len(result.rerouted)} turns  p50 {r50 * 1000:.0f}ms ({r50 / p50:.1f}x baseline)"
        f"  p99 {r99 * 1000:.0f}ms ({r99 / p99:.1f}x baseline)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hang-s", type=float, default=10.0, help="how long zone a stays SIGSTOPped")
    parser.add_argument("--workers", type=int, default=4, help="concurrent conversations")
    parser.add_argument("--interval", type=float, default=0.05, help="pause between a worker's turns (s)")
    parser.add_argument("--baseline-s", type=float, default=10.0)
    parser.add_argument("--scenarios", default="kill-zone,hang-zone,kill-leader")
    parser.add_argument("--site-runs", type=int, default=1, help="runs of the site scenarios (0: none)")
    parser.add_argument("--site-scenarios", default=",".join(sites.SCENARIOS))
    parser.add_argument("--fault-s", type=float, default=20.0, help="how long a site fault lasts")
    args = parser.parse_args()

    scenarios = [s for s in args.scenarios.split(",") if s]
    if scenarios:
        bench_processes(args, scenarios)
    bench_sites(args.site_runs, [s for s in args.site_scenarios.split(",") if s], args.fault_s)


def bench_processes(args: argparse.Namespace, scenarios: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-failover-") as run_dir:
        cluster = LocalCluster(Path(run_dir), Layout.free(etcd_members=3), env={"OTEL_TRACES_EXPORTER": "none"})
        print("starting the HA cluster (3 etcd members, zones a and b, routers a and b) ...", flush=True)
        with cluster:
            cluster.heal()
            bench = Bench(cluster, args.workers, args.interval)
            base = bench.baseline(args.baseline_s)
            print(
                f"baseline: {len(base)} turns in {args.baseline_s:.0f}s, {args.workers} workers;"
                f" p50 {percentile(base, 0.5) * 1000:.1f}ms  p99 {percentile(base, 0.99) * 1000:.1f}ms\n",
                flush=True,
            )
            runners: dict[str, tuple[float, Callable[[Scenario], None]]] = {
                "kill-zone": (1.0, bench.kill_zone),
                "hang-zone": (2.0, lambda r: bench.hang_zone(r, args.hang_s)),
                "kill-leader": (3.0, bench.kill_leader),
            }
            for name in scenarios:
                target, run = runners[name]
                result = Scenario(name, target)
                for _ in range(args.runs):
                    run(result)
                    cluster.heal()
                report(result, base)
                print(flush=True)


def bench_sites(runs: int, scenarios: list[str], fault_s: float) -> None:
    if runs and os.geteuid() != 0:
        print("site scenarios skipped: network namespaces need root")
        return
    for run in range(1, runs + 1):
        print(f"site scenarios, run {run} of {runs} (two sites and a witness in network namespaces) ...", flush=True)
        print(sites.report(sites.run(scenarios, fault_s, timeout_s=3600.0)), flush=True)


if __name__ == "__main__":
    main()
