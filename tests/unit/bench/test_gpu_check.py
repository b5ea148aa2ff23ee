"""`make bench-gpu` says why it cannot run before starting anything: no NVIDIA driver,
a driver that lists no GPU, or an onnxruntime without the CUDA provider (as here)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bench import gpu


def fake_smi(folder: Path, output: str, rc: int = 0) -> None:
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\necho '{output}'\nexit {rc}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_without_a_driver_it_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(gpu.NoGpu, match="no nvidia-smi"):
        gpu.check_gpu()


def test_a_driver_without_a_gpu_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_smi(tmp_path, "No devices were found", rc=6)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(gpu.NoGpu, match=r"sees no GPU.*No devices were found"):
        gpu.check_gpu()


def test_onnxruntime_without_cuda_says_which_wheel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has the CUDA provider: the refusal cannot happen here")
    fake_smi(tmp_path, "NVIDIA H200, 143771 MiB")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(gpu.NoGpu, match="onnxruntime-gpu"):
        gpu.check_gpu()


def test_the_command_exits_2_with_the_reason_and_measures_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bench.gpu"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "no GPU here" in done.stderr and "nothing was measured" in done.stderr
    assert "encoder in process" not in done.stdout
