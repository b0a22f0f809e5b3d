"""What every backend that drives Locust through its master's web API does alike.

A subclass says where Locust runs (`launch`, `teardown`), whether it is alive (`status`), where its
web API is (`_web_url`) and what must happen before the API can answer (`_prepare`). Starting the
swarm, confirming it, sampling, stopping, collecting, and turning any failure to start into a
`LocustStartError` after tearing the cluster down are the same everywhere, and live here once.
"""

from __future__ import annotations

import dataclasses
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from .base import (
    LOAD_ACTIVE_STATES,
    BackendError,
    ClusterHandle,
    ClusterSpec,
    FinalResults,
    LiveStats,
    LocustCrashedError,
    LocustStartError,
    ProcessStatus,
)
from .locust_stats import final_results, live_stats
from .locust_web import SETTLE_SECONDS, LocustWebApi, SwarmRefusedError, poll


class LocustWebBackend(ABC):
    name: str

    def __init__(
        self,
        *,
        start_timeout: float,
        swarm_timeout: float,
        stop_timeout: float,
        probe_interval: float,
        settle_seconds: float = SETTLE_SECONDS,
    ):
        """`start_timeout` bounds all of begin; `swarm_timeout` how long a swarm may take to show
        as active; `probe_interval` paces the polls while waiting."""
        self._start_timeout = start_timeout
        self._swarm_timeout = swarm_timeout
        self._stop_timeout = stop_timeout
        self._probe_interval = probe_interval
        self._settle_seconds = settle_seconds

    # ---- what a backend says about itself ------------------------------------------------------

    @abstractmethod
    def launch(self, spec: ClusterSpec) -> ClusterHandle: ...

    @abstractmethod
    def status(self, handle: ClusterHandle) -> ProcessStatus: ...

    @abstractmethod
    def teardown(self, handle: ClusterHandle) -> ProcessStatus: ...

    @abstractmethod
    def find_launches(self, run_id: str, launch_id: str | None = None) -> list[ClusterHandle]: ...

    @abstractmethod
    def _web_url(self, handle: ClusterHandle) -> str:
        """The master's web API; may ask the platform when the handle does not know it yet."""

    @abstractmethod
    def _prepare(self, handle: ClusterHandle, spec: ClusterSpec, deadline: float) -> None:
        """Whatever must happen before the web API can be reached (a process, an address)."""

    def _start_workers(self, handle: ClusterHandle, spec: ClusterSpec) -> None:
        """Start the workers that are separate from the master, if any (never twice). Locust's
        workers started with the master (the local backend's) need nothing here."""
        return None

    def _start_seconds(self, spec: ClusterSpec) -> float:
        """How long begin may take in all (a backend installing requirements first needs longer)."""
        return self._start_timeout

    def _expected_workers(self, spec: ClusterSpec) -> int:
        """Workers that must be connected before a swarm (0: Locust runs as one process)."""
        return spec.workers

    def _autostarts(self, spec: ClusterSpec) -> bool:
        """True when Locust was started to start the load itself (`--autostart -u -r`): begin then
        sends no /swarm, it only confirms the state."""
        return False

    # ---- the port ------------------------------------------------------------------------------

    def start(self, spec: ClusterSpec) -> ClusterHandle:
        handle = self.launch(spec)
        self.begin(handle, spec)
        return handle

    def begin(self, handle: ClusterHandle, spec: ClusterSpec) -> None:
        """Idempotent: a retried call on a cluster whose load is already active changes nothing."""
        deadline = time.monotonic() + self._start_seconds(spec)
        try:
            self._prepare(handle, spec, deadline)
            api = self._api(handle)
            if api.answers() and api.stats().get("state") in LOAD_ACTIVE_STATES:
                remember_version(handle, api)
                return  # a retried begin: the load this cluster was started for is on
            self._start_workers(handle, spec)
            self._wait_for_web_api(handle, api, deadline)
            expected = self._expected_workers(spec)
            if expected:
                self._wait_for_workers(handle, api, expected, deadline)
            # Until the load is asked for, only uncached endpoints are read: Locust memoizes
            # /stats/requests for 2 s, so a "ready" read now would still be served after /swarm.
            # A retried /swarm on an active load only re-asks for the same users.
            if not self._autostarts(spec):
                self._swarm(handle, api, spec)
            # /swarm's success (or --autostart) only means the load was asked for: the state says
            # whether users spawn; a Locust that dies meanwhile fails with its own reason.
            if not self._load_becomes_active(handle, api, timeout=self._swarm_timeout):
                raise self._start_error(handle, f"the swarm did not start within {self._swarm_timeout:g} s")
            remember_version(handle, api)  # once the load runs: the first request never waits for it
        except BaseException as exc:
            raise self._start_failed(handle, exc) from None

    def sample(self, handle: ClusterHandle) -> LiveStats:
        api = self._api(handle)
        return dataclasses.replace(live_stats(api.stats()), generators=api.generators())

    def stop_load(self, handle: ClusterHandle) -> None:
        self._api(handle).stop(timeout=self._stop_timeout)

    def collect(self, handle: ClusterHandle) -> FinalResults:
        api = self._api(handle)
        # Settled whenever users ran outside the master (ECS always; local with workers):
        # final_stats tells from Locust's own answer, whatever the handle says about workers.
        payload = api.final_stats(
            stop_timeout=self._stop_timeout,
            settle_seconds=self._settle_seconds,
            interval=min(self._probe_interval, 0.5),
        )
        try:
            percentiles: str | None = api.stats_csv()
        except BackendError:
            percentiles = None  # p90 is a bonus; the rest of the results must not be lost for it
        report = api.report()
        status = self.status(handle)
        return final_results(
            payload, percentiles_csv=percentiles, html_report=report, exit_code=status.exit_code, log_tail=status.log_tail
        )

    # ---- begin, step by step -------------------------------------------------------------------

    def _wait_for_web_api(self, handle: ClusterHandle, api: LocustWebApi, deadline: float) -> None:
        def answered() -> bool | None:
            if api.answers():
                return True
            self._fail_if_dead(handle)
            return None

        if not poll(answered, timeout=_remaining(deadline), interval=self._probe_interval):
            raise self._start_error(handle, f"Locust's web API did not answer within {self._start_timeout:g} s")

    def _wait_for_workers(self, handle: ClusterHandle, api: LocustWebApi, expected: int, deadline: float) -> None:
        # A master with fewer workers than asked would swarm on those alone (or, with none, answer
        # /swarm with success and never start): wait for all of them.
        def connected() -> bool | None:
            if api.worker_count() >= expected:
                return True
            self._fail_if_dead(handle)
            return None

        if not poll(connected, timeout=_remaining(deadline), interval=self._probe_interval):
            raise self._start_error(handle, f"{expected} Locust workers did not connect within {self._start_timeout:g} s")

    def _swarm(self, handle: ClusterHandle, api: LocustWebApi, spec: ClusterSpec) -> None:
        try:
            api.swarm(spec.users, spec.spawn_rate, spec.target_url)
        except SwarmRefusedError as exc:
            raise self._start_error(handle, str(exc)) from exc

    def _load_becomes_active(self, handle: ClusterHandle, api: LocustWebApi, timeout: float) -> bool:
        def active() -> bool | None:
            if api.stats().get("state") in LOAD_ACTIVE_STATES:
                return True
            self._fail_if_dead(handle)
            return None

        return bool(poll(active, timeout=timeout, interval=self._probe_interval))

    def _fail_if_dead(self, handle: ClusterHandle) -> None:
        status = self.status(handle)
        if not status.alive:
            raise LocustStartError(
                status.reason or "Locust exited during start", exit_code=status.exit_code, log_tail=status.log_tail
            )

    # ---- failures ------------------------------------------------------------------------------

    def _start_error(self, handle: ClusterHandle, message: str) -> LocustStartError:
        status = self._status_quietly(handle)
        return LocustStartError(message, exit_code=status.exit_code, log_tail="" if status.alive else status.log_tail)

    def _start_failed(self, handle: ClusterHandle, exc: BaseException) -> BaseException:
        """Never leave a cluster (or its bill) behind a failed start; say why it failed. The exit
        code of a Locust we stopped ourselves says nothing about the failure, so only one that
        Locust chose is reported."""
        final = self._teardown_quietly(handle)
        if isinstance(exc, LocustStartError):
            exc.log_tail = final.log_tail or exc.log_tail  # the log as it ended
            return exc
        if isinstance(exc, Exception):
            error = LocustStartError(f"could not start Locust: {exc}", exit_code=final.exit_code, log_tail=final.log_tail)
            error.__cause__ = exc
            return error
        return exc

    def _launch_failed(self, handle: ClusterHandle, exc: BaseException) -> BaseException:
        self._teardown_quietly(handle)
        if isinstance(exc, LocustStartError) or not isinstance(exc, Exception):
            return exc
        error = LocustStartError(f"could not launch Locust: {exc}")
        error.__cause__ = exc
        return error

    def _teardown_quietly(self, handle: ClusterHandle) -> ProcessStatus:
        try:
            return self.teardown(handle)
        except BackendError as exc:
            return ProcessStatus(alive=False, exit_code=None, log_tail=str(exc))

    def _status_quietly(self, handle: ClusterHandle) -> ProcessStatus:
        try:
            return self.status(handle)
        except BackendError:
            return ProcessStatus(alive=False, exit_code=None)

    # ---- the master's web API ------------------------------------------------------------------

    def _api(self, handle: ClusterHandle) -> LocustWebApi:
        return LocustWebApi(self._web_url(handle), unreachable=self._crash_check(handle), secret=self._web_secret(handle))

    def _web_secret(self, handle: ClusterHandle) -> str | None:
        """The launch's web secret, which its master requires (web_guard.py); None for a launch
        without one. Never stored in the handle: the handle is stored with the run."""
        return None

    def _crash_check(self, handle: ClusterHandle) -> Callable[[], None]:
        """Called when the web API cannot be reached: a dead cluster is a crash, not a blip."""

        def check() -> None:
            status = self.status(handle)
            if not status.alive:
                raise LocustCrashedError(status.reason or "Locust is not running", exit_code=status.exit_code, log_tail=status.log_tail)

        return check


def remember_version(handle: ClusterHandle, api: LocustWebApi) -> None:
    """The Locust version the master runs, in the handle (`locust_version`): what the run records
    as having run, whatever requirements.txt asked for."""
    if not handle.details.get("locust_version"):
        handle.details["locust_version"] = api.version()


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())
