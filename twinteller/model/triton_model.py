"""Triton Python-backend model `intent`: text -> top-k intents, scores, similarity.

The trainer copies this file into every version directory as model.py. Triton batches
requests (dynamic batching), so one `execute` embeds a whole batch at once. It imports
the project's `twinteller` package: the zone agent puts it on PYTHONPATH, as a
production image installs it beside Triton.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import triton_python_backend_utils as pb_utils  # provided by Triton's python backend

from twinteller.model.encoder import Encoder
from twinteller.model.intent_model import IntentClassifier, Prediction, chinese_rows
from twinteller.model.multilingual import MultilingualEncoder

TOP_K = 5


class TritonPythonModel:
    def initialize(self, args: dict) -> None:
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        model_dir = Path(args["model_repository"])
        version_dir = model_dir / args["model_version"]
        self._encoder = Encoder(
            model_dir / "encoder",
            threads=int(params.get("encoder_threads", "0")),
            use_gpu=args.get("model_instance_kind") == "GPU",
        )
        self._classifier = IntentClassifier.load(version_dir)
        self._labels = np.array(self._classifier.labels, dtype=object)
        # Text read as Chinese goes through the multilingual encoder (README "Languages").
        self._multilingual = None
        if self._classifier.reads_chinese_with_encoder:
            self._multilingual = MultilingualEncoder(threads=max(1, int(params.get("encoder_threads", "1"))))
        # Warm up before the zone reports ready: the first Chinese text loads jieba's
        # dictionary and the multilingual encoder's weights (seconds, past a turn's deadline).
        self._predict(["我的卡还没收到", "my card has not arrived"])

    def execute(self, requests):  # type: ignore[no-untyped-def]
        texts: list[str] = []
        counts: list[int] = []
        for request in requests:
            raw = pb_utils.get_input_tensor_by_name(request, "TEXT").as_numpy().reshape(-1)
            texts.extend(t.decode("utf-8", errors="replace") if isinstance(t, bytes) else str(t) for t in raw)
            counts.append(len(raw))
        prediction = self._predict(texts)
        k = min(TOP_K, len(self._labels))
        top = np.argsort(-prediction.probabilities, axis=1)[:, :k]
        scores = np.take_along_axis(prediction.probabilities, top, axis=1).astype(np.float32)
        responses = []
        start = 0
        for n in counts:
            rows = slice(start, start + n)
            start += n
            responses.append(
                pb_utils.InferenceResponse(
                    output_tensors=[
                        pb_utils.Tensor("INTENTS", self._labels[top[rows]].astype(np.object_)),
                        pb_utils.Tensor("SCORES", scores[rows]),
                        pb_utils.Tensor("SIMILARITY", prediction.similarity[rows].astype(np.float32).reshape(n, 1)),
                    ]
                )
            )
        return responses

    def _predict(self, texts: list[str]) -> Prediction:
        texts = self._classifier.spelled(texts)
        chinese = None
        if self._multilingual is not None:
            chinese = self._multilingual.encode([texts[i] for i in chinese_rows(texts)])
        return self._classifier.predict(texts, self._encoder.encode(texts), chinese)
