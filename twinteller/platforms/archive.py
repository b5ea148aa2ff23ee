"""An export as it travels: a folder or a single file packed into one zip (the command line
packs; the admin API takes the zip), and unpacked into an `Export` with the checks a file
from outside deserves: no path outside the archive, no more than `MAX_FILES` files or
`MAX_BYTES` unpacked (a zip bomb is refused before it is inflated), platform clutter
(`__MACOSX/`, `.DS_Store`) left out."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

from twinteller.errors import InvalidArgument
from twinteller.platforms.mapping import Export

MAX_FILES = 5000
MAX_BYTES = 50 * 1024 * 1024
CLUTTER = ("__MACOSX/", ".DS_Store", "Thumbs.db")


def pack(path: Path) -> tuple[bytes, str]:
    """A file or a folder as (zip bytes, name); a zip is taken as it is."""
    if path.is_file() and path.suffix.lower() != ".xlsx" and zipfile.is_zipfile(path):
        return path.read_bytes(), path.name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as packed:
        if path.is_file():
            packed.write(path, path.name)
        elif path.is_dir():
            for member in sorted(p for p in path.rglob("*") if p.is_file()):
                packed.write(member, member.relative_to(path).as_posix())
        else:
            raise InvalidArgument(f"path: {path} is neither a file nor a folder")
    return buffer.getvalue(), path.name


def unpack(content: bytes, name: str = "") -> Export:
    """The zip's files as an Export; content that is not a zip is one file called `name`."""
    # An xlsx workbook is a zip too: it is one file of the export, not an archive of it.
    if name.lower().endswith(".xlsx") or not zipfile.is_zipfile(io.BytesIO(content)):
        if len(content) > MAX_BYTES:
            raise InvalidArgument(f"{name or 'content'}: {len(content)} bytes, at most {MAX_BYTES}")
        return Export({name or "export": content})
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir() and not _clutter(m.filename)]
            if len(members) > MAX_FILES:
                raise InvalidArgument(f"{name or 'archive'}: {len(members)} files, at most {MAX_FILES}")
            if sum(m.file_size for m in members) > MAX_BYTES:
                raise InvalidArgument(f"{name or 'archive'}: more than {MAX_BYTES} bytes unpacked")
            files: dict[str, bytes] = {}
            for member in members:
                path = PurePosixPath(member.filename.replace("\\", "/"))
                if path.is_absolute() or ".." in path.parts:
                    raise InvalidArgument(f"{member.filename}: a path outside the archive")
                files[path.as_posix()] = archive.read(member)
    except zipfile.BadZipFile as e:
        raise InvalidArgument(f"{name or 'archive'}: not a readable zip: {e}") from None
    if not files:
        raise InvalidArgument(f"{name or 'archive'}: no files")
    return Export(files)


def _clutter(filename: str) -> bool:
    return any(part in filename for part in CLUTTER)
