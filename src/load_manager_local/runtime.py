"""Configure this process as the local runtime: SQLite in a data directory, the local Locust
backend, and the run lifecycle state machine executed in process by moto's ASL interpreter."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from load_manager.settings import Settings, get_settings, set_settings
from load_manager.store import set_stores
from load_manager.store.sqlite import build_sqlite_stores
from load_manager_local.functions import load_function, project_root

if TYPE_CHECKING:
    from load_manager_local.aws import LocalAws
    from load_manager_local.stepfunctions import InProcessStepFunctions

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
    """The run lifecycle state machine, running in this process until `stop()`; with it, the
    stack's event bus and Scheduler (load_manager_local.aws), whose clock ticks every
    `scheduler_tick_seconds` (0: only when `aws.scheduler.fire_due` is called, as tests do).
    `recover=False` (load-manager invoke) leaves other runtimes' active runs alone at start and stop.
    The sweeper runs every `sweep_seconds` (load_manager_local.sweeper_clock; 0: only when told)."""

    def __init__(self, scheduler_tick_seconds: float = 1.0, recover: bool = True, sweep_seconds: float | None = None) -> None:
        from load_manager_local.stepfunctions import InProcessStepFunctions
        from load_manager_local.sweeper_clock import SWEEP_SECONDS, SweeperClock

        workflow = load_function("run_workflow")
        self.sfn = InProcessStepFunctions({WORKFLOW_FUNCTION: workflow.lambda_handler})
        self.state_machine_arn = ""
        self.scheduler_tick_seconds = scheduler_tick_seconds
        self.recover = recover
        self.aws: LocalAws | None = None
        self.presence = RuntimePresence(Path(get_settings().data_dir))
        self.sweeper = SweeperClock(SWEEP_SECONDS if sweep_seconds is None else sweep_seconds) if recover else None

    def start(self) -> LocalRunLifecycle:
        from load_manager.adapters.step_functions import default_starter

        # Only the first runtime on a data directory may call its active runs abandoned: another
        # `serve` process on the same directory is driving its own.
        alone = self.presence.enter()
        if self.recover and alone:
            fail_abandoned_runs("a previous local runtime stopped during the run")
        self.sfn.start()
        self.state_machine_arn = self.sfn.create_state_machine(
            STATE_MACHINE_NAME,
            project_root() / "statemachine" / "run_lifecycle.asl.json",
            {"RunWorkflowFunctionArn": self.sfn.function_arn(WORKFLOW_FUNCTION)},
        )
        set_settings(get_settings().model_copy(update={"state_machine_arn": self.state_machine_arn}))
        default_starter.cache_clear()
        self.aws = start_local_aws(self.sfn, self.scheduler_tick_seconds)
        if self.sweeper is not None:
            self.sweeper.start()
        return self

    def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.stop()  # no sweep into a stopping runtime
        if self.aws is not None:
            self.aws.stop()  # the clock first: no occurrence fires into a stopping runtime
            # The bus leaves with moto: events of runs failed below must not go looking for AWS.
            settings = get_settings()
            set_settings(settings.model_copy(update={"automation": settings.automation.model_copy(update={"event_bus_name": ""})}))
        mine = [self.sfn.execution_input(arn) for arn in self.sfn.running_executions()] if self.sfn.client else []
        self.sfn.stop()
        if self.recover:  # the runs this runtime was driving, and only those
            fail_abandoned_runs("the local runtime was stopped during the run", only=mine)
        self.presence.leave()

    def __enter__(self) -> LocalRunLifecycle:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start_local_aws(sfn: InProcessStepFunctions, tick_seconds: float) -> LocalAws:
    """The template's buses, schedule group and rules in moto (local_stack.py), the triggers function
    registered as their target under the names its template environment gives it, and every stored
    trigger's rule and schedule written again (moto forgets them on exit)."""
    from load_manager.adapters.eventbridge import default_rules
    from load_manager.adapters.scheduler import default_schedules
    from load_manager.store import get_stores
    from load_manager.usecases import schedules, triggers
    from load_manager_local.aws import LocalAws
    from load_manager_local.local_stack import local_stack

    settings = get_settings()
    stack = local_stack(sfn.region, sfn.account_id)
    function_arn = sfn.register(stack.triggers_function, load_function("triggers").lambda_handler)
    automation = settings.automation.model_copy(
        update={
            "event_bus_name": stack.event_bus_name, "triggers_function_arn": function_arn, "schedule_group": stack.schedule_group,
            "rule_prefix": stack.rule_prefix, "scheduler_role_arn": f"arn:aws:iam::{sfn.account_id}:role/load-manager-local-scheduler",
        }
    )  # fmt: skip
    set_settings(settings.model_copy(update={"automation": automation}))
    aws = LocalAws(sfn.registry, Path(settings.data_dir), sfn.region, tick_seconds=tick_seconds, stack=stack).start()
    stores = get_stores()
    triggers.resync(stores, default_rules)
    schedules.resync(stores, default_schedules)
    return aws


def set_public_base_url(url: str) -> None:
    """Links in RunFinished events point at this server."""
    settings = get_settings()
    set_settings(settings.model_copy(update={"automation": settings.automation.model_copy(update={"public_base_url": url})}))


def fail_abandoned_runs(cause: str, only: list[dict[str, Any]] | None = None) -> None:
    """Runs whose lifecycle died with a local runtime end Failed, and their Locust is torn down:
    every active run, or `only` those named ({"runId", "accountId"}, as executions' inputs)."""
    from load_manager.backends import backend_for
    from load_manager.lifecycle.steps import mark_failed
    from load_manager.store import get_stores

    stores = get_stores()
    runs = [(r.id, r.account_id) for r in stores.runs.list_active()] if only is None else [(i["runId"], i["accountId"]) for i in only]
    for run_id, account_id in runs:
        mark_failed(stores, backend_for, run_id, account_id, {"Error": "LocalRuntimeStopped", "Cause": cause})


class RuntimePresence:
    """Which local runtimes are alive on a data directory, told by one lock file: each holds it
    shared while it runs; a runtime that can take it exclusively is the only one."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / ".runtimes.lock"
        self._file: Any = None

    def enter(self) -> bool:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a+")  # noqa: SIM115 - held for the runtime's life
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except BlockingIOError:
            alone = False
        fcntl.flock(self._file, fcntl.LOCK_SH)  # from exclusive: a downgrade; else waits out a starting one
        return alone

    def leave(self) -> None:
        if self._file is not None:
            self._file.close()  # releases the lock
            self._file = None
