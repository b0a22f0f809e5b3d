"""Event source ownership: which tenant owns which CodeDeploy application, AWS account or custom
event source (usecases/event_tenancy.py says why triggers need it).

Only the deployment's operators (`OPERATOR_GROUP`) assign sources: the product cannot tell who
owns an application, and a tenant allowed to claim one could read another tenant's deployments.
A source has one owner; claiming it again for the same tenant is a no-op, for another a 409.
Any caller may list its own tenant's sources (what its triggers can match).

After a change, the owner's trigger rules are written again so they match exactly what it owns now.
That rewrite is best-effort (a failure is logged and counted; `{"action": "sync"}` or the next
change redoes it): the triggers function checks ownership again on every delivery anyway, so a rule
still naming a source taken away starts nothing.
"""

from __future__ import annotations

from collections import defaultdict

from load_manager.errors import EventSourceNotFoundError, EventSourceOwnedElsewhereError, ForbiddenError
from load_manager.identity import Caller
from load_manager.ids import is_id, new_id, now_ms
from load_manager.models.automation import CreateEventSourceRequest, EventSource, EventSourceList
from load_manager.observability import count, logger
from load_manager.settings import get_settings
from load_manager.store import Stores
from load_manager.usecases.event_tenancy import Owned


def owned(stores: Stores, account_id: str) -> Owned:
    """kind -> the values the tenant owns."""
    values: dict[str, set[str]] = defaultdict(set)
    for source in stores.event_sources.list(account_id):
        values[source.kind].add(source.value)
    return {kind: frozenset(v) for kind, v in values.items()}


def _require_operator(caller: Caller) -> None:
    if not caller.is_operator:
        group = get_settings().operator_group
        raise ForbiddenError(f"assigning event sources to tenants needs the {group!r} group (the deployment's operators)", code="OperatorOnly")


def create(stores: Stores, rewrite, caller: Caller, request: CreateEventSourceRequest) -> tuple[EventSource, bool]:
    """Returns (source, created); `rewrite(account_id)` writes that tenant's rules again."""
    _require_operator(caller)
    draft = EventSource(
        id=new_id(), owner_account_id=request.owner_account_id, kind=request.kind, value=request.value,
        created_at=now_ms(), created_by=caller.actor,
    )  # fmt: skip
    stored = stores.event_sources.claim(draft)
    if stored.owner_account_id != draft.owner_account_id:
        raise EventSourceOwnedElsewhereError(
            f"{request.kind} {request.value!r} is owned by another tenant; remove that ownership first",
            details={"ownerAccountId": stored.owner_account_id, "id": stored.id},
        )
    created = stored.id == draft.id
    if created:
        _rewrite_rules(rewrite, stored.owner_account_id)
    return stored, created


def list_sources(stores: Stores, caller: Caller, owner_account_id: str | None) -> EventSourceList:
    """The caller's tenant's sources; an operator may ask for another tenant's, or (None) everyone's."""
    if owner_account_id is not None and owner_account_id != caller.account_id:
        _require_operator(caller)
        return EventSourceList(items=stores.event_sources.list(owner_account_id))
    if owner_account_id is None and caller.is_operator:
        return EventSourceList(items=stores.event_sources.list(None))
    return EventSourceList(items=stores.event_sources.list(caller.account_id))


def delete(stores: Stores, rewrite, caller: Caller, source_id: str) -> None:
    _require_operator(caller)
    source = stores.event_sources.get(source_id) if is_id(source_id) else None
    if source is None or not stores.event_sources.delete(source.id):
        raise EventSourceNotFoundError(f"event source {source_id!r} not found")
    _rewrite_rules(rewrite, source.owner_account_id)


def _rewrite_rules(rewrite, account_id: str) -> None:
    try:
        rewrite(account_id)
    except Exception:
        # Deliveries are checked against the store's ownership: a stale rule starts nothing.
        logger.exception("could not rewrite a tenant's trigger rules after an ownership change", extra={"accountId": account_id})
        count("TriggerRulesRewriteFailed")
