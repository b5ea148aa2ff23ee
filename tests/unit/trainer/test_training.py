"""trainer.training.refresh_model_sources: a version built by an earlier release gets the
current model.py (its copy imports the project's modules by their paths then), and nothing
else in the version changes."""

from __future__ import annotations

import json
from pathlib import Path

from trainer.training import refresh_model_sources
from twinteller.model.paths import KB_FILE, MODEL_SOURCE, TRITON_MODEL, model_dir

OLD_SOURCE = b"from twinteller.encoder import Encoder  # a module path of an earlier release\n"


def version(repo: Path, name: str, source: bytes | None) -> Path:
    directory = model_dir(repo) / name
    directory.mkdir(parents=True)
    (directory / KB_FILE).write_text(json.dumps({"version": name}))
    if source is not None:
        (directory / MODEL_SOURCE).write_bytes(source)
    return directory


def test_stale_copies_are_replaced_and_current_ones_left_alone(tmp_path: Path) -> None:
    stale = version(tmp_path, "1", OLD_SOURCE)
    current = version(tmp_path, "2", TRITON_MODEL.read_bytes())
    untouched = (current / MODEL_SOURCE).stat().st_mtime_ns
    version(tmp_path, "3", None)  # being built (no model.py yet): not the trainer's to fill
    (model_dir(tmp_path) / "encoder").mkdir()  # not a version

    assert refresh_model_sources(tmp_path) == ["1"]

    assert (stale / MODEL_SOURCE).read_bytes() == TRITON_MODEL.read_bytes()
    assert json.loads((stale / KB_FILE).read_text()) == {"version": "1"}
    assert (current / MODEL_SOURCE).stat().st_mtime_ns == untouched
    assert not (model_dir(tmp_path) / "3" / MODEL_SOURCE).exists()
    assert sorted(p.name for p in stale.iterdir()) == [KB_FILE, MODEL_SOURCE]  # no staging file left
    assert refresh_model_sources(tmp_path) == []  # once is enough


def test_a_repository_without_versions_is_fine(tmp_path: Path) -> None:
    model_dir(tmp_path).mkdir(parents=True)
    assert refresh_model_sources(tmp_path) == []
