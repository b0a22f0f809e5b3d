"""Locust's web API, as every backend drives it: the local one on loopback, ecs on the master task's IP.

What the API does not say, and both backends must respect:
- it is form-encoded (`POST /swarm` takes `user_count`, `spawn_rate`, `host` as a form, like the UI);
- `/swarm` answers `success` for a swarm that never starts (a master with no worker yet, a user
  class that raises in `on_start`…): only the `state` of `/stats/requests` confirms the load;
- `/stats/requests` is memoized for ~2 s, and a master hears from each worker every ~3 s: after the
  load stops, a worker's last requests reach the master only with its next report (Locust's
  worker sends none when told to stop), so a master's final numbers are read once its totals have
  stood still for a whole report interval (`/stats/requests/csv`, which is not memoized, shows
  them live), and from a `/stats/requests` answer that carries those totals;
- a new `/swarm` (or `/stats/reset`) wipes the stats: collect first.

Every request carries the launch's secret (`Authorization: Bearer …`): the master's web guard
(web_guard.py) answers 401 to anything without it, so another run cannot drive this one.

`requests` is the only dependency (no boto3, no Locust): this module is imported by Lambdas.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import requests

from .base import LOAD_ACTIVE_STATES, STATE_READY, STATE_STOPPED, BackendError, BackendUnavailableError
from .generator_stats import ROUTE as GENERATORS_ROUTE
from .generator_stats import GeneratorUsage, generator_usages
from .locust_stats import csv_total_requests, is_master, locust_version, total_requests
from .web_guard import HEADER, authorization

STATS_CACHE_SECONDS = 2.0  # Locust memoizes GET /stats/requests for this long (twice that if rendering is slow)
WORKER_REPORT_SECONDS = 3.0  # workers push their stats to the master this often (runners.WORKER_REPORT_INTERVAL)
# After the load stops on a master: how long its totals must stand still before they are final
# (every worker has reported since), and how long that may take at most.
SETTLE_SECONDS = WORKER_REPORT_SECONDS + 0.5
SETTLE_LIMIT_SECONDS = 30.0
API_TIMEOUT = (1.0, 5.0)  # (connect, read) seconds for ordinary web API calls
REPORT_TIMEOUT = (1.0, 30.0)  # the HTML report is rendered on demand, about 1 MB
PROBE_TIMEOUT = (0.5, 2.0)  # "is it up yet?"


class SwarmRefusedError(BackendError):
    """`POST /swarm` answered `success: false` (bad arguments, no user class…)."""


class LocustWebApi:
    """One Locust master's (or single process's) web API at `base_url`.

    `unreachable` is called when a request cannot reach Locust at all (connection refused, timeout):
    a backend uses it to check whether Locust is still alive and raise `LocustCrashedError` if not.
    If it returns, `BackendUnavailableError` is raised (transient: the lifecycle retries).
    `secret`: the launch's web secret, sent with every request (None: a Locust without the guard)."""

    def __init__(self, base_url: str, *, unreachable: Callable[[], None] | None = None, secret: str | None = None):
        self.base_url = base_url.rstrip("/")
        self._unreachable = unreachable
        self._headers = {HEADER: authorization(secret)} if secret else {}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", API_TIMEOUT)
        kwargs["headers"] = {**self._headers, **(kwargs.get("headers") or {})}
        try:
            response = requests.request(method, self.base_url + path, **kwargs)
        except requests.RequestException as exc:
            if self._unreachable is not None:
                self._unreachable()
            raise BackendUnavailableError(f"Locust's web API failed on {method} {path}: {exc}") from exc
        if response.status_code == 401:
            raise BackendUnavailableError(f"Locust's web API refused the launch's secret on {method} {path} (401)")
        if not response.ok:
            raise BackendUnavailableError(f"Locust's web API answered {response.status_code} to {method} {path}")
        return response

    def stats(self) -> dict[str, Any]:
        """`GET /stats/requests` (parsed by `locust_stats`)."""
        return json_object(self.call("GET", "/stats/requests"))

    def stats_csv(self) -> str:
        """`GET /stats/requests/csv`: every percentile Locust computes, per row (p90 among them)."""
        return self.call("GET", "/stats/requests/csv").text

    def generators(self) -> list[GeneratorUsage]:
        """Each Locust process's CPU and memory since the previous call (generator_usage); [] when
        this Locust does not say (no plugin, an error): health never fails a poll."""
        try:
            return generator_usages(self.call("GET", GENERATORS_ROUTE).json())
        except (BackendUnavailableError, ValueError):
            return []

    def version(self) -> str | None:
        """The Locust version this master runs, as its web UI's page says (locust_stats.locust_version);
        None when it does not say: a run's results never depend on it."""
        try:
            return locust_version(self.call("GET", "/").text)
        except BackendError:
            return None

    def worker_count(self) -> int:
        """Connected workers, live (`/worker-count` is not memoized like `/stats/requests`)."""
        return int(json_object(self.call("GET", "/worker-count")).get("worker_count") or 0)

    def answers(self) -> bool:
        """True once the web API answers; never raises. Probes /worker-count, not /stats/requests:
        Locust caches the stats for 2 s, and a probe made before the load starts would pin the
        cached "ready" state for that long."""
        try:
            return requests.get(f"{self.base_url}/worker-count", headers=self._headers, timeout=PROBE_TIMEOUT).ok
        except requests.RequestException:
            return False

    def swarm(self, users: int, spawn_rate: float, host: str) -> None:
        """Ask for a swarm. Success only means "accepted": confirm with `state` (see the module doc).
        No run_time: whoever drives the run owns its deadline."""
        form = {"user_count": users, "spawn_rate": spawn_rate, "host": host}
        answer = json_object(self.call("POST", "/swarm", data=form))
        if not answer.get("success"):
            raise SwarmRefusedError(f"Locust refused to swarm: {answer.get('message')}")

    def stop(self, *, timeout: float) -> None:
        # A master answers only once every worker has stopped its users: allow for it.
        self.call("POST", "/stop", timeout=(API_TIMEOUT[0], timeout))

    def report(self) -> str | None:
        # `download=1` renders the report without its "download" link, which would point here.
        return self.call("GET", "/stats/report", params={"download": "1"}, timeout=REPORT_TIMEOUT).text or None

    def final_stats(self, *, stop_timeout: float, settle_seconds: float = SETTLE_SECONDS, interval: float = 0.5) -> dict[str, Any]:
        """Stats once the load has stopped and the numbers can no longer move (stops it if needed).

        A master (its answer lists `workers`: Locust runs the users in other processes, ECS worker
        tasks or local worker processes) is settled first (`settle`); a single process has nothing in flight.
        `settle_seconds` 0 skips that (a fake Locust without workers' reports)."""
        stopped_at: float | None = None  # when the master said its workers' users had stopped

        def stopped_payload() -> dict[str, Any] | None:
            nonlocal stopped_at
            payload = self.stats()
            if payload.get("state") in LOAD_ACTIVE_STATES and stopped_at is None:
                self.stop(timeout=stop_timeout)  # answers once every worker has stopped its users
                stopped_at = time.monotonic()
            # `ready`: no swarm ever ran, so what is there is all there will be.
            return payload if payload.get("state") in (STATE_STOPPED, STATE_READY) else None

        payload = poll(stopped_payload, timeout=stop_timeout, interval=interval)
        if payload is None:
            raise BackendUnavailableError(f"Locust did not stop within {stop_timeout:g} s")
        if settle_seconds > 0 and is_master(payload) and payload.get("state") == STATE_STOPPED:
            payload = self.settle(quiet_seconds=settle_seconds, interval=interval, since=stopped_at)
        return payload

    def settle(
        self, *, quiet_seconds: float, interval: float, since: float | None = None, limit: float = SETTLE_LIMIT_SECONDS
    ) -> dict[str, Any]:
        """The stopped master's stats once every worker's last report is in them.

        Locust exposes no per-worker report count, but each worker reports every 3 s, and after
        the stop its next report carries whatever its users did last. So: watch the master's live
        total request count (`/stats/requests/csv`, not memoized) until it has not moved for
        `quiet_seconds` (a whole report interval: every worker has reported since), counted from
        `since` (when the users stopped; default now) or the last change seen, at most `limit`
        seconds; then read `/stats/requests` until its memoized answer carries that total. Without
        the CSV: wait the interval and the cache out, then read."""
        interval = max(interval, 0.1)
        read_at = time.monotonic()
        total = self._live_total()
        if total is None:
            time.sleep(quiet_seconds + STATS_CACHE_SECONDS)
            return self.stats()
        deadline = read_at + limit
        still_since = min(since, read_at) if since is not None else read_at
        # Ends on a read begun a whole quiet interval after the last change: that read has it all.
        while read_at - still_since < quiet_seconds and read_at < deadline:
            time.sleep(interval)
            read_at = time.monotonic()
            now = self._live_total()
            if now is not None and now != total:
                total, still_since = now, read_at

        def carrying_total() -> dict[str, Any] | None:
            payload = self.stats()
            return payload if total_requests(payload) >= total else None

        settled = poll(carrying_total, timeout=2 * STATS_CACHE_SECONDS + interval, interval=interval)
        return settled if settled is not None else self.stats()

    def _live_total(self) -> int | None:
        try:
            return csv_total_requests(self.stats_csv())
        except BackendError:
            return None


def new_secret() -> str:
    """A launch's web secret: 256 random bits, URL-safe (it travels in a header and a file)."""
    return secrets.token_urlsafe(32)


def json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise BackendUnavailableError(f"Locust's web API answered something not JSON: {response.text[:200]!r}") from exc
    if not isinstance(body, dict):
        raise BackendUnavailableError("Locust's web API answered JSON that is not an object")
    return body


def poll(check: Callable[[], Any], *, timeout: float, interval: float = 0.1) -> Any:
    """Call `check` until it returns something other than None, or `timeout` passes (→ None)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)
