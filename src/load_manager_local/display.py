"""What the CLI shows people: rich tables and the live progress of a run. Machines use --json."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

FINAL = {"Finished", "Failed", "Cancelled"}
RESULT_STYLE = {"Passed": "bold green", "Failed": "bold red", "NotEvaluated": "yellow"}


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def when(epoch_ms: int | None) -> str:
    return "-" if epoch_ms is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch_ms / 1000))


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> Table:
    """Cells are data, never markup (Locust names like `/items/[id]` must print as they are); a
    cell that should be styled is a `Text`."""
    out = Table(title=title, title_justify="left", header_style="bold")
    for i, name in enumerate(columns):
        out.add_column(name, justify="left" if i == 0 else "right", overflow="fold")
    for row in rows:
        out.add_row(*(cell if isinstance(cell, Text) else Text("-" if cell is None else str(cell)) for cell in row))
    return out


def run_line(run: dict[str, Any]) -> str:
    result = run.get("result", "NotEvaluated")
    style = RESULT_STYLE.get(result, "")
    return f"run {run['id']} [bold]{run['status']}[/] - result [{style}]{result}[/] (revision {run['revisionNumber']})"


def show_run(console: Console, run: dict[str, Any]) -> None:
    console.print(run_line(run))
    show_generators(console, run)
    if run.get("stopReason"):
        console.print(f"[red]{escape(run['stopReason']['message'])}[/]")
    if run.get("failureReason"):
        console.print(f"[red]failure: {escape(run['failureReason'])}[/]")
    if run.get("endpoints"):
        rows = [[f"{e['method']} {e['name']}", e["requests"], e["failures"], ms(e.get("p50Ms")), ms(e.get("p95Ms")), ms(e.get("p99Ms")),
                 f"{e['rps']:.1f}"] for e in run["endpoints"]]  # fmt: skip
        if run.get("summary"):
            s = run["summary"]
            figures = [ms(s.get("p50Ms")), ms(s.get("p95Ms")), ms(s.get("p99Ms")), f"{s['rps']:.1f}"]
            rows.append(["All requests", s["totalRequests"], s["totalFailures"], *figures])
        console.print(table("Endpoints", ["Endpoint", "Requests", "Failures", "p50 ms", "p95 ms", "p99 ms", "RPS"], rows))
    if run.get("criteriaResults"):
        show_criteria(console, run["criteriaResults"])


def show_generators(console: Console, run: dict[str, Any]) -> None:
    """The load generators' verdict (generatorHealth), a warning when one was saturated."""
    health = run.get("generatorHealth") or {}
    if health.get("message"):
        console.print(f"[bold yellow]{escape(health['message'])}[/]" if run.get("generatorSaturated") else escape(health["message"]))


def show_criteria(console: Console, results: list[dict[str, Any]], title: str = "Criteria") -> None:
    rows = [[Text("passed", style="green") if r["passed"] else Text("FAILED", style="red"), r["message"]] for r in results]
    out = table(title, ["Verdict", "Criterion"], rows)
    out.columns[1].justify = "left"
    console.print(out)


def watch(console: Console, fetch: Callable[[], dict[str, Any]], poll_seconds: float) -> dict[str, Any]:
    """Poll the run until it is final, showing elapsed against duration, users, RPS, p95, failures."""
    run = fetch()
    progress = Progress(
        TextColumn("[bold]{task.fields[status]:<9}"), BarColumn(), TextColumn("{task.completed:>4.0f}/{task.total:.0f} s"),
        TextColumn("users {task.fields[users]:>5}"), TextColumn("rps {task.fields[rps]:>7}"), TextColumn("p95 {task.fields[p95]:>6} ms"),
        TextColumn("failures {task.fields[failures]:>6}"), console=console,
    )  # fmt: skip
    last_status = None
    with progress:
        task = progress.add_task("run", total=run["durationSeconds"], **_figures(run))
        while True:
            if run["status"] != last_status:
                progress.console.print(f"{when(_now_ms())} run {run['id']}: {run['status']}")
                last_status = run["status"]
            progress.update(task, completed=_elapsed(run), **_figures(run))
            if run["status"] in FINAL:
                break
            time.sleep(poll_seconds)
            run = fetch()
    return run


def _figures(run: dict[str, Any]) -> dict[str, Any]:
    live = run.get("live") or {}
    summary = run.get("summary") or {}
    source = summary if run["status"] in FINAL and summary else live
    rps = source.get("rps")
    ratio = source.get("failRatio")
    return {
        "status": run["status"], "users": live.get("users", "-"), "rps": "-" if rps is None else f"{rps:.1f}",
        "p95": ms(source.get("p95Ms")), "failures": "-" if ratio is None else f"{ratio:.1%}",
    }  # fmt: skip


def _elapsed(run: dict[str, Any]) -> float:
    started = run.get("startedAt")
    if not started:
        return 0.0
    end = run.get("endedAt") or (run.get("live") or {}).get("sampledAt") or started
    return max(0.0, min((end - started) / 1000, float(run["durationSeconds"])))


def _now_ms() -> int:
    return int(time.time() * 1000)
