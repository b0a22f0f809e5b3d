"""`load-manager audit list` and `load-manager usage show`: an account's audit trail (an admin's) and
what its runs used and cost, as GET /v1/audit and GET /v1/usage answer them.

Times on the command line are ISO 8601 dates or date-times (`2026-12-01`, `2026-12-01T09:30`,
`2026-12-01T09:30+01:00`), UTC when they carry no offset, as the API's months are.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from load_manager_local import display
from load_manager_local.token_commands import OK, CommandContext


def epoch_ms(text: str | None) -> int | None:
    """An ISO 8601 date or date-time as epoch milliseconds (UTC without an offset); None stays None."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or date-time: {text!r} (e.g. 2026-12-01 or 2026-12-01T09:30Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def audit_list(ctx: CommandContext) -> int:
    a = ctx.args
    page = ctx.api.get("/v1/audit", target=a.target, actor=a.actor, limit=a.limit, cursor=a.cursor, **{"from": a.since, "to": a.until})

    def human() -> None:
        rows = [
            [display.when(r["at"]), r["actor"], r["role"], r["action"], f"{r['target']['type']} {r['target']['id']}",
             ", ".join(r.get("changed") or [])]
            for r in page["items"]
        ]  # fmt: skip
        ctx.out.print(display.table("Audit trail (newest first)", ["When", "Actor", "Role", "Action", "Target", "Changed"], rows))
        if page.get("nextCursor"):
            ctx.err.print(f"more: add --cursor {page['nextCursor']}", soft_wrap=True)

    ctx.emit(page, human)
    return OK


def usage_show(ctx: CommandContext) -> int:
    a = ctx.args
    report = ctx.api.get("/v1/usage", groupBy=a.group_by, **{"from": a.since, "to": a.until})

    def human() -> None:
        figures = ["Runs", "vCPU-hours", "GB-hours", f"Cost ({report['currency']})"]

        def row(key: str, f: dict[str, Any]) -> list[Any]:
            return [key, f["runs"], f"{f['vcpuHours']:.3f}", f"{f['memoryGbHours']:.3f}", f"{f['estimatedCost']:.2f}"]

        rows = [row(g["key"] or "(none)", g) for g in report["items"]] + [row("total", report["total"])]
        title = f"Usage by {report['groupBy']}, {display.when(report['from'])} to {display.when(report['to'])}"
        ctx.out.print(display.table(title, [report["groupBy"].capitalize(), *figures], rows))
        if report.get("truncated"):
            ctx.err.print("the smallest groups were left out of the list (not of the total)")
        budget = report.get("budget")
        if budget:
            ctx.out.print(
                f"budget {budget['month']}: {budget['usedVcpuHours']:.3f} of {budget['budgetVcpuHours']:g} vCPU-hours used, "
                f"{budget['inFlightVcpuHours']:.3f} in flight"
            )

    ctx.emit(report, human)
    return OK


def register(audit: argparse._SubParsersAction, usage: argparse._SubParsersAction, leaf: Callable[..., argparse.ArgumentParser]) -> None:
    p = leaf(audit, "list", audit_list, "the account's configuration changes and run starts and stops, newest first (admin)")
    p.add_argument("--target", metavar="ID", help="a resource's id (a load test's also finds its script's, triggers' and runs' records)")
    p.add_argument("--actor", help="who made the changes, as records name them (an email, token:<name>)")
    _window(p)
    p.add_argument("--limit", type=int, help="records per page (default 50)")
    p.add_argument("--cursor", help="the next page, as the previous one said")
    p = leaf(usage, "show", usage_show, "what the account's runs used and cost, per test, project or env")
    p.add_argument("--group-by", choices=("test", "project", "env"), default="test")
    _window(p, "default: this calendar month (UTC)")


def _window(parser: argparse.ArgumentParser, default: str = "default: any time") -> None:
    parser.add_argument("--since", type=epoch_ms, metavar="WHEN", help=f"from this ISO 8601 date or time, inclusive ({default})")
    parser.add_argument("--until", type=epoch_ms, metavar="WHEN", help="to this ISO 8601 date or time, exclusive (default: now)")
