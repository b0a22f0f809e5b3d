"""Each function's settings in the local runtime (`serve`, `load-manager invoke`): the environment
template.yaml gives it (load_manager_local.local_stack, read by stack.py for the local stack's
names), with the local deviations below, read by `Settings.from_env` as its cold start reads it in
Lambda.

Every invocation runs in its own function's settings (`settings_scope`): the HTTP API's routes
(api.InProcessApi), the state machine's tasks and the rules' and schedules' deliveries (the handlers
registered in moto's Lambda by `LocalFunctions.handler`), the sweeper's clock. Code outside any
function (the CLI's own commands, fail_abandoned_runs) sees the process default (`set_settings`):
the RunWorkflow function's settings, the function whose steps it does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from load_manager.settings import Settings, settings_scope
from load_manager_local.functions import load_function
from load_manager_local.local_stack import LocalStack
from load_manager_local.stack import function_environment

WORKFLOW_CODE_DIR = "run_workflow"  # the state machine's function: its settings are the process default
SWEEPER_CODE_DIR = "sweeper"
LOCAL_MIN_POLL_SECONDS = 1
LambdaHandler = Callable[[Any, Any], Any]


def local_environment(lambda_environment: Mapping[str, str], data: Path, public_base_url: str) -> dict[str, str]:
    """The documented local deviations from the environment a function has in Lambda (template.yaml's
    variables and the runtime's own), all of them, here."""
    env = dict(lambda_environment)
    env["STORE_BACKEND"] = "sqlite"  # no MongoDB server can run on this machine: SQLite, in the data directory
    env.pop("MONGODB_SECRET_ID", None)  # so no secret holds its URI (and there is no Secrets Manager to ask)
    env.pop("NOTIFICATION_SECRET_PREFIX", None)  # channel credentials: a file only its user can read, in the data directory
    env["LOAD_MANAGER_DATA_DIR"] = str(data)  # the store, run files and reports live in --data-dir
    env["DEFAULT_CLUSTER_BACKEND"] = "local"  # Locust on this machine is what serve is for (the template's is ecs: Fargate)
    env["MIN_POLL_SECONDS"] = str(LOCAL_MIN_POLL_SECONDS)  # a poll costs nothing here (in AWS, Step Functions transitions)
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)  # not inside Lambda: the local backend is allowed (settings refuse it in Lambda)
    env.pop("REPORTS_BUCKET", None)  # no S3 here: reports are files in the data directory
    env.pop("SCRIPTS_BUCKET", None)  # and scripts reach local Locust on disk, never through a bucket
    env.pop("SECRETS_PREFIX", None)  # no Secrets Manager: secrets' values are private files in the data directory
    env.pop("SECRET_REFERENCE_ARN_PREFIX", None)  # and no other secret to reference
    # The template's user pool does not exist here: with no issuer, the authorizer decodes Bearer JWTs
    # WITHOUT verification (outside Lambda only, and says so); API tokens are checked as in AWS.
    for name in ("JWT_ISSUER", "JWT_AUDIENCE", "JWKS_URL"):
        env.pop(name, None)
    if "PUBLIC_BASE_URL" in env:
        env["PUBLIC_BASE_URL"] = public_base_url  # RunFinished's links point at serve, which answers for API Gateway here
    return env


class LocalFunctions:
    """The local stack's functions and each one's settings (by template logical id). `overrides`:
    Settings fields set on every function's (tests: `default_backend="ecs"`)."""

    def __init__(self, stack: LocalStack, data: Path, overrides: Mapping[str, object] | None = None) -> None:
        self.stack, self.data, self.overrides = stack, data, dict(overrides or {})
        self.workflow = stack.function_in(WORKFLOW_CODE_DIR)
        self.sweeper = stack.function_in(SWEEPER_CODE_DIR)
        self.triggers = next(f for f in stack.functions.values() if f.name == stack.triggers_function)
        self.public_base_url = ""
        self.settings: dict[str, Settings] = {}
        self._refresh()

    @property
    def default(self) -> Settings:
        """For code outside any function: the RunWorkflow function's."""
        return self.settings[self.workflow.logical_id]

    def environment(self, logical_id: str) -> dict[str, str]:
        """The function's environment here: what Lambda would give it, with the local deviations."""
        lambda_environment = function_environment(self.stack.functions[logical_id], self.stack.region)
        return local_environment(lambda_environment, self.data, self.public_base_url)

    def set_public_base_url(self, url: str) -> None:
        self.public_base_url = url
        self._refresh()

    @contextmanager
    def scope(self, logical_id: str) -> Iterator[Settings]:
        """The function's settings for this thread while it runs."""
        with settings_scope(self.settings[logical_id]) as settings:
            yield settings

    def handler(self, logical_id: str) -> LambdaHandler:
        """The function's handler, run in its settings, as moto's Lambda (or a clock) invokes it."""
        function = self.stack.functions[logical_id]
        if function.code_dir is None or "." not in function.handler:
            raise ValueError(f"{logical_id}: no local code for its handler {function.handler!r}")
        folder, attribute = function.code_dir.name, function.handler.rsplit(".", 1)[1]

        def handle(event: Any, context: Any) -> Any:
            with self.scope(logical_id):
                return getattr(load_function(folder), attribute)(event, context)

        handle.__name__ = f"{logical_id}_handler"
        return handle

    def _refresh(self) -> None:
        for logical_id in self.stack.functions:
            settings = Settings.from_env(self.environment(logical_id))
            if self.overrides:
                settings = Settings.model_validate({**settings.model_dump(), **self.overrides})
            self.settings[logical_id] = settings


# ---- the local runtime of this process -------------------------------------------------------------

_installed: LocalFunctions | None = None


def install(functions: LocalFunctions | None) -> None:
    """The local runtime's functions for every invocation in this process; None: no local runtime
    (invocations run in whatever settings the process has, as tests that set them by hand want)."""
    global _installed
    _installed = functions


def installed() -> LocalFunctions | None:
    return _installed


@contextmanager
def function_scope(logical_id: str) -> Iterator[None]:
    """The function's settings while it runs, when a local runtime is installed in this process."""
    functions = _installed
    if functions is None:
        yield
        return
    with functions.scope(logical_id):
        yield
