"""The web guard (backends/web_guard.py): Locust's web API answers only requests with the launch's
secret, which `LocustWebApi` sends; the bootstrap arms it from the runtime archive without leaving
the secret in the bundle's folder. The Flask app here is a real one served on loopback, with the
guard put in front exactly as Locust's `events.init` listener puts it."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from flask import Flask, jsonify
from werkzeug.serving import make_server

from load_manager.backends import bootstrap, web_guard
from load_manager.backends.base import BackendUnavailableError, ClusterSpec
from load_manager.backends.bundle_layout import runtime_archive
from load_manager.backends.locust_web import LocustWebApi, new_secret

SECRET = new_secret()


class FakeWebUi:
    """What Locust hands `events.init` listeners: an object whose `app` is the web UI's Flask app."""

    def __init__(self) -> None:
        self.app = Flask("locust-web-ui")
        self.app.add_url_rule("/worker-count", "workers", lambda: jsonify(worker_count=2))
        self.app.add_url_rule("/stop", "stop", lambda: jsonify(success=True), methods=["POST"])


@pytest.fixture
def master():
    ui = FakeWebUi()
    web_guard.init_listener(SECRET)(environment=object(), runner=object(), web_ui=ui)
    server = make_server("127.0.0.1", 0, ui.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def test_the_api_answers_the_launchs_secret_only(master):
    assert LocustWebApi(master, secret=SECRET).worker_count() == 2
    for secret in (None, "wrong", SECRET[:-1]):
        api = LocustWebApi(master, secret=secret)
        assert not api.answers()
        with pytest.raises(BackendUnavailableError, match="refused the launch's secret"):
            api.stop(timeout=2)
    client = FakeWebUi().app  # a listener on a process without a web UI (a worker) changes nothing
    web_guard.init_listener(SECRET)(web_ui=None)
    assert client.test_client().get("/worker-count").status_code == 200


def test_the_guard_runs_before_anything_of_locusts_own():
    ui = FakeWebUi()
    seen = []
    ui.app.before_request(lambda: seen.append("locust's"))
    web_guard.require_secret(ui.app, SECRET)
    refused = ui.app.test_client().post("/stop")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer") and seen == []
    assert ui.app.test_client().post("/stop", headers={"Authorization": f"Bearer {SECRET}"}).status_code == 200 and seen == ["locust's"]


def test_the_bootstrap_keeps_the_secret_and_guard_out_of_the_bundle(tmp_path, monkeypatch):
    spec = ClusterSpec(run_id="r1", script="from locust import User\n", target_url="http://127.0.0.1:9", users=1, spawn_rate=1, duration_seconds=1, workers=1)
    archive = runtime_archive(spec, web_secret=SECRET)
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert bootstrap.WEB_SECRET_MEMBER in names and bootstrap.WEB_GUARD_MEMBER in names
    assert not any(n.startswith("bundle/") and ("secret" in n or "guard" in n) for n in names)
    assert "web-secret" not in zipfile.ZipFile(io.BytesIO(runtime_archive(spec))).namelist()  # the workers' archive
    assert bootstrap.WEB_GUARD_ENV == web_guard.SECRET_ENV

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    monkeypatch.setattr("tempfile.tempdir", None)
    bootstrap.install_web_guard(archive)
    folder = os.environ["PYTHONPATH"].split(os.pathsep)[0]
    assert os.environ["PYTHONPATH"].split(os.pathsep)[1:] == ["/somewhere/else"]
    assert os.path.dirname(folder) == str(tmp_path) and oct(os.stat(folder).st_mode & 0o777) == "0o700"
    assert sorted(os.listdir(folder)) == ["generator_usage.py", "redaction.py", "secret", "sitecustomize.py"]  # the guard and the plugins it loads
    assert oct(os.stat(os.path.join(folder, "secret")).st_mode & 0o777) == "0o600"

    # What the guard does first, at Locust's start: load its plugins, then take the secret and leave no trace of it.
    hooked: list[str] = []
    monkeypatch.setattr(web_guard, "when_imported", lambda name, then: hooked.append(name))
    web_guard.install_plugins(folder)
    assert hooked == ["locust.main"]  # generator_usage waits for Locust, as the guard does (no secret to mask: the redaction waits for nothing)
    monkeypatch.setattr("sys.path", [folder, *sys.path])
    assert web_guard.take_secret(folder) == SECRET
    assert not os.path.exists(folder) and web_guard.SECRET_ENV not in os.environ
    assert os.environ["PYTHONPATH"] == "/somewhere/else" and folder not in sys.path


def test_a_guard_that_cannot_read_its_secret_fails_closed(tmp_path, monkeypatch):
    monkeypatch.delenv(web_guard.SECRET_ENV, raising=False)
    with pytest.raises(RuntimeError):
        web_guard.take_secret(str(tmp_path))
    monkeypatch.setenv(web_guard.SECRET_ENV, "/etc/passwd")  # only a secret beside the guard counts
    with pytest.raises(RuntimeError):
        web_guard.take_secret(str(tmp_path))


def test_a_locust_whose_guard_cannot_be_installed_never_starts(tmp_path):
    folder = tmp_path / "guard"
    folder.mkdir()
    shutil.copyfile(Path(web_guard.__file__), folder / "sitecustomize.py")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(folder)}  # no secret beside it
    done = subprocess.run([sys.executable, "-c", "print('started')"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == web_guard.WEB_GUARD_FAILED and "started" not in done.stdout
    assert "web API guard could not be installed" in done.stderr
