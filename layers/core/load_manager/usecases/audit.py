"""The audit trail: who changed which configuration, when, from what to what (docs/reference/audit.md).

Each audited use case builds its change's record here (`change`) and hands it to the store write
that makes the change, which stores both or neither (store/ports/audit.py). Digests are sha256 of
the canonical JSON of the resource as the API shows it, less what is not configuration (when and by
whom it last changed, what its runs and firings left on it) and less anything secret: variables
and secrets are digested by name and version only, a token without its hash, a notification
channel without its credentials (which its record never holds).

A change read and written in two steps is written with an `expect` guard and tried again when
another change came between (`until_written`): a record's `beforeDigest` is always what its change
replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic.alias_generators import to_camel

from load_manager.errors import ConcurrencyError, ForbiddenError, UnprocessableError
from load_manager.identity import Caller
from load_manager.ids import new_id, now_ms
from load_manager.pagination import decode_cursor, encode_cursor
from load_manager.store.ports.audit import AuditRecord, canonical_digest, script_digest

if TYPE_CHECKING:  # annotations only
    from pydantic import BaseModel

    from load_manager.models.audit import AuditPage
    from load_manager.store import Stores

T = TypeVar("T")
M = TypeVar("M")
MAX_ATTEMPTS = 20  # changes that lost to a concurrent one in a row before a 503 ConcurrentUpdate

# What a digest leaves out of each resource (snake_case): when and by whom it last changed, and what
# runs, firings and occurrences write on it, none of which is its configuration.
_CHANGED_STAMP = frozenset({"updated_at", "updated_by"})
_NOT_CONFIGURATION: dict[str, frozenset[str]] = {
    "loadTest": _CHANGED_STAMP | {"latest_revision_id", "latest_revision_number"},  # the script has records of its own
    "trigger": _CHANGED_STAMP | {"last_firings"},
    "schedule": _CHANGED_STAMP | {"occurrences", "next_occurrences"},
    "notificationChannel": _CHANGED_STAMP,
    "cluster": _CHANGED_STAMP,
    "token": frozenset({"token_hash", "last_used_at"}),
}
# A run is digested by what it was started with (variables by name: a value may be sensitive).
_RUN_FIELDS = frozenset({
    "id", "load_test_id", "script_revision_id", "revision_number", "script_sha256", "target_url", "target_users", "spawn_rate",
    "duration_seconds", "workers", "org_id", "project_id", "env_id", "backend", "cluster_id", "criteria", "auto_stop", "baseline_run_id",
    "load_profile", "data_split", "trigger", "stop_requested_at", "stop_requested_by",
})  # fmt: skip


def digest(kind: str, resource: BaseModel | None) -> str | None:
    """The digest of a resource (`kind`: a record's target type), None for none."""
    if resource is None:
        return None
    if kind == "run":
        document = resource.model_dump(mode="json", by_alias=True, include=set(_RUN_FIELDS), warnings=False)
        document["variables"] = sorted(v.name for v in getattr(resource, "variables", []))
        return canonical_digest(document)
    named: Any = resource
    if kind == "script":  # a revision: its bundle's digest names every file's content
        return script_digest(named.sha256)
    if kind in ("variable", "secret"):  # names and versions only, never values
        return canonical_digest({"name": named.name, "version": named.version})
    return canonical_digest(resource.model_dump(mode="json", by_alias=True, exclude=set(_NOT_CONFIGURATION.get(kind, ())), warnings=False))


def change(
    caller: Caller, action: str, target_id: str, *, load_test_id: str | None = None, before: BaseModel | None = None,
    after: BaseModel | None = None, changed: Iterable[str] = (), at: int | None = None,
) -> AuditRecord:  # fmt: skip
    """The record of `caller` doing `action` ("<target type>.<verb>") to `target_id`, from `before` to `after`."""
    kind = action.split(".", 1)[0]
    target_type = "loadTest" if kind in ("criteria", "autoStop", "baseline") else kind  # those change a test
    return AuditRecord(
        id=new_id(), account_id=caller.account_id, at=now_ms() if at is None else at, actor=caller.actor, role=caller.role, action=action,
        target_type=target_type, target_id=target_id, load_test_id=load_test_id, before_digest=digest(target_type, before),
        after_digest=digest(target_type, after), token_id=caller.token_id, changed=tuple(sorted(to_camel(name) for name in changed)),
    )  # fmt: skip


def stamp(previous: int | None) -> int:
    """A change's `updatedAt`: now, and always past the one it replaces (so an `expect` on it tells changes apart)."""
    return max(now_ms(), (previous or 0) + 1)


def merged(current: M, changes: dict[str, Any]) -> M:
    """`current` with `changes` (snake_case) applied, validated again: what the store will hold."""
    resource: Any = current
    return type(resource).model_validate(resource.model_copy(update=changes).model_dump(by_alias=True, warnings=False))


def until_written(read: Callable[[], M], write: Callable[[M], T | None], what: str) -> T:
    """`write(read())` until a write is not refused by a concurrent change (None: its `expect` failed);
    `read` raises what the resource's absence is (a 404)."""
    for _ in range(MAX_ATTEMPTS):
        done = write(read())
        if done is not None:
            return done
    raise ConcurrencyError(f"the {what} changed too often while being written; try again")


# ---- the trail (GET /v1/audit) -----------------------------------------------------------------------


def query(
    stores: Stores, caller: Caller, *, target: str | None, actor: str | None, start: int | None, end: int | None, limit: int,
    cursor: str | None,
) -> AuditPage:  # fmt: skip
    """The tenant's records, newest first, a page at a time: those of a target (a resource's id; a load
    test's id also finds its script's, triggers', schedules' and runs' records), of an actor, in a window."""
    from load_manager.models.audit import (  # lazy: the trail's models cost 1.6 ms at import (bench/cold_import.py --lazy), access only
        AuditPage,
        AuditRecordOut,
    )

    if not caller.is_admin:
        raise ForbiddenError("the audit trail is for the account's admins", details={"requiredRole": "admin", "role": caller.role})
    if start is not None and end is not None and end < start:
        raise UnprocessableError("`to` is before `from`", code="InvalidAuditWindow", details={"from": start, "to": end})
    after = decode_cursor(cursor, int, int)
    rows = stores.audit.query(caller.account_id, target=target, actor=actor, start=start, end=end, limit=limit + 1, after=after or None)
    page, more = rows[:limit], len(rows) > limit
    items = [AuditRecordOut.model_validate(r.document() | {"seq": r.seq}) for r in page]
    return AuditPage(items=items, next_cursor=encode_cursor([page[-1].at, page[-1].seq or 0]) if more else None)
