"""Variables and secrets: environment variables every Locust process of a run gets, configured per
scope like clusters (account -> org -> project -> env -> test), and per run for variables.

A variable is a plain name/value pair, shown wherever it is asked for. A secret is written and never
read back: its value lives in the secret store only (Secrets Manager in AWS, a private file locally,
adapters/vault.py); what is stored and answered here is its name, scope, version and author.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, StringConstraints, model_validator

from load_manager.models.base import ApiModel, RequestModel, ScopeId
from load_manager.models.run_variables import RunSecret, RunVariable, VariableName, VariableValue  # a run's part of the area

MAX_SECRET_CHARS = 8192
MIN_SECRET_CHARS = 4  # a shorter value could not be redacted without garbling every log line

EntryKind = Literal["variable", "secret"]
# A secret of another place that this deployment lets the tenant use (AWS only; SecretReferencePrefix).
SecretReference = Annotated[str, StringConstraints(pattern=r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$")]


class ScopeFields(RequestModel):
    """Account-wide when every field is absent; org, project and env nest as for clusters; a test's
    own entries name only `testId` (they apply to its runs in every env)."""

    org_id: ScopeId | None = None
    project_id: ScopeId | None = None
    env_id: ScopeId | None = None
    test_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = None


class PutVariableRequest(ScopeFields):
    name: VariableName
    value: VariableValue


class PutSecretRequest(ScopeFields):
    """Exactly one of `value` (stored in the secret store, never answered) and `reference`."""

    name: VariableName
    value: SecretStr | None = Field(
        default=None, description=f"The secret's value ({MIN_SECRET_CHARS}-{MAX_SECRET_CHARS} characters): written, never read back"
    )
    reference: SecretReference | None = Field(
        default=None, description="Instead of a value: the ARN of a Secrets Manager secret this deployment lets the tenant use"
    )

    @model_validator(mode="after")
    def _one_source(self) -> PutSecretRequest:
        if (self.value is None) == (self.reference is None):
            raise ValueError("send either value or reference")
        value = self.value.get_secret_value() if self.value is not None else None
        if value is not None and not MIN_SECRET_CHARS <= len(value) <= MAX_SECRET_CHARS:
            raise ValueError(f"a secret's value has {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters")
        if value is not None and ("\x00" in value or not _encodable(value)):
            raise ValueError("a secret's value is Unicode text without NUL (it becomes an environment variable)")
        return self


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


class ConfigEntry(ApiModel):
    """A variable or a secret as stored: one per (tenant, kind, scope, name). A secret's `value` is
    always None here (the secret store has it); `version` grows by at least one on every write."""

    id: str
    account_id: str
    kind: EntryKind
    org_id: str | None = None
    project_id: str | None = None
    env_id: str | None = None
    test_id: str | None = None
    name: str
    value: str | None = None
    reference: str | None = None
    version: int
    created_at: int
    created_by: str
    updated_at: int
    updated_by: str


class _Scoped(ApiModel):
    id: str
    org_id: str | None = None
    project_id: str | None = None
    env_id: str | None = None
    test_id: str | None = None
    name: str
    version: int = Field(description="Grows on every write")
    updated_at: int = Field(description="Epoch milliseconds")
    updated_by: str


class Variable(_Scoped):
    value: str


class Secret(_Scoped):
    """What is ever answered about a secret: never its value."""

    source: Literal["stored", "reference"]
    reference: str | None = Field(default=None, description="The referenced secret's ARN (source reference)")


class VariablePage(ApiModel):
    items: list[Variable]


class SecretPage(ApiModel):
    items: list[Secret]


class RunEnvironment(ApiModel):
    """What a run of a test would get now (GET /v1/load-tests/{testId}/environment)."""

    variables: list[RunVariable]
    secrets: list[RunSecret]
