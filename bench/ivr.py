"""`make bench-ivr`: what an IVR's n-best list costs a turn (issue 22).

An IVR turn may carry up to 10 of the recogniser's hypotheses. The router reads them all in
one batched model call (router/zones/inference.py `classify_many`) instead of one call
each. Measured against a local cluster it starts (plaintext loopback, one caller, turns
in sequence), each figure beside its baseline from the same run:

- Triton directly, zone a: one request of n rows against n requests of one row, for n = 3
  and 5 (what batching saves the model);
- through a router: a turn of one transcript against a turn of n hypotheses (what the
  n-best costs a whole turn: the batched call, the scoring, the spoken-form normalisation).

Rounds alternate the kinds so that the shared machine's noise falls on all of them; the
median over rounds of each kind's p50 and p99 is printed. Run it three times before
believing a difference (README "Cost per turn").
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import numpy as np
import tritonclient.grpc as triton_grpc
from tritonclient.utils import InferenceServerException

from loadtest.ivr_calls import MISHEARD
from twinteller.devcluster.local_cluster import Layout, LocalCluster
from twinteller.knowledge.schema import BANKING77, read_labelled_csv
from twinteller.tls import ROUTER, channel
from twinteller.v1 import assistant_pb2 as pb
from twinteller.v1 import assistant_pb2_grpc as pb_grpc

SIZES = (3, 5)
RETRIES = 3


def hypotheses(text: str, n: int) -> list[tuple[str, float]]:
    """`text` and n - 1 mishearings of it (the load test's IVR caller's), the recogniser's
    confidences summing to 1."""
    wrong = [text.lower()]
    for word, heard in MISHEARD.items():
        if len(wrong) < n and word in wrong[0]:
            wrong.append(wrong[0].replace(word, heard, 1))
    while len(wrong) < n:
        wrong.append(f"{wrong[-1]} uh")  # a filler heard: still a plausible transcript
    return [(t, round(1 / n, 3)) for t in wrong]


def timed(call: Callable[[], object], turns: int) -> tuple[float, float]:
    """p50 and p99 (ms) of `turns` calls made one after another."""
    times = []
    for _ in range(turns):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    times.sort()
    return 1000 * times[len(times) // 2], 1000 * times[int(0.99 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--turns", type=int, default=60, help="per kind and round")
    args = parser.parse_args()
    texts = [t for t, _ in read_labelled_csv(BANKING77 / "test.csv")][:400]
    results: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ivr-") as run_dir:
        layout = Layout.free()
        print("starting a cluster (etcd, zones a and b, routers a and b) ...", flush=True)
        with LocalCluster(Path(run_dir), layout, plaintext=True, env={"OTEL_TRACES_EXPORTER": "none"}) as cluster:
            triton = triton_grpc.InferenceServerClient(f"127.0.0.1:{layout.zones['a'].grpc}")
            stub = pb_grpc.AssistantStub(channel(cluster.layout.router_target("a"), None, ROUTER))
            counter = iter(range(10**9))

            def infer(rows: list[str]) -> None:
                data = triton_grpc.InferInput("TEXT", [len(rows), 1], "BYTES")
                data.set_data_from_numpy(np.array([[r.encode()] for r in rows], dtype=np.object_))
                triton.infer("intent", [data], model_version="1")

            def turn(request: pb.ConverseRequest) -> None:
                request.session_id, request.turn_id, request.channel = f"bench-ivr-{uuid.uuid4().hex}", "1", "ivr"
                stub.Converse(request, timeout=10)

            def text() -> str:
                return texts[next(counter) % len(texts)]

            def separate(size: int) -> None:
                for _ in range(size):
                    infer([text()])

            def batched(size: int) -> None:
                infer([h for h, _ in hypotheses(text(), size)])

            def transcript() -> None:
                turn(pb.ConverseRequest(text=text()))

            def n_best(size: int) -> None:
                heard = [pb.Hypothesis(text=h, confidence=c) for h, c in hypotheses(text(), size)]
                turn(pb.ConverseRequest(hypotheses=heard))

            kinds: dict[str, Callable[[], None]] = {}
            for size in SIZES:
                kinds[f"triton: {size} requests of 1 row"] = functools.partial(separate, size)
                kinds[f"triton: 1 request of {size} rows"] = functools.partial(batched, size)
            kinds["router: 1 transcript"] = transcript
            for size in SIZES:
                kinds[f"router: {size} hypotheses"] = functools.partial(n_best, size)
            for call in kinds.values():
                timed(call, 10)  # warm
            failed = 0
            for _ in range(args.rounds):
                for name, call in kinds.items():
                    for _attempt in range(RETRIES + 1):
                        try:
                            results.setdefault(name, []).append(timed(call, args.turns))
                            break
                        except (InferenceServerException, grpc.RpcError) as e:
                            # Triton 2.51 aborts now and then under load (upstream #7795); its
                            # zone agent restarts it. The round is measured again once it is back.
                            failed += 1
                            print(f"{name}: {str(e)[:120]}; measured again", flush=True)
                            cluster.wait_zones_registered({"a", "b"}, 120)
    if failed:
        print(f"{failed} rounds failed and were measured again")
    print(f"\n{'kind (one caller, in sequence)':36} {'p50 ms':>8} {'p99 ms':>8}   median over {args.rounds} rounds")
    for name, rounds in results.items():
        p50 = statistics.median(r[0] for r in rounds)
        p99 = statistics.median(r[1] for r in rounds)
        print(f"{name:36} {p50:8.2f} {p99:8.2f}")


if __name__ == "__main__":
    main()
