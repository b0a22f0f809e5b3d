"""Configure this process as the local runtime: SQLite in a data directory, the local Locust
backend, and the run lifecycle state machine executed in process by moto's ASL interpreter."""

from __future__ import annotations

import os
from pathlib import Path

from load_manager.settings import Settings, get_settings, set_settings
from load_manager.store import set_stores
from load_manager.store.sqlite import build_sqlite_stores
from load_manager_local.functions import load_function, project_root

STATE_MACHINE_NAME = "load-manager-run-lifecycle"
WORKFLOW_FUNCTION = "load-manager-run-workflow"
LOCAL_MIN_POLL_SECONDS = 1  # locally a poll costs nothing


def local_settings(data: Path, **overrides: object) -> Settings:
    """What `serve` runs with: SQLite and reports in the data dir, Locust on this machine."""
    values: dict[str, object] = {
        "store_backend": "sqlite",
        "sqlite_path": str(data / "load_manager.db"),
        "data_dir": str(data),
        "default_backend": "local",
        "min_poll_seconds": LOCAL_MIN_POLL_SECONDS,
    }
    return Settings.model_validate({**values, **overrides})


def configure_local_runtime(data_dir: str | os.PathLike, **overrides: object) -> Path:
    data = Path(data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    # moto answers every AWS call in this process; never let a real credential near it.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[name] = "local"
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    settings = local_settings(data, **overrides)
    set_settings(settings)
    set_stores(build_sqlite_stores(settings.sqlite_path))
    return data


class LocalRunLifecycle:
    """The run lifecycle state machine, running in this process until `stop()`."""

    def __init__(self) -> None:
        from load_manager_local.stepfunctions import InProcessStepFunctions

        workflow = load_function("run_workflow")
        self.sfn = InProcessStepFunctions({WORKFLOW_FUNCTION: workflow.lambda_handler})
        self.state_machine_arn = ""

    def start(self) -> LocalRunLifecycle:
        from load_manager.adapters.step_functions import default_starter

        fail_abandoned_runs("a previous local runtime stopped during the run")
        self.sfn.start()
        self.state_machine_arn = self.sfn.create_state_machine(
            STATE_MACHINE_NAME,
            project_root() / "statemachine" / "run_lifecycle.asl.json",
            {"RunWorkflowFunctionArn": self.sfn.function_arn(WORKFLOW_FUNCTION)},
        )
        set_settings(get_settings().model_copy(update={"state_machine_arn": self.state_machine_arn}))
        default_starter.cache_clear()
        return self

    def stop(self) -> None:
        self.sfn.stop()
        fail_abandoned_runs("the local runtime was stopped during the run")

    def __enter__(self) -> LocalRunLifecycle:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def fail_abandoned_runs(cause: str) -> None:
    """Runs whose lifecycle died with a local runtime end Failed, and their Locust is torn down."""
    from load_manager.backends import backend_for
    from load_manager.lifecycle.steps import mark_failed
    from load_manager.store import get_stores

    stores = get_stores()
    for run in stores.runs.list_active():
        mark_failed(stores, backend_for, run.id, run.account_id, {"Error": "LocalRuntimeStopped", "Cause": cause})
