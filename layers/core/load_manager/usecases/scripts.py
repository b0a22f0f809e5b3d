"""Script revisions: append-only history of bundle snapshots, diff and rollback."""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import quote

from load_manager.bundle.core import normalise_path
from load_manager.errors import (
    BundleFileNotFoundError,
    DuplicateUserClassError,
    LoadTestNotFoundError,
    NoUserClassError,
    RevisionNotFoundError,
    RevisionPrunedError,
    ScriptSyntaxError,
)
from load_manager.identity import Caller
from load_manager.ids import MAX_REVISION_NUMBER, is_id, new_id, now_ms
from load_manager.models.bundles import BundleFile, BundleFileContent
from load_manager.models.records import StoredRevision
from load_manager.models.scripts import (
    FileDiff,
    RevisionPage,
    RevisionRef,
    ScriptDiff,
    ScriptRevision,
    ScriptRevisionSummary,
    SyntaxErrorDetail,
    ValidationReport,
)
from load_manager.pagination import decode_cursor, encode_cursor
from load_manager.store import Stores
from load_manager.usecases import audit, bundles
from load_manager.usecases.bundles import CheckedBundle
from load_manager.usecases.retention import prune_after_save
from load_manager.validation import encode_script

INITIAL_DESCRIPTION = "Initial version"


def check_request(script_content: str, files: Sequence[BundleFile] | None = None, entry_path: str | list[str] | None = None) -> CheckedBundle:
    """Decode and statically check a bundle sent as JSON; raises 4xx domain errors."""
    return bundles.check_bundle(bundles.decode_bundle(script_content, files, entry_path))


def validation_report(
    script_content: str, files: Sequence[BundleFile] | None = None, entry_path: str | list[str] | None = None
) -> ValidationReport:
    """The report of POST /v1/scripts/validate: syntax and Locust problems are reported, not raised."""
    bundle = bundles.decode_bundle(script_content, files, entry_path)
    base = {
        "size_bytes": bundle.size_bytes, "sha256": bundle.digest, "entry_path": bundle.entry_path,
        "files": [bundles.to_info(info) for info in bundle.manifest], "entries": bundle.entry_list, "locustfiles": list(bundle.locustfiles),
    }  # fmt: skip
    try:
        analysis = bundles.check_bundle(bundle).analysis
    except ScriptSyntaxError as exc:
        errors = [SyntaxErrorDetail.model_validate(error) for error in (exc.details or {}).get("errors", [exc.details])]
        return ValidationReport(valid=False, errors=errors, **base)
    except (NoUserClassError, DuplicateUserClassError) as exc:
        return ValidationReport(valid=False, errors=[SyntaxErrorDetail(file=bundle.entry_path, line=None, column=None, message=exc.message)], **base)
    return ValidationReport(
        valid=True, user_classes=analysis.user_classes, task_sets=analysis.task_sets, shapes=analysis.shapes,
        warnings=analysis.warnings, notes=analysis.notes, **base,
    )  # fmt: skip


def to_api(revision: StoredRevision) -> ScriptRevision:
    return ScriptRevision(**to_summary(revision).model_dump(), script_content=encode_script(revision.content or ""))


def to_summary(revision: StoredRevision) -> ScriptRevisionSummary:
    summary = ScriptRevisionSummary.model_validate(revision.model_dump(exclude={"account_id", "content"}))
    summary.files = bundles.manifest_of(revision)
    summary.entries = revision.entries or [revision.entry_path]
    return summary


def draft_revision(
    caller: Caller, test_id: str, checked: CheckedBundle, description: str, rolled_back_from: int | None = None
) -> StoredRevision:
    analysis = checked.analysis
    return StoredRevision(
        id=new_id(),
        load_test_id=test_id,
        account_id=caller.account_id,
        revision_number=0,  # assigned by the store, atomically
        description=description,
        sha256=analysis.sha256,
        size_bytes=analysis.size_bytes,
        created_at=now_ms(),
        created_by=caller.actor,
        rolled_back_from=rolled_back_from,
        warnings=analysis.warnings,
        notes=analysis.notes,
        entry_path=checked.bundle.entry_path,
        entries=list(checked.bundle.entries),  # empty: the entry file alone
        # A lone locustfile.py keeps the shape revisions always had (its manifest is derived on read).
        files=[] if checked.bundle.is_single_script else checked.manifest(),
        content=analysis.text,
    )


def _require_test(stores: Stores, caller: Caller, test_id: str) -> None:
    if not is_id(test_id) or not caller.sees_test(test_id) or stores.load_tests.get(caller.account_id, test_id) is None:
        raise LoadTestNotFoundError(f"load test {test_id!r} not found")


def _append(
    stores: Stores, caller: Caller, test_id: str, checked: CheckedBundle, draft: StoredRevision, action: str = "script.update"
) -> tuple[StoredRevision, bool]:
    # Stored with the revision (none when none is created); its before is the latest the store numbered it after.
    record = audit.change(caller, action, draft.id, load_test_id=test_id, after=draft, at=draft.created_at)
    revision, created = stores.revisions.append(draft, skip_if_same_as_latest=True, blobs=checked.blobs(), audit=record)
    # Also on a no-op: repairs a pointer left behind if an earlier writer died between the two writes.
    stores.load_tests.advance_latest_revision(caller.account_id, test_id, revision)
    if created:
        prune_after_save(stores, caller.account_id, test_id)
    return revision, created


def update_script(
    stores: Stores, caller: Caller, test_id: str, encoded: str, description: str | None,
    files: Sequence[BundleFile] | None = None, entry_path: str | list[str] | None = None,
) -> tuple[ScriptRevision, bool]:  # fmt: skip
    """New revision; a snapshot identical to the latest creates none. Returns (revision, created)."""
    return _save(stores, caller, test_id, check_request(encoded, files, entry_path), description)


def update_from_archive(
    stores: Stores, caller: Caller, test_id: str, data: bytes, entry_path: str | None, description: str | None
) -> tuple[ScriptRevision, bool]:
    """New revision from a zip archive of the bundle (`PUT …/script/archive`)."""
    _require_test(stores, caller, test_id)  # a missing test is a 404 before any decompression
    return _save(stores, caller, test_id, bundles.check_bundle(bundles.decode_archive(data, entry_path)), description)


def _save(stores: Stores, caller: Caller, test_id: str, checked: CheckedBundle, description: str | None) -> tuple[ScriptRevision, bool]:
    _require_test(stores, caller, test_id)
    draft = draft_revision(caller, test_id, checked, description or "")
    revision, created = _append(stores, caller, test_id, checked, draft)
    return to_api(revision), created


def rollback(stores: Stores, caller: Caller, test_id: str, ref: str | int, description: str | None) -> tuple[ScriptRevision, bool]:
    """A new revision restoring the whole snapshot of an older one."""
    _require_test(stores, caller, test_id)
    source = resolve_revision(stores, caller, test_id, ref)
    checked = bundles.check_bundle(bundles.bundle_of(stores, source))
    text = description or f"Rollback to revision {source.revision_number}"
    draft = draft_revision(caller, test_id, checked, text, rolled_back_from=source.revision_number)
    revision, created = _append(stores, caller, test_id, checked, draft, "script.rollback")
    return to_api(revision), created


def latest(stores: Stores, caller: Caller, test_id: str) -> ScriptRevision:
    _require_test(stores, caller, test_id)
    return to_api(latest_stored(stores, caller, test_id))


def latest_stored(stores: Stores, caller: Caller, test_id: str) -> StoredRevision:
    revision = stores.revisions.latest(caller.account_id, test_id)
    if revision is None:
        raise RevisionNotFoundError(f"load test {test_id!r} has no script revision")
    return revision


def get_revision(stores: Stores, caller: Caller, test_id: str, ref: str) -> ScriptRevision:
    _require_test(stores, caller, test_id)
    return to_api(resolve_revision(stores, caller, test_id, ref))


def list_revisions(stores: Stores, caller: Caller, test_id: str, limit: int, cursor: str | None) -> RevisionPage:
    _require_test(stores, caller, test_id)
    after = decode_cursor(cursor, int)
    rows = stores.revisions.list(caller.account_id, test_id, limit=limit + 1, before_number=after[0] if after else None)
    page, more = rows[:limit], len(rows) > limit
    return RevisionPage(
        items=[to_summary(r) for r in page],
        next_cursor=encode_cursor([page[-1].revision_number]) if more else None,
    )


def diff(stores: Stores, caller: Caller, test_id: str, from_ref: str, to_ref: str, path: str | None = None) -> ScriptDiff:
    """Every file of the two snapshots: added, removed, modified (binary files flagged, not diffed);
    or the one file at `path` (a file in neither revision is a 404)."""
    _require_test(stores, caller, test_id)
    old = resolve_revision(stores, caller, test_id, from_ref)
    new = resolve_revision(stores, caller, test_id, to_ref)
    if path is None:
        return diff_of(stores, test_id, old, new)
    wanted = normalise_path(path)
    if not any(info.path == wanted for revision in (old, new) for info in bundles.manifest_of(revision)):
        raise BundleFileNotFoundError(
            f"neither revision {old.revision_number} nor {new.revision_number} has a file {wanted!r}", details={"path": wanted}
        )
    return diff_of(stores, test_id, old, new, only=wanted)


def diff_of(stores: Stores, test_id: str, old: StoredRevision, new: StoredRevision, only: str | None = None) -> ScriptDiff:
    """The diff between two loaded revisions, file by file (also what run comparisons show), each
    diff sent once and cut to what one answer can carry (`_fit`)."""
    files = bundles.diff_files(
        bundles.bundle_of(stores, old), bundles.bundle_of(stores, new), f"revision {old.revision_number}", f"revision {new.revision_number}", only
    )
    added, removed = sum(item.added_lines for item in files), sum(item.removed_lines for item in files)
    script_url = f"/v1/load-tests/{quote(test_id, safe='')}/script"
    _fit(files, new.entry_path, script_url, (old.revision_number, new.revision_number), alone=only is not None)
    entry = next((item for item in files if item.path == new.entry_path and not item.binary), None)
    entry_diff = (entry.unified_diff or "") if entry else ""
    if entry:
        entry.unified_diff = None  # sent once: as the top-level unifiedDiff
    return ScriptDiff(
        load_test_id=test_id,
        from_revision=RevisionRef(id=old.id, revision_number=old.revision_number, entry_path=old.entry_path),
        to_revision=RevisionRef(id=new.id, revision_number=new.revision_number, entry_path=new.entry_path),
        unified_diff=entry_diff, added_lines=added, removed_lines=removed, files=files, truncated=any(item.truncated for item in files),
    )  # fmt: skip


# ---- diffs that fit in one answer ----------------------------------------------------------------
# An answer is a Lambda response: at most 6 MB (Lambda's synchronous payload limit; API Gateway's 10 MB
# is not the binding one). A diff is counted as it travels there (`wire_bytes`), so quotes and
# backslashes, escaped twice, count for what they cost.
FILE_DIFF_BUDGET = 1024 * 1024  # one file's share of a whole-bundle diff
TOTAL_DIFF_BUDGET = 3 * 1024 * 1024  # all of them: leaves half of the limit to the rest of a run comparison
ALONE_DIFF_BUDGET = 5 * 1024 * 1024  # one file's diff asked for alone (`path=`)


def wire_bytes(text: str) -> int:
    """Bytes `text` takes in a Lambda response: a JSON string (ASCII, as the resolver writes it) in
    the JSON body, itself a string in Lambda's JSON response."""
    body = json.dumps(text)
    return len(body) + body.count('"') + body.count("\\")


def cut(text: str, budget: int) -> str:
    """The longest run of first lines whose `wire_bytes` fit the budget (within a few percent); part of
    the first line when not even that fits."""
    size = wire_bytes(text)
    end = len(text)
    while size > budget and end > 0:
        end = int(end * budget / size * 0.98)  # text's density is about even: a proportional guess, then check
        end = text.rfind("\n", 0, end) + 1 or end
        size = wire_bytes(text[:end])
    return text[:end]


def _fit(files: list[FileDiff], entry_path: str, script_url: str, numbers: tuple[int, int], alone: bool) -> None:
    """Cut each file's diff to its budget. Smallest diffs first (and the entry before them), so one
    huge file cannot crowd out the others; the answer keeps the path order."""
    left = ALONE_DIFF_BUDGET if alone else TOTAL_DIFF_BUDGET
    for item in sorted(files, key=lambda f: (f.path != entry_path, len(f.unified_diff or ""))):
        whole = item.unified_diff or ""
        kept = cut(whole, min(left, ALONE_DIFF_BUDGET if alone else FILE_DIFF_BUDGET))
        left -= wire_bytes(kept)
        item.diff_bytes, item.sent_bytes = len(whole.encode("utf-8")), len(kept.encode("utf-8"))
        if len(kept) == len(whole):
            continue
        item.unified_diff, item.truncated = kept, True
        if alone:
            read = " and ".join(f"GET {script_url}/revisions/{n}/files/{quote(item.path, safe='/')}" for n in numbers)
            item.note = (
                f"cut to its first {item.sent_bytes:,} of {item.diff_bytes:,} bytes: the whole diff of this one file does not fit in an API answer "
                f"(6 MB). Read the file from both revisions ({read}) and diff them locally"
            )
        else:
            item.full_diff_url = f"{script_url}/diff?from={numbers[0]}&to={numbers[1]}&path={quote(item.path, safe='')}"


def revision_file(stores: Stores, caller: Caller, test_id: str, ref: str, path: str) -> BundleFileContent:
    _require_test(stores, caller, test_id)
    return bundles.file_content(stores, resolve_revision(stores, caller, test_id, ref), path)


def revision_archive(stores: Stores, caller: Caller, test_id: str, ref: str) -> tuple[StoredRevision, bytes]:
    _require_test(stores, caller, test_id)
    revision = resolve_revision(stores, caller, test_id, ref)
    return revision, bundles.archive_of(stores, revision)


def resolve_revision(stores: Stores, caller: Caller, test_id: str, ref: str | int) -> StoredRevision:
    """A revision of this test by id or by number; anything else (incl. another test's) is a 404."""
    text = str(ref).strip()
    revision = None
    if text.isdigit() and len(text) <= 10:
        number = int(text)
        if 1 <= number <= MAX_REVISION_NUMBER:
            revision = stores.revisions.get_by_number(caller.account_id, test_id, number)
    elif is_id(text):
        revision = stores.revisions.get(caller.account_id, test_id, text)
    if revision is None:
        raise RevisionNotFoundError(f"revision {text[:80]!r} of load test {test_id!r} not found")
    if revision.pruned_at is not None:
        raise RevisionPrunedError(
            f"revision {revision.revision_number} of load test {test_id!r} was pruned by the test's retention; its record stays in the history",
            details={"revisionNumber": revision.revision_number, "sha256": revision.sha256, "prunedAt": revision.pruned_at},
        )
    return revision
