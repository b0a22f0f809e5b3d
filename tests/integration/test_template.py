"""template.yaml: cfn-lint and `sam validate --lint` clean, `sam build` works without Docker, and
the properties the design relies on hold (shared layer, the Lambda authorizer on every route but health, secret URI)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
PUBLIC_ROUTES = {("GET", "/v1/health")}


def _tool(name: str, *candidates: Path) -> str:
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: run `make setup`")
    return found


def _sam() -> str:
    # `make test` puts .venv-sam/bin on PATH; sam-cli pins its own deps, so it is never in .venv.
    return shutil.which("sam") or _tool("sam", ROOT / ".venv-sam" / "bin" / "sam")


def _sam_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1", **extra}


def _run(*cmd: str, env: dict[str, str] | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def template() -> dict:
    # cfn-lint's decoder turns short-form intrinsics (!Ref X) into their long form ({"Ref": "X"}).
    decoded, problems = decode(str(TEMPLATE))
    assert not problems, problems
    return decoded


def _functions(template: dict) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def _http_events(template: dict):
    for logical_id, function in _functions(template).items():
        for name, event in (function["Properties"].get("Events") or {}).items():
            if event["Type"] == "HttpApi":
                yield logical_id, name, event["Properties"]


# cfn-lint and `sam validate --lint` run in `make lint`, which `make test` runs first.


def _python312_dir() -> str:
    """A directory holding a *working* python3.12 (the template's runtime), which `sam build` needs.

    A pyenv shim named python3.12 may exist yet refuse to run, so ask the interpreter where it lives.
    """
    probe = "import sys; print(sys.executable)"
    if shutil.which("python3.12"):
        found = subprocess.run(["python3.12", "-c", probe], capture_output=True, text=True)
        if found.returncode == 0:
            return str(Path(found.stdout.strip()).parent)
    if shutil.which("pyenv"):
        versions = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True).stdout.split()
        for version in sorted((v for v in versions if v.startswith("3.12")), reverse=True):
            prefix = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True).stdout.strip()
            if prefix and (Path(prefix) / "bin" / "python3.12").exists():
                return str(Path(prefix) / "bin")
    pytest.fail("sam build needs python3.12 (the template's runtime) on PATH")


@pytest.mark.slow  # a real build: pip installs the layer for python3.12
def test_sam_build_without_docker(tmp_path, template):
    build = tmp_path / "build"
    env = _sam_env(PATH=f"{_python312_dir()}{os.pathsep}{os.environ['PATH']}")
    # --cache-dir too, so nothing is written into the repository.
    _run(
        _sam(), "build", "--build-dir", str(build), "--cache-dir", str(tmp_path / "cache"), "--template", str(TEMPLATE),
        env=env, timeout=600,
    )
    assert (build / "CoreLayer" / "python" / "load_manager" / "__init__.py").is_file()
    assert (build / "CoreLayer" / "python" / "aws_lambda_powertools").is_dir(), "layer dependencies were not installed"
    for logical_id in _functions(template):
        assert (build / logical_id / "app.py").is_file(), f"{logical_id} artifact has no app.py"
        # The package comes from the layer only: a second copy in a function would shadow it.
        assert not (build / logical_id / "load_manager").exists(), f"{logical_id} bundles its own load_manager"
    # The console publisher's files layer (layers/console/Makefile): exactly what the console publishes.
    from load_manager.deploy.console_files import published_files

    layer = build / "ConsoleFilesLayer" / "console"
    built = sorted(path.relative_to(layer).as_posix() for path in layer.rglob("*") if path.is_file())
    assert built == [name for name, _ in published_files(ROOT / "console")]


def test_every_function_uses_the_core_layer(template):
    layer = {"Ref": "CoreLayer"}
    assert template["Resources"]["CoreLayer"]["Type"] == "AWS::Serverless::LayerVersion"
    global_layers = template["Globals"]["Function"].get("Layers", [])
    assert layer in global_layers, "CoreLayer belongs in Globals.Function.Layers so every function shares it"
    runtime = template["Globals"]["Function"]["Runtime"]
    assert runtime in template["Resources"]["CoreLayer"]["Properties"]["CompatibleRuntimes"]
    for logical_id, function in _functions(template).items():
        # A function's own Layers are added to the global ones (CoreLayer stays); its runtime must match the layer's.
        assert function["Properties"].get("Runtime", runtime) == runtime, logical_id


def test_every_route_but_health_is_behind_the_lambda_authorizer(template):
    api = template["Resources"]["HttpApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "LambdaAuthorizer"
    authorizer = api["Auth"]["Authorizers"]["LambdaAuthorizer"]
    assert authorizer["FunctionArn"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    assert (authorizer["AuthorizerPayloadFormatVersion"], authorizer["EnableSimpleResponses"]) == ("2.0", True)
    assert authorizer["EnableFunctionDefaultPermissions"] is True, "API Gateway may not invoke the authorizer without it (500)"
    assert authorizer["Identity"]["Headers"] == ["Authorization"]
    assert 0 < authorizer["Identity"]["ReauthorizeEvery"] <= 300, "a short TTL: allowed answers are cached that long"
    verified = template["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert {"JWT_ISSUER", "JWT_AUDIENCE"} <= set(verified)
    routes = list(_http_events(template))
    assert routes, "no HttpApi routes"
    for logical_id, name, props in routes:
        where = f"{logical_id}.{name} ({props['Method']} {props['Path']})"
        # Without ApiId, SAM attaches the route to an implicit API that has no authorizer at all.
        assert props.get("ApiId") == {"Ref": "HttpApi"}, f"{where} is not on HttpApi"
        route_authorizer = (props.get("Auth") or {}).get("Authorizer", "LambdaAuthorizer")
        if (props["Method"].upper(), props["Path"]) in PUBLIC_ROUTES:
            assert route_authorizer == "NONE", f"{where} should be public"
        else:
            assert route_authorizer == "LambdaAuthorizer", f"{where} is not behind the Lambda authorizer"


def test_no_function_carries_a_database_uri_in_its_environment(template):
    for logical_id, function in _functions(template).items():
        variables = (function["Properties"].get("Environment") or {}).get("Variables") or {}
        assert "MONGODB_URI" not in variables, f"{logical_id}: the URI is read from Secrets Manager, never set in the environment"


def test_log_stream_permissions_name_real_stream_arns(template):
    # A log group's GetAtt Arn ends in ":*": "${Group.Arn}:log-stream:*" would match no stream, and
    # Fargate could not start a task whose awslogs driver may not create its stream.
    subs = [node["Fn::Sub"] for node in _walk(template) if isinstance(node, dict) and isinstance(node.get("Fn::Sub"), str)]
    streams = [s for s in subs if ":log-stream:" in s]
    assert len(streams) >= 2, "the tasks' execution role and the run workflow both name Locust's log streams"
    assert all(".Arn}" not in s and s.endswith(":log-group:${LocustLogGroup}:log-stream:*") for s in streams), streams


def _walk(node):
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from _walk(child)
