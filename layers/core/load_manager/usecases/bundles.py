"""Bundles as the use cases see them: decode what a client sends (JSON or a zip) into a checked
bundle, turn a stored revision back into its bundle, read one file, build the archive, diff two
snapshots file by file."""

from __future__ import annotations

import base64
import binascii
import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from load_manager.bundle.archive import read_archive, strip_common_folder, write_archive
from load_manager.bundle.core import (
    MAX_BYTES,
    MAX_FILES,
    REQUIREMENTS,
    Bundle,
    FileInfo,
    build_bundle,
    entry_text,
    first_file_entry,
    is_binary,
    normalise_entries,
    normalise_path,
    sha256_bytes,
)
from load_manager.bundle.platform import review
from load_manager.bundle.requirements import check_requirements
from load_manager.bundle.reserved import check_module_names
from load_manager.bundle.templates import TEMPLATES
from load_manager.errors import (
    BundleFileNotFoundError,
    BundleTooLargeError,
    InvalidScriptEncodingError,
    RevisionNotFoundError,
    ScriptTooLargeError,
    TemplateNotFoundError,
    TooManyBundleFilesError,
)
from load_manager.models.bundles import BundleFile, BundleFileContent, BundleFileInfo, ScriptTemplate, ScriptTemplateList
from load_manager.models.records import StoredRevision
from load_manager.models.scripts import FileDiff
from load_manager.settings import get_settings
from load_manager.store import Stores
from load_manager.validation import ScriptAnalysis, analyse_files, decode_script


@dataclass(frozen=True)
class CheckedBundle:
    bundle: Bundle
    analysis: ScriptAnalysis

    def manifest(self) -> list[BundleFileInfo]:
        return [to_info(info) for info in self.bundle.manifest]

    def blobs(self) -> dict[str, bytes]:
        """Every file besides the entry, by sha256: what the store keeps as blobs."""
        return {info.sha256: self.bundle.files[info.path] for info in self.bundle.manifest if info.path != self.bundle.entry_path}


def to_info(info: FileInfo) -> BundleFileInfo:
    return BundleFileInfo(path=info.path, size_bytes=info.size, sha256=info.sha256, binary=info.binary)


# ---- from a request -----------------------------------------------------------------------------


def decode_bundle(script_content: str, files: Sequence[BundleFile] | None, entry_path: str | list[str] | None) -> Bundle:
    """The bundle a JSON body describes (scriptContent is the first entry's file). Raises 4xx
    domain errors; decodes nothing past the limits."""
    entries = normalise_entries(entry_path)
    entry = first_file_entry(entries)
    _, raw_entry = decode_script(script_content, get_settings().max_script_bytes)
    files = files or []
    if len(files) + 1 > MAX_FILES:
        raise TooManyBundleFilesError(f"a bundle holds at most {MAX_FILES} files (the entry included)", details={"limitFiles": MAX_FILES})
    encoded = sum(len(item.content) for item in files)
    if (encoded * 3) // 4 - 2 * len(files) > MAX_BYTES:  # refuse before decoding anything huge
        raise BundleTooLargeError(f"the bundle is over {MAX_BYTES} bytes decoded", details={"limitBytes": MAX_BYTES})
    pairs = [(entry, raw_entry)] + [(item.path, _b64(item)) for item in files]
    return build_bundle(entry, pairs, entries)


def _b64(item: BundleFile) -> bytes:
    try:
        return base64.b64decode(item.content, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidScriptEncodingError(f"the content of {item.path[:200]!r} is not valid base64", details={"path": item.path[:200]}) from None


def decode_archive(data: bytes, entry_path: str | list[str] | None) -> Bundle:
    """The bundle a zip holds; its entries may be files or folders (the first locustfile is the entry file)."""
    entries = normalise_entries(entry_path)
    files = strip_common_folder(read_archive(data), entries[0].rstrip("/"))
    return build_bundle(None, files, entries)


def check_bundle(bundle: Bundle) -> CheckedBundle:
    """Everything a saved or validated bundle must pass: the entry's text, no file named like a
    module of Locust's runtime, requirements.txt, Locust's own configuration, the Python of every
    .py file and a Locust user class reachable from the locustfiles (none Locust would refuse);
    what each run sets or brings instead of the bundle is said in warnings and notes."""
    text = entry_text(bundle)
    check_module_names(bundle)
    limit = get_settings().max_script_bytes
    if len(bundle.entry_bytes) > limit:
        raise ScriptTooLargeError(f"{bundle.entry_path} is {len(bundle.entry_bytes)} bytes; the limit is {limit}", details={"limitBytes": limit})
    requirements = check_requirements(bundle.files[REQUIREMENTS]) if REQUIREMENTS in bundle.files else None
    platform = review(bundle.files, requirements)
    analysis = ScriptAnalysis(text=text, size_bytes=bundle.size_bytes, sha256=bundle.digest)
    sources: dict[str, bytes | str] = {path: data for path, data in bundle.files.items() if path.endswith(".py")}
    sources[bundle.entry_path] = text
    analyse_files(analysis, sources, bundle.entry_path, bundle.locustfiles, platform.installed)
    analysis.warnings += platform.warnings
    analysis.notes += platform.notes
    return CheckedBundle(bundle, analysis)


# ---- from a stored revision ---------------------------------------------------------------------


def manifest_of(revision: StoredRevision) -> list[BundleFileInfo]:
    """The revision's files; one stored before bundles existed is its locustfile alone."""
    if revision.files:
        return list(revision.files)
    return [BundleFileInfo(path=revision.entry_path, size_bytes=revision.size_bytes, sha256=revision.sha256)]


def bundle_of(stores: Stores, revision: StoredRevision) -> Bundle:
    """The whole snapshot of a revision, every file's bytes read back (blobs by sha256)."""
    entry = (revision.content or "").encode("utf-8")
    manifest = manifest_of(revision)
    wanted = [info.sha256 for info in manifest if info.path != revision.entry_path]
    blobs = stores.revisions.get_blobs(revision.account_id, wanted)
    files: dict[str, bytes] = {}
    for info in manifest:
        if info.path == revision.entry_path:
            files[info.path] = entry
        elif info.sha256 in blobs:
            files[info.path] = blobs[info.sha256]
        else:  # blobs are immutable and never deleted while a revision names them: data loss
            raise RevisionNotFoundError(f"file {info.path!r} of revision {revision.revision_number} is missing from the store")
    return Bundle(entry_path=revision.entry_path, files=files, entries=tuple(revision.entries))


def file_content(stores: Stores, revision: StoredRevision, raw_path: str) -> BundleFileContent:
    path = normalise_path(raw_path)
    info = next((item for item in manifest_of(revision) if item.path == path), None)
    if info is None:
        raise BundleFileNotFoundError(f"revision {revision.revision_number} has no file {path!r}", details={"path": path})
    if path == revision.entry_path:
        data = (revision.content or "").encode("utf-8")
    else:
        found = stores.revisions.get_blobs(revision.account_id, [info.sha256]).get(info.sha256)
        if found is None:
            raise RevisionNotFoundError(f"file {path!r} of revision {revision.revision_number} is missing from the store")
        data = found
    return BundleFileContent(**info.model_dump(), content=base64.b64encode(data).decode("ascii"))


def archive_of(stores: Stores, revision: StoredRevision) -> bytes:
    return write_archive(bundle_of(stores, revision))


# ---- diff ---------------------------------------------------------------------------------------


def diff_files(old: Bundle, new: Bundle, old_label: str, new_label: str, only: str | None = None) -> list[FileDiff]:
    """Each added, removed or modified file (or just `only`), in path order; text files with their unified diff."""
    diffs = []
    paths = set(old.files) | set(new.files) if only is None else {only} & (set(old.files) | set(new.files))
    for path in sorted(paths, key=lambda p: p.encode("utf-8")):
        before, after = old.files.get(path), new.files.get(path)
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "modified"
        binary = any(data is not None and is_binary(data) for data in (before, after))
        diff = FileDiff(
            path=path, change=change, binary=binary,
            from_sha256=_sha(before), to_sha256=_sha(after),
        )  # fmt: skip
        if not binary:
            label = (old_label, new_label) if old.is_single_script and new.is_single_script else (f"{old_label}/{path}", f"{new_label}/{path}")
            diff.unified_diff, diff.added_lines, diff.removed_lines = unified(before, after, *label)
        diffs.append(diff)
    return diffs


def _sha(data: bytes | None) -> str | None:
    return sha256_bytes(data) if data is not None else None


def unified(before: bytes | None, after: bytes | None, from_label: str, to_label: str) -> tuple[str, int, int]:
    old_lines = (before or b"").decode("utf-8").splitlines(keepends=True)
    new_lines = (after or b"").decode("utf-8").splitlines(keepends=True)
    lines = list(difflib.unified_diff(old_lines, new_lines, fromfile=from_label if before is not None else "/dev/null",
                                      tofile=to_label if after is not None else "/dev/null"))  # fmt: skip
    # Lines without a trailing newline would run together in the joined diff.
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    body = [line for line in lines if not line.startswith(("+++", "---"))]
    return text, sum(1 for line in body if line.startswith("+")), sum(1 for line in body if line.startswith("-"))


# ---- script templates ---------------------------------------------------------------------------


def list_templates() -> ScriptTemplateList:
    items = []
    for template in TEMPLATES.values():
        bundle = template_bundle(template.id)
        files = [
            BundleFileContent(**to_info(info).model_dump(), content=base64.b64encode(bundle.files[info.path]).decode("ascii"))
            for info in bundle.manifest
        ]
        items.append(
            ScriptTemplate(id=template.id, name=template.name, description=template.description, entry_path=template.entry_path, files=files)
        )
    return ScriptTemplateList(items=items)


def template_bundle(template_id: str) -> Bundle:
    template = TEMPLATES.get(template_id)
    if template is None:
        raise TemplateNotFoundError(f"no script template {template_id!r}; GET /v1/script-templates lists them", details={"templateId": template_id})
    return build_bundle(template.entry_path, [(path, text.encode("utf-8")) for path, text in template.files.items()])


def template_name(template_id: str) -> str:
    return TEMPLATES[template_id].name
