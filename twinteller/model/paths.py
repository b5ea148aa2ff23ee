"""Where a model lives in a Triton model repository (`model_repo/` locally, the model volume
in Kubernetes): written by the trainer, loaded by the zones, read by the insights worker's
encoder.

    model_repo/intent/config.pbtxt      committed: the Triton model's configuration
    model_repo/intent/encoder/          the ONNX encoder and its tokenizer (built at install)
    model_repo/intent/<version>/        a trained version: heads, kb.json, model.py
"""

from __future__ import annotations

from pathlib import Path

MODEL_NAME = "intent"
KB_FILE = "kb.json"  # the knowledge-base snapshot a version was trained from
MODEL_SOURCE = "model.py"  # what Triton runs: a copy of TRITON_MODEL
TRITON_MODEL = Path(__file__).with_name("triton_model.py")


def model_dir(model_repo: Path) -> Path:
    return model_repo / MODEL_NAME


def encoder_dir(model_repo: Path) -> Path:
    return model_dir(model_repo) / "encoder"
