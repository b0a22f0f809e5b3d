"""Whose event an event is, and the rule pattern that lets a tenant's trigger see only its own.

The stack's bus is shared by every tenant; EventBridge knows nothing of tenants. So every rule
Load Manager writes is the tenant's pattern AND a constraint on one field of the event, chosen by
the event's `source` (the "family"), which only that tenant's events satisfy:

| source | field | a tenant's events are those whose field is |
|---|---|---|
| `load-manager` | `detail.accountId` | the tenant itself (stamped by Load Manager on RunStarted/RunFinished) |
| `aws.codedeploy` | `detail.application` | a CodeDeploy application the tenant owns |
| any other `aws.*` | `account` | an AWS account the tenant owns |
| anything else | `source` | a custom source the tenant owns |

Ownership is the operators' configuration (usecases/event_sources.py). Why each field can be
trusted: `aws.*` events only come from AWS itself (PutEvents refuses those sources), and AWS sets
`account`, and CodeDeploy `detail.application`. Custom sources and `load-manager` are as trustworthy
as the IAM principals allowed to put them: PutEvents cannot be conditioned on an event's detail,
but it can on its source (`events:source`), so a tenant's CI is granted its own source only, and
`load-manager` is put by the stack's functions (and by whoever an operator trusts with every tenant).

A pattern the constraint cannot be AND-ed to safely is refused (422), never widened: `source` must
be a list of exact names of one family; the constrained field may be absent (it is added) or a list
of exact values the tenant owns (kept as they are), but not a filter (prefix, anything-but, wildcard,
exists...); no `$or` may mention `source` or the constrained field. The triggers function checks
again, on delivery, that the event is the trigger's tenant's (`belongs`), so an event a stale rule
lets through is ignored and never shows in another tenant's `lastFirings`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from load_manager.errors import EventSourceNotOwnedError, UnconstrainablePatternError

LOAD_MANAGER_SOURCE = "load-manager"
CODEDEPLOY_SOURCE = "aws.codedeploy"
# What the constrained field is matched against when the tenant owns nothing any more: no real
# application, account id or source can be this (spaces and parentheses are refused in all three).
NOTHING_OWNED = "(owned by no tenant)"


@dataclass(frozen=True)
class Family:
    kind: str  # "tenant", or the EventSource kind that owns such events
    path: tuple[str, ...]  # the field of the event the constraint is on
    what: str  # for messages


TENANT = Family("tenant", ("detail", "accountId"), "tenant")
CODEDEPLOY = Family("codedeployApplication", ("detail", "application"), "CodeDeploy application")
AWS_ACCOUNT = Family("awsAccount", ("account",), "AWS account")
CUSTOM = Family("eventSource", ("source",), "event source")
Owned = Mapping[str, frozenset[str]]  # EventSource kind -> the values a tenant owns


def family_of(source: str) -> Family:
    if source == LOAD_MANAGER_SOURCE:
        return TENANT
    if source == CODEDEPLOY_SOURCE:
        return CODEDEPLOY
    if source.startswith("aws."):
        return AWS_ACCOUNT
    return CUSTOM


def allowed_values(family: Family, tenant: str, owned: Owned) -> frozenset[str]:
    return frozenset({tenant}) if family is TENANT else owned.get(family.kind, frozenset())


def constrain(pattern: dict[str, Any], tenant: str, owned: Owned, *, strict: bool = True) -> dict[str, Any]:
    """The rule pattern for a tenant's trigger: `pattern` AND the tenant's constraint.

    `strict` (creating a trigger): naming a value the tenant does not own is a 422. Not strict
    (rewriting rules after ownership changed): such values are dropped, and when none is left the
    rule matches nothing."""
    family = pattern_family(pattern)
    _refuse_or_touching(pattern, family.path)
    allowed = allowed_values(family, tenant, owned)
    if strict and not allowed:
        raise EventSourceNotOwnedError(
            f"your tenant owns no {family.what}: an operator assigns them (POST /v1/event-sources), then triggers can match their events",
            details={"field": ".".join(family.path), "owned": []},
        )
    merged = copy.deepcopy(pattern)
    parent = merged
    for key in family.path[:-1]:
        node = parent.setdefault(key, {})
        if not isinstance(node, dict):
            raise UnconstrainablePatternError(f"{key} must be an object in the pattern", details={"field": key})
        parent = node
    leaf = family.path[-1]
    parent[leaf] = _kept(parent.get(leaf), allowed, family, strict)
    return merged


def pattern_family(pattern: Mapping[str, Any]) -> Family:
    sources = pattern.get("source")
    if sources is None:
        raise UnconstrainablePatternError(
            "name the events' source: load-manager, an AWS service (aws.codedeploy...) or a source your tenant owns",
            code="EventSourceRequired", details={"field": "source"},
        )  # fmt: skip
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        raise UnconstrainablePatternError("source must list exact source names (no prefix, anything-but or wildcard)", details={"field": "source"})
    families = {family_of(s) for s in sources}
    if len(families) > 1:
        raise UnconstrainablePatternError(
            "these sources belong to tenants in different ways: make one trigger per source", code="MixedEventSources",
            details={"field": "source", "sources": sorted(sources)},
        )  # fmt: skip
    return families.pop()


def _kept(current: Any, allowed: frozenset[str], family: Family, strict: bool) -> list[str]:
    where = ".".join(family.path)
    if current is None:
        return sorted(allowed) or [NOTHING_OWNED]
    if not isinstance(current, list) or not all(isinstance(v, str) for v in current):
        raise UnconstrainablePatternError(
            f"{where} must list exact values here (filters such as prefix or anything-but could match another tenant's events)",
            details={"field": where},
        )
    foreign = sorted(set(current) - allowed)
    if strict and foreign:
        names = ", ".join(map(repr, foreign))
        message = (
            f"{where} can only name your own tenant (not {names}): a trigger sees only its tenant's events"
            if family is TENANT
            else f"your tenant does not own the {family.what} {names} (operators assign them: POST /v1/event-sources)"
        )
        raise EventSourceNotOwnedError(message, details={"field": where, "notOwned": foreign})
    return [v for v in current if v in allowed] or [NOTHING_OWNED]


def _refuse_or_touching(pattern: Mapping[str, Any], path: tuple[str, ...]) -> None:
    """`$or` branches are AND-ed with their siblings: one naming `source` or the constrained field
    (or a field on its way) would offer another way to match; refuse rather than reason about it."""

    def walk(node: Mapping[str, Any], where: tuple[str, ...]) -> None:
        for key, value in node.items():
            if key == "$or" and isinstance(value, list):
                for branch in (b for b in value if isinstance(b, dict)):
                    _check_branch(branch, where, path)
                    walk(branch, where)
            elif isinstance(value, dict):
                walk(value, (*where, key))

    walk(pattern, ())


def _check_branch(branch: Mapping[str, Any], where: tuple[str, ...], path: tuple[str, ...]) -> None:
    for field in (("source",), path):
        if field[: len(where)] == where and len(field) > len(where) and _mentions(branch, field[len(where) :]):
            name = ".".join(field)
            raise UnconstrainablePatternError(f"$or cannot mention {name}: write one trigger per alternative", details={"field": name})


def _mentions(node: Mapping[str, Any], rest: tuple[str, ...]) -> bool:
    if rest[0] not in node:
        return False
    child = node[rest[0]]
    # A value where the path needs an object could only be a way around the constraint: refused too.
    return len(rest) == 1 or not isinstance(child, dict) or _mentions(child, rest[1:])


def belongs(event: Mapping[str, Any], tenant: str, owned: Owned) -> bool:
    """Is this delivered event the tenant's (the triggers function's check, whatever the rule said)?"""
    source = event.get("source")
    if not isinstance(source, str):
        return False
    family = family_of(source)
    value: Any = event
    for key in family.path:
        value = value.get(key) if isinstance(value, Mapping) else None
    # Exactly one string: a list would match a rule's value through any one of its elements.
    return isinstance(value, str) and value in allowed_values(family, tenant, owned)
