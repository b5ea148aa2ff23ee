"""Training: a knowledge base -> a new version directory of the `intent` Triton model.

Runs outside the router processes (training is CPU-heavy). Usage:
    python -m server.training --model-repo model_repo --version 1   # seed base
A version directory holds the classifier heads, the knowledge-base snapshot it was
trained from (kb.json, published to etcd on deploy) and a copy of the model's model.py.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import time
from pathlib import Path

from server.embeddings import EmbeddingCache
from twinteller.encoder import Encoder
from twinteller.intent_model import IntentClassifier
from twinteller.knowledge import Faq, Snapshot, seed_faqs
from twinteller.lexicon import Lexicon, seed_entries

log = logging.getLogger(__name__)

MODEL_NAME = "intent"
KB_FILE = "kb.json"
MODEL_SOURCE = "model.py"


def model_dir(model_repo: Path) -> Path:
    return model_repo / MODEL_NAME


def encoder_dir(model_repo: Path) -> Path:
    return model_dir(model_repo) / "encoder"


def build_version(model_repo: Path, version: int, faqs: list[Faq], cache: EmbeddingCache, lexicon: Lexicon) -> Path:
    """Train on `faqs` and write `model_repo/intent/<version>/` atomically (rename). The
    questions are read in the lexicon's words, as the router reads utterances."""
    texts = [lexicon.apply(q) for f in faqs for q in f.questions]
    labels = [f.id for f in faqs for _ in f.questions]
    if len(set(labels)) < 2:
        raise ValueError("a model needs at least two FAQ entries with training questions")
    classifier = IntentClassifier.fit(texts, labels, cache.embed(texts))
    target = model_dir(model_repo) / str(version)
    staging = model_dir(model_repo) / f".staging-{version}"
    shutil.rmtree(staging, ignore_errors=True)
    classifier.save(staging)
    snapshot = Snapshot(str(version), {f.id: f for f in faqs})
    (staging / KB_FILE).write_text(snapshot.to_json(), encoding="utf-8")
    source = Path(__file__).with_name("triton_model.py")
    shutil.copy(source, staging / MODEL_SOURCE)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return target


def is_built(model_repo: Path, version: int) -> bool:
    return (model_dir(model_repo) / str(version) / KB_FILE).exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-repo", type=Path, default=Path("model_repo"))
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path("build/embeddings.npz"))
    parser.add_argument("--force", action="store_true", help="rebuild even if the version exists")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    enc_dir = encoder_dir(args.model_repo)
    if not (enc_dir / "minilm.onnx").exists():
        from twinteller import encoder

        started = time.monotonic()
        encoder.export(enc_dir)
        log.info("exported MiniLM to ONNX in %.1fs", time.monotonic() - started)
    if is_built(args.model_repo, args.version) and not args.force:
        log.info("model version %s already built", args.version)
        return
    started = time.monotonic()
    cache = EmbeddingCache(args.cache, Encoder(enc_dir))
    build_version(args.model_repo, args.version, seed_faqs(), cache, Lexicon(seed_entries()))
    log.info("built model version %s in %.1fs", args.version, time.monotonic() - started)


if __name__ == "__main__":
    main()
