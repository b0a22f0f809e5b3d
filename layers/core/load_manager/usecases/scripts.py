"""Script revisions: append-only history, diff and rollback."""

from __future__ import annotations

import difflib

from load_manager.errors import LoadTestNotFoundError, RevisionNotFoundError
from load_manager.identity import Caller
from load_manager.ids import MAX_REVISION_NUMBER, is_id, new_id, now_ms
from load_manager.models import (
    RevisionPage,
    RevisionRef,
    ScriptDiff,
    ScriptRevision,
    ScriptRevisionSummary,
    SyntaxErrorDetail,
    ValidationReport,
)
from load_manager.pagination import decode_cursor, encode_cursor
from load_manager.settings import get_settings
from load_manager.store import StoredRevision, Stores
from load_manager.validation import ScriptAnalysis, analyse_script, decode_script, encode_script, sha256_of

INITIAL_DESCRIPTION = "Initial version"


def check_script(encoded: str) -> ScriptAnalysis:
    """Decode and statically analyse a base64 script; raises 413/422 domain errors."""
    text, _ = decode_script(encoded, get_settings().max_script_bytes)
    return analyse_script(text)


def validation_report(encoded: str) -> ValidationReport:
    """The report of POST /v1/scripts/validate: syntax and Locust problems are reported, not raised."""
    from load_manager.errors import NoUserClassError, ScriptSyntaxError

    text, raw = decode_script(encoded, get_settings().max_script_bytes)
    size, digest = len(raw), sha256_of(text)
    try:
        analysis = analyse_script(text)
    except ScriptSyntaxError as exc:
        return ValidationReport(valid=False, errors=[SyntaxErrorDetail.model_validate(exc.details)], size_bytes=size, sha256=digest)
    except NoUserClassError as exc:
        error = SyntaxErrorDetail(line=None, column=None, message=exc.message)
        return ValidationReport(valid=False, errors=[error], size_bytes=size, sha256=digest)
    return ValidationReport(
        valid=True,
        user_classes=analysis.user_classes,
        task_sets=analysis.task_sets,
        shapes=analysis.shapes,
        warnings=analysis.warnings,
        size_bytes=size,
        sha256=digest,
    )


def to_api(revision: StoredRevision) -> ScriptRevision:
    return ScriptRevision(**to_summary(revision).model_dump(), script_content=encode_script(revision.content or ""))


def to_summary(revision: StoredRevision) -> ScriptRevisionSummary:
    return ScriptRevisionSummary.model_validate(revision.model_dump(exclude={"account_id", "content"}))


def draft_revision(
    caller: Caller, test_id: str, analysis: ScriptAnalysis, description: str, rolled_back_from: int | None = None
) -> StoredRevision:
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
        content=analysis.text,
    )


def _require_test(stores: Stores, caller: Caller, test_id: str) -> None:
    if not is_id(test_id) or stores.load_tests.get(caller.account_id, test_id) is None:
        raise LoadTestNotFoundError(f"load test {test_id!r} not found")


def _append(stores: Stores, caller: Caller, test_id: str, draft: StoredRevision) -> tuple[StoredRevision, bool]:
    revision, created = stores.revisions.append(draft, skip_if_same_as_latest=True)
    # Also on a no-op: repairs a pointer left behind if an earlier writer died between the two writes.
    stores.load_tests.advance_latest_revision(caller.account_id, test_id, revision)
    return revision, created


def update_script(stores: Stores, caller: Caller, test_id: str, encoded: str, description: str | None) -> tuple[ScriptRevision, bool]:
    """New revision; identical content to the latest creates none. Returns (revision, created)."""
    analysis = check_script(encoded)
    _require_test(stores, caller, test_id)
    draft = draft_revision(caller, test_id, analysis, description or "")
    revision, created = _append(stores, caller, test_id, draft)
    return to_api(revision), created


def rollback(stores: Stores, caller: Caller, test_id: str, ref: str | int, description: str | None) -> tuple[ScriptRevision, bool]:
    _require_test(stores, caller, test_id)
    source = resolve_revision(stores, caller, test_id, ref)
    analysis = analyse_script(source.content or "")
    text = description or f"Rollback to revision {source.revision_number}"
    draft = draft_revision(caller, test_id, analysis, text, rolled_back_from=source.revision_number)
    revision, created = _append(stores, caller, test_id, draft)
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


def diff(stores: Stores, caller: Caller, test_id: str, from_ref: str, to_ref: str) -> ScriptDiff:
    _require_test(stores, caller, test_id)
    old = resolve_revision(stores, caller, test_id, from_ref)
    new = resolve_revision(stores, caller, test_id, to_ref)
    return diff_of(test_id, old, new)


def diff_of(test_id: str, old: StoredRevision, new: StoredRevision) -> ScriptDiff:
    """The unified diff between two loaded revisions (also what run comparisons show)."""
    lines = list(
        difflib.unified_diff(
            (old.content or "").splitlines(keepends=True),
            (new.content or "").splitlines(keepends=True),
            fromfile=f"revision {old.revision_number}",
            tofile=f"revision {new.revision_number}",
        )
    )
    # Lines without a trailing newline would run together in the joined diff.
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    body = [line for line in lines if not line.startswith(("+++", "---"))]
    return ScriptDiff(
        load_test_id=test_id,
        from_revision=RevisionRef(id=old.id, revision_number=old.revision_number),
        to_revision=RevisionRef(id=new.id, revision_number=new.revision_number),
        unified_diff=text,
        added_lines=sum(1 for line in body if line.startswith("+")),
        removed_lines=sum(1 for line in body if line.startswith("-")),
    )


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
    return revision
