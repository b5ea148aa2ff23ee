"""twinteller.process.exit_after: a process asked to stop that is still there after its
deadline exits at once (a real child process: os._exit cannot be tested in this one)."""

from __future__ import annotations

import subprocess
import sys
import time

SCRIPT = """
import time
from twinteller.process import exit_after
exit_after({deadline}, "test")
time.sleep({work})
print("finished")
"""


def run(deadline: float, work: float) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(deadline=deadline, work=work)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    return done, time.monotonic() - started


def test_a_stop_that_overruns_its_deadline_exits_at_once() -> None:
    done, took = run(deadline=0.5, work=30)
    assert done.returncode == 1 and "finished" not in done.stdout
    assert "still stopping" in done.stderr
    assert took < 20


def test_a_stop_within_its_deadline_is_unchanged() -> None:
    done, _ = run(deadline=30, work=0.1)
    assert done.returncode == 0 and "finished" in done.stdout
