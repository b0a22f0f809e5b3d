"""The CLI's own logic: criteria and auto-stop on the command line, exit codes, usage errors."""

from __future__ import annotations

import pytest

from load_manager_local import cli
from load_manager_local.commands import UsageError, auto_stop_of, exit_code, load_profile_of, parse_criterion


@pytest.mark.parametrize(
    ("text", "criterion"),
    [
        ("p95Ms<200", {"metric": "p95Ms", "operator": "<", "threshold": 200.0}),
        ("rps >= 50", {"metric": "rps", "operator": ">=", "threshold": 50.0}),
        ("failRatio<=0.01", {"metric": "failRatio", "operator": "<=", "threshold": 0.01}),
        ("GET /checkout:p99Ms<=500", {"metric": "p99Ms", "endpoint": "GET /checkout", "operator": "<=", "threshold": 500.0}),
        ("GET /a:b:p95Ms<1", {"metric": "p95Ms", "endpoint": "GET /a:b", "operator": "<", "threshold": 1.0}),
        ("p95Ms+10%", {"metric": "p95Ms", "maxRegressionPercent": 10.0}),
        ("POST /pay: rps +5 %", {"metric": "rps", "endpoint": "POST /pay", "maxRegressionPercent": 5.0}),
    ],
)
def test_criteria_read_from_the_command_line(text, criterion):
    assert parse_criterion(text) == criterion


@pytest.mark.parametrize("text", ["p95Ms", "p95Ms<", "p95Ms=5", "<5", "p95Ms<1.2.3"])
def test_malformed_criteria_are_usage_errors(text):
    with pytest.raises(UsageError):
        parse_criterion(text)


def test_auto_stop_options():
    assert auto_stop_of(None) is None
    assert auto_stop_of("off") == {"enabled": False}
    assert auto_stop_of("50%/30s") == {"enabled": True, "failRatio": 0.5, "windowSeconds": 30}
    with pytest.raises(UsageError):
        auto_stop_of("lots")


def test_load_profile_stages_from_the_command_line():
    assert load_profile_of(None) is None
    assert load_profile_of(["4s:10", "4s:30@10", "5s:5"]) == {
        "stages": [{"durationSeconds": 4, "users": 10}, {"durationSeconds": 4, "users": 30, "spawnRate": 10.0}, {"durationSeconds": 5, "users": 5}]
    }
    for wrong in ("10", "4:10", "4s:ten", "4s:10@"):
        with pytest.raises(UsageError, match="--stage"):
            load_profile_of([wrong])


@pytest.mark.parametrize(
    ("status", "result", "code"),
    [("Finished", "Passed", 0), ("Finished", "NotEvaluated", 0), ("Finished", "Failed", 1), ("Failed", "NotEvaluated", 2), ("Cancelled", "NotEvaluated", 2)],
)
def test_exit_codes_gate_a_pipeline(status, result, code):
    assert exit_code({"status": status, "result": result}) == code


@pytest.mark.parametrize(
    ("status", "result", "saturated", "code"),
    [("Finished", "Passed", True, 4), ("Finished", "NotEvaluated", True, 4), ("Finished", "Failed", True, 1),
     ("Cancelled", "NotEvaluated", True, 2), ("Finished", "Passed", False, 0), ("Finished", "Passed", None, 0)],
)  # fmt: skip
def test_a_saturated_generator_has_its_own_exit_code_and_never_softens_a_failure(status, result, saturated, code):
    assert exit_code({"status": status, "result": result, "generatorSaturated": saturated}) == code


def test_usage_and_api_errors_exit_3(capsys):
    with pytest.raises(SystemExit) as usage:
        cli.main(["runs", "start"])  # no test id
    assert usage.value.code == 3
    with pytest.raises(SystemExit) as unknown:
        cli.main(["runs", "frobnicate"])
    assert unknown.value.code == 3
    assert cli.main(["tests", "list", "--api-url", "http://127.0.0.1:9"]) == 3  # nothing listens on port 9
    assert "Unreachable" in capsys.readouterr().err
    assert cli.main(["runs", "start", "x", "--criterion", "p95Ms=5", "--api-url", "http://127.0.0.1:9"]) == 3


def test_locust_names_with_brackets_print_as_they_are():
    """Rich reads `[id]` as markup: data must never be (the compare table ate `/items/[id]`)."""
    from io import StringIO

    from rich.console import Console

    from load_manager_local import display

    out = StringIO()
    console = Console(file=out, width=200)
    console.print(display.table("t", ["Endpoint", "p95"], [["GET /items/[id]", 7]]))
    display.show_criteria(console, [{"passed": False, "message": "p95Ms of GET /items/[id] = 9, must be < 5: failed"}])
    display.show_run(console, {"id": "r", "status": "Failed", "revisionNumber": 1, "failureReason": "LocustStartError: [bold] boom"})
    text = out.getvalue()
    assert "GET /items/[id]" in text and "p95Ms of GET /items/[id]" in text and "[bold] boom" in text


def test_times_on_the_command_line_are_iso_8601_and_utc_without_an_offset():
    from load_manager_local.account_commands import epoch_ms

    assert epoch_ms(None) is None
    assert epoch_ms("2026-12-01") == epoch_ms("2026-12-01T00:00Z") == 1_796_083_200_000
    assert epoch_ms("2026-12-01T09:30+01:00") == 1_796_113_800_000
    assert epoch_ms("2026-12-01T09:30") == 1_796_113_800_000 + 3_600_000  # no offset: UTC


def test_a_time_that_is_not_iso_8601_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as usage:
        cli.main(["audit", "list", "--since", "last tuesday"])
    assert usage.value.code == 3
    assert "not an ISO 8601 date or date-time: 'last tuesday'" in capsys.readouterr().err
