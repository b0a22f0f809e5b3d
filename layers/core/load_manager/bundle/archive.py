"""Zip archives of bundles: reading an upload (bounded, whatever the archive claims) and writing a
download (deterministic: the same snapshot always gives the same bytes).

Reading never trusts the archive: entries are decompressed as a stream with a running byte count
across all entries, so a zip bomb stops at the bundle's limit (4 MiB) after a few milliseconds,
with memory bounded by one read buffer, whatever sizes its headers declare. Links, entries that
would leave the root, encrypted entries and more than `MAX_FILES` files are refused.
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator
from typing import IO

from load_manager.bundle.core import MAX_BYTES, MAX_FILES, Bundle, normalise_path, sorted_items
from load_manager.errors import (
    BundleTooLargeError,
    InvalidArchiveError,
    InvalidBundlePathError,
    LoadManagerError,
    TooManyBundleFilesError,
    UnsafeArchiveEntryError,
)

# A compressed archive of a bundle within limits is smaller than the limit plus headers.
MAX_ARCHIVE_BYTES = MAX_BYTES + 512 * 1024
MAX_ENTRIES = MAX_FILES * 4  # folders included; bounds the central directory we hold in memory
READ_CHUNK = 64 * 1024
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip's epoch: downloads are byte-for-byte reproducible


def read_archive(data: bytes) -> list[tuple[str, bytes]]:
    """(path as in the archive, content) of every file. Raises a 4xx domain error on anything unsafe."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise BundleTooLargeError(f"the archive is over {MAX_ARCHIVE_BYTES} bytes", details={"limitBytes": MAX_ARCHIVE_BYTES})
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise InvalidArchiveError(f"the body is not a zip archive: {exc}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise TooManyBundleFilesError(f"the archive has {len(infos)} entries; a bundle holds at most {MAX_FILES} files")
        files = [info for info in infos if not _is_folder(info)]
        for info in infos:
            _check_entry(info)
        if len(files) > MAX_FILES:
            message = f"the archive has {len(files)} files; a bundle holds at most {MAX_FILES}"
            raise TooManyBundleFilesError(message, details={"limitFiles": MAX_FILES})
        budget = [MAX_BYTES]
        return [(info.filename, _read_bounded(archive, info, budget)) for info in files]


def strip_common_folder(files: list[tuple[str, bytes]], entry_path: str) -> list[tuple[str, bytes]]:
    """`zip -r shop.zip shop/` puts everything under `shop/`: when the entry (a file, or a folder
    of entries) is not at the root and every file shares one top folder, that folder is the bundle's root."""
    names = [name for name, _ in files]
    if not names or entry_path in names or any(name.startswith(entry_path + "/") for name in names):
        return files
    tops = {name.split("/", 1)[0] for name in names}
    if len(tops) != 1 or any("/" not in name for name in names):
        return files
    top = tops.pop() + "/"
    return [(name[len(top):], content) for name, content in zip(names, (c for _, c in files), strict=True)]


def write_archive(bundle: Bundle) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in sorted_items(bundle.files):
            info = zipfile.ZipInfo(path, date_time=_FIXED_TIME)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


# ---- one entry ----------------------------------------------------------------------------------


def _is_folder(info: zipfile.ZipInfo) -> bool:
    return info.filename.endswith("/")


def _check_entry(info: zipfile.ZipInfo) -> None:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        message = f"the archive entry {info.filename!r} is a symbolic link; links are not accepted"
        raise UnsafeArchiveEntryError(message, details={"entry": info.filename})
    if mode and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)) and stat.S_IFMT(mode):
        raise UnsafeArchiveEntryError(f"the archive entry {info.filename!r} is not a regular file", details={"entry": info.filename})
    if info.flag_bits & 0x1:
        raise InvalidArchiveError(f"the archive entry {info.filename!r} is encrypted", details={"entry": info.filename})
    name = info.filename.rstrip("/") if _is_folder(info) else info.filename
    try:
        normalise_path(name, what="archive entry")
    except InvalidBundlePathError as exc:
        # An absolute path or `..` would write outside the folder the archive is unpacked into.
        raise UnsafeArchiveEntryError(exc.message, details={"entry": info.filename}) from None


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: list[int]) -> bytes:
    """Decompress as a stream, counting what actually comes out (never the header's claim)."""
    if info.file_size > budget[0]:
        raise _too_large(info)
    chunks = []
    try:
        with archive.open(info) as stream:
            for chunk in _chunks(stream):
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise _too_large(info)
                chunks.append(chunk)
    except LoadManagerError:
        raise
    except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, ValueError, RuntimeError) as exc:
        raise InvalidArchiveError(f"the archive entry {info.filename!r} cannot be read: {exc}", details={"entry": info.filename}) from None
    return b"".join(chunks)


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(READ_CHUNK):
        yield chunk


def _too_large(info: zipfile.ZipInfo) -> BundleTooLargeError:
    return BundleTooLargeError(
        f"the archive expands past the bundle's limit of {MAX_BYTES} bytes (at {info.filename!r})",
        details={"limitBytes": MAX_BYTES, "entry": info.filename},
    )
