"""Configure this process as the local runtime: SQLite in a data directory, the local Locust
backend, and the run lifecycle state machine executed in process by moto's ASL interpreter."""

from __future__ import annotations

import os
from pathlib import Path

from load_manager.config import get_settings
from load_manager.store import set_stores
from load_manager.store.sqlite import build_sqlite_stores
from load_manager_local.functions import load_function, project_root

STATE_MACHINE_NAME = "load-manager-run-lifecycle"
WORKFLOW_FUNCTION = "load-manager-run-workflow"


def configure_local_runtime(data_dir: str | os.PathLike) -> Path:
    data = Path(data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "load-manager-local")
    os.environ["LOAD_MANAGER_DATA_DIR"] = str(data)
    os.environ["DEFAULT_CLUSTER_BACKEND"] = "local"
    os.environ.setdefault("MIN_POLL_SECONDS", "1")  # locally a poll costs nothing
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # moto answers every AWS call in this process; never let a real credential near it.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[name] = "local"
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.pop("AWS_PROFILE", None)
    get_settings.cache_clear()
    set_stores(build_sqlite_stores(str(data / "load_manager.db")))
    return data


class LocalRunLifecycle:
    """The run lifecycle state machine, running in this process until `stop()`."""

    def __init__(self) -> None:
        from load_manager_local.stepfunctions import InProcessStepFunctions

        workflow = load_function("run_workflow")
        self.sfn = InProcessStepFunctions({WORKFLOW_FUNCTION: workflow.lambda_handler})
        self.state_machine_arn = ""

    def start(self) -> "LocalRunLifecycle":
        from load_manager.orchestration.executions import default_starter

        fail_abandoned_runs("a previous local runtime stopped during the run")
        self.sfn.start()
        self.state_machine_arn = self.sfn.create_state_machine(
            STATE_MACHINE_NAME,
            project_root() / "statemachine" / "run_lifecycle.asl.json",
            {"RunWorkflowFunctionArn": self.sfn.function_arn(WORKFLOW_FUNCTION)},
        )
        os.environ["RUN_STATE_MACHINE_ARN"] = self.state_machine_arn
        get_settings.cache_clear()
        default_starter.cache_clear()
        return self

    def stop(self) -> None:
        self.sfn.stop()
        fail_abandoned_runs("the local runtime was stopped during the run")

    def __enter__(self) -> "LocalRunLifecycle":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def fail_abandoned_runs(cause: str) -> None:
    """Runs whose lifecycle died with a local runtime end Failed, and their Locust is torn down."""
    from load_manager.orchestration.workflow import mark_failed
    from load_manager.store import get_stores

    stores = get_stores()
    for run in stores.runs.list_active():
        error = {"Error": "LocalRuntimeStopped", "Cause": cause}
        mark_failed(stores, {"runId": run.id, "accountId": run.account_id, "error": error})
