"""The run's secrets, masked: one definition of what is masked (`forms`), used by the control plane
(lifecycle/run_environment.py: what Locust reports, before it is stored) and inside every Locust
process (what it writes to its standard output and error, and what Locust records).

Standard library only at import, one file: like the web guard it travels in the runtime archive
and runs in the Locust image's Python. A process knows which of its environment variables are
secrets from SECRET_NAMES_ENV (names only, set with the run's variables by
lifecycle/run_environment.run_env); their values are in its environment already.

Inside a Locust process, from the earliest point that process has:
- `relay_output`: the bootstrap starts it before pip (a private index's URL may carry a secret, and
  pip prints it), so on every process it starts (ECS tasks, local processes of a bundle with
  requirements.txt); otherwise the runtime's sitecustomize (web_guard.py, at the interpreter's
  start, before Locust or any locustfile is imported) starts it through `install`. That
  sitecustomize reaches every Locust process (master, workers, single), which `locust_hooks` does
  not: Locust imports it as a locustfile, after the script's own, and only on workers or with a
  load profile.
- `hook_locust` (also from `install`, once Locust is imported): endpoint names and error messages
  (what workers report to the master, the web UI, the HTML report, CSV files), exceptions and the
  log lines Locust keeps for its web UI are masked where Locust records them.

The relay: the process forks; the child goes on (to pip, then Locust) with its stdout and stderr
turned into pipes; the parent keeps the real ones and copies each line over with every secret
masked. The parent keeps the pid the backend knows (the local launch's pid file, the container's
main process on ECS): it passes on the signals a process is stopped with, reaps, writes what remains
once the child has exited and exits with the child's code (128+N after signal N, as a shell says).
The child dies with it. A process rather than a thread: a thread dies with Locust, and with it what
it had not copied yet (a crash's last words); on ECS, whatever outlives the main process is killed.
"""

from __future__ import annotations

import html
import json
import os
import re
import select
import signal
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_REDACTED = 4  # shorter values would garble every line (stored secrets are at least this long)
SECRET_NAMES_ENV = "LOAD_MANAGER_SECRET_NAMES"  # comma-separated names of the process's variables that are secrets
RELAYED_ENV = "LOAD_MANAGER_OUTPUT_RELAYED"  # "1" once this process's output goes through a relay (set in its child)
# How a process is asked to stop (ECS's StopTask, the local teardown, Ctrl-C): passed on to the child.
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
CHUNK = 65536
LONG_LINE = 65536  # a line longer than this is passed on before its end (all but what may start a value)
RELAY_FAILED = 6  # the relay's own exit code when it breaks (bootstrap.REDACTION_FAILED)


def forms(value: str) -> set[str]:
    """What is masked for one secret value: the value, each line of a multi-line one, and each of
    those JSON-, HTML- and URL-escaped; none shorter than MIN_REDACTED."""
    parts = {value, *(line.strip() for line in value.splitlines())}
    found = set()
    for part in parts:
        found |= {part, json.dumps(part)[1:-1], html.escape(part), quote(part, safe=""), quote_plus(part)}
    return {form for form in found if len(form) >= MIN_REDACTED}


def all_forms(values: Iterable[str]) -> list[str]:
    """Every form of every value, longest first (so the longest match wins)."""
    return sorted({form for value in values for form in forms(value)}, key=len, reverse=True)


def pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern matching every form of `values`; None when there is nothing to mask."""
    found = all_forms(values)
    return re.compile("|".join(map(re.escape, found))) if found else None


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """The values of the variables SECRET_NAMES_ENV names."""
    names = [name for name in environ.get(SECRET_NAMES_ENV, "").split(",") if name]
    return [environ[name] for name in names if environ.get(name)]


# ---- inside a Locust process -------------------------------------------------------------------


def install(when_imported: Callable[[str, Callable[[Any], None]], None]) -> None:
    """The sitecustomize's call (web_guard.install_plugins): relay this process's output (unless the
    bootstrap does already), then mask what Locust records once it is imported. Raises OSError when
    the relay cannot start: the process must then not start (web_guard exits RELAY_FAILED)."""
    values = secret_values(os.environ)
    masked = pattern(values)
    if masked is None:
        return
    relay_output(values)
    when_imported("locust.main", lambda _main: hook_locust(masked))


def hook_locust(masked: re.Pattern[str]) -> None:
    """Mask the values where Locust records them: endpoint names and error messages (a worker's are
    what it reports to the master), exceptions (a worker's are masked by the master), the log lines
    kept for the web UI."""
    from locust import log, runners, stats  # lazy: locust costs 600 ms at import (bench/cold_import.py --lazy); Locust's own process has it

    if getattr(stats.RequestStats, "_load_manager_masked", False):
        return

    def text(value: Any) -> Any:
        return masked.sub(MASK, value) if isinstance(value, str) else value

    log_request, log_error, log_exception = stats.RequestStats.log_request, stats.RequestStats.log_error, runners.Runner.log_exception

    def masked_request(self: Any, method: str, name: str, response_time: int, content_length: int) -> None:
        log_request(self, method, text(name), response_time, content_length)

    def masked_error(self: Any, method: str, name: str, error: Any) -> None:
        said = stats.StatsError.parse_error(error)
        log_error(self, method, text(name), error if text(said) == said else text(said))  # as a worker reports it: a string

    def masked_exception(self: Any, node_id: str, msg: str, formatted_tb: str) -> None:
        log_exception(self, node_id, text(msg), text(formatted_tb))

    def masked_emit(self: Any, record: Any) -> None:
        self.logs.append(text(self.format(record)))

    stats.RequestStats.log_request, stats.RequestStats.log_error = masked_request, masked_error  # type: ignore[method-assign]
    runners.Runner.log_exception = masked_exception  # type: ignore[method-assign]
    log.LogReader.emit = masked_emit  # type: ignore[method-assign]
    stats.RequestStats._load_manager_masked = True  # type: ignore[attr-defined]


def relay_output(values: Iterable[str]) -> None:
    """Put this process's stdout and stderr behind a relay that masks `values` (see the module doc).
    Returns in the child only; nothing to do without a value to mask or when a relay is there
    already. Raises OSError when the pipes or the fork cannot be made."""
    found = all_forms(values)
    if not found or os.environ.get(RELAYED_ENV) == "1":
        return
    masked = re.compile(b"|".join(re.escape(form.encode()) for form in found))
    streams = [fd for fd in (1, 2) if _is_open(fd)]
    pipes = {fd: os.pipe() for fd in streams}
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()  # nothing buffered twice
    child = os.fork()
    if child == 0:
        for fd, (read, write) in pipes.items():
            os.dup2(write, fd)
            os.close(read)
            os.close(write)
        os.environ[RELAYED_ENV] = "1"
        _die_with(os.getppid())
        return
    for _read, write in pipes.values():
        os.close(write)
    try:
        code = _relay(child, {read: fd for fd, (read, _write) in pipes.items()}, masked, len(found[0].encode()))
    except BaseException:  # noqa: BLE001 - a broken relay ends Locust too: nothing may pass unmasked
        _send(child, signal.SIGKILL)
        code = RELAY_FAILED
    os._exit(code)


def _relay(child: int, sources: dict[int, int], masked: re.Pattern[bytes], longest: int) -> int:
    """Copy each pipe (read fd -> real fd) line by line, masked, until the child has exited and its
    pipes are drained (or closed); returns its exit code."""
    wake, waker = os.pipe()  # a signal's arrival (SIGCHLD above all) wakes select
    os.set_blocking(wake, False)
    os.set_blocking(waker, False)
    signal.set_wakeup_fd(waker)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    for signum in FORWARDED:
        signal.signal(signum, lambda signum, _frame: _send(child, signum))
    pending = {read: b"" for read in sources}
    status = None
    while pending:
        status = status if status is not None else _reap(child)
        ready, _, _ = select.select([*pending, wake], [], [], None if status is None else 0)
        if wake in ready:
            _drain(wake)
        readable = [fd for fd in ready if fd != wake]
        if status is not None and not readable:
            break  # the child is gone and nothing more is there (a process it left may hold the pipe)
        for read in readable:
            data = os.read(read, CHUNK)
            if data:
                pending[read] = _pass_on(sources[read], pending[read] + data, masked, longest)
            else:
                _write(sources[read], masked.sub(MASK.encode(), pending.pop(read)))
    for read, rest in pending.items():
        _write(sources[read], masked.sub(MASK.encode(), rest))
    if status is None:
        status = os.waitpid(child, 0)[1]
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _pass_on(fd: int, buffer: bytes, masked: re.Pattern[bytes], longest: int) -> bytes:
    """Write the buffer's complete lines, masked; returns what is kept for later (a line's start)."""
    end = max(buffer.rfind(b"\n"), buffer.rfind(b"\r")) + 1
    if end:
        _write(fd, masked.sub(MASK.encode(), buffer[:end]))
        buffer = buffer[end:]
    if len(buffer) > LONG_LINE:  # keep what could be the start of a value not yet complete
        buffer = masked.sub(MASK.encode(), buffer)
        _write(fd, buffer[:-longest])
        buffer = buffer[-longest:]
    return buffer


def _reap(child: int) -> int | None:
    """The child's wait status once it has exited (None while it runs); reaps any other child too
    (on ECS the main process inherits what Locust's own children leave)."""
    found = None
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return found
        if pid == 0:
            return found
        if pid == child:
            found = status


def _write(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data) :]
        except OSError:  # where it went is gone: nothing to tell anyone
            return


def _drain(fd: int) -> None:
    try:
        while os.read(fd, CHUNK):
            pass
    except BlockingIOError:
        pass


def _send(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _die_with(parent: int) -> None:
    """Linux: SIGKILL this process when the relay dies (Locust must not run on unseen)."""
    try:
        import ctypes  # lazy: ctypes costs 2 ms at import (bench/cold_import.py --lazy), a relayed process only

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the relay's exit still closes the pipes
        return
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(RELAY_FAILED)
