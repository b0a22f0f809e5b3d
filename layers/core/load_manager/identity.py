"""Who is calling: derived only from the authorizer's JWT claims, never from the request body."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from load_manager.errors import ForbiddenError, UnauthorizedError
from load_manager.settings import get_settings


@dataclass(frozen=True)
class Caller:
    subject: str
    email: str | None  # only an email the token says is verified (see caller_from_event)
    account_id: str
    groups: frozenset[str]

    @property
    def actor(self) -> str:
        """What `createdBy`/`updatedBy` and status changes record: the verified email, else the subject."""
        return self.email or self.subject

    @property
    def is_admin(self) -> bool:
        return get_settings().admin_group in self.groups

    @property
    def is_operator(self) -> bool:
        """One of the deployment's operators (above every tenant), not a tenant's admin."""
        return get_settings().operator_group in self.groups


def claims_of(event: Mapping[str, Any]) -> dict[str, Any]:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt = authorizer.get("jwt") or {}
    return dict(jwt.get("claims") or authorizer.get("claims") or {})


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    claims = claims_of(event)
    subject = str(claims.get("sub") or "")
    email = claims.get("email")
    # A user may be able to change their own email: it names them only once verified, else the
    # immutable `sub` does (the template's pool also refuses unverified email changes).
    verified = str(email) if email and is_true(claims.get("email_verified")) else None
    if not subject and not verified:
        raise UnauthorizedError("no authenticated caller: the request carries no sub claim (nor a verified email)")
    account_id = claims.get(get_settings().tenant_claim)
    if not account_id:
        raise ForbiddenError(f"the token has no tenant claim {get_settings().tenant_claim!r}", code="MissingTenantClaim")
    return Caller(subject=subject or str(verified), email=verified, account_id=str(account_id), groups=_groups(claims))


def is_true(value: Any) -> bool:
    """A boolean claim: Cognito's ID tokens carry the string "true", other issuers a JSON boolean."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _groups(claims: Mapping[str, Any]) -> frozenset[str]:
    # HTTP API flattens array claims into strings like "[admins readers]".
    raw = claims.get("cognito:groups") or claims.get("groups") or []
    if isinstance(raw, str):
        raw = raw.strip("[]").replace(",", " ").split()
    return frozenset(str(g) for g in raw)
