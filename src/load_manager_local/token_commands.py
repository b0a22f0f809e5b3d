"""`load-manager tokens create|list|revoke`: an account's API tokens for pipelines (an admin's).

A new token's text is printed once, alone on stdout (what it is goes to stderr), so a script can
take it: `TOKEN=$(load-manager tokens create --name ci --role runner)`. A pipeline then sends it
through LOAD_MANAGER_TOKEN.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, Protocol

from rich.console import Console
from rich.markup import escape

from load_manager_local import display
from load_manager_local.client import ApiClient

OK = 0  # commands.EXIT_OK


class CommandContext(Protocol):  # commands.Context, as these commands (and account_commands') use it
    args: argparse.Namespace
    api: ApiClient
    out: Console
    err: Console

    def emit(self, data: Any, human: Callable[[], object]) -> None: ...


def tokens_create(ctx: CommandContext) -> int:
    a = ctx.args
    body: dict[str, Any] = {"name": a.name, "role": a.role}
    if a.expires_in_days is not None:
        body["expiresInDays"] = a.expires_in_days
    if a.test:
        body["loadTestIds"] = a.test
    created = ctx.api.post("/v1/tokens", body)

    def human() -> None:
        scope = ", ".join(created["loadTestIds"]) if created.get("loadTestIds") else "every test"
        ctx.err.print(
            f"token [bold]{created['id']}[/] {escape(repr(created['name']))}: {created['role']} on {escape(scope)}, "
            f"expires {display.when(created['expiresAt'])}. It is shown this once: keep it now (LOAD_MANAGER_TOKEN).",
            soft_wrap=True,
        )
        print(created["token"])

    ctx.emit(created, human)
    return OK


def tokens_list(ctx: CommandContext) -> int:
    page = ctx.api.get("/v1/tokens", limit=ctx.args.limit)
    rows = [
        [t["id"], t["name"], t["role"], " ".join(t.get("loadTestIds") or []) or "all", t["prefix"] + "…", t["createdBy"],
         display.when(t["expiresAt"]), display.when(t.get("lastUsedAt")), display.when(t.get("revokedAt"))]
        for t in page["items"]
    ]  # fmt: skip
    columns = ["Id", "Name", "Role", "Tests", "Prefix", "Created by", "Expires", "Last used", "Revoked"]
    ctx.emit(page, lambda: ctx.out.print(display.table("API tokens (newest first)", columns, rows)))
    return OK


def tokens_revoke(ctx: CommandContext) -> int:
    ctx.api.delete(f"/v1/tokens/{ctx.args.token_id}")
    ctx.emit({"id": ctx.args.token_id, "revoked": True}, lambda: ctx.out.print(f"token {ctx.args.token_id} revoked"))
    return OK


def register(tokens: argparse._SubParsersAction, leaf: Callable[..., argparse.ArgumentParser]) -> None:
    p = leaf(tokens, "create", tokens_create, "create an API token for a pipeline (admin); its text is printed this once")
    p.add_argument("--name", required=True, help="what it is for, e.g. the pipeline's name")
    p.add_argument("--role", required=True, choices=("viewer", "runner", "editor"), help="runner: start and read runs")
    p.add_argument("--expires-in-days", type=int, metavar="DAYS", help="1-365 (default 90)")
    p.add_argument("--test", action="append", metavar="TEST_ID", help="the only tests it may reach (repeatable; default: every test)")
    leaf(tokens, "list", tokens_list, "the account's API tokens: role, scope, last use, expiry, revocation").add_argument("--limit", type=int)
    leaf(tokens, "revoke", tokens_revoke, "revoke an API token at once").add_argument("token_id")
