"""A short, bounded Locust run (loadtest/) against the real cluster through both routers:
app and IVR users hold conversations, zone a's Triton is killed mid-run, and the run still
meets its thresholds (no failed request); reports are written; a threshold the run cannot
meet makes it fail."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twinteller.devcluster.local_cluster import PROJECT_ROOT, LocalCluster

pytestmark = pytest.mark.integration


def loadtest(cluster: LocalCluster, out: Path, *extra: str) -> subprocess.Popen[str]:
    routers = ",".join(cluster.layout.router_target(z) for z in cluster.layout.routers)
    argv = [sys.executable, "-m", "loadtest.run", "--target", routers, "--users", "6", "--spawn-rate", "6"]
    argv += ["--think-min", "0.1", "--think-max", "0.4", "--out", str(out), *extra]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen(
        argv, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def test_a_short_load_test_survives_a_killed_zone(cluster: LocalCluster, tmp_path: Path) -> None:
    run = loadtest(cluster, tmp_path, "--run-time", "16")
    try:
        time.sleep(6)
        os.kill(cluster.triton_pid("a"), signal.SIGKILL)  # its zone agent starts it again
        output, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, output[-3000:]
    with (tmp_path / "report_stats.csv").open(newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    for name in ("Converse", "Feedback", "StreamConverse.nbest"):
        assert int(rows[name]["Request Count"]) > 0 and int(rows[name]["Failure Count"]) == 0, rows[name]
    # The IVR's other kinds of turn come when a reply calls for them (loadtest/ivr_calls.py);
    # whichever came, none failed.
    ivr = [row for name, row in rows.items() if name.startswith("StreamConverse.")]
    assert all(int(row["Failure Count"]) == 0 for row in ivr), ivr
    assert int(rows["Aggregated"]["Request Count"]) > 100
    assert (tmp_path / "report.html").stat().st_size > 0 and (tmp_path / "report_stats_history.csv").exists()
    cluster.wait_zones_registered({"a", "b"}, 120)  # whole again for the tests after this one


def test_a_threshold_the_run_cannot_meet_fails_it(cluster: LocalCluster, tmp_path: Path) -> None:
    run = loadtest(cluster, tmp_path, "--run-time", "4", "--max-p99-ms", "0.001")
    output, _ = run.communicate(timeout=90)
    assert run.returncode == 1
    assert "THRESHOLD FAILED: p99" in output and "FAILED (exit 1)" in output
