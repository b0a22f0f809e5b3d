"""Configure this process as the local runtime: the stack template.yaml describes (local_stack.py),
each function with the settings its template environment gives it (local_functions.py: the local
deviations, SQLite in a data directory and the local Locust backend among them), and the run
lifecycle state machine executed in process by moto's ASL interpreter."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from load_manager.settings import Settings, get_settings, set_settings, settings_scope
from load_manager.store import set_stores
from load_manager.store.sqlite import build_sqlite_stores
from load_manager_local.local_functions import LocalFunctions, install, installed
from load_manager_local.local_stack import STACK_NAME
from load_manager_local.stack_names import generated_name

if TYPE_CHECKING:
    from load_manager_local.aws import LocalAws
    from load_manager_local.stepfunctions import InProcessStepFunctions

# The state machine's function, as the local stack names it (the template gives it no FunctionName:
# CloudFormation's generated name); tests register their own handler under it.
WORKFLOW_FUNCTION = generated_name(STACK_NAME, "RunWorkflowFunction")
NOTIFICATIONS_CODE_DIR = "notifications"  # functions/notifications: whose settings write channels' EventBridge resources
CACHE_DIR = ".cache"  # in the data directory: SAM's translation of the template, when there is no user cache folder


def translation_cache_dir(data: Path) -> Path:
    """Where SAM's translation of the template is kept between starts: translating costs ~1.5 s of
    CPU, most of a start. The user's cache folder ($XDG_CACHE_HOME, else ~/.cache), shared by every
    data directory (the key holds the template's path and bytes: stack_translate.cache_key); the
    data directory's own without a home."""
    home = os.path.expanduser("~")  # "~" itself when there is none
    base = os.environ.get("XDG_CACHE_HOME") or (os.path.join(home, ".cache") if home != "~" else "")
    return Path(base) / "load-manager" if base else data / CACHE_DIR


def configure_local_runtime(data_dir: str | os.PathLike, **overrides: object) -> Path:
    """The local stack's functions and their settings for this process (the RunWorkflow function's
    as its default), and the SQLite stores. `overrides`: Settings fields for every function (tests)."""
    from load_manager_local.local_stack import local_stack
    from load_manager_local.stack import DEFAULT_ACCOUNT_ID
    from load_manager_local.stepfunctions import default_region

    data = Path(data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    # moto answers every AWS call in this process; never let a real credential near it.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[name] = "local"
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    functions = LocalFunctions(local_stack(default_region(), DEFAULT_ACCOUNT_ID, cache_dir=translation_cache_dir(data)), data, overrides)
    install(functions)
    set_settings(functions.default)
    set_stores(build_sqlite_stores(functions.default.sqlite_path))
    return data


def start_local_runtime(data_dir: str | os.PathLike, **options: Any) -> LocalRunLifecycle:
    """The local runtime as `serve` (and `invoke`, with its `options`) starts it: configured on the
    data directory, the run lifecycle and the stack's bus, Scheduler and sweeper running."""
    configure_local_runtime(data_dir)
    return LocalRunLifecycle(**options).start()


def function_settings() -> dict[str, Settings]:
    """Each function's settings in this process's local runtime, by template logical id (what its
    invocations run with); empty without one."""
    functions = installed()
    return dict(functions.settings) if functions is not None else {}


class LocalRunLifecycle:
    """The run lifecycle state machine, running in this process until `stop()`; with it, the
    stack's event bus and Scheduler (load_manager_local.aws), whose clock ticks every
    `scheduler_tick_seconds` (0: only when `aws.scheduler.fire_due` is called, as tests do).
    `recover=False` (load-manager invoke) leaves other runtimes' active runs alone at start and stop.
    The sweeper runs every `sweep_seconds` (load_manager_local.sweeper_clock; 0: only when told).
    Every function it invokes runs in its own settings (local_functions.py); `configure_local_runtime` first."""

    def __init__(self, scheduler_tick_seconds: float = 1.0, recover: bool = True, sweep_seconds: float | None = None) -> None:
        from load_manager_local.stepfunctions import InProcessStepFunctions
        from load_manager_local.sweeper_clock import SWEEP_SECONDS, SweeperClock

        functions = installed()
        if functions is None:
            raise RuntimeError("configure_local_runtime(data_dir) first: it reads the stack the runtime runs")
        self.functions = functions
        workflow, sweeper = functions.workflow, functions.sweeper
        self.sfn = InProcessStepFunctions({workflow.name: functions.handler(workflow.logical_id)}, region=functions.stack.region)
        self.state_machine_arn = ""
        self.scheduler_tick_seconds = scheduler_tick_seconds
        self.recover = recover
        self.aws: LocalAws | None = None
        self.presence = RuntimePresence(functions.data)
        every = SWEEP_SECONDS if sweep_seconds is None else sweep_seconds
        self.sweeper = SweeperClock(every, functions.handler(sweeper.logical_id), sweeper.name) if recover else None

    def start(self) -> LocalRunLifecycle:
        from load_manager.adapters.step_functions import default_starter

        install(self.functions)  # again, for a runtime started after another stopped
        set_settings(self.functions.default)
        # Only the first runtime on a data directory may call its active runs abandoned: another
        # `serve` process on the same directory is driving its own.
        alone = self.presence.enter()
        if self.recover and alone:
            with settings_scope(_without_bus(get_settings())):  # no bus before moto is up
                fail_abandoned_runs("a previous local runtime stopped during the run")
        self.sfn.start()
        self.state_machine_arn = create_state_machine(self.sfn, self.functions)
        default_starter.cache_clear()
        self.aws = start_local_aws(self.sfn, self.functions, self.scheduler_tick_seconds)
        if self.sweeper is not None:
            self.sweeper.start()
        return self

    def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.stop()  # no sweep into a stopping runtime
        if self.aws is not None:
            self.aws.stop()  # the clock first: no occurrence fires into a stopping runtime
            # The bus leaves with moto: events of runs failed below must not go looking for AWS.
            set_settings(_without_bus(get_settings()))
        mine = [self.sfn.execution_input(arn) for arn in self.sfn.running_executions()] if self.sfn.client else []
        self.sfn.stop()
        if self.recover:  # the runs this runtime was driving, and only those
            fail_abandoned_runs("the local runtime was stopped during the run", only=mine)
        self.presence.leave()
        install(None)  # no invocation of this process runs in this runtime's settings any more

    def __enter__(self) -> LocalRunLifecycle:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _without_bus(settings: Settings) -> Settings:
    return settings.model_copy(update={"automation": settings.automation.model_copy(update={"event_bus_name": ""})})


def create_state_machine(sfn: InProcessStepFunctions, functions: LocalFunctions) -> str:
    """The template's state machine in moto, under its name: its ARN must be the one the functions'
    RUN_STATE_MACHINE_ARN names, or runs would start an execution nobody created."""
    machine = functions.stack.state_machine
    if machine is None:
        raise RuntimeError("template.yaml has no state machine: runs cannot start")
    arn = sfn.create_state_machine(machine.name, machine.definition, {}, role_arn=machine.role_arn)
    if arn != machine.arn:
        raise RuntimeError(f"moto named the state machine {arn}, the template's functions expect {machine.arn}")
    return arn


def start_local_aws(sfn: InProcessStepFunctions, functions: LocalFunctions, tick_seconds: float) -> LocalAws:
    """The template's buses, schedule groups and rules in moto (local_stack.py), the triggers function
    registered as their target under its template name, and every stored trigger's rule and schedule
    written again, as the triggers function writes them (moto forgets them on exit)."""
    from load_manager.adapters.eventbridge import default_rules
    from load_manager.adapters.notification_targets import default_targets
    from load_manager.adapters.scheduler import default_schedules
    from load_manager.store import get_stores
    from load_manager.usecases import notification_channels, schedules, triggers
    from load_manager_local.aws import LocalAws

    function = functions.triggers
    registered = sfn.register(function.name, functions.handler(function.logical_id))
    expected = functions.settings[function.logical_id].automation.triggers_function_arn
    if registered != expected:
        raise RuntimeError(f"the triggers function is registered as {registered}, its TRIGGERS_FUNCTION_ARN says {expected}")
    aws = LocalAws(sfn.registry, functions.data, sfn.region, tick_seconds=tick_seconds, stack=functions.stack).start()
    stores = get_stores()
    with functions.scope(function.logical_id):
        triggers.resync(stores, default_rules)
        schedules.resync(stores, default_schedules)
    with functions.scope(functions.stack.function_in(NOTIFICATIONS_CODE_DIR).logical_id):  # channels' connections, destinations, rules
        notification_channels.resync(stores, default_targets)
    return aws


def set_public_base_url(url: str) -> None:
    """Links in RunFinished events point at this server (the functions whose template sets PUBLIC_BASE_URL)."""
    functions = installed()
    if functions is not None:
        functions.set_public_base_url(url)
        set_settings(functions.default)


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
