"""The audit trail as the API answers it (GET /v1/audit): records of configuration changes, newest first."""

from __future__ import annotations

from pydantic import Field

from load_manager.models.base import ApiModel, NextCursor


class AuditTarget(ApiModel):
    type: str = Field(description="loadTest, script, trigger, schedule, cluster, variable, secret, notificationChannel, token or run")
    id: str
    load_test_id: str | None = Field(default=None, description="The load test the target belongs to (a test's own records name it too)")


class AuditRecordOut(ApiModel):
    """One change: who, when, what, to which target, and the digests of the target before and after."""

    id: str
    account_id: str
    at: int = Field(description="When the change was made (epoch ms)")
    seq: int = Field(description="Orders records of one millisecond: increasing per account")
    actor: str = Field(description="Who made it: a verified email, a subject, or token:<name> for an API token")
    role: str = Field(description="The role the actor acted with: viewer, runner, editor or admin")
    action: str = Field(description="<target>.<verb>, e.g. loadTest.create, script.update, criteria.update, trigger.create, token.revoke, run.start")
    target: AuditTarget
    before_digest: str | None = Field(description="sha256 of the canonical JSON of the target before the change; null: it did not exist")
    after_digest: str | None = Field(description="sha256 of the canonical JSON of the target after the change; null: it was deleted")
    token_id: str | None = Field(default=None, description="The API token the change was made with, if any")
    changed: list[str] = Field(default_factory=list, description="The fields the change set (names, never values)")


class AuditPage(ApiModel):
    items: list[AuditRecordOut]
    next_cursor: NextCursor = None
