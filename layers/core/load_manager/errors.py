"""Named domain errors. They are mapped to HTTP in exactly one place (`http.py`)."""

from __future__ import annotations

from typing import Any


class LoadManagerError(Exception):
    """Base of every error a client can cause. `code` is machine-readable and stable."""

    status = 400
    code = "BadRequest"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        if code:
            self.code = code


class BadRequestError(LoadManagerError):
    status, code = 400, "BadRequest"


class InvalidCursorError(LoadManagerError):
    status, code = 400, "InvalidCursor"


class UnauthorizedError(LoadManagerError):
    status, code = 401, "Unauthorized"


class ForbiddenError(LoadManagerError):
    status, code = 403, "Forbidden"


class NotFoundError(LoadManagerError):
    status, code = 404, "NotFound"


class LoadTestNotFoundError(NotFoundError):
    code = "LoadTestNotFound"


class RevisionNotFoundError(NotFoundError):
    code = "RevisionNotFound"


class RunNotFoundError(NotFoundError):
    code = "RunNotFound"


class ClusterNotFoundError(NotFoundError):
    code = "ClusterNotFound"


class ConflictError(LoadManagerError):
    status, code = 409, "Conflict"


class RunActiveError(ConflictError):
    code = "RunActive"


class RunFinalError(ConflictError):
    code = "RunAlreadyFinal"


class IdempotencyKeyReusedError(ConflictError):
    code = "IdempotencyKeyReused"


class PayloadTooLargeError(LoadManagerError):
    status, code = 413, "PayloadTooLarge"


class ScriptTooLargeError(PayloadTooLargeError):
    code = "ScriptTooLarge"


class UnprocessableError(LoadManagerError):
    status, code = 422, "ValidationError"


class InvalidScriptEncodingError(UnprocessableError):
    code = "InvalidScriptEncoding"


class ScriptSyntaxError(UnprocessableError):
    code = "ScriptSyntaxError"


class NoUserClassError(UnprocessableError):
    code = "NoLocustUserClass"


class DuplicateUserClassError(UnprocessableError):
    """Two locustfiles of a bundle bind one user (or shape) class name to classes of two files."""

    code = "DuplicateUserClass"


class ConcurrencyError(LoadManagerError):
    """A write lost too many races in a row; safe for the client (or a workflow step) to retry."""

    status, code = 503, "ConcurrentUpdate"
    retryable = True


# ---- bundles (a revision's files besides the entry locustfile) ----------------------------------


class InvalidBundlePathError(UnprocessableError):
    code = "InvalidBundlePath"


class DuplicateBundlePathError(UnprocessableError):
    code = "DuplicateBundlePath"


class BundlePathCollisionError(UnprocessableError):
    code = "BundlePathCollision"


class BundleTooLargeError(PayloadTooLargeError):
    code = "BundleTooLarge"


class TooManyBundleFilesError(PayloadTooLargeError):
    code = "TooManyBundleFiles"


class InvalidArchiveError(UnprocessableError):
    code = "InvalidArchive"


class UnsafeArchiveEntryError(UnprocessableError):
    code = "UnsafeArchiveEntry"


class InvalidRequirementsError(UnprocessableError):
    code = "InvalidRequirements"


class ReservedModuleNameError(UnprocessableError):
    """A bundle file would be imported instead of Locust, one of its dependencies or the stdlib."""

    code = "ReservedModuleName"


class InvalidLocustConfError(UnprocessableError):
    """locust.conf or pyproject.toml's [tool.locust] that Locust cannot read, or that sets what each run sets."""

    code = "InvalidLocustConf"


class BundleFileNotFoundError(NotFoundError):
    code = "BundleFileNotFound"


class TemplateNotFoundError(NotFoundError):
    code = "ScriptTemplateNotFound"


# ---- runs without a human: triggers, schedules, retention ---------------------------------------


class GoneError(LoadManagerError):
    status, code = 410, "Gone"


class RevisionPrunedError(GoneError):
    code = "RevisionPruned"


class TriggerNotFoundError(NotFoundError):
    code = "TriggerNotFound"


class ScheduleNotFoundError(NotFoundError):
    code = "ScheduleNotFound"


class AutomationLimitError(ConflictError):
    """A per-tenant or per-test cap, or the event bus's own rule quota, is reached."""

    code = "AutomationLimitReached"


class EventSourceNotFoundError(NotFoundError):
    code = "EventSourceNotFound"


class ChannelNotFoundError(NotFoundError):
    code = "NotificationChannelNotFound"


class EventSourceOwnedElsewhereError(ConflictError):
    """Another tenant owns this event source (an application, an AWS account, a custom source)."""

    code = "EventSourceOwnedElsewhere"


class EventSourceNotOwnedError(UnprocessableError):
    """A trigger's pattern names events its tenant does not own: they would be another tenant's."""

    code = "EventSourceNotOwned"


class UnconstrainablePatternError(UnprocessableError):
    """A trigger's pattern is written so that its tenant's constraint cannot be added to it safely."""

    code = "UnconstrainablePattern"


# ---- quotas ----------------------------------------------------------------------------------------


class QuotaExceededError(LoadManagerError):
    """The tenant uses all it may at once (concurrent runs): retry when something ends. `details` name
    the quota, its limit and the current use."""

    status, code = 429, "QuotaExceeded"


class RunLimitError(UnprocessableError):
    """One run asks for more than a run may have (users, workers, duration)."""

    code = "RunLimitExceeded"


class AutomationUnavailableError(LoadManagerError):
    """The deployment has no event bus / Scheduler configured (settings), or AWS refused for a
    reason that is not the client's; nothing was written."""

    status, code = 503, "AutomationUnavailable"
    retryable = True


# ---- results: criteria, baselines, comparisons, reports -----------------------------------------


class BaselineRequiredError(UnprocessableError):
    code = "BaselineRequired"


class InvalidBaselineError(UnprocessableError):
    code = "InvalidBaseline"


class NotComparableError(UnprocessableError):
    code = "NotComparable"


class ReportNotFoundError(NotFoundError):
    code = "ReportNotFound"


# ---- variables and secrets (usecases/variables.py, adapters/vault.py) ------------------------------


class VariableNotFoundError(NotFoundError):
    code = "VariableNotFound"


class SecretNotFoundError(NotFoundError):
    code = "SecretNotFound"


class SecretStoreError(LoadManagerError):
    """The secret store (Secrets Manager, the local file) failed for a reason that is not the
    client's; nothing was written. `retryable` when it may pass (throttling, the service's trouble)."""

    status, code = 503, "SecretStoreUnavailable"

    def __init__(self, message: str, *, retryable: bool = False, details: object = None):
        super().__init__(message, details=details)
        self.retryable = retryable


class SecretUnreadableError(LoadManagerError):
    """A run needs a secret whose value (at the version the run recorded) cannot be read any more:
    deleted, or a reference the deployment no longer allows. The run fails with this reason."""

    status, code = 409, "SecretUnreadable"


# ---- load profiles and per-worker data (usecases/load_profiles.py) ---------------------------------


class LoadProfileConflictError(UnprocessableError):
    """A load profile sent together with the constant-load fields it replaces (users, spawn rate, duration)."""

    code = "LoadProfileConflict"


class InvalidDataSplitError(UnprocessableError):
    """A dataSplit path that is not a CSV text file of the run's (or the test's latest) revision."""

    code = "InvalidDataSplit"


# ---- API tokens (usecases/tokens.py) -----------------------------------------------------------------


class TokenNotFoundError(NotFoundError):
    code = "TokenNotFound"


class TokenRevokedError(UnauthorizedError):
    """The request's API token was revoked (DELETE /v1/tokens/{tokenId}): refused at once, whatever the authorizer cached."""

    code = "TokenRevoked"


class TokenExpiredError(UnauthorizedError):
    code = "TokenExpired"


class TokenLimitError(QuotaExceededError):
    """The tenant has as many active tokens as it may: revoke one (or let one expire) first."""

    code = "TokenLimitReached"


# ---- usage and budget (usecases/usage.py, usecases/budget.py) -------------------------------------


class VcpuBudgetExceededError(QuotaExceededError):
    """The run's estimate would take the tenant's month over its vCPU-hour budget (QUOTA_VCPU_HOURS_PER_MONTH).
    `details`: budgetVcpuHours, usedVcpuHours (recorded this month + in-flight estimates), estimateVcpuHours."""

    code = "VcpuBudgetExceeded"


class UsageWindowError(UnprocessableError):
    """GET /v1/usage: `from` after `to`, or a window longer than a usage read may cover."""

    code = "InvalidUsageWindow"
