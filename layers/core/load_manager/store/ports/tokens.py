"""The port of API tokens (usecases/tokens.py): one record per token, found by the sha256 of its text
(unique across the deployment: the authorizer knows no tenant before it finds the token), read and
listed per tenant otherwise.

A record is never deleted. Its two mutable fields change by conditional updates only: `revoke` sets
`revokedAt` once (two revokes: one wins, the other changes nothing), `touch` moves `lastUsedAt` on
a live token at most once per interval (a use racing a revoke never undoes it).
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: a port never builds (or imports) its area's models
    from load_manager.models.tokens import TokenRecord
    from load_manager.store.ports.audit import AuditRecord


class TokenStore(Protocol):
    def insert(self, record: TokenRecord, *, audit: AuditRecord | None = None) -> bool:
        """Store a new token; False (nothing written) when its id or hash is stored already."""
        ...

    def get(self, account_id: str, token_id: str) -> TokenRecord | None: ...

    def find_by_hash(self, token_hash: str) -> TokenRecord | None:
        """The token whose text hashes to `token_hash`, of whichever tenant (revoked and expired ones too)."""
        ...

    def list(self, account_id: str, after: tuple[int, str] | None = None, limit: int = 100) -> builtins.list[TokenRecord]:
        """The tenant's tokens, newest first (keyset on (createdAt, id): `after` is the last of the previous page)."""
        ...

    def revoke(self, account_id: str, token_id: str, at: int, by: str, *, audit: AuditRecord | None = None) -> bool:
        """Set `revokedAt`/`revokedBy` unless the token is revoked already; True when this call revoked it."""
        ...

    def touch(self, account_id: str, token_id: str, at: int, min_interval_ms: int) -> bool:
        """Set `lastUsedAt` to `at` on a token not revoked whose last use is older than `at - min_interval_ms`
        (or none); True when this call wrote."""
        ...
