"""Every script template runs against the example target and sends requests it counts.

Each template is laid out and started exactly as a run's would be (the runtime archive and the
loader of backends/bundle_layout.py, so the CSV template finds its data file next to its
locustfile), headless for 3 s, all at once, each against a target of its own. Locust's exit code
is 0 only when no request failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.examples import load_example

from load_manager.backends.base import ClusterSpec
from load_manager.backends.bundle_layout import BUNDLE_URL_ENV, loader_command, runtime_archive
from load_manager.bundle.templates import TEMPLATES

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_every_template_runs_against_the_example_target(tmp_path):
    start_target = load_example("target_service").start_target
    targets, processes = {}, {}
    try:
        for template in TEMPLATES.values():
            target = targets[template.id] = start_target(port=0)
            files = {path: text.encode() for path, text in template.files.items() if path != template.entry_path}
            spec = ClusterSpec(run_id=template.id, script=template.files[template.entry_path], script_name=template.entry_path,
                               files=files, target_url=target.url, users=4, spawn_rate=4, duration_seconds=3)  # fmt: skip
            archive = tmp_path / f"{template.id}.zip"
            archive.write_bytes(runtime_archive(spec))
            args = ["--headless", "-u", "4", "-r", "4", "-t", "3s", "--host", target.url, "--only-summary", "--stop-timeout", "1"]
            command = loader_command(sys.executable, "--dest", str(tmp_path / template.id), locust_args=args)
            env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), BUNDLE_URL_ENV: archive.as_uri(), "STEP_SECONDS": "1", "STEP_USERS": "2", "TIME_LIMIT": "3"}  # the shape ends the step-load run
            log = open(tmp_path / f"{template.id}.log", "wb")  # noqa: SIM115 - closed with the process below
            processes[template.id] = (subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT), log)
        for template_id, (process, log) in processes.items():
            code = process.wait(timeout=180)  # six Locust processes starting at once on a loaded machine
            log.close()
            output = (tmp_path / f"{template_id}.log").read_text(errors="replace")
            assert code == 0, f"{template_id} exited {code}:\n{output[-3000:]}"
            counted = targets[template_id].stats()
            assert counted["total"] > 0, f"{template_id} sent nothing:\n{output[-2000:]}"
        assert targets["rest-api-token"].stats()["byRoute"].get("POST /login", 0) >= 4  # one login per user
        assert targets["csv-data"].stats()["byPath"].get("/items/{id}", 0) > 0
        assert targets["weighted-users"].stats()["byRoute"].get("POST /items", 0) > 0
    finally:
        for process, log in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
            log.close()
        for target in targets.values():
            target.stop()
