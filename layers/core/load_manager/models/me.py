"""GET /v1/me: who the API takes the caller for, and with which role (the console hides what it may not do)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from load_manager.models.base import ApiModel

Role = Literal["viewer", "runner", "editor", "admin"]


class Me(ApiModel):
    subject: str = Field(description="The caller's immutable id: a person's `sub`, or token:<tokenId>")
    email: str | None = Field(default=None, description="A person's verified email; null for a token or an unverified email")
    account_id: str = Field(description="The tenant")
    role: Role = Field(description="viewer < runner < editor < admin: each includes the one before (docs/reference/roles.md)")
    token_id: str | None = Field(default=None, description="The API token's id, when the caller is a token")
    token_name: str | None = Field(default=None, description="The API token's name, when the caller is a token")
    load_test_ids: list[str] | None = Field(default=None, description="The only tests a scoped token reaches; null: every test of the tenant")
