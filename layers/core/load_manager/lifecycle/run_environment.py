"""A run's variables and secrets in the lifecycle: the environment its Locust processes get, and the
redaction of everything Locust reports before any of it is stored, raised or emitted.

- StartRun gives the backend the run's variables (recorded with the run) and its secrets' values,
  read from the vault at the versions the run recorded (`run_env`).
- Every step reaches Locust through `guarded(backends, run)`: what comes back (a failure's message
  and log tail, a process status, stats' endpoint names and error messages, Locust's HTML report)
  has each secret value replaced by `***` before the step stores it, raises it (an error's message
  is Step Functions' Cause, kept in the execution's history) or emits it. The values are read again
  by each step (they are never stored with the run); a process keeps them for a while (`_cache`), so
  a poll does not ask Secrets Manager each time.
- Fail closed: when a step cannot read the values it would redact with (a secret deleted during the
  run, the store unavailable), what Locust reported is withheld, not stored unredacted.
- The Locust processes mask the same forms themselves (backends/redaction.py) in all they write and
  in what Locust records: `run_env` tells them which of their variables are secrets.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from load_manager.adapters.vault import SecretVault
from load_manager.adapters.vaults import get_vault
from load_manager.backends import BackendFactory
from load_manager.backends.base import ClusterHandle, ClusterSpec, FinalResults, LiveStats, LocustBackend, ProcessStatus, TaskUsage
from load_manager.backends.redaction import MASK, SECRET_NAMES_ENV
from load_manager.backends.redaction import pattern as masking_pattern
from load_manager.errors import SecretUnreadableError
from load_manager.models.runs import Run
from load_manager.observability import logger

WITHHELD = "[withheld: the run's secrets could not be read to redact this]"
_CACHED_VALUES = 256
REFERENCE_TTL_SECONDS = 300.0  # a referenced secret's current and previous values, re-read after this
_cache: OrderedDict[tuple[str, ...], tuple[float, list[str]]] = OrderedDict()


def run_env(run: Run, vault: SecretVault | None = None) -> dict[str, str]:
    """What every Locust process of the run gets: its variables, then its secrets' values (a secret
    that cannot be read fails the start, naming it)."""
    env = {variable.name: variable.value for variable in run.variables}
    if not run.secrets:
        return env
    for secret, values in _secret_values(run, vault or get_vault()):
        if not values:
            raise SecretUnreadableError(f"secret {secret} (version {_version(run, secret)}) can no longer be read: was it deleted?")
        env[secret] = values[0]
    env[SECRET_NAMES_ENV] = ",".join(sorted(secret.name for secret in run.secrets))  # which ones each process masks (backends/redaction.py)
    return env


def guarded(backends: BackendFactory, run: Run) -> BackendFactory:
    """The step's backends, answering with the run's secrets redacted (unchanged for a run without)."""
    if not run.secrets:
        return backends
    redactor = Redactor(lambda: _redacted_values(run))
    return lambda cluster: RedactingBackend(backends(cluster), redactor)


def _redacted_values(run: Run) -> list[str]:
    found = _secret_values(run, get_vault())
    gone = [name for name, values in found if not values]
    if gone:  # its Locust may well print it: nothing it says is kept unredacted
        raise SecretUnreadableError(f"the value of {', '.join(gone)} is gone from the secret store")
    return [value for _, values in found for value in values]


class Redactor:
    """Replaces each secret value (and its JSON-, HTML- and URL-escaped forms, and each line of a
    multi-line one) with MASK. The values are loaded on first use."""

    def __init__(self, load: Callable[[], list[str]]):
        self._load = load
        self._pattern: re.Pattern[str] | None = None
        self._failed = False

    def text(self, value: str) -> str:
        if not value:
            return value
        pattern = self._compiled()
        if self._failed:
            return WITHHELD
        return pattern.sub(MASK, value) if pattern is not None else value

    def _compiled(self) -> re.Pattern[str] | None:
        if self._pattern is None and not self._failed:
            try:
                values = self._load()
            except Exception:  # fail closed: nothing Locust said is kept unredacted
                logger.exception("the run's secrets could not be read to redact what Locust reported")
                self._failed = True
                return None
            # The same forms every Locust process masks in its own output (backends/redaction.py).
            self._pattern = masking_pattern(values) or re.compile(r"(?!x)x")
        return self._pattern


class RedactingBackend:
    """A backend whose answers and errors carry no secret value (the LocustBackend port). A port
    method added later that answers Locust's text must be added here too: until then it is passed
    through (its errors redacted, its answer as it is)."""

    def __init__(self, inner: LocustBackend, redactor: Redactor):
        self.inner, self.redactor = inner, redactor
        self.name = inner.name

    def __getattr__(self, method: str) -> Any:
        inner = self.__dict__.get("inner")
        if inner is None or method.startswith("_") or not callable(getattr(inner, method)):
            return getattr(inner, method)
        return lambda *args: self._call(method, *args)

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.inner, method)(*args)
        except Exception as exc:
            _redact_error(exc, self.redactor)
            raise

    def start(self, spec: ClusterSpec) -> ClusterHandle:
        return self._call("start", spec)

    def launch(self, spec: ClusterSpec) -> ClusterHandle:
        return self._call("launch", spec)

    def begin(self, handle: ClusterHandle, spec: ClusterSpec) -> None:
        self._call("begin", handle, spec)

    def sample(self, handle: ClusterHandle) -> LiveStats:
        stats: LiveStats = self._call("sample", handle)
        return dataclasses.replace(stats, endpoints=self._endpoints(stats.endpoints), errors=self._errors(stats.errors))

    def status(self, handle: ClusterHandle) -> ProcessStatus:
        return self._status(self._call("status", handle))

    def stop_load(self, handle: ClusterHandle) -> None:
        self._call("stop_load", handle)

    def collect(self, handle: ClusterHandle) -> FinalResults:
        results: FinalResults = self._call("collect", handle)
        text = self.redactor.text
        return dataclasses.replace(
            results, aggregated=self._endpoints([results.aggregated])[0], endpoints=self._endpoints(results.endpoints),
            errors=self._errors(results.errors), html_report=text(results.html_report) if results.html_report else results.html_report,
            log_tail=text(results.log_tail),
        )  # fmt: skip

    def teardown(self, handle: ClusterHandle) -> ProcessStatus:
        return self._status(self._call("teardown", handle))

    def find_launches(self, run_id: str, launch_id: str | None = None) -> list[ClusterHandle]:
        return self._call("find_launches", run_id, launch_id)

    def live_launches(self) -> list[ClusterHandle]:
        return self._call("live_launches")

    def task_usage(self, handle: ClusterHandle) -> list[TaskUsage] | None:
        return self._call("task_usage", handle)  # sizes and times: nothing of Locust's text

    def _status(self, status: ProcessStatus) -> ProcessStatus:
        return dataclasses.replace(status, log_tail=self.redactor.text(status.log_tail), reason=self.redactor.text(status.reason))

    def _endpoints(self, rows: Iterable[Any]) -> list[Any]:
        return [dataclasses.replace(row, name=self.redactor.text(row.name)) for row in rows]

    def _errors(self, rows: Iterable[Any]) -> list[Any]:
        return [dataclasses.replace(row, name=self.redactor.text(row.name), error=self.redactor.text(row.error)) for row in rows]


def _redact_error(exc: BaseException, redactor: Redactor) -> None:
    """In place: the class (the name Step Functions matches) stays; its texts lose the values."""
    for attribute in ("message", "log_tail"):
        if isinstance(getattr(exc, attribute, None), str):
            setattr(exc, attribute, redactor.text(getattr(exc, attribute)))
    exc.args = tuple(redactor.text(arg) if isinstance(arg, str) else arg for arg in exc.args)


def _secret_values(run: Run, vault: SecretVault) -> list[tuple[str, list[str]]]:
    """Each secret's name with its values: the recorded version's (or, for a reference, its current
    then previous); [] when it is gone."""
    found = []
    for secret in run.secrets:
        key = ("ref", secret.reference) if secret.reference else ("value", run.account_id, secret.id, str(secret.version))
        cached = _cache.get(key)
        if cached is not None and (not secret.reference or time.monotonic() - cached[0] < REFERENCE_TTL_SECONDS):
            _cache.move_to_end(key)
            found.append((secret.name, cached[1]))
            continue
        if secret.reference:
            values = vault.read_reference(secret.reference)
        else:
            value = vault.get(run.account_id, secret.id, secret.version)
            values = [] if value is None else [value]
        if values:
            _remember(key, values)
        found.append((secret.name, values))
    return found


def _remember(key: tuple[str, ...], values: list[str]) -> None:
    _cache[key] = (time.monotonic(), values)
    _cache.move_to_end(key)
    while len(_cache) > _CACHED_VALUES:
        _cache.popitem(last=False)


def _version(run: Run, name: str) -> int:
    return next(secret.version for secret in run.secrets if secret.name == name)
