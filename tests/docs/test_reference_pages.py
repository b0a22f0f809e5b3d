"""The reference pages are rendered from the code (docs/hooks/), and refuse to render what they
could not document: these are the checks that make a drift fail `make docs`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs" / "hooks"))

import render_cli  # noqa: E402
import render_events  # noqa: E402
import render_openapi  # noqa: E402
import render_settings  # noqa: E402
import render_template  # noqa: E402


def test_the_cli_page_is_the_parser_main_builds():
    parser = render_cli.cli_parser()
    args = parser.parse_args(["runs", "start", "t1", "--wait", "--criterion", "p95Ms<200"])
    assert (args.command, args.runs_command, args.wait, args.criterion) == ("runs", "start", True, ["p95Ms<200"])
    page = render_cli.reference()
    for command in ("serve", "tests create", "script push", "runs start", "runs compare", "baseline set", "invoke", "events tail", "migrate"):
        assert f"`load-manager {command}`" in page, command
    assert "`--wait`" in page and "`--data-dir DATA_DIR`" in page and "`8080`" in page


def test_an_undocumented_exit_code_fails_the_build(monkeypatch):
    from load_manager_local import commands

    assert "`EXIT_GATES_FAILED`" in render_cli.exit_codes()
    monkeypatch.setattr(commands, "EXIT_TIMED_OUT", 4, raising=False)
    with pytest.raises(RuntimeError, match="exit codes"):
        render_cli.exit_codes()


def test_settings_place_every_variable_the_module_reads():
    environments = render_template.environments(render_template.load(ROOT / "template.yaml"))
    page = render_settings.settings(environments)
    for variable, field in (("MAX_SCRIPT_BYTES", "max_script_bytes"), ("ECS_SUBNETS", "ecs.subnets"),
                            ("TRIGGER_RULE_PREFIX", "automation.name_prefix"), ("LOAD_MANAGER_DATA_DIR", "data_dir")):  # fmt: skip
        row = next(line for line in page.splitlines() if f"`{field}`" in line)
        assert f"`{variable}`" in row
    assert "`!Ref MaxScriptBytes`" in page  # where the template sets it


def test_a_variable_read_outside_any_field_fails_the_build(tmp_path, monkeypatch):
    module = tmp_path / "settings.py"
    module.write_text('def from_env(env):\n    hidden = env.get("NOT_A_FIELD")\n    values = {"a": env.get("A")}\n')
    monkeypatch.setattr(render_settings, "MODULE", module)
    with pytest.raises(RuntimeError, match="NOT_A_FIELD"):
        render_settings.settings({})


def test_template_parameters_show_where_they_reach_the_functions():
    page = render_template.parameters(render_template.load(ROOT / "template.yaml"))
    entries = {entry.split("`", 2)[1]: entry for entry in page.split('<a id="param-')[1:]}
    assert set(entries) == set(render_template.load(ROOT / "template.yaml")["Parameters"])
    assert "default `custom:accountId`" in entries["TenantClaim"] and "Sets `TENANT_CLAIM` (Globals)" in entries["TenantClaim"]
    assert "**required**" in entries["VpcId"]
    assert "&lt;stack id&gt;" in entries["CognitoDomainPrefix"]  # text, not an HTML tag


def test_run_events_are_published_by_the_code_and_every_field_documented(monkeypatch):
    page = render_events.run_events()
    assert '"detail-type": "RunStarted"' in page and '"detail-type": "RunFinished"' in page
    monkeypatch.setattr(render_events, "FIELDS", {k: v for k, v in render_events.FIELDS.items() if k != "scriptSha256"})
    with pytest.raises(RuntimeError, match="scriptSha256"):
        render_events.run_events()


def test_every_operation_and_schema_of_openapi_is_rendered():
    spec = render_openapi.load(ROOT / "openapi.json")
    operations, schemas = render_openapi.operations(spec), render_openapi.schemas(spec)
    for path, methods in spec["paths"].items():
        for method in methods:
            assert f"### `{method.upper()} {path}`" in operations
    for name in spec["components"]["schemas"]:
        assert f"## {name} {{#{render_openapi.schema_anchor(name)}}}" in schemas


def test_the_roles_page_renders_every_line_of_the_table_the_api_enforces(monkeypatch):
    import render_roles

    from load_manager import access

    page = render_roles.route_roles(render_openapi.load(ROOT / "openapi.json"))
    for key, need in access.ROUTE_ROLES.items():
        row = next(line for line in page.splitlines() if f"[`{key}`]" in line)
        assert (f"`{need}`" if need != access.PUBLIC else "no authentication") in row, key
    monkeypatch.setitem(access.ROUTE_ROLES, "GET /v1/nowhere", "viewer")
    with pytest.raises(RuntimeError, match="nowhere"):
        render_roles.route_roles(render_openapi.load(ROOT / "openapi.json"))
