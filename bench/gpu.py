"""`make bench-gpu`: the model on a GPU, in process and served by a GPU zone.

1. the encoder in this process with onnxruntime's CUDA provider: sentences/s and p50 per
   batch by batch size (1 to 64), beside the same on the CPU provider in the same run;
2. the served model (`intent`, encoder and heads) in a standalone Triton started as a GPU
   zone starts it (`ZoneConfig(device="gpu")`: instance kind GPU): sentences/s, p50 and p99
   at several concurrencies, with dynamic batching (as deployed) and with batches of one.

Outputs are checked against the CPU's (cosine of the embeddings, the top intent).

It stops with a clear message, before starting anything, where there is no usable GPU:
no NVIDIA driver (`nvidia-smi`), or an onnxruntime without the CUDA provider (the
`onnxruntime-gpu` wheel replaces `onnxruntime`; requirements-gpu.txt). Nothing on the CPU
path depends on this file.

    python -m bench.gpu [--seconds 6] [--concurrency 1,8,32,128] [--batches 1,8,32,64]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.performance import MODEL_REPO, batching_repo, infer_call, measure, queries, standalone_triton
from twinteller.config import ZoneConfig
from twinteller.devcluster.local_cluster import free_port
from twinteller.model.encoder import Encoder


class NoGpu(SystemExit):
    pass


def check_gpu() -> str:
    """The GPU's name, or NoGpu saying what is missing."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        raise NoGpu("bench-gpu: no GPU here (no nvidia-smi: no NVIDIA driver); nothing was measured")
    listed = subprocess.run([smi, "--query-gpu=name,memory.total", "--format=csv,noheader"],
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    if listed.returncode != 0 or not listed.stdout.strip():
        raise NoGpu(f"bench-gpu: nvidia-smi sees no GPU ({listed.stderr.strip() or listed.stdout.strip()})")
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        raise NoGpu(
            "bench-gpu: onnxruntime has no CUDA provider (providers: "
            + ", ".join(ort.get_available_providers())
            + "); install onnxruntime-gpu in place of onnxruntime (requirements-gpu.txt)"
        )
    return listed.stdout.strip().splitlines()[0]


def batch_rates(
    encoder: Encoder, texts: list[str], batches: list[int], seconds: float
) -> dict[int, tuple[float, float]]:
    """Per batch size: sentences/s and the p50 of one batch (ms)."""
    out = {}
    for size in batches:
        encoder.encode(texts[:size], batch_size=size)  # warm-up (CUDA kernels, allocations)
        times, done, start = [], 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            chunk = texts[done % (len(texts) - size) :][:size]
            began = time.perf_counter()
            encoder.encode(chunk, batch_size=size)
            times.append(time.perf_counter() - began)
            done += size
        out[size] = (done / (time.perf_counter() - start), 1000 * float(np.median(times)))
    return out


async def served(texts: list[str], levels: list[int], seconds: float, work: Path) -> None:
    from zone import triton_launcher

    config = ZoneConfig(zone="gpu-bench", model_repo=batching_repo(work / "repo"), run_dir=work, grpc_port=free_port(),
                        http_port=free_port(), metrics_port=free_port(), trace_rate=1000, plaintext=True,
                        device="gpu")  # fmt: skip
    async with standalone_triton(config, work / "triton-gpu.log", start_s=180) as (_, client):
        print(f"\n{'served model (GPU zone)':30} {'conc':>5} {'per s':>9} {'p50 ms':>9} {'p99 ms':>9}")
        for model, label in (("intent", "dynamic batching"), ("intent_single", "batches of one")):
            # As the zone agent loads it: instance kind GPU (the repository's file says CPU).
            override = triton_launcher.load_config_json(replace(config, model_name=model), ["1"])
            await client.load_model(model, config=override, client_timeout=300)
            for level in levels:
                print((await measure(label, infer_call(client, model, texts), level, seconds)).line(), flush=True)
            await client.unload_model(model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--concurrency", default="1,8,32,128")
    parser.add_argument("--batches", default="1,8,32,64")
    args = parser.parse_args()
    try:
        name = check_gpu()
    except NoGpu as e:
        print(e.code, file=sys.stderr)
        raise SystemExit(2) from None
    print(f"GPU: {name}")
    texts = queries()
    batches = [int(b) for b in args.batches.split(",")]
    directory = MODEL_REPO / "intent" / "encoder"
    gpu, cpu = Encoder(directory, use_gpu=True), Encoder(directory)
    sample = texts[:256]
    a, b = gpu.encode(sample), cpu.encode(sample)
    print(f"GPU vs CPU embeddings: min cosine {float((a * b).sum(axis=1).min()):.6f} over {len(sample)} sentences")
    print(f"\n{'encoder in process':20} {'batch':>6} {'GPU /s':>9} {'GPU p50 ms':>11} {'CPU /s':>9} {'CPU p50 ms':>11}")
    on_gpu = batch_rates(gpu, texts, batches, args.seconds)
    on_cpu = batch_rates(cpu, texts, batches, args.seconds)
    for size in batches:
        print(f"{'':20} {size:6d} {on_gpu[size][0]:9.0f} {on_gpu[size][1]:11.2f} {on_cpu[size][0]:9.0f} "
              f"{on_cpu[size][1]:11.2f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="twinteller-bench-gpu-") as tmp:
        levels = [int(c) for c in args.concurrency.split(",")]
        asyncio.run(served(texts, levels, args.seconds, Path(tmp)))


if __name__ == "__main__":
    main()
