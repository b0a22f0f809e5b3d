"""A developer's home never changes a local run: the local backend's processes (a single one, a
master and its workers) get a HOME of the launch's own, so Locust does not read the user's
~/.locust.conf; pip alone (the bootstrap, for requirements.txt) runs with the user's own HOME, so its
configuration, credentials and cache stay the user's.

The launch is real (the backend's shells, environment and guard), but `python` is a probe that
parses Locust's options as Locust does (its config files included) and writes down what it found,
instead of starting Locust: no load, no web UI, a second or so."""

from __future__ import annotations

import json
import os
import site
import stat
import sys
from pathlib import Path

from support.polling import eventually

from load_manager.backends import bootstrap
from load_manager.backends.base import ClusterSpec
from load_manager.backends.local import LocalLocustBackend
from load_manager.backends.local_processes import PIP_HOME_ENV, launch_home

PROBE = """\
import json, os, sys
from locust.argument_parser import get_parser

options = get_parser().parse_args(["-f", "locustfile.py"])  # the config files Locust reads, ~/.locust.conf first
found = {"home": os.environ.get("HOME"), "host": options.host, "users": options.num_users, "role": "worker" if "--worker" in sys.argv else "main",
         "userbase": os.environ.get("PYTHONUSERBASE"), "pip_home": os.environ.get("LOAD_MANAGER_PIP_HOME")}
with open(os.path.join(os.environ["PROBE_OUT"], f"{os.getpid()}.json"), "w") as file:
    json.dump(found, file)
"""


def test_locust_processes_do_not_read_the_users_locust_conf(tmp_path, monkeypatch):
    home = tmp_path / "user-home"
    home.mkdir()
    (home / ".locust.conf").write_text("host = http://from-the-users-home.invalid\nusers = 77\n")
    monkeypatch.setenv("HOME", str(home))
    probe, python, out = tmp_path / "probe.py", tmp_path / "python", tmp_path / "found"
    probe.write_text(PROBE)
    python.write_text(f'#!/bin/sh\nexec {sys.executable} {probe} "$@"\n')  # the backend's `python`: the probe instead of Locust
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    out.mkdir()
    backend = LocalLocustBackend(python=str(python), base_dir=str(tmp_path / "clusters"))
    spec = ClusterSpec(run_id="home-probe", script="from locust import User\n", target_url="http://127.0.0.1:9", users=2, spawn_rate=2,
                       duration_seconds=5, workers=2, env={"PROBE_OUT": str(out)})  # fmt: skip
    (tmp_path / "clusters").mkdir()
    handle = backend.launch(spec)
    try:
        found = eventually(lambda: [json.loads(p.read_text()) for p in out.glob("*.json")] if len(list(out.glob("*.json"))) == 3 else None, timeout=60)
    finally:
        backend.teardown(handle)
    assert found, f"the master and two workers wrote nothing: {handle.details}"
    own_home = os.path.join(handle.details["work_dir"], "home")
    assert sorted(f["role"] for f in found) == ["main", "worker", "worker"]
    for process in found:
        assert (process["home"], process["host"], process["users"]) == (own_home, None, None), process
        assert process["userbase"] == site.getuserbase() and process["pip_home"] is None  # no requirements.txt: no pip, no user HOME
    assert not Path(handle.details["work_dir"]).exists()  # the launch's home went with its work dir


def test_pip_alone_runs_with_the_users_home(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("HOME", "/home/the-user")
    env = launch_home(str(tmp_path), pip=True)
    assert env["HOME"] == str(tmp_path / "home") and env[PIP_HOME_ENV] == "/home/the-user" and PIP_HOME_ENV == bootstrap.PIP_HOME_ENV
    assert oct((tmp_path / "home").stat().st_mode & 0o777) == "0o700"
    assert PIP_HOME_ENV not in launch_home(str(tmp_path), pip=False)
    code, errors = bootstrap._pip([sys.executable, "-c", "import os; print('pip sees', os.environ['HOME'])"], home="/home/the-user")
    assert (code, errors) == (0, []) and "pip sees /home/the-user" in capfd.readouterr().out
