"""API tokens: credentials for pipelines, not people. A token carries a role (at most `editor`) and
optionally the load tests it may reach; its text is shown once, when created, and stored only as
its sha256 with a visible prefix (`lmt_…`) by which a leaked one can be recognised.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from load_manager.models.base import ApiModel, RequestModel

TokenRole = Literal["viewer", "runner", "editor"]  # admin stays with people
TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
TestId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
MAX_SCOPED_TESTS = 50
DEFAULT_EXPIRY_DAYS = 90


class CreateTokenRequest(RequestModel):
    name: TokenName = Field(description="What the token is for (1-100 characters), e.g. the pipeline's name")
    role: TokenRole = Field(description="The role the token acts with: viewer, runner or editor")
    expires_in_days: int = Field(default=DEFAULT_EXPIRY_DAYS, ge=1, le=365, description="Days until the token expires (1-365)")
    # At least one: an empty scope would read as no scope at all (every test) once passed as a claim.
    load_test_ids: list[TestId] | None = Field(
        default=None, min_length=1, max_length=MAX_SCOPED_TESTS,
        description="The only tests the token may reach (1-50; absent: every test of the account)",
    )  # fmt: skip


class TokenRecord(ApiModel):
    """A token as stored: never its text, only the sha256 of it (`tokenHash`)."""

    id: str
    account_id: str
    name: str
    role: TokenRole
    load_test_ids: list[str] | None = None
    prefix: str
    token_hash: str
    created_by: str
    created_at: int
    expires_at: int
    last_used_at: int | None = None
    revoked_at: int | None = None
    revoked_by: str | None = None


class Token(ApiModel):
    """What the API answers about a token: never its text (but at creation) nor its hash."""

    id: str
    name: str
    role: TokenRole
    load_test_ids: list[str] | None = Field(default=None, description="The tests it may reach; null: every test of the account")
    prefix: str = Field(description="The token's first characters: how to recognise it (e.g. in a leaked log)")
    created_by: str
    created_at: int = Field(description="Epoch milliseconds")
    expires_at: int = Field(description="Epoch milliseconds")
    last_used_at: int | None = Field(default=None, description="Epoch milliseconds, to the minute; null: never used")
    revoked_at: int | None = Field(default=None, description="Epoch milliseconds; null: not revoked")


class CreatedToken(Token):
    token: str = Field(description="The token itself: shown this once, never again. Send it as `Authorization: Bearer <token>`")


class TokenPage(ApiModel):
    items: list[Token]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page")
