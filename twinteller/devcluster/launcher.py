"""`make run`: the local cluster (twinteller/devcluster/local_cluster.py) for a person to
try, until Ctrl-C.

    twinteller cluster [--ha] [--plaintext]   # make run [HA=1] [PLAINTEXT=1]
    twinteller cluster kill-site a            # make kill-site SITE=a: site a's processes at once
    twinteller cluster kill router-a          # make kill NAME=router-a: one process
    twinteller cluster heal                   # make heal: start what is down, wait until it serves

- A process that exits is reported, and the rest keep running (watch the other site take
  the traffic); `heal` brings it back.
- `kill-site`, `kill` and `heal` are requests to the running launcher, written as files
  under `RUN_DIR/requests/` and answered there; the launcher started every process and
  holds their pids, so it is the one that signals them (never by pattern).
- `--ha` lays the cluster out as two sites plus a witness: etcd members 1-2 in site a,
  3-4 in site b, 5 the witness; losing either site keeps etcd's quorum.
- Stopping: the first Ctrl-C or SIGTERM stops everything gracefully (routers drain first);
  a second one stops what is left at once (SIGKILL), still by pid and still reaping every
  process. If the launcher itself is killed outright, the kernel sends every process it
  started SIGTERM (LocalCluster `die_with_parent`), so nothing keeps its ports.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import time
from pathlib import Path

from twinteller.devcluster.local_cluster import (
    LOCAL_ADMIN_TOKEN,
    ONE_MEMBER,
    PROJECT_ROOT,
    SITES_AND_WITNESS,
    Layout,
    LocalCluster,
)

REQUESTS = "requests"
ANSWER_TIMEOUT_S = 240.0  # a heal waits for Tritons to load


class Interrupted(BaseException):
    """The first Ctrl-C or SIGTERM (a BaseException, like KeyboardInterrupt: no handler of
    errors swallows it)."""


def serve_request(cluster: LocalCluster, action: str, target: str) -> str:
    """Carry out one request; what to tell the person."""
    if action == "kill-site":
        names = cluster.kill_site(target)
        return f"killed site {target}: {', '.join(names) or 'nothing was running there'}"
    if action == "kill":
        if target not in cluster.processes:
            return f"no running process {target!r}; running: {', '.join(sorted(cluster.processes))}"
        cluster.kill(target)
        return f"killed {target}"
    if action == "heal":
        before = set(cluster.processes)
        cluster.heal()
        started = sorted(set(cluster.processes) - before)
        return f"healed: started {', '.join(started) or 'nothing'}; every zone registered, every router SERVING"
    return f"unknown request {action!r}"


def _pending(run_dir: Path) -> list[Path]:
    folder = run_dir / REQUESTS
    return sorted(folder.glob("*.request")) if folder.exists() else []


def answer_requests(cluster: LocalCluster) -> None:
    for path in _pending(cluster.run_dir):
        request = json.loads(path.read_text(encoding="utf-8"))
        try:
            message = serve_request(cluster, request["action"], request.get("target", ""))
        except Exception as e:  # a heal that timed out: say so, keep running
            message = f"{request['action']} failed: {e}"
        print(message, flush=True)
        path.with_suffix(".answer").write_text(message, encoding="utf-8")
        path.unlink()


def ask(run_dir: Path, action: str, target: str) -> None:
    """Send a request to the launcher running in `run_dir` and print its answer."""
    folder = run_dir / REQUESTS
    if not folder.exists():
        raise SystemExit(f"no launcher is running in {run_dir} (start it with `make run`)")
    path = folder / f"{time.time_ns()}.request"
    path.with_suffix(".tmp").write_text(json.dumps({"action": action, "target": target}), encoding="utf-8")
    path.with_suffix(".tmp").rename(path)  # whole, or not at all
    answer = path.with_suffix(".answer")
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    while not answer.exists():
        if time.monotonic() > deadline:
            path.unlink(missing_ok=True)
            raise SystemExit(f"the launcher in {run_dir} did not answer within {ANSWER_TIMEOUT_S:.0f}s")
        time.sleep(0.2)
    print(answer.read_text(encoding="utf-8"))
    answer.unlink()


def _print_endpoints(cluster: LocalCluster) -> None:
    layout = cluster.layout
    zones = ", ".join(f"{z}=127.0.0.1:{p.grpc}" for z, p in layout.zones.items())
    sites = ", ".join(f"{m.name} ({m.site})" for m in layout.etcd_members)
    print(f"etcd         {layout.etcd}  sites: {sites}")
    print(f"triton zones {zones}")
    for zone in layout.routers:
        print(f"router {zone}     {layout.router_target(zone)}  (Assistant, Knowledge, grpc.health.v1, reflection)")
        print(f"             metrics {layout.metrics_url(zone)}")
    print(f"console      {layout.console_url}  (sign in with the admin token)")
    print(f"legacy bot   {layout.legacy_address('a')}, {layout.legacy_address('b')}  (reference regex bot)")
    print(f"admin token  {LOCAL_ADMIN_TOKEN}  (twinteller admin --help)")
    if cluster.certificates is not None:
        client = " ".join(f"{k}={v}" for k, v in cluster.environment("client").items())
        print(f"TLS          mutual TLS on every hop; CA and certificates in {cluster.certificates.directory}")
        print(f"             callers need a client certificate: export {client}")
    health = ", ".join(f"router {z} {cluster.router_health(z)}" for z in layout.routers)
    print(f"health: {health}; zones registered {sorted(cluster.registered_zones())}")


def run(run_dir: Path, layout: Layout, plaintext: bool) -> None:
    cluster = LocalCluster(run_dir, layout, plaintext=plaintext, die_with_parent=True)

    def second(*_: object) -> None:
        print("\nstopping at once (SIGKILL to what is left) ...", flush=True)
        cluster.hurry = True

    def first(*_: object) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):  # before anything stops: a second one hurries
            signal.signal(sig, second)
        raise Interrupted

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, first)
    members = len(layout.etcd_members)
    print(f"starting etcd ({members} member(s)), Triton zones a and b, routers a and b (logs in {run_dir})")
    try:
        cluster.start()
        (run_dir / REQUESTS).mkdir(exist_ok=True)
        for stale in (run_dir / REQUESTS).iterdir():  # from a launcher before this one
            stale.unlink()
        _print_endpoints(cluster)
        print("ready: try `make chat`; `make kill-site SITE=a`, `make heal`; Ctrl-C stops everything", flush=True)
        reported: set[int] = set()
        while True:
            for name, process in sorted(cluster.processes.items()):
                if process.poll() is not None and process.pid not in reported:
                    reported.add(process.pid)
                    print(f"{name} exited ({process.returncode}); the rest keep running; `make heal` restarts it",
                          flush=True)  # fmt: skip
            answer_requests(cluster)
            time.sleep(0.5)
    except Interrupted:
        print("\nstopping ... (Ctrl-C again: at once)", flush=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, second)
        cluster.stop()
        shutil.rmtree(run_dir / REQUESTS, ignore_errors=True)  # no launcher answers any more
        print("stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="twinteller cluster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("action", nargs="?", default="run", choices=("run", "kill-site", "kill", "heal"))
    parser.add_argument("target", nargs="?", default="", help="kill-site: a or b (or witness); kill: a process name")
    parser.add_argument("--run-dir", type=Path, default=PROJECT_ROOT / "run")
    parser.add_argument("--ha", action="store_true", help="two sites plus a witness: five etcd members")
    parser.add_argument("--plaintext", action="store_true", help="no TLS anywhere: development only")
    parser.add_argument("--free-ports", action="store_true", help="free ports instead of the documented ones")
    args = parser.parse_args(argv)
    if args.action != "run":
        if args.action != "heal" and not args.target:
            parser.error(f"{args.action} needs a target")
        ask(args.run_dir, args.action, args.target)
        return
    members = SITES_AND_WITNESS if args.ha else ONE_MEMBER
    layout = Layout.free(len(members)) if args.free_ports else Layout(members)
    run(args.run_dir, layout, args.plaintext)


if __name__ == "__main__":
    main()
