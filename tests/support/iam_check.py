"""IAM for tests: every AWS call a function makes is authorized against that function's role
policies as template.yaml writes them (after SAM's translation), the way AWS would.

moto's own access control checks little beyond `Resource: "*"`, so this is a small evaluator of
its own:
- `iam_operations.requests_for` maps an operation and its parameters to what AWS authorizes it as
  (actions, resources, condition keys, implied actions). An operation it does not know is a
  failure, so nothing slips past unchecked.
- `evaluate` decides like IAM for identity policies: an explicit Deny wins, else an Allow, else
  the implicit deny. Actions match case-insensitively, resources with `*` and `?`, conditions with
  the String*, Arn*, Bool and Null operators (IfExists, ForAnyValue:, ForAllValues: too); any other
  operator is refused. A resource that does not exist has no tags: aws:ResourceTag conditions fail.
- `IamCheck.install()` hooks every botocore client of the process (`BaseClient._emit_api_params`,
  which both API calls and presigned URLs go through). The caller is whoever `CALLER` names (the
  template harness sets it around each invocation); calls made outside any invocation (the
  harness's own set-up, moto's interpreter) and by exempted clients (the ECS stand-in's own) are
  not a function's and are not checked. A denied call raises the error the service answers
  (AccessDeniedException, S3's AccessDenied, EC2's UnauthorizedOperation); a denied presigned URL
  is recorded (AWS would refuse the GET made with it). Every decision is recorded.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from load_manager_local.stack import Policy
from support.iam_operations import Facts, Request, UnmappedOperationError, requests_for

# Who is calling: the logical id of the function (or role) whose invocation is running.
CALLER: ContextVar[str | None] = ContextVar("iam_check_caller", default=None)
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike"}
# How each service answers a call IAM refuses (most: AccessDeniedException, 400).
_DENIED = {"s3": ("AccessDenied", 403), "ec2": ("UnauthorizedOperation", 403)}
_OPERATORS = {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool", "Null", *_NEGATED}


@dataclass(frozen=True)
class Decision:
    principal: str
    operation: str  # service.Operation, or what a service invoked
    action: str
    resource: str
    allowed: bool
    reason: str  # the statement that decided, or why nothing allowed it

    def __str__(self) -> str:
        verdict = "ALLOW" if self.allowed else "DENY"
        return f"{verdict} {self.principal}: {self.action} on {self.resource} ({self.operation}; {self.reason})"


@dataclass
class Principal:
    name: str
    arn: str  # as AWS names the caller in an AccessDenied message
    policies: list[Policy]


# ---- evaluation ----------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _arn_like(pattern: str, value: str) -> bool:
    """Arn* operators: each of the six colon-separated parts matched on its own."""
    parts, wanted = value.split(":", 5), pattern.split(":", 5)
    if len(parts) != 6 or len(wanted) != 6:
        return bool(_wildcard(pattern).match(value))
    return all(_wildcard(w).match(p) for w, p in zip(wanted, parts, strict=True))


def _compare(operator: str, actual: str, expected: list[str]) -> bool:
    base = operator.replace("Not", "", 1) if operator in _NEGATED else operator
    if base == "StringEquals":
        found = actual in expected
    elif base == "StringEqualsIgnoreCase":
        found = actual.lower() in (e.lower() for e in expected)
    elif base == "StringLike":
        found = any(_wildcard(e).match(actual) for e in expected)
    elif base in ("ArnEquals", "ArnLike"):
        found = any(_arn_like(e, actual) for e in expected)
    elif base == "Bool":
        found = actual.lower() in (e.lower() for e in expected)
    else:
        raise NotImplementedError(f"condition operator {operator} is not evaluated here")
    return not found if operator in _NEGATED else found


def _condition_holds(operator: str, keys: Mapping[str, Any], context: Mapping[str, str | list[str]]) -> bool:
    qualifier, _, single = operator.rpartition(":")  # ForAnyValue:StringLike -> a set operator over a multi-valued key
    if_exists = single.endswith("IfExists")
    base = single.removesuffix("IfExists")
    if base not in _OPERATORS or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        # Refused whatever the request carries: nothing is allowed by an operator not understood.
        raise NotImplementedError(f"condition operator {operator} is not evaluated here")
    present = {key.lower(): value for key, value in context.items()}
    for key, expected in keys.items():
        actual = present.get(key.lower())
        values = actual if isinstance(actual, list) else [] if actual is None else [actual]
        if base == "Null":
            holds = (actual is None) == (_listed(expected)[0].lower() == "true")
        elif qualifier == "ForAllValues":
            holds = all(_compare(base, v, _listed(expected)) for v in values)  # no value at all: true, as in IAM
        elif not values:
            holds = if_exists or (base in _NEGATED and qualifier == "")
        else:
            holds = any(_compare(base, v, _listed(expected)) for v in values)
        if not holds:
            return False
    return True


def _statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    if "Action" in statement:
        if not any(_wildcard(a, ignore_case=True).match(request.action) for a in _listed(statement["Action"])):
            return False
    elif any(_wildcard(a, ignore_case=True).match(request.action) for a in _listed(statement.get("NotAction", []))):
        return False
    if "Resource" in statement:
        if not any(_wildcard(r).match(request.resource) for r in _listed(statement["Resource"])):
            return False
    elif any(_wildcard(r).match(request.resource) for r in _listed(statement.get("NotResource", []))):
        return False
    return all(_condition_holds(op, keys, request.context) for op, keys in (statement.get("Condition") or {}).items())


def statements(policies: Sequence[Policy]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for policy in policies:
        listed = policy.document.get("Statement") or []
        for index, statement in enumerate(listed if isinstance(listed, list) else [listed]):
            yield f"{policy.source}#{statement.get('Sid') or index}", statement


def evaluate(policies: Sequence[Policy], request: Request) -> tuple[bool, str]:
    """(allowed, the statement that decided or why nothing did), as IAM decides for identity policies."""
    allowed_by = ""
    for name, statement in statements(policies):
        if not _statement_applies(statement, request):
            continue
        if statement.get("Effect") == "Deny":
            return False, f"explicitly denied by {name}"
        allowed_by = allowed_by or name
    return (True, f"allowed by {allowed_by}") if allowed_by else (False, f"no identity-based policy allows the {request.action} action")


# ---- the hook ----------------------------------------------------------------------------------------


class IamCheck:
    """Authorizes the calls of the running invocation (`CALLER`) against its principal's policies."""

    def __init__(self, principals: Mapping[str, Principal], facts: Facts, *, on_client: Callable[[BaseClient], None] | None = None):
        self.principals = dict(principals)
        self.facts = facts
        self.decisions: list[Decision] = []
        self.errors: list[str] = []  # operations that could not be mapped (they also raised)
        self._exempt: weakref.WeakSet[BaseClient] = weakref.WeakSet()
        self._seen: weakref.WeakSet[BaseClient] = weakref.WeakSet()
        self._on_client = on_client
        self._lock = threading.Lock()
        self._original: Any = None

    def exempt(self, *clients: BaseClient) -> None:
        """Clients that are not a function's (the harness's, the ECS stand-in's own)."""
        for client in clients:
            self._exempt.add(client)

    def install(self) -> IamCheck:
        original = BaseClient._emit_api_params
        check = self

        def emit_api_params(client: BaseClient, api_params: Any, operation_model: Any, context: Any) -> Any:
            principal = CALLER.get()
            if principal is not None and client not in check._exempt:
                check._call(principal, client, operation_model.name, api_params, presign=bool((context or {}).get("is_presign_request")))
            return original(client, api_params, operation_model, context)

        self._original = original
        BaseClient._emit_api_params = emit_api_params  # type: ignore[method-assign]
        return self

    def uninstall(self) -> None:
        if self._original is not None:
            BaseClient._emit_api_params = self._original  # type: ignore[method-assign]
            self._original = None

    def authorize(self, principal: str, operation: str, requests: Sequence[Request]) -> list[Decision]:
        """Decide and record each request for `principal`."""
        policies = self.principals[principal].policies
        decided = []
        for request in requests:
            allowed, reason = evaluate(policies, request)
            decided.append(Decision(principal, operation, request.action, request.resource, allowed, reason))
        with self._lock:
            self.decisions.extend(decided)
        return decided

    def record(self, decision: Decision) -> None:
        with self._lock:
            self.decisions.append(decision)

    def denied(self, since: int = 0) -> list[Decision]:
        with self._lock:
            return [d for d in self.decisions[since:] if not d.allowed]

    def mark(self) -> int:
        """A position in the record: `denied(since=mark)` sees only what came after."""
        with self._lock:
            return len(self.decisions)

    @contextmanager
    def without(self, principal: str, *, sid: str | None = None, source: str | None = None) -> Iterator[None]:
        """While inside: `principal`'s policies lack the statement `sid`, or the whole policy `source`."""
        target = self.principals[principal]
        before = list(target.policies)
        changed = []
        for policy in before:
            if source is not None and policy.source == source:
                continue
            if sid is not None:
                kept = [s for s in _listed_statements(policy.document) if s.get("Sid") != sid]
                policy = replace(policy, document={**policy.document, "Statement": kept})
            changed.append(policy)
        if changed == before:
            raise AssertionError(f"{principal} has no statement {sid!r} / policy {source!r} to remove")
        target.policies = changed
        try:
            yield
        finally:
            target.policies = before

    def _call(self, principal: str, client: BaseClient, operation: str, params: Mapping[str, Any], *, presign: bool) -> None:
        if client not in self._seen:
            self._seen.add(client)
            if self._on_client is not None:
                self._on_client(client)
        service = client.meta.service_model.service_name
        try:
            requests = requests_for(service, operation, params, self.facts)
        except UnmappedOperationError as exc:
            with self._lock:
                self.errors.append(str(exc))
            raise
        what = f"{service}.{operation}" + (" (presigned URL)" if presign else "")
        denied = [d for d in self.authorize(principal, what, requests) if not d.allowed]
        if denied and not presign:
            first = denied[0]
            code, status = _DENIED.get(service, ("AccessDeniedException", 400))
            message = f"User: {self.principals[principal].arn} is not authorized to perform: {first.action} on resource: {first.resource} because {first.reason}"
            raise ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def _listed_statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    listed = document.get("Statement") or []
    return list(listed) if isinstance(listed, list) else [listed]
