"""A whole site lost, or the links between sites cut or degraded, with real network
faults; every call recorded and the history checked (README "Partitions").

`python -m twinteller.devcluster.sites [--scenarios S,S] [--fault-s 20] [--json F]`, as root:

1. creates network namespaces for site a, site b, the witness and `ops` (where this
   driver runs), a veth between every two (twinteller/devcluster/network.py);
2. runs itself inside `ops` (`--inside`): starts the cluster laid out as two sites of two
   etcd members plus a witness, each site's etcd members, zone agent with its Triton, and
   router inside the site's namespace (trainer, insights worker, legacy bot and console in
   site a), with mutual TLS;
3. for each scenario: a client inside each site (twinteller/devcluster/history.py) holds
   conversations through the recommended channel, knowing both sites' routers; after
   `WARMUP_S` the fault, after `fault_s` the repair, then `AFTER_S` more turns; then it
   waits until both routers are back on etcd, reads the record (every turn's stored
   reply, every session's context, the conflicts, both routers' turn logs) and checks the
   history against it;
4. removes the namespaces it created, by name, even on failure; every process it started
   is stopped by pid (and dies with it: PR_SET_PDEATHSIG).

Scenarios (`SCENARIOS`): cut the link a-witness; cut a-b; degrade a-b (delay and loss);
isolate b (cut a-b and b-witness: b's routers lose etcd's quorum, serve from their own
copies, and reconcile when healed); kill every process of site a in one instant, its
turn-log disk lost with it (then site a is started again, empty-handed). Printed per
scenario: calls, acknowledged, refused, lost, changed, duplicated, context backwards,
conflicts reconciled, missing from the turn log; the time until every client was served
again, the failed calls, and p50/p99 latency before and during the fault.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from twinteller.config import RouterConfig
from twinteller.devcluster import history
from twinteller.devcluster.local_cluster import PROJECT_ROOT, WITNESS, Layout, LocalCluster
from twinteller.devcluster.network import OPS, SiteNetwork
from twinteller.etcd import keys
from twinteller.etcd.store import Entry, Store
from twinteller.v1 import assistant_pb2 as pb

WARMUP_S = 5.0  # turns before the fault: the baseline
AFTER_S = 8.0  # turns after the repair
SLOW_S = 1.0  # a call slower than this is counted as slow
SITES = ("a", "b")
RECONCILED = "RECONCILED"  # a turn-log row's action for a merged conflict (router/observability/turn_log.py)
SCENARIOS = ("cut-a-witness", "cut-a-b", "degrade-a-b", "isolate-b", "kill-site-a")


@dataclass
class Outcome:
    scenario: str
    fault: str
    verdict: dict[str, object]
    failed_calls: int  # calls that did not get a reply (each was resent)
    served_again_s: float  # from the fault to the end of the last failed call (0: none failed)
    slow_calls: int  # answered, but slower than SLOW_S
    p50_before_ms: float
    p99_before_ms: float
    p50_during_ms: float
    p99_during_ms: float
    max_during_ms: float  # the longest a customer waited for a reply in the fault
    reconciled_in_log: int  # conflicts recorded in the turn logs (each also has a record in etcd)
    notes: list[str] = field(default_factory=list)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class SiteFaults:
    """The cluster in its namespaces, and what each scenario does to it."""

    def __init__(self, net: SiteNetwork, run_dir: Path, fault_s: float) -> None:
        self.net = net
        self.run_dir = run_dir
        self.fault_s = fault_s
        layout = Layout.free(5, hosts=net.hosts())
        places = {site: net.exec_prefix(site) for site in (*SITES, WITNESS)}
        self.cluster = LocalCluster(run_dir, layout, die_with_parent=True, places=places)

    def scenarios(self) -> dict[str, tuple[Callable[[], str], Callable[[], None]]]:
        """name -> (inject the fault, returning what was done; repair it)."""
        net, cluster = self.net, self.cluster

        def cut(*links: tuple[str, str]) -> tuple[Callable[[], str], Callable[[], None]]:
            def inject() -> str:
                for x, y in links:
                    net.cut(x, y)
                return "cut " + ", ".join(f"{x}-{y}" for x, y in links)

            def repair() -> None:
                for x, y in links:
                    net.heal(x, y)

            return inject, repair

        def kill_site_a() -> str:
            names = cluster.kill_site("a")
            # The site's disks are lost with it: router a's turn log is gone.
            for path in self.run_dir.glob("turns-router-a.sqlite3*"):
                path.unlink()
            return "killed " + ", ".join(names)

        return {
            "cut-a-witness": cut(("a", WITNESS)),
            "cut-a-b": cut(("a", "b")),
            "degrade-a-b": (lambda: "degraded a-b: " + net.degrade("a", "b"), lambda: net.heal("a", "b")),
            "isolate-b": cut(("a", "b"), ("b", WITNESS)),
            "kill-site-a": (kill_site_a, cluster.heal),
        }

    def run(self, name: str) -> Outcome:
        inject, repair = self.scenarios()[name]
        outs = {site: self.run_dir / f"history-{name}-{site}.jsonl" for site in SITES}
        duration = WARMUP_S + self.fault_s + AFTER_S
        clients = [self._client(site, f"{name}-{site}", duration, outs[site]) for site in SITES]
        try:
            time.sleep(WARMUP_S)
            fault_at = time.time()
            fault = inject()
            time.sleep(self.fault_s)
            repaired_at = time.time()
            repair()
            for process in clients:
                process.wait(timeout=duration + 120)
        finally:
            for process in clients:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        self._wait_back_on_etcd()
        calls = [c for site in SITES for c in history.read(outs[site])]
        return self._outcome(name, fault, calls, fault_at, repaired_at)

    def _client(self, site: str, name: str, duration: float, out: Path) -> subprocess.Popen[bytes]:
        routers = ",".join(self.cluster.layout.router_target(z) for z in SITES)
        argv = [sys.executable, "-m", "twinteller.devcluster.history", "--routers", routers, "--name", name]
        argv += ["--out", str(out), "--duration-s", str(duration), "--tls-dir", str(self.run_dir / "tls")]
        log = (self.run_dir / f"{name}.log").open("ab")
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        process = subprocess.Popen([*self.net.exec_prefix(site), *argv], stdout=log, stderr=log, env=env)
        log.close()
        return process

    def _wait_back_on_etcd(self, timeout: float = 60.0) -> None:
        """Both routers serving and back on etcd (their degraded turns written back), and
        the turn logs flushed."""
        deadline = time.monotonic() + timeout
        for zone in SITES:
            self.cluster.wait_router_serving(zone, deadline - time.monotonic())
            self.cluster.wait_router_serving(zone, deadline - time.monotonic(), service="twinteller.store")
        time.sleep(3.0)  # write-back rounds (0.5 s) and turn-log flushes (0.5 s)

    def _record(self, prefix: str) -> tuple[dict[tuple[str, str], str | None], dict[str, list[str]], int]:
        async def read(store: Store) -> tuple[list[Entry], list[Entry], list[Entry]]:
            turns, _ = await store.get_prefix(f"{keys.TURNS}{prefix}")
            sessions, _ = await store.get_prefix(f"{keys.SESSIONS}{prefix}")
            conflicts, _ = await store.get_prefix(f"{keys.CONFLICTS}{prefix}")
            return turns, sessions, conflicts

        nothing: tuple[list[Entry], list[Entry], list[Entry]] = ([], [], [])
        turns, sessions, conflicts = self.cluster._read(read, nothing)
        replies: dict[tuple[str, str], str | None] = {}
        for entry in turns:
            session_id, _, turn_id = entry.key[len(keys.TURNS) :].rpartition("/")
            replies[(session_id, turn_id)] = pb.ConverseResponse.FromString(entry.value).reply
        contexts = {}
        for entry in sessions:
            context = json.loads(entry.value)
            contexts[entry.key[len(keys.SESSIONS) :]] = [t["turn_id"] for t in context["turns"]]
        return replies, contexts, len(conflicts)

    def _logged(self, prefix: str) -> tuple[set[tuple[str, str]], int]:
        """(session, turn) of every row in either router's turn log (each site's disk), and
        how many distinct conflicts they record (RECONCILED rows, copies counted once)."""
        logged: set[tuple[str, str]] = set()
        reconciled: set[tuple[str, str, str, float]] = set()
        query = "SELECT router, session_id, turn_id, at, action FROM turns WHERE session_id LIKE ?"
        for path in self.run_dir.glob("turns-router-*.sqlite3"):
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                for router, session_id, turn_id, at, action in db.execute(query, (prefix + "%",)):
                    if action == RECONCILED:
                        reconciled.add((router, session_id, turn_id, at))
                    else:
                        logged.add((session_id, turn_id))
        return logged, len(reconciled)

    def _outcome(
        self, name: str, fault: str, calls: list[history.Call], fault_at: float, repaired_at: float
    ) -> Outcome:
        replies, contexts, conflicts = self._record(f"{name}-")
        logged, reconciled_in_log = self._logged(f"{name}-")
        history_turns = RouterConfig().history_turns  # the routers run with the default
        verdict = history.check(
            calls, replies, contexts, history_turns=history_turns, logged=logged, conflicts=conflicts
        )
        before = [c.ended - c.started for c in calls if c.ok and c.started < fault_at]
        during = [c.ended - c.started for c in calls if c.ok and fault_at <= c.started < repaired_at]
        failed = [c for c in calls if not c.ok and c.ended >= fault_at]
        served_again = max((c.ended - fault_at for c in failed), default=0.0)
        return Outcome(
            name,
            fault,
            verdict.to_json(),
            sum(1 for c in calls if not c.ok),
            round(served_again, 3),
            sum(1 for c in calls if c.ok and c.ended - c.started > SLOW_S),
            round(_percentile(before, 0.5) * 1000, 1),
            round(_percentile(before, 0.99) * 1000, 1),
            round(_percentile(during, 0.5) * 1000, 1),
            round(_percentile(during, 0.99) * 1000, 1),
            round(max(during, default=float("nan")) * 1000, 1),
            reconciled_in_log,
        )


def inside(scenarios: list[str], fault_s: float, run_dir: Path, prefix: str, out: Path) -> None:
    net = SiteNetwork(prefix)  # created by the outer process; used here by name
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the cluster on the way out
    faults = SiteFaults(net, run_dir, fault_s)
    outcomes: list[Outcome] = []
    faults.cluster.start()
    try:
        for name in scenarios:
            outcomes.append(faults.run(name))
            out.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    finally:
        faults.cluster.stop()


def run(scenarios: list[str], fault_s: float, timeout_s: float, keep: Path | None = None) -> list[dict[str, object]]:
    """Create the namespaces, run the scenarios inside `ops`, remove the namespaces."""
    unknown = sorted(set(scenarios) - set(SCENARIOS))
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}: choose from {', '.join(SCENARIOS)}")
    prefix = f"tt{os.getpid() % 100000}"
    with tempfile.TemporaryDirectory(prefix="twinteller-sites-") as tmp:
        run_dir = keep or Path(tmp)
        out = run_dir / "outcomes.json"
        with SiteNetwork(prefix) as net:
            argv = [sys.executable, "-m", "twinteller.devcluster.sites", "--inside", "--prefix", prefix]
            argv += ["--scenarios", ",".join(scenarios), "--fault-s", str(fault_s), "--run-dir", str(run_dir)]
            argv += ["--json", str(out)]
            env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
            child = subprocess.Popen([*net.exec_prefix(OPS), "setpriv", "--pdeathsig", "TERM", "--", *argv], env=env)
            try:
                child.wait(timeout=timeout_s)
            finally:
                if child.poll() is None:
                    child.terminate()  # it stops the cluster on SIGTERM
                    try:
                        child.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        child.kill()
                        child.wait()
        if child.returncode != 0:
            raise RuntimeError(f"the site scenarios failed (exit {child.returncode}); logs in {run_dir}")
        return list(json.loads(out.read_text()))


def report(outcomes: list[dict[str, object]]) -> str:
    lines = []
    for o in outcomes:
        v = o["verdict"]
        assert isinstance(v, dict)
        lines.append(f"{o['scenario']}: {o['fault']}")
        lines.append(
            f"  calls {v['calls']}, acknowledged {v['acknowledged']}, refused {v['refused']} "
            f"(not retryable {v['refused_not_retryable']}), abandoned {v['abandoned']}; lost {v['lost']}, "
            f"changed {v['changed']}, duplicated {v['duplicated']}, context backwards {v['backwards']}, "
            f"conflicts reconciled {v['conflicts_reconciled']}, missing from the turn log {v['missing_from_log']}"
        )
        lines.append(
            f"  failed calls {o['failed_calls']} (the last ended {o['served_again_s']} s after the fault), "
            f"slower than {SLOW_S:.0f} s {o['slow_calls']}; latency p50/p99 before "
            f"{o['p50_before_ms']}/{o['p99_before_ms']} ms, during {o['p50_during_ms']}/{o['p99_during_ms']} ms "
            f"(longest {o['max_during_ms']} ms)"
        )
        for example in v.get("examples", []) or []:
            lines.append(f"    {example}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m twinteller.devcluster.sites", description=__doc__)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="some of: " + ", ".join(SCENARIOS))
    parser.add_argument("--fault-s", type=float, default=20.0)
    parser.add_argument("--timeout-s", type=float, default=1500.0)
    parser.add_argument("--json", type=Path, help="write the outcomes here")
    parser.add_argument("--keep", type=Path, help="run directory to keep (logs, histories)")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    scenarios = [s for s in args.scenarios.split(",") if s]
    if args.inside:
        inside(scenarios, args.fault_s, args.run_dir, args.prefix, args.json)
        return
    outcomes = run(scenarios, args.fault_s, args.timeout_s, args.keep)
    print(report(outcomes))
    if args.json:
        args.json.write_text(json.dumps(outcomes, indent=1))


if __name__ == "__main__":
    main()
