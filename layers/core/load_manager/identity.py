"""Who is calling: derived only from the authorizer's claims, never from the request body.

Two kinds of caller (docs/reference/roles.md): a person, whose role comes from their Cognito
groups, and an API token, whose role and scope the Lambda authorizer passes as `lm:*` claims.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from load_manager.access import ADMIN, EDITOR, ROLES, RUNNER, VIEWER
from load_manager.errors import ForbiddenError, UnauthorizedError
from load_manager.settings import get_settings

TOKEN_PRINCIPAL = "token"


@dataclass(frozen=True)
class Caller:
    subject: str
    email: str | None  # only an email the token says is verified (see caller_from_event)
    account_id: str
    groups: frozenset[str]
    role: str = ""  # empty: derived from `groups` under the deployment's settings
    token_id: str | None = None
    token_name: str | None = None
    load_test_ids: frozenset[str] | None = None  # a token's scope; None: every test of the tenant

    def __post_init__(self) -> None:
        if not self.role:
            object.__setattr__(self, "role", role_of_groups(self.groups))
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def actor(self) -> str:
        """What `createdBy`/`updatedBy` and status changes record: a token's name, the verified email, else the subject."""
        if self.token_id is not None:
            return f"token:{self.token_name or self.token_id}"
        return self.email or self.subject

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_operator(self) -> bool:
        """One of the deployment's operators (above every tenant), not a tenant's admin."""
        return get_settings().operator_group in self.groups

    def sees_test(self, load_test_id: str) -> bool:
        """Whether the caller's scope includes the test (a scoped token sees only its tests)."""
        return self.load_test_ids is None or load_test_id in self.load_test_ids


def role_of_groups(groups: frozenset[str]) -> str:
    """The highest role the groups name; no group is a viewer. The deployment's operators
    administer their own tenant (they assign event sources, an admin route)."""
    settings = get_settings()
    if settings.admin_group in groups or settings.operator_group in groups:
        return ADMIN
    if settings.editor_group in groups:
        return EDITOR
    if settings.runner_group in groups:
        return RUNNER
    return VIEWER


def _authorizer_claims(event: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The claims, and whether the Lambda authorizer (which alone may speak for a token) passed them."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    if isinstance(authorizer.get("lambda"), Mapping):
        return dict(authorizer["lambda"]), True
    jwt = authorizer.get("jwt") or {}
    return dict(jwt.get("claims") or authorizer.get("claims") or {}), False


def claims_of(event: Mapping[str, Any]) -> dict[str, Any]:
    return _authorizer_claims(event)[0]


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    claims, from_lambda = _authorizer_claims(event)
    account_id = claims.get(get_settings().tenant_claim)
    if claims.get("lm:principal") == TOKEN_PRINCIPAL:
        # Copied verbatim from a JWT (the JWT authorizer's path), `lm:*` would be the bearer's own say-so.
        if not from_lambda:
            raise UnauthorizedError("token claims are accepted only from the Lambda authorizer")
        return _token_caller(claims, account_id)
    subject = str(claims.get("sub") or "")
    email = claims.get("email")
    # A user may be able to change their own email: it names them only once verified, else the
    # immutable `sub` does (the template's pool also refuses unverified email changes).
    verified = str(email) if email and is_true(claims.get("email_verified")) else None
    if not subject and not verified:
        raise UnauthorizedError("no authenticated caller: the request carries no sub claim (nor a verified email)")
    if not account_id:
        raise ForbiddenError(f"the token has no tenant claim {get_settings().tenant_claim!r}", code="MissingTenantClaim")
    return Caller(subject=subject or str(verified), email=verified, account_id=str(account_id), groups=_groups(claims))


def _token_caller(claims: Mapping[str, Any], account_id: Any) -> Caller:
    token_id, role = str(claims.get("lm:tokenId") or ""), str(claims.get("lm:role") or "")
    if not token_id or role not in ROLES or not account_id:
        raise UnauthorizedError("the API token's claims are incomplete (tokenId, role, tenant)")
    scope = str(claims.get("lm:loadTestIds") or "").split()
    return Caller(
        subject=str(claims.get("sub") or f"token:{token_id}"), email=None, account_id=str(account_id), groups=frozenset(),
        role=role, token_id=token_id, token_name=str(claims.get("lm:tokenName") or token_id),
        load_test_ids=frozenset(scope) if scope else None,
    )  # fmt: skip


def is_true(value: Any) -> bool:
    """A boolean claim: Cognito's ID tokens carry the string "true", other issuers a JSON boolean."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _groups(claims: Mapping[str, Any]) -> frozenset[str]:
    # HTTP API flattens array claims into strings like "[admins readers]".
    raw = claims.get("cognito:groups") or claims.get("groups") or []
    if isinstance(raw, str):
        raw = raw.strip("[]").replace(",", " ").split()
    return frozenset(str(g) for g in raw)
