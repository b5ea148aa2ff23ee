"""twinteller/platforms/archive.py and importers.py: an export packed and unpacked with the
checks a file from outside deserves, and the importer chosen by name or by content (each
shipped sample export is told apart from the others)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from twinteller.errors import InvalidArgument
from twinteller.platforms import archive, importers
from twinteller.platforms.mapping import PLATFORMS

SAMPLES = Path(__file__).resolve().parents[4] / "twinteller" / "data" / "platform_samples"


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as packed:
        for name, content in files.items():
            packed.writestr(name, content)
    return buffer.getvalue()


def test_a_folder_packs_and_unpacks_to_the_same_files(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "nlu.yml").write_text("nlu: []\n")
    (tmp_path / "domain.yml").write_text("responses: {}\n")
    content, name = archive.pack(tmp_path)
    assert name == tmp_path.name
    assert archive.unpack(content, name).files == {"data/nlu.yml": b"nlu: []\n", "domain.yml": b"responses: {}\n"}


def test_a_single_file_and_an_xlsx_stay_one_file(tmp_path: Path) -> None:
    single = tmp_path / "bank.aiml"
    single.write_bytes(b"<aiml/>")
    assert archive.unpack(*archive.pack(single)).files == {"bank.aiml": b"<aiml/>"}
    workbook = zipped({"xl/workbook.xml": b"<workbook/>"})
    assert archive.unpack(workbook, "faq.xlsx").files == {"faq.xlsx": workbook}
    assert archive.unpack(b"Question\tAnswer\n", "kb.tsv").files == {"kb.tsv": b"Question\tAnswer\n"}


def test_clutter_is_left_out() -> None:
    files = archive.unpack(zipped({"__MACOSX/._a.yml": b"x", "a/.DS_Store": b"x", "a/nlu.yml": b"nlu: []"}), "e.zip")
    assert files.files == {"a/nlu.yml": b"nlu: []"}


@pytest.mark.parametrize("bad", ["../outside.yml", "/etc/passwd", "a/../../b.yml"])
def test_a_path_outside_the_archive_is_refused(bad: str) -> None:
    with pytest.raises(InvalidArgument, match="outside the archive"):
        archive.unpack(zipped({bad: b"x"}), "evil.zip")


def test_too_many_bytes_unpacked_is_refused_before_inflating(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_BYTES", 1000)
    bomb = zipped({"a.yml": b"0" * 5000})  # compresses to a few bytes
    assert len(bomb) < 1000
    with pytest.raises(InvalidArgument, match="more than 1000 bytes unpacked"):
        archive.unpack(bomb, "bomb.zip")


def test_an_empty_or_broken_zip_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="no files"):
        archive.unpack(zipped({}), "empty.zip")
    truncated = zipped({"a.yml": b"x" * 100})[:-30]
    assert archive.unpack(truncated, "cut.zip").files == {"cut.zip": truncated}  # not a zip: one file


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_sample_is_detected_as_its_own_platform(platform: str) -> None:
    export = archive.unpack(*archive.pack(SAMPLES / platform))
    assert importers.detect(export) == platform
    converted = importers.convert(export)
    assert converted.report.platform == platform and converted.report.detected
    assert len(converted.faqs) >= 4
    named = importers.convert(export, platform)
    assert not named.report.detected and [f.id for f in named.faqs] == [f.id for f in converted.faqs]


def test_an_unknown_export_or_platform_name_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"^format: not an export twinteller can tell \(notes\.txt\)"):
        importers.convert(archive.unpack(b"just words", "notes.txt"))
    with pytest.raises(InvalidArgument, match="platform: 'watson' is not one of rasa"):
        importers.convert(archive.unpack(b"x", "a.yml"), "watson")
