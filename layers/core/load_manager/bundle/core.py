"""A bundle: the entry locustfile plus the files next to it (helper modules, data, requirements.txt).

A revision is an immutable snapshot of one. Paths are relative POSIX paths, normalised once here
(NFC, no `.` or empty segments); everything after this module sees only normalised paths.

The digest identifies a snapshot. A bundle that is just `locustfile.py` keeps the digest a
single-script revision always had, the sha256 of its text, so revisions and runs stored before
bundles existed keep their identity. Any other bundle's digest is the sha256 of its manifest:

    load-manager-bundle/1\n
    entry <entry path>\n
    <sha256 of content> <path>\n        one line per file (the entry too), sorted by path (UTF-8 bytes)

Paths cannot contain a newline, so the manifest is unambiguous, and it is not valid Python (its
second line is a syntax error), so no saveable single script can have a manifest as its text.
A bundle with several entries (Locust's `-f a.py,b.py` or a folder, see `entries`) has one more
line after the entry's, `entries <entry>,<entry>...` (folders with their trailing `/`): the same
files loaded otherwise are another snapshot. A bundle with the one entry keeps its digest.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from load_manager.bundle.entries import is_folder, resolve, split_entries
from load_manager.errors import (
    BundlePathCollisionError,
    BundleTooLargeError,
    DuplicateBundlePathError,
    InvalidBundlePathError,
    InvalidScriptEncodingError,
    TooManyBundleFilesError,
)

DEFAULT_ENTRY = "locustfile.py"
REQUIREMENTS = "requirements.txt"
MAX_FILES = 200
MAX_BYTES = 4 * 1024 * 1024  # decoded, all files together: base64 of it still fits Lambda's 6 MB payload
MAX_PATH_CHARS = 512
MAX_SEGMENT_BYTES = 255
MANIFEST_HEADER = "load-manager-bundle/1\n"
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\]")  # control characters; backslash is not a POSIX separator
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class FileInfo:
    path: str
    size: int
    sha256: str
    binary: bool


@dataclass(frozen=True)
class Bundle:
    """Every file of the snapshot (the entry too) by normalised path, sorted. `entries`: what
    Locust's -f names (files, folders ending in `/`); empty means the entry file alone."""

    entry_path: str
    files: dict[str, bytes] = field(default_factory=dict)
    entries: tuple[str, ...] = ()

    @cached_property
    def locustfiles(self) -> tuple[str, ...]:
        """Every file Locust loads as a locustfile, in order; the entry file first."""
        return resolve(self.entries, self.files)[1] if self.entries else (self.entry_path,)

    @property
    def entry_list(self) -> list[str]:
        return list(self.entries or (self.entry_path,))

    @property
    def entry_bytes(self) -> bytes:
        return self.files[self.entry_path]

    @property
    def entry_text(self) -> str:
        return self.entry_bytes.decode("utf-8")

    @property
    def is_single_script(self) -> bool:
        return self.entry_path == DEFAULT_ENTRY and len(self.files) == 1

    @property
    def size_bytes(self) -> int:
        return sum(len(content) for content in self.files.values())

    @cached_property
    def manifest(self) -> list[FileInfo]:
        return [FileInfo(path, len(data), sha256_bytes(data), is_binary(data)) for path, data in sorted_items(self.files)]

    @cached_property
    def digest(self) -> str:
        hashes = {info.path: info.sha256 for info in self.manifest}
        return bundle_digest(self.entry_path, hashes, self.entry_bytes, entries=self.entries)

    def others(self) -> dict[str, bytes]:
        """The files besides the entry."""
        return {path: data for path, data in self.files.items() if path != self.entry_path}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_binary(data: bytes) -> bool:
    if b"\x00" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def sorted_items(files: dict[str, bytes]) -> list[tuple[str, bytes]]:
    return sorted(files.items(), key=lambda item: item[0].encode("utf-8"))


def bundle_digest(entry_path: str, hashes: dict[str, str], entry: bytes | None = None, *, entries: tuple[str, ...] = ()) -> str:
    """The canonical digest (see the module doc). `hashes`: path -> sha256 of its content."""
    several = bool(entries) and entries != (entry_path,)
    if entry_path == DEFAULT_ENTRY and list(hashes) == [DEFAULT_ENTRY] and not several:
        return hashes[DEFAULT_ENTRY] if entry is None else sha256_bytes(entry)
    lines = [MANIFEST_HEADER, f"entry {entry_path}\n"] + ([f"entries {','.join(entries)}\n"] if several else [])
    lines += [f"{hashes[path]} {path}\n" for path in sorted(hashes, key=lambda p: p.encode("utf-8"))]
    return sha256_bytes("".join(lines).encode("utf-8"))


def normalise_path(raw: object, *, what: str = "path") -> str:
    """A safe relative POSIX path, or InvalidBundlePathError saying what is wrong with it."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidBundlePathError(f"{what} is empty", details={"path": raw if isinstance(raw, str) else None})
    if _FORBIDDEN.search(raw):
        raise InvalidBundlePathError(f"{what} {raw!r} contains a control character or a backslash; use '/' between folders", details={"path": raw})
    if raw.startswith("/") or _DRIVE.match(raw):
        raise InvalidBundlePathError(f"{what} {raw!r} is absolute; paths are relative to the bundle's root", details={"path": raw})
    text = unicodedata.normalize("NFC", raw)
    segments = [segment for segment in text.split("/") if segment not in ("", ".")]
    if ".." in segments:
        raise InvalidBundlePathError(f"{what} {raw!r} contains '..': a file cannot leave the bundle", details={"path": raw})
    if not segments:
        raise InvalidBundlePathError(f"{what} {raw!r} names no file", details={"path": raw})
    if text.endswith("/"):
        raise InvalidBundlePathError(f"{what} {raw!r} names a folder, not a file", details={"path": raw})
    if any(segment.strip() != segment or len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES for segment in segments):
        raise InvalidBundlePathError(f"{what} {raw!r} has a name with surrounding spaces or over {MAX_SEGMENT_BYTES} bytes", details={"path": raw})
    path = "/".join(segments)
    if len(path) > MAX_PATH_CHARS:
        raise InvalidBundlePathError(f"{what} is over {MAX_PATH_CHARS} characters", details={"path": path[:80] + "..."})
    return path


def normalise_entries(raw: str | list[str] | None) -> list[str]:
    """entryPath's items as safe paths, a folder (written with a trailing `/`) keeping its `/`."""
    items = split_entries(raw, DEFAULT_ENTRY)
    return [normalise_path(item.rstrip("/"), what="entryPath") + ("/" if item.endswith("/") else "") for item in items]


def first_file_entry(entries: list[str]) -> str:
    """The entry a JSON body's scriptContent is: the first item, which must name a file."""
    first = entries[0]
    if is_folder(first) or not first.endswith(".py"):
        raise InvalidBundlePathError(
            f"entryPath {first!r}: the first entry is scriptContent's file, a Python file (.py); folders and other files may follow it "
            '(e.g. ["locustfiles/users.py", "locustfiles/"]), or send the bundle as a zip archive',
            details={"path": first},
        )
    return first


def build_bundle(entry_path: str | None, files: Iterable[tuple[str, bytes]], entries: list[str] | None = None) -> Bundle:
    """Check paths and limits of (raw path, content) pairs, the entry's among them, and build the
    bundle. `entries` (normalised, see `normalise_entries`) makes the first locustfile the entry
    file unless `entry_path` names it. Nothing else (requirements, Python) is checked here: see
    `usecases.bundles.check_bundle`."""
    collected: dict[str, bytes] = {}
    raw_of: dict[str, str] = {}
    folded: dict[str, str] = {}
    total = 0
    for count, (raw, data) in enumerate(files, start=1):
        if count > MAX_FILES:
            raise TooManyBundleFilesError(f"a bundle holds at most {MAX_FILES} files", details={"limitFiles": MAX_FILES})
        path = normalise_path(raw)
        total += len(data)
        if total > MAX_BYTES:
            raise BundleTooLargeError(
                f"the bundle is over {MAX_BYTES} bytes decoded ({MAX_BYTES // (1024 * 1024)} MiB)", details={"limitBytes": MAX_BYTES}
            )
        _check_collision(path, raw, raw_of, folded)
        collected[path], raw_of[path], folded[path.casefold()] = data, raw, path
    _check_folders(collected)
    resolved, locustfiles = resolve(entries, collected) if entries else ((), ())
    entry_path = entry_path or (locustfiles[0] if locustfiles else DEFAULT_ENTRY)
    if entry_path not in collected:
        raise InvalidBundlePathError(f"the bundle has no entry file {entry_path!r}", details={"path": entry_path})
    several = resolved if resolved != (entry_path,) else ()
    return Bundle(entry_path=entry_path, files=dict(sorted_items(collected)), entries=several)


def _check_collision(path: str, raw: str, raw_of: dict[str, str], folded: dict[str, str]) -> None:
    if path in raw_of:
        if raw_of[path] == raw:
            raise DuplicateBundlePathError(f"the path {raw!r} appears twice", details={"path": raw})
        message = f"{raw!r} and {raw_of[path]!r} are the same path once normalised ({path!r})"
        raise BundlePathCollisionError(message, details={"paths": [raw_of[path], raw]})
    other = folded.get(path.casefold())
    if other is not None:
        raise BundlePathCollisionError(
            f"{raw!r} and {raw_of[other]!r} differ only in case: they would overwrite each other on many systems",
            details={"paths": [raw_of[other], raw]},
        )


def _check_folders(files: dict[str, bytes]) -> None:
    """A path cannot be both a file and a folder (`common` and `common/users.py`)."""
    folders = {"/".join(path.split("/")[:depth]).casefold() for path in files for depth in range(1, path.count("/") + 1)}
    for path in files:
        if path.casefold() in folders:
            raise BundlePathCollisionError(f"{path!r} is a file and also a folder of other files", details={"paths": [path]})


def entry_text(bundle: Bundle) -> str:
    """The entry's text; the entry locustfile must be UTF-8 text."""
    try:
        text = bundle.entry_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidScriptEncodingError(f"{bundle.entry_path} is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InvalidScriptEncodingError(f"{bundle.entry_path} is empty")
    if "\x00" in text:
        raise InvalidScriptEncodingError(f"{bundle.entry_path} contains a NUL byte")
    return text
