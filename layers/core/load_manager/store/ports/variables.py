"""The port of variables and secrets (a secret's name, scope and version: its value is in the secret
store, adapters/vault.py). One entry per (tenant, kind, scope, name), unique in both adapters.

Writes are conditional, so concurrent writers never lose an update nor share a version: `insert`
fails when the (kind, scope, name) exists, `replace` and `delete` when the version moved on.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only
    from load_manager.models.variables import ConfigEntry, ScopeFields
    from load_manager.store.ports.audit import AuditRecord

# How many entries of one kind a tenant may have (a write past it is a 422 naming the limit).
MAX_ENTRIES_PER_KIND = 500


def entry_scope_key(entry: ConfigEntry | ScopeFields) -> str:
    """(org, project, env, test), `*` for each level it does not set: unique per tenant, kind and name."""
    return "/".join(part or "*" for part in (entry.org_id, entry.project_id, entry.env_id, entry.test_id))


class VariableStore(Protocol):
    def insert(self, entry: ConfigEntry, *, audit: AuditRecord | None = None) -> bool:
        """Store a new entry; False (and nothing written) when its (tenant, kind, scope, name) exists."""
        ...

    def replace(self, entry: ConfigEntry, expected_version: int, *, audit: AuditRecord | None = None) -> bool:
        """Replace the entry of `entry.id` only while its stored version is `expected_version`."""
        ...

    def get(self, account_id: str, entry_id: str) -> ConfigEntry | None: ...

    def find(self, account_id: str, kind: str, scope_key: str, name: str) -> ConfigEntry | None: ...

    def list(self, account_id: str, kind: str | None = None) -> builtins.list[ConfigEntry]:
        """The tenant's entries (of one kind, or both), by kind, name, then scope key."""
        ...

    def count(self, account_id: str, kind: str) -> int: ...

    def delete(self, account_id: str, entry_id: str, expected_version: int, *, audit: AuditRecord | None = None) -> bool:
        """Delete the entry while its version is `expected_version`; False otherwise (or absent)."""
        ...
