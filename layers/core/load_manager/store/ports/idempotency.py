"""The port of idempotency keys (`Idempotency-Key` of POST …/runs): one live record per (tenant, key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    fingerprint: str
    run_id: str
    expires_at: int


class IdempotencyStore(Protocol):
    def get(self, account_id: str, key: str, now: int) -> IdempotencyRecord | None:
        """The live record for `key`, if any."""
        ...

    def claim(self, account_id: str, record: IdempotencyRecord, now: int) -> IdempotencyRecord:
        """Store `record` unless a live record for the key exists; return whichever is in force."""
        ...
