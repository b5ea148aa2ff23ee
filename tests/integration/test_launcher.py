"""`make run`'s launcher (twinteller/devcluster/launcher.py) as a person uses it, on free
ports: a whole site killed on request while the other keeps answering, then healed; a
second SIGTERM during the shutdown stops faster and still leaves nothing running; and the
launcher killed outright takes every process it started with it. Each launcher is its own
cluster (two sites and a witness, plaintext to start faster); every pid it started is
read from /proc and checked gone."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.helpers.command import TWINTELLER
from twinteller.devcluster.local_cluster import PROJECT_ROOT
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

pytestmark = pytest.mark.integration


class Launcher:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.output = run_dir / "launcher.out"
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [TWINTELLER, "cluster", "--ha", "--plaintext", "--free-ports", "--run-dir", str(run_dir)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=PROJECT_ROOT,
            )  # fmt: skip
        deadline = time.monotonic() + 240
        while "ready:" not in self.text():
            assert self.process.poll() is None and time.monotonic() < deadline, self.text()
            time.sleep(1)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def router(self, zone: str) -> str:
        line = next(line for line in self.text().splitlines() if line.startswith(f"router {zone} "))
        return line.split()[2]

    def started(self) -> list[int]:
        """Every process the launcher started (its children), and the Tritons their agents started."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        tritons = [(self.run_dir / f"triton-{z}.pid").read_text().strip() for z in ("a", "b")]
        return [int(p) for p in children + tritons]

    def ask(self, *request: str) -> str:
        done = subprocess.run([TWINTELLER, "cluster", *request, "--run-dir", str(self.run_dir)],
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def end(self) -> None:
        """Whatever a failed test left: the launcher's own shutdown, then its group by pid."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        out.append(pid)
    return out


def module(pid: int) -> str:
    """What `python -m X` a process runs ("" for anything else)."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return argv[argv.index(b"-m") + 1].decode() if b"-m" in argv[:-1] else ""


def until_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive(pids)


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    started = Launcher(tmp_path)
    pids = started.started()
    try:
        yield started
    finally:
        started.end()
        for pid in alive(pids):  # by the pids it started, never by pattern
            os.kill(pid, signal.SIGKILL)


def converse(target: str, text: str = "my card has not arrived") -> pb.ConverseResponse:
    with grpc.insecure_channel(target) as channel:
        request = pb.ConverseRequest(session_id=uuid.uuid4().hex, turn_id="1", text=text, channel="app")
        return pb_grpc.AssistantStub(channel).Converse(request, timeout=10)


def test_a_site_killed_on_request_the_other_serves_then_heal(launcher: Launcher) -> None:
    before = launcher.started()
    said = launcher.ask("kill-site", "a")
    assert "killed site a: etcd-1, etcd-2, zone-a, router-a" in said
    # Site b and the witness hold 3 of 5 etcd members: a quorum, so site b serves as usual.
    reply = converse(launcher.router("b"))
    assert (reply.action, reply.intent, reply.zone) == (pb.ANSWER, "card_arrival", "b")
    assert launcher.process.poll() is None  # the launcher keeps running
    with pytest.raises(grpc.RpcError):
        converse(launcher.router("a"))
    assert "healed: started etcd-1, etcd-2, router-a, zone-a" in launcher.ask("heal")
    assert converse(launcher.router("a")).zone in ("a", "b")
    # One process dying by itself is reported, and nothing else stops.
    router_b = next(p for p in launcher.started() if p in before and module(p) == "router")  # a's is new
    os.kill(router_b, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while "exited (-9); the rest keep running" not in launcher.text():
        assert time.monotonic() < deadline, launcher.text()
        time.sleep(0.2)
    assert converse(launcher.router("a")).intent == "card_arrival"


def test_a_second_sigterm_stops_at_once_and_leaves_nothing(launcher: Launcher) -> None:
    pids = launcher.started()
    launcher.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    launcher.process.send_signal(signal.SIGTERM)
    launcher.process.wait(timeout=30)
    assert "stopping at once" in launcher.text() and "stopped" in launcher.text()
    assert until_gone(pids, 5) == []
    assert not (launcher.run_dir / "requests").exists()  # `make heal` now says no launcher runs


def test_the_launcher_killed_outright_takes_what_it_started(launcher: Launcher) -> None:
    pids = launcher.started()
    launcher.process.kill()
    launcher.process.wait()
    left = until_gone(pids, 60)  # each got SIGTERM from the kernel and stopped itself
    assert left == [], [(pid, Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:200]) for pid in left]
