"""A reader's terminals, for a test: one bash session that keeps its variables and functions from
command to command, and long-running commands in terminals of their own (process groups the test
always stops)."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path


class ShellError(RuntimeError):
    pass


class BashSession:
    """`run(command)` -> (what it printed, stdout and stderr as a terminal shows them; exit status).
    `$?` survives from one command to the next, so a page can `echo $?`."""

    def __init__(self, cwd: Path, env: dict[str, str]):
        self.proc = subprocess.Popen(
            ["bash", "--norc", "--noprofile"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            cwd=cwd, env=env, start_new_session=True,
        )  # fmt: skip
        self._write("__docs_rc=0\n")

    def _write(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def run(self, command: str, timeout: float) -> tuple[str, int]:
        marker = f"__docs_done_{uuid.uuid4().hex}"
        # stdin is /dev/null: a command must not read the script that drives the session.
        self._write(f"(exit $__docs_rc)\n{{\n{command}\n}} </dev/null 2>&1\n__docs_rc=$?\nprintf '\\n{marker} %d\\n' $__docs_rc\n")
        return self._read_until(marker, timeout)

    def _read_until(self, marker: str, timeout: float) -> tuple[str, int]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buffer = b""
        deadline = time.monotonic() + timeout
        done = re.compile(rb"\n" + marker.encode() + rb" (\d+)\n")
        while not (found := done.search(buffer)):
            left = deadline - time.monotonic()
            if left <= 0:
                raise ShellError(f"no end after {timeout:.0f} s; printed so far:\n{buffer.decode(errors='replace')}")
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise ShellError(f"the shell exited; printed:\n{buffer.decode(errors='replace')}")
                buffer += chunk
        return buffer[: found.start()].decode(errors="replace"), int(found.group(1))

    def close(self) -> None:
        stop_group(self.proc)


class Background:
    """A command running in a terminal of its own: its output is collected as it comes."""

    def __init__(self, script: str, cwd: Path, env: dict[str, str]):
        self.proc = subprocess.Popen(
            ["bash", "--norc", "--noprofile", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            cwd=cwd, env=env, start_new_session=True,
        )  # fmt: skip
        self._lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            with self._changed:
                self._lines.append(raw.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self._lines)

    def wait_for(self, pattern: re.Pattern[str], normalise, timeout: float) -> re.Match[str]:
        """Until the output so far starts with what `pattern` matches (the process goes on)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                text = "".join(normalise(line) + "\n" for line in self._lines)
                found = pattern.match(text)
                if found:
                    return found
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise ShellError(f"exited with {self.proc.returncode}; printed:\n{text}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ShellError(f"the expected output did not come in {timeout:.0f} s; printed:\n{text}")
                self._changed.wait(min(left, 1.0))

    def stop(self) -> None:
        stop_group(self.proc)


def stop_group(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM to the whole process group (as closing a terminal would), then wait until every
    process of it is gone (serve stops its runs first); SIGKILL whatever lingers past `grace`."""
    _signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _group_alive(proc) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _group_alive(proc):
        _signal_group(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    for stream in (proc.stdin, proc.stdout):
        if stream:
            stream.close()


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def _group_alive(proc: subprocess.Popen) -> bool:
    proc.poll()  # reap the leader, or it stays a zombie member of its group
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    return True
