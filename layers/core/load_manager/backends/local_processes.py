"""The local backend's processes and work dirs: where a launch keeps its files (its work dir, named
on every process's command line), the handle it leaves there, the environment Locust's processes
get (an allowlist: never the control plane's credentials or settings), signals and reaping, and
what /proc says about who is alive and ours (a recycled pid is never taken for ours).
"""

from __future__ import annotations

import json
import os
import re
import site
import socket
import subprocess
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from .base import ClusterHandle

LOOPBACK = "127.0.0.1"
LOG_TAIL_LINES = 40
# Written into the work dir once a launch has spawned Locust: what `find_launches` rebuilds it from.
HANDLE_FILE = "handle.json"

# Popen objects of clusters started by this process, by pgid: lets us reap our own children
# (a stateless call from another process simply finds nothing here).
children: dict[int, subprocess.Popen] = {}


def free_loopback_ports(count: int) -> list[int]:
    # Hold every socket until all are bound, so the ports differ. Another program may still take
    # one before Locust binds it; Locust then exits and start() reports it.
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def work_paths(work_dir: str, script_name: str = "locustfile.py") -> dict[str, Any]:
    """Where a launch keeps its files, all under its work dir."""
    return {
        "work_dir": work_dir,
        "bundle_dir": os.path.join(work_dir, "bundle"),
        "archive_path": os.path.join(work_dir, "bundle.zip"),
        "script_path": os.path.join(work_dir, "bundle", script_name),
        "log_path": os.path.join(work_dir, "locust.log"),
        "pid_path": os.path.join(work_dir, "locust.pid"),
        "exit_code_path": os.path.join(work_dir, "exit_code"),
        "web_secret_path": os.path.join(work_dir, "web-secret"),  # 0600; the master requires it (web_guard)
    }


def mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def write_handle(work_dir: str, handle: ClusterHandle) -> None:
    tmp = os.path.join(work_dir, HANDLE_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as file:
        json.dump(handle.to_dict(), file)
    os.replace(tmp, os.path.join(work_dir, HANDLE_FILE))  # a reader sees the whole handle or none


def read_handle(work_dir: str) -> ClusterHandle | None:
    try:
        with open(os.path.join(work_dir, HANDLE_FILE), encoding="utf-8") as file:
            return ClusterHandle.from_dict(json.load(file))
    except (OSError, ValueError, TypeError):
        return None


def write_private_file(path: str, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(content)


# What Locust's processes inherit from the control plane: only what a process needs to run and to
# install a bundle's requirements (the machine's package index and proxies). Never credentials or
# settings: AWS_*, MONGODB_*, the store's paths, LOCUST_* (they would change how Locust runs), nor
# HOME (launch_home).
_INHERITED = frozenset({
    "PATH", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "TMP", "TEMP",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
})  # fmt: skip
_INHERITED_PREFIXES = ("LC_", "PIP_", "UV_")


def locust_environment(parent: Mapping[str, str], extra: Any) -> dict[str, str]:
    """The environment built for Locust's processes: an allowlist of `parent`, then the run's own."""
    env = {k: v for k, v in parent.items() if k in _INHERITED or k.startswith(_INHERITED_PREFIXES)}
    env.update({str(key): str(value) for key, value in dict(extra or {}).items()})
    env["PYTHONUNBUFFERED"] = "1"  # a crash's last words must reach the log
    return env


PIP_HOME_ENV = "LOAD_MANAGER_PIP_HOME"  # bootstrap.PIP_HOME_ENV: the HOME the bootstrap runs pip with


def launch_home(work_dir: str, pip: bool) -> dict[str, str]:
    """HOME for a launch's Locust processes: a folder of its own in the work dir (0700), so nothing
    in the user's home changes a run (~/.locust.conf, which Locust reads before the bundle's
    locust.conf; ~/.netrc, whose credentials requests' sessions send; ~/.aws). PYTHONUSERBASE keeps
    the user's site-packages where Python found them (a `pip install --user` Locust), and with `pip`
    (the loader installs requirements.txt) pip gets the user's own HOME back: its configuration,
    credentials and cache are the user's, and installs stay as fast as they were."""
    home = os.path.join(work_dir, "home")
    os.makedirs(home, mode=0o700, exist_ok=True)
    env = {"HOME": home, "PYTHONUSERBASE": site.getuserbase()}
    return env | ({PIP_HOME_ENV: os.environ.get("HOME") or os.path.expanduser("~")} if pip else {})


def child_env(extra: Any) -> dict[str, str]:
    return locust_environment(os.environ, extra)


def slug(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", run_id)[:40] or "run"


def locust_pid(details: dict[str, Any]) -> int | None:
    """Locust's pid; a handle recorded right after launch has only the file the shell writes it to."""
    return details.get("pid") or read_int(details.get("pid_path"))


def read_int(path: str | None) -> int | None:
    if not path:
        return None
    try:
        with open(path, encoding="ascii") as file:
            return int(file.read().strip())
    except (OSError, ValueError):
        return None


def read_tail(path: str | None, lines: int = LOG_TAIL_LINES) -> str:
    if not path:
        return ""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return "".join(deque(file, maxlen=lines))
    except OSError:
        return ""


def reap(pgid: int | None, wait_seconds: float = 0.0) -> None:
    process = children.get(pgid) if pgid else None
    if process is None:
        return
    try:
        process.wait(timeout=wait_seconds) if wait_seconds else process.poll()
    except subprocess.TimeoutExpired:
        return
    if pgid and process.returncode is not None:
        children.pop(pgid, None)


def send_signal(send: Callable[[], None]) -> None:
    try:
        send()
    except (ProcessLookupError, PermissionError):
        pass  # already gone (or, after pid reuse, not ours)


# ---- /proc: who is alive and ours ---------------------------------------------------------------


def process_info(pid: int) -> tuple[str, int] | None:
    """(state, process group) of a live process, None when gone. Linux /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[2])


def runs_in(pid: int, work_dir: str | None) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            cmdline = file.read()
    except OSError:
        return False
    # An empty command line is a process in the middle of exec (the bundle loader becoming Locust):
    # still the same process, so still ours; a recycled pid would show its own command line.
    return bool(work_dir) and (not cmdline or os.fsencode(work_dir or "") in cmdline)


def is_ours(pid: int, work_dir: str | None) -> bool:
    if not os.path.isdir("/proc"):  # not Linux: trust the pid
        try:
            os.kill(pid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    info = process_info(pid)
    return info is not None and info[0] != "Z" and runs_in(pid, work_dir)


def groups_running_in(work_dir: str) -> set[int]:
    """Process groups with a live member whose command line names `work_dir` (Linux /proc)."""
    if not os.path.isdir("/proc"):
        return set()
    groups = set()
    needle = os.fsencode(os.path.join(work_dir, ""))  # the dir itself, not another one it prefixes
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as file:
                cmdline = file.read()
        except OSError:
            continue
        info = process_info(int(entry)) if needle in cmdline else None
        if info is not None and info[0] != "Z":
            groups.add(info[1])
    return groups


def is_group_gone(pgid: int, work_dir: str | None) -> bool | None:
    return not group_is_ours(pgid, work_dir) or None  # None: keep polling


def group_is_ours(pgid: int, work_dir: str | None) -> bool:
    """True while a live member of the group still runs our work dir (so killpg is safe)."""
    if not os.path.isdir("/proc"):
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            info = process_info(int(entry))
            if info and info[1] == pgid and info[0] != "Z" and runs_in(int(entry), work_dir):
                return True
    return False
