"""`make bench-growth`: how a turn's cost, training and loading grow with the knowledge
base, and how a turn's cost grows with the conversation.

1. Knowledge-base size (`--sizes 77,1000,5000`): 77 is the seed base (BANKING77's intents,
   their train.csv questions and ours); a larger base is generated from it: each seed entry
   crossed with banking products ("... for my mortgage"), `--questions` questions each,
   so that entries stay distinguishable by their words. For each size, in a child process
   of its own (its peak memory is its own):
   - train: `trainer.training.build_version` as the trainer runs it (embedding with an
     empty cache, generated variants, heads, speller, calibration, saving);
   - the version on disk, its load time (`IntentClassifier.load`) and the memory it adds;
   - the model in process, per sentence at batch 1: the encoder, and the heads (n-grams,
     three heads, similarity to the nearest training question), p50 over the BANKING77
     test sentences; the heads' share is what grows with the base.
   - accuracy on held-out questions: for up to 2,000 entries, one of its seed entry's
     English questions that it was not given, crossed with its product the same way.
   A base of more than `PROTOTYPE_ENTRIES` entries gets prototype heads
   (twinteller/model/intent_model.py); below it the regressions, whose n-gram parameter
   count (n-gram features x entries) is estimated first: a size whose L-BFGS fit would need
   more memory than this machine has is not trained, and the bench says so.
2. Conversation length (`--turns 30`): a local cluster (etcd, two zones, two routers);
   `--sessions` conversations of `--turns` turns each through router a, one turn at a
   time; p50 of each turn position's latency, and the session record's size in etcd.

    python -m bench.growth [--sizes 77,1000,5000] [--questions 8] [--turns 30] [--sessions 20]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from twinteller.knowledge.schema import BANKING77, Faq, seed_faqs

PRODUCTS = (
    "savings account", "current account", "credit card", "debit card", "mortgage", "personal loan", "car loan",
    "student account", "joint account", "business account", "travel card", "prepaid card", "premium account",
    "virtual card", "junior account", "fixed deposit", "time deposit", "securities account", "pension plan",
    "insurance policy", "overdraft", "line of credit", "home equity loan", "multi-currency wallet", "gold card",
    "platinum card", "cashback card", "payroll account", "escrow account", "trust account", "brokerage account",
    "foreign currency account", "renminbi account", "euro account", "sterling account", "yen account",
    "dollar account", "investment fund", "retirement account", "tax-free savings", "notice account",
    "offset account", "green loan", "bridging loan", "wedding loan", "renovation loan", "tuition loan",
    "medical loan", "small business loan", "merchant account", "payment terminal", "corporate card",
    "fuel card", "charity account", "club account", "minor's account", "estate account", "expat account",
    "digital wallet", "wearable payment", "contactless sticker", "cheque account", "passbook account",
    "instant access saver", "regular saver",
)  # fmt: skip


def knowledge_base(size: int, per_faq: int) -> tuple[list[Faq], list[tuple[str, str]]]:
    """The seed base (size 77), or `size` entries generated from it (see the docstring);
    and held-out (question, entry id) pairs for up to 2,000 generated entries."""
    seed = seed_faqs()
    if size <= len(seed):
        return seed[:size], []
    english = {f.id: [q for q in f.questions if q.isascii()] for f in seed}
    out, held_out = [], []
    for n in range(size):
        base, product = seed[n % len(seed)], PRODUCTS[n // len(seed) % len(PRODUCTS)]
        first = (n // len(seed)) % 7
        picked = english[base.id][first:][:per_faq]
        questions = tuple(f"{q.rstrip('?. ')} for my {product}" for q in picked)
        faq_id = f"{base.id}__{product.replace(' ', '_')}"
        out.append(Faq(faq_id, f"{base.title} ({product})", base.answer, questions))
        unused = english[base.id][first + per_faq :] or english[base.id][:first]
        if unused and n < 2000:
            held_out.append((f"{unused[n % len(unused)].rstrip('?. ')} for my {product}", faq_id))
    return out, held_out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_size(size: int, per_faq: int, work: Path) -> dict[str, float | str]:
    """Train, load and time one size (run in a child process)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from bench.performance import rss_mb
    from trainer.training import build_version
    from twinteller.devcluster.local_cluster import PROJECT_ROOT
    from twinteller.knowledge.lexicon import Lexicon, seed_entries
    from twinteller.model.embeddings import Embeddings
    from twinteller.model.encoder import Encoder
    from twinteller.model.intent_model import PROTOTYPE_ENTRIES, IntentClassifier, words
    from twinteller.model.paths import encoder_dir
    from twinteller.model.variants import Generaliser

    faqs, held_out = knowledge_base(size, per_faq)
    questions = [q for f in faqs for q in f.questions]
    lexicon = Lexicon(seed_entries())
    # The n-gram head's width as the trainer's vectorizers will see it: the questions and
    # their generated variants (trainer/training.py build_version).
    generaliser = Generaliser(lexicon)
    texts = [lexicon.model_text(q) for q in questions]
    texts += [v for f in faqs for v in generaliser.variants(f.id, list(f.questions))]
    width = sum(
        len(TfidfVectorizer(**kw).fit(texts).vocabulary_)  # type: ignore[arg-type]
        for kw in ({"tokenizer": words, "token_pattern": None, "lowercase": False, "ngram_range": (1, 2)},
                   {"analyzer": "char_wb", "ngram_range": (1, 5), "min_df": 2})
    )  # fmt: skip
    prototypes = len(faqs) > PROTOTYPE_ENTRIES
    figures: dict[str, float | str] = {
        "faqs": len(faqs),
        "heads": "prototypes" if prototypes else "regressions",
        "questions": len(questions),
        "variants": len(texts) - len(questions),
        "ngram_features": width,
    }
    # scikit-learn's L-BFGS keeps 2 x 10 corrections of every weight, besides the weights and
    # gradients, in float64: about 24 x 8 bytes a parameter (1,000 entries: 15 GB measured).
    fit_gb = 0.0 if prototypes else width * len(faqs) * 8 * 24 / 1e9
    available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9
    if fit_gb > available:
        figures["skipped"] = f"the n-gram head's fit would need ~{fit_gb:.0f} GB; {available:.0f} GB are free"
        return figures
    repo = work / "repo"
    (repo / "intent").mkdir(parents=True)
    (repo / "intent" / "encoder").symlink_to(encoder_dir(PROJECT_ROOT / "model_repo"), target_is_directory=True)
    embeddings = Embeddings.at(work / "embeddings.npz", repo)
    started = time.perf_counter()
    built = build_version(repo, 1, faqs, embeddings, lexicon)
    figures["train_s"] = time.perf_counter() - started
    figures["train_peak_rss_mb"] = peak_rss_mb()
    figures["version_mb"] = sum(p.stat().st_size for p in built.path.iterdir()) / 1e6
    before = rss_mb(os.getpid())
    started = time.perf_counter()
    classifier = IntentClassifier.load(built.path)
    figures["load_s"] = time.perf_counter() - started
    figures["load_rss_added_mb"] = rss_mb(os.getpid()) - before
    coef = classifier._tfidf_head.coef
    figures["ngram_parameters"] = coef.nnz if hasattr(coef, "nnz") else coef.size  # stored weights
    if held_out:
        predicted = embeddings.predict(classifier, [lexicon.model_text(q) for q, _ in held_out]).probabilities
        right = [classifier.labels[i] == faq for i, (_, faq) in zip(predicted.argmax(axis=1), held_out, strict=True)]
        figures["held_out_accuracy"] = float(np.mean(right))
    with (BANKING77 / "test.csv").open(newline="", encoding="utf-8") as f:
        tests = [row["text"] for row in csv.DictReader(f)][:300]
    encoder = Encoder(repo / "intent" / "encoder", threads=2)  # as a zone runs it
    heads, encode = [], []
    for text in tests:
        t0 = time.perf_counter()
        vector = encoder.encode([text])
        t1 = time.perf_counter()
        classifier.predict(classifier.spelled([text]), vector)
        heads.append(time.perf_counter() - t1)
        encode.append(t1 - t0)
    figures["encoder_p50_ms"] = 1000 * float(np.median(encode))
    figures["heads_p50_ms"] = 1000 * float(np.median(heads))
    del classifier
    figures["deploy_s"], figures["zone_rss_mb"] = asyncio.run(served_load(repo, work))
    return figures


async def served_load(repo: Path, work: Path) -> tuple[float, float]:
    """A zone's part of a deploy: a standalone Triton (as a zone starts it) loading the
    version, in seconds, and the zone's memory (Triton and its Python stub) once loaded."""
    import shutil

    from bench.performance import MODEL_REPO, rss_mb, standalone_triton
    from twinteller.config import ZoneConfig
    from twinteller.devcluster.local_cluster import free_port
    from zone import triton_launcher

    shutil.copy(MODEL_REPO / "intent" / "config.pbtxt", repo / "intent" / "config.pbtxt")
    config = ZoneConfig(zone="growth", model_repo=repo, run_dir=work, grpc_port=free_port(), http_port=free_port(),
                        metrics_port=free_port(), trace_rate=1000, plaintext=True)  # fmt: skip
    async with standalone_triton(config, work / "triton.log") as (process, client):
        started = time.perf_counter()
        override = triton_launcher.load_config_json(config, ["1"])
        await client.load_model("intent", config=override, client_timeout=600)
        return time.perf_counter() - started, rss_mb(process.pid)


def sizes_phase(sizes: list[int], per_faq: int) -> list[dict[str, float | str]]:
    rows: list[dict[str, float | str]] = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix=f"twinteller-growth-{size}-") as tmp:
            out = Path(tmp) / "figures.json"
            print(f"knowledge base of {size} entries: training ...", flush=True)
            done = subprocess.run([sys.executable, "-m", "bench.growth", "--one-size", str(size), "--questions",
                                   str(per_faq), "--work", tmp, "--json", str(out)], check=False)  # fmt: skip
            rows.append(json.loads(out.read_text()) if done.returncode == 0 else {"faqs": size, "skipped": "failed"})
            print(json.dumps(rows[-1]), flush=True)
    return rows


async def conversation_phase(turns: int, sessions: int) -> dict[str, object]:
    from twinteller.config import transport_from_environment
    from twinteller.devcluster.local_cluster import Layout, LocalCluster
    from twinteller.etcd import keys
    from twinteller.tls import ROUTER, aio_channel
    from twinteller.v1 import assistant_pb2 as pb
    from twinteller.v1 import assistant_pb2_grpc as pb_grpc

    with (BANKING77 / "test.csv").open(newline="", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    by_position: list[list[float]] = [[] for _ in range(turns)]
    sizes: list[int] = []
    with tempfile.TemporaryDirectory(prefix="twinteller-growth-") as tmp:
        with LocalCluster(Path(tmp) / "cluster", Layout.free(), plaintext=True) as cluster:
            os.environ["TWINTELLER_PLAINTEXT"] = "1"
            channel = aio_channel(cluster.layout.router_target("a"), transport_from_environment(), ROUTER)
            stub = pb_grpc.AssistantStub(channel)
            run = uuid.uuid4().hex[:8]
            for s in range(sessions):
                session = f"growth-{run}-{s}"
                for t in range(turns):
                    request = pb.ConverseRequest(session_id=session, turn_id=str(t + 1),
                                                 text=texts[(s * turns + t) % len(texts)])  # fmt: skip
                    began = time.perf_counter()
                    await stub.Converse(request, timeout=10)
                    by_position[t].append(time.perf_counter() - began)
                async with cluster.store() as store:
                    entry = await store.get(keys.session(session))
                    sizes.append(len(entry.value) if entry else 0)
            await channel.close()
    p50 = [1000 * float(np.median(x)) for x in by_position]
    return {"p50_ms_by_turn": p50, "session_record_bytes": float(np.median(sizes))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="77,1000,5000")
    parser.add_argument("--questions", type=int, default=8, help="questions per generated entry")
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_size:
        figures = one_size(args.one_size, args.questions, Path(args.work))
        Path(args.json).write_text(json.dumps(figures))
        return
    rows = sizes_phase([int(s) for s in args.sizes.split(",") if s], args.questions)
    print(f"\n{'entries':>8} {'heads':>11} {'questions':>9} {'n-gram weights':>14} {'train s':>8} {'peak MB':>8} "
          f"{'on disk MB':>10} {'load s':>7} {'encoder ms':>10} {'heads ms':>9} {'deploy s':>8} {'zone MB':>8} "
          f"{'held-out':>8}")  # fmt: skip
    for r in rows:
        if "skipped" in r:
            print(f"{r['faqs']:>8} {r.get('heads', ''):>11} {r.get('questions', ''):>9}  not trained: {r['skipped']}")
            continue
        accuracy = f"{100 * float(r['held_out_accuracy']):7.1f}%" if "held_out_accuracy" in r else ""
        print(f"{r['faqs']:>8} {r['heads']:>11} {r['questions']:>9} {r['ngram_parameters']:>14} {r['train_s']:8.1f} "
              f"{r['train_peak_rss_mb']:8.0f} {r['version_mb']:10.1f} {r['load_s']:7.2f} {r['encoder_p50_ms']:10.2f} "
              f"{r['heads_p50_ms']:9.2f} {r['deploy_s']:8.1f} {r['zone_rss_mb']:8.0f} {accuracy:>8}")  # fmt: skip
    conversation: dict[str, object] = {}
    if args.turns:
        print(f"\nconversation length: {args.sessions} conversations of {args.turns} turns through router a ...")
        conversation = asyncio.run(conversation_phase(args.turns, args.sessions))
        p50 = conversation["p50_ms_by_turn"]
        assert isinstance(p50, list)
        print(f"turn 1 p50 {p50[0]:.1f} ms, turn {args.turns} p50 {p50[-1]:.1f} ms; "
              f"session record {conversation['session_record_bytes']:.0f} B")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps({"sizes": rows, "conversation": conversation}, indent=1))


if __name__ == "__main__":
    main()
