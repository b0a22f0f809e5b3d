"""`load-manager tests|script|runs|baseline ...`: the API from a terminal or a release pipeline.

Talks to any Load Manager API (`--api-url` / LOAD_MANAGER_API_URL, `--token` / LOAD_MANAGER_TOKEN;
a local `serve` by default). Tables for people, `--json` for machines; live progress goes to stderr.
Exit codes, for gating a pipeline: 0 the run Finished and Passed (or had no criteria), 1 it Finished
and Failed its gates (auto-stop included), 2 it Failed or was Cancelled, 3 a usage or API error,
4 it Finished and Passed (or had no criteria) but a load generator was saturated: the load asked for
may not have been applied, so the pass proves less than it says. A run that Failed its gates with a
saturated generator stays 1: a failed gate never exits milder than before (the output says why).
5 the API refused the credential (401: none, an invalid JWT, an API token expired or revoked), so a
pipeline tells "fix the secret" from "fix the build".
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.text import Text

from load_manager_local import account_commands, display, token_commands
from load_manager_local.client import ApiClient, ApiError

EXIT_OK, EXIT_GATES_FAILED, EXIT_RUN_FAILED, EXIT_USAGE = 0, 1, 2, 3
EXIT_GENERATOR_SATURATED = 4  # Finished, not Failed, but a load generator was saturated (generatorSaturated)
EXIT_AUTHENTICATION = 5  # the API answered 401: no credential, or one it refuses (an expired or revoked API token)
EPILOG_EXIT_CODES = (
    "exit codes: 0 success (a run: Finished and Passed, or no criteria); 1 the run Failed its gates; 2 the run Failed or was "
    "Cancelled; 3 a usage or API error; 4 Passed but a load generator was saturated; 5 authentication refused (401: "
    "LOAD_MANAGER_TOKEN or --token missing, invalid, expired or revoked)"
)
_CRITERION = re.compile(
    r"^(?:(?P<endpoint>.+):)?\s*(?P<metric>[A-Za-z0-9]+)\s*(?:(?P<op><=|>=|<|>)\s*(?P<value>[-+0-9.eE]+)|\+\s*(?P<pct>[0-9.]+)\s*%)$"
)
_AUTO_STOP = re.compile(r"^(?P<pct>[0-9.]+)%/(?P<window>[0-9]+)s$")
_STAGE = re.compile(r"^(?P<seconds>[0-9]+)s:(?P<users>[0-9]+)(?:@(?P<rate>[0-9.]+))?$")


class CliParser(argparse.ArgumentParser):
    """Usage errors exit 3 (argparse's own 2 means "the run failed" here)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class UsageError(Exception):
    pass


def exit_code(run: dict[str, Any]) -> int:
    if run["status"] != "Finished":
        return EXIT_RUN_FAILED
    if run.get("result") == "Failed":
        return EXIT_GATES_FAILED
    return EXIT_GENERATOR_SATURATED if run.get("generatorSaturated") else EXIT_OK


# ---- plumbing -----------------------------------------------------------------------------------


class Context:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.api = ApiClient.from_options(args.api_url, args.token)
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False)

    def emit(self, data: Any, human: Callable[[], object]) -> None:
        if self.args.json:
            print(json.dumps(data, indent=2))
        else:
            human()


def _run(handler: Callable[[Context], int]) -> Callable[[argparse.Namespace], int]:
    def call(args: argparse.Namespace) -> int:
        ctx = Context(args)
        try:
            return handler(ctx)
        except UsageError as exc:
            ctx.err.print(f"[red]error:[/] {escape(str(exc))}")
            return EXIT_USAGE
        except ApiError as exc:
            ctx.err.print(f"[red]API error {exc.status or ''} {exc.code}:[/] {escape(exc.message)}")
            if exc.details:
                ctx.err.print(json.dumps(exc.details, indent=2), markup=False)
            return EXIT_AUTHENTICATION if exc.status == 401 else EXIT_USAGE

    return call


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api-url", help="Load Manager API (default: $LOAD_MANAGER_API_URL, else http://127.0.0.1:8080)")
    common.add_argument("--token", help="Bearer token (default: $LOAD_MANAGER_TOKEN)")
    common.add_argument("--json", action="store_true", help="print the API's JSON answer instead of tables")
    return common


def _b64_file(path: str) -> str:
    try:
        return base64.b64encode(Path(path).read_bytes()).decode()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc


# ---- criteria and auto-stop on the command line --------------------------------------------------


def parse_criterion(text: str) -> dict[str, Any]:
    """`p95Ms<200`, `GET /checkout:p99Ms<=500`, `rps>=50`, `p95Ms+10%` (at most 10 % worse than the baseline)."""
    found = _CRITERION.match(text.strip())
    if not found:
        raise UsageError(f"criterion {text!r}: write [ENDPOINT:]METRIC<OP>NUMBER (p95Ms<200) or [ENDPOINT:]METRIC+PCT% (p95Ms+10%)")
    criterion: dict[str, Any] = {"metric": found["metric"]}
    if found["endpoint"]:
        criterion["endpoint"] = found["endpoint"].strip()
    try:
        if found["pct"] is not None:
            criterion["maxRegressionPercent"] = float(found["pct"])
        else:
            criterion |= {"operator": found["op"], "threshold": float(found["value"])}
    except ValueError as exc:
        raise UsageError(f"criterion {text!r}: {exc}") from exc
    return criterion


def criteria_of(args: argparse.Namespace) -> list[dict[str, Any]] | None:
    if getattr(args, "no_criteria", False):
        return []
    found = [parse_criterion(c) for c in args.criterion or []]
    if args.criteria_json:
        try:
            loaded = json.loads(Path(args.criteria_json[1:]).read_text() if args.criteria_json.startswith("@") else args.criteria_json)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--criteria-json: {exc}") from exc
        found += loaded if isinstance(loaded, list) else [loaded]
    return found or None


def auto_stop_of(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if value == "off":
        return {"enabled": False}
    found = _AUTO_STOP.match(value.replace(" ", ""))
    if not found:
        raise UsageError(f"--auto-stop {value!r}: write PERCENT%/WINDOWs (90%/60s) or off")
    return {"enabled": True, "failRatio": float(found["pct"]) / 100, "windowSeconds": int(found["window"])}


def load_profile_of(stages: list[str] | None) -> dict[str, Any] | None:
    """`--stage 30s:10 --stage 60s:30@5` -> the API's loadProfile (the API checks the limits)."""
    if not stages:
        return None
    parsed = []
    for text in stages:
        found = _STAGE.match(text.replace(" ", ""))
        if not found:
            raise UsageError(f"--stage {text!r}: write SECONDSs:USERS[@SPAWN_RATE] (60s:30 or 60s:30@5)")
        stage: dict[str, Any] = {"durationSeconds": int(found["seconds"]), "users": int(found["users"])}
        if found["rate"] is not None:
            stage["spawnRate"] = float(found["rate"])
        parsed.append(stage)
    return {"stages": parsed}


def _gate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--criterion", action="append", metavar="RULE", help="p95Ms<200, 'GET /x:p99Ms<=500', rps>=50, p95Ms+10%% (repeatable)")
    parser.add_argument("--criteria-json", metavar="JSON|@FILE", help="criteria as the API takes them (a JSON list)")
    parser.add_argument("--auto-stop", metavar="PCT%/WINDOWs|off", help="stop early at this failure ratio over this window (default 90%%/60s)")


def _body(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


# ---- tests --------------------------------------------------------------------------------------


def tests_create(ctx: Context) -> int:
    a = ctx.args
    body = _body(
        name=a.name, description=a.description, targetUrl=a.target_url, scriptContent=_b64_file(a.script), scriptDescription=a.message,
        defaultUsers=a.users, defaultSpawnRate=a.spawn_rate, defaultDurationSeconds=a.duration, criteria=criteria_of(a),
        autoStop=auto_stop_of(a.auto_stop),
    )  # fmt: skip
    test = ctx.api.post("/v1/load-tests", body)
    ctx.emit(test, lambda: _show_test(ctx, test))
    return EXIT_OK


def tests_list(ctx: Context) -> int:
    page = ctx.api.get("/v1/load-tests", limit=ctx.args.limit)
    rows = [[t["id"], t["name"], t["latestRevisionNumber"], t.get("targetUrl"), display.when(t["updatedAt"])] for t in page["items"]]
    ctx.emit(page, lambda: ctx.out.print(display.table("Load tests", ["Id", "Name", "Revision", "Target", "Updated"], rows)))
    return EXIT_OK


def tests_show(ctx: Context) -> int:
    test = ctx.api.get(f"/v1/load-tests/{ctx.args.test_id}")
    ctx.emit(test, lambda: _show_test(ctx, test))
    return EXIT_OK


def _show_test(ctx: Context, t: dict[str, Any]) -> None:
    ctx.out.print(f"load test [bold]{t['id']}[/] {escape(repr(t['name']))}: revision {t['latestRevisionNumber']}, target {t.get('targetUrl') or '-'}")
    auto = t.get("autoStop") or {"enabled": True, "failRatio": 0.9, "windowSeconds": 60}
    stop = f"{auto['failRatio']:.0%} over {auto['windowSeconds']} s" if auto["enabled"] else "off"
    ctx.out.print(f"auto-stop: {stop}; baseline run: {t.get('baselineRunId') or '-'}")
    rows = [[c.get("endpoint") or "all requests", c["metric"], _rule(c)] for c in t.get("criteria") or []]
    if rows:
        ctx.out.print(display.table("Criteria", ["Endpoint", "Metric", "Rule"], rows))


def _rule(c: dict[str, Any]) -> str:
    if c.get("maxRegressionPercent") is not None:
        return f"at most {c['maxRegressionPercent']:g} % worse than the baseline"
    return f"{c['operator']} {c['threshold']:g}"


# ---- script -------------------------------------------------------------------------------------


def script_push(ctx: Context) -> int:
    a = ctx.args
    revision = ctx.api.put(f"/v1/load-tests/{a.test_id}/script", _body(scriptContent=_b64_file(a.file), description=a.message))
    line = f"revision {revision['revisionNumber']} ({revision['sha256'][:12]}): {escape(revision['description'] or '-')}"
    ctx.emit(revision, lambda: ctx.out.print(line))
    return EXIT_OK


def script_show(ctx: Context) -> int:
    a = ctx.args
    path = f"/v1/load-tests/{a.test_id}/script" + (f"/revisions/{a.revision}" if a.revision else "")
    revision = ctx.api.get(path)
    ctx.emit(revision, lambda: print(base64.b64decode(revision["scriptContent"]).decode(), end=""))
    return EXIT_OK


def script_log(ctx: Context) -> int:
    page = ctx.api.get(f"/v1/load-tests/{ctx.args.test_id}/script/revisions", limit=ctx.args.limit)
    rows = [[r["revisionNumber"], r["sha256"][:12], r["createdBy"], display.when(r["createdAt"]), r["description"]] for r in page["items"]]
    ctx.emit(page, lambda: ctx.out.print(display.table("Revisions (newest first)", ["#", "sha256", "Author", "Saved", "Description"], rows)))
    return EXIT_OK


def script_diff(ctx: Context) -> int:
    a = ctx.args
    diff = ctx.api.get(f"/v1/load-tests/{a.test_id}/script/diff", **{"from": a.from_revision, "to": a.to_revision})
    ctx.emit(diff, lambda: _print_diff(ctx, diff))
    return EXIT_OK


def _print_diff(ctx: Context, diff: dict[str, Any]) -> None:
    ctx.out.print(f"revision {diff['from']['revisionNumber']} -> {diff['to']['revisionNumber']}: +{diff['addedLines']} -{diff['removedLines']}")
    # Each file's diff is in its item; the entry's (null there) is the top-level unifiedDiff.
    text = "".join(diff["unifiedDiff"] if f.get("unifiedDiff") is None else f["unifiedDiff"] for f in diff.get("files") or []) or diff["unifiedDiff"]
    if text:
        ctx.out.print(Syntax(text, "diff", theme="ansi_light", background_color="default"))
    for f in diff.get("files") or []:
        if f.get("truncated"):
            whole = f.get("fullDiffUrl") or f.get("note")
            ctx.out.print(f"{f['path']}: diff cut to {f['sentBytes']:,} of {f['diffBytes']:,} bytes; the whole: {whole}")


def script_rollback(ctx: Context) -> int:
    a = ctx.args
    revision = ctx.api.post(f"/v1/load-tests/{a.test_id}/script/rollback", _body(revision=a.revision, description=a.message))
    ctx.emit(revision, lambda: ctx.out.print(f"revision {revision['revisionNumber']}: {escape(revision['description'])}"))
    return EXIT_OK


# ---- runs and baseline --------------------------------------------------------------------------


def runs_start(ctx: Context) -> int:
    a = ctx.args
    body = _body(
        targetUsers=a.users, spawnRate=a.spawn_rate, durationSeconds=a.duration, workers=a.workers, targetUrl=a.target_url,
        revision=a.revision, criteria=criteria_of(a), autoStop=auto_stop_of(a.auto_stop), baselineRunId=a.baseline,
        loadProfile=load_profile_of(a.stage), dataSplit=a.data_split,
    )  # fmt: skip
    headers = {"Idempotency-Key": a.idempotency_key} if a.idempotency_key else None
    run = ctx.api.post(f"/v1/load-tests/{a.test_id}/runs", body, headers=headers)
    if not a.wait:
        ctx.emit(run, lambda: ctx.out.print(f"started {display.run_line(run)}"))
        return EXIT_OK
    return _watch(ctx, run["id"])


def runs_watch(ctx: Context) -> int:
    return _watch(ctx, ctx.args.run_id)


def _watch(ctx: Context, run_id: str) -> int:
    run = display.watch(ctx.err, lambda: ctx.api.get(f"/v1/runs/{run_id}"), ctx.args.poll)
    ctx.emit(run, lambda: display.show_run(ctx.out, run))
    if ctx.args.json and run.get("generatorSaturated"):  # the JSON carries it; a person reading the log sees it too
        display.show_generators(ctx.err, run)
    return exit_code(run)


def runs_show(ctx: Context) -> int:
    run = ctx.api.get(f"/v1/runs/{ctx.args.run_id}")
    ctx.emit(run, lambda: display.show_run(ctx.out, run))
    return EXIT_OK


def runs_list(ctx: Context) -> int:
    a = ctx.args
    page = ctx.api.get(f"/v1/load-tests/{a.test_id}/runs", status=a.status, limit=a.limit)
    rows = [[r["id"], r["status"], r["result"], r["revisionNumber"], r["targetUsers"], display.when(r.get("startedAt")),
             display.ms((r.get("summary") or {}).get("p95Ms"))] for r in page["items"]]  # fmt: skip
    ctx.emit(page, lambda: ctx.out.print(display.table("Runs (newest first)", ["Id", "Status", "Result", "Rev", "Users", "Started", "p95 ms"], rows)))
    return EXIT_OK


def runs_stop(ctx: Context) -> int:
    run = ctx.api.post(f"/v1/runs/{ctx.args.run_id}/stop")
    ctx.emit(run, lambda: ctx.out.print(f"stop requested: {display.run_line(run)}"))
    return EXIT_OK


def runs_compare(ctx: Context) -> int:
    a = ctx.args
    comparison = ctx.api.get("/v1/runs/compare", base=a.base, target=a.target)
    if a.report:
        _write(ctx, a.report, ctx.api.text("/v1/runs/compare/report", base=comparison["base"]["id"], target=a.target))
    ctx.emit(comparison, lambda: _show_comparison(ctx, comparison))
    return EXIT_OK


def _show_comparison(ctx: Context, c: dict[str, Any]) -> None:
    for side in ("base", "target"):
        run = c[side]
        ctx.out.print(f"{side:<6} {display.run_line(run)}" + (" (the test's baseline)" if side == "base" and c["baseIsBaseline"] else ""))
    for line in c["highlights"]:
        ctx.out.print(f"  * {escape(line['message'])}")
    rows = [["All requests", *_delta_cells(c["overall"])]] + [[e["endpoint"], *_delta_cells(e["deltas"])] for e in c["endpoints"]]
    ctx.out.print(display.table("base -> target", ["Endpoint", "p50 ms", "p95 ms", "p99 ms", "RPS", "Failures"], rows))
    for label, key in (("only in target", "onlyInTarget"), ("only in base", "onlyInBase")):
        for e in c[key]:
            ctx.out.print(f"{label}: {escape(e['endpoint'])} (p95 {display.ms(e['stats'].get('p95Ms'))} ms, {e['stats']['requests']} requests)")
    for side in ("base", "target"):
        if c[side]["criteriaResults"]:
            display.show_criteria(ctx.out, c[side]["criteriaResults"], title=f"Criteria of the {side} run")
    if c.get("scriptDiff"):
        _print_diff(ctx, c["scriptDiff"])
    else:
        ctx.out.print("same script revision on both sides")


def _delta_cells(deltas: dict[str, Any]) -> list[Text | str]:
    cells: list[Text | str] = []
    for name in ("p50Ms", "p95Ms", "p99Ms", "rps", "failRatio"):
        d = deltas[name]
        if d.get("absolute") is None:
            cells.append("-")
            continue
        pct = "" if d.get("percent") is None else f" ({d['percent']:+.0f}%)"
        style = "red" if d.get("worse") else "green" if d.get("worse") is False else ""
        value = f"{d['base']:.3g} -> {d['target']:.3g}{pct}"
        cells.append(Text(value, style=style))
    return cells


def runs_report(ctx: Context) -> int:
    a = ctx.args
    _write(ctx, a.output or f"run-{a.run_id[:8]}.html", ctx.api.text(f"/v1/runs/{a.run_id}/report"))
    return EXIT_OK


def _write(ctx: Context, path: str, html: str) -> None:
    try:
        Path(path).write_text(html, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
    ctx.err.print(f"wrote {path} ({len(html.encode()):,} bytes)")


def baseline_set(ctx: Context) -> int:
    a = ctx.args
    test = ctx.api.put(f"/v1/load-tests/{a.test_id}/baseline", {"runId": None if a.run_id == "none" else a.run_id})
    ctx.emit(test, lambda: ctx.out.print(f"baseline of {test['id']}: {test.get('baselineRunId') or 'none'}"))
    return EXIT_OK


# ---- the parsers --------------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction) -> None:
    """Add the tests, script, runs, baseline, tokens, audit and usage commands to `load-manager`."""
    common = _common()

    def group(name: str, help_text: str) -> argparse._SubParsersAction:
        return sub.add_parser(name, help=help_text).add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")

    def leaf(parent: argparse._SubParsersAction, name: str, handler: Callable[[Context], int], help_text: str) -> argparse.ArgumentParser:
        parser = parent.add_parser(name, parents=[common], help=help_text, description=help_text, epilog=EPILOG_EXIT_CODES)
        parser.set_defaults(handler=_run(handler))
        return parser

    _register_tests(group("tests", "create, list and show load tests"), leaf)
    _register_script(group("script", "a test's script revisions: push, show, log, diff, rollback"), leaf)
    _register_runs(group("runs", "start, watch, compare and report runs"), leaf)
    baseline = group("baseline", "the run regression criteria and comparisons measure against")
    p = leaf(baseline, "set", baseline_set, "set a test's baseline run (a Finished run of it; 'none' clears it)")
    p.add_argument("test_id")
    p.add_argument("run_id")
    token_commands.register(group("tokens", "an account's API tokens for pipelines (admin): create, list, revoke"), leaf)
    account_commands.register(group("audit", "the account's audit trail (admin)"), group("usage", "what the account's runs used and cost"), leaf)


def _register_tests(tests: argparse._SubParsersAction, leaf) -> None:
    p = leaf(tests, "create", tests_create, "create a load test from a locustfile (revision 1)")
    p.add_argument("--name", required=True)
    p.add_argument("--script", required=True, metavar="FILE", help="the locustfile")
    p.add_argument("--target-url")
    p.add_argument("--description")
    p.add_argument("-m", "--message", help="revision 1's description")
    p.add_argument("--users", type=int)
    p.add_argument("--spawn-rate", type=float)
    p.add_argument("--duration", type=int, metavar="SECONDS")
    _gate_options(p)
    leaf(tests, "list", tests_list, "list load tests, newest first").add_argument("--limit", type=int)
    leaf(tests, "show", tests_show, "one load test, with its criteria and baseline").add_argument("test_id")


def _register_script(script: argparse._SubParsersAction, leaf) -> None:
    p = leaf(script, "push", script_push, "save a file as the test's next revision (identical content: no new revision)")
    p.add_argument("test_id")
    p.add_argument("file")
    p.add_argument("-m", "--message", help="what changed")
    p = leaf(script, "show", script_show, "print the latest (or a named) revision's script")
    p.add_argument("test_id")
    p.add_argument("--revision", help="number or id")
    p = leaf(script, "log", script_log, "the revision history, newest first")
    p.add_argument("test_id")
    p.add_argument("--limit", type=int)
    p = leaf(script, "diff", script_diff, "unified diff between two revisions")
    p.add_argument("test_id")
    p.add_argument("from_revision", metavar="FROM")
    p.add_argument("to_revision", metavar="TO")
    p = leaf(script, "rollback", script_rollback, "a new revision restoring an older one")
    p.add_argument("test_id")
    p.add_argument("revision")
    p.add_argument("-m", "--message")


def _register_runs(runs: argparse._SubParsersAction, leaf) -> None:
    p = leaf(runs, "start", runs_start, "start a run (the test's defaults unless options say otherwise)")
    p.add_argument("test_id")
    p.add_argument("--wait", action="store_true", help="watch it to the end; the exit code is its verdict (0, 1, 2, 4)")
    for flag, kind in (("--users", int), ("--spawn-rate", float), ("--duration", int), ("--workers", int)):
        p.add_argument(flag, type=kind)
    p.add_argument("--target-url")
    p.add_argument("--stage", action="append", metavar="SECONDSs:USERS[@RATE]", help="a load profile stage, in order (repeatable; not with --users)")
    p.add_argument("--data-split", action="append", metavar="PATH", help="a CSV of the bundle each worker gets its own share of (repeatable)")
    p.add_argument("--revision", help="number or id (default: the latest)")
    p.add_argument("--baseline", metavar="RUN_ID", help="this run's baseline instead of the test's")
    p.add_argument("--no-criteria", action="store_true", help="judge this run by no criteria (result NotEvaluated)")
    p.add_argument("--idempotency-key", help="a retried start with the same key starts no second run")
    p.add_argument("--poll", type=float, default=1.0, metavar="SECONDS", help=argparse.SUPPRESS)
    _gate_options(p)
    p = leaf(runs, "watch", runs_watch, "watch a run to the end; the exit code is its verdict")
    p.add_argument("run_id")
    p.add_argument("--poll", type=float, default=1.0, metavar="SECONDS", help=argparse.SUPPRESS)
    leaf(runs, "show", runs_show, "one run: status, results, criteria").add_argument("run_id")
    p = leaf(runs, "list", runs_list, "a test's runs, newest first")
    p.add_argument("test_id")
    p.add_argument("--status")
    p.add_argument("--limit", type=int)
    leaf(runs, "stop", runs_stop, "stop a run (it ends Cancelled)").add_argument("run_id")
    p = leaf(runs, "compare", runs_compare, "compare a run with another (default: its test's baseline), with the script diff")
    p.add_argument("target", metavar="RUN_ID")
    p.add_argument("--base", metavar="RUN_ID", help="default: the test's baseline run")
    p.add_argument("--report", metavar="FILE", help="also write the comparison page (HTML) here")
    p = leaf(runs, "report", runs_report, "write the run's report page (self-contained HTML)")
    p.add_argument("run_id")
    p.add_argument("-o", "--output", metavar="FILE", help="default: run-<id>.html")
