"""The run's secrets masked inside every Locust process (backends/redaction.py): real interpreters
armed the way the backends arm them (bootstrap.web_guard_env, the runtime's sitecustomize and its
plugins), whose output goes to a file as a local launch's does (`locust.log`; on ECS the task's
log). What they print, log, raise and what their children print reaches the file with each form of
each secret masked; the relay keeps the process's pid, passes on a stop and the exit code; Locust
records names, errors, exceptions and log lines masked; and a worker (no web UI, no web secret)
loads the generator usage plugin too."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

from support.polling import eventually

from load_manager.backends import bootstrap, redaction, web_guard
from load_manager.backends.base import ClusterSpec
from load_manager.backends.bundle_layout import BOOTSTRAP_FAILURES, runtime_archive
from load_manager.lifecycle.run_environment import Redactor

# Characters every escaping changes: a quote, <&>, a slash, a space, +, =, %, a non-ASCII letter.
TOKEN = 'tok"<&>/ +=%é-7f3a9c1e5b'
PEM = "-----BEGIN LM TEST KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n0c1eb3a7f29d4e68b5\n-----END LM TEST KEY-----"
SECRETS = {"API_TOKEN": TOKEN, "SIGNING_KEY": PEM}


def armed_env(tmp_path: Path, *, web_ui: bool = False, secrets: dict[str, str] | None = SECRETS) -> dict[str, str]:
    """The environment of a Locust process started from a runtime archive: the sitecustomize and its
    plugins on PYTHONPATH (a worker's: no web secret), the run's secrets and which ones they are."""
    spec = ClusterSpec(run_id="r1", script="from locust import User\n", target_url="http://127.0.0.1:9", users=1, spawn_rate=1, duration_seconds=1)
    armed = bootstrap.web_guard_env(runtime_archive(spec, web_secret="s" * 43 if web_ui else None), parent=str(tmp_path), web_ui=web_ui)
    names = {redaction.SECRET_NAMES_ENV: ",".join(secrets)} if secrets else {}
    return {"PATH": os.environ.get("PATH", os.defpath), "PYTHONUNBUFFERED": "1", **armed, **(secrets or {}), **names}


def start(tmp_path: Path, code: str, env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "locust.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)], env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    return process, log


def run(tmp_path: Path, code: str, env: dict[str, str]) -> tuple[int, bytes]:
    process, log = start(tmp_path, code, env)
    try:
        return process.wait(timeout=60), log.read_bytes()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def assert_masked(output: bytes) -> None:
    for value in SECRETS.values():
        for form in redaction.forms(value):
            assert form.encode() not in output, f"{form!r} reached the log:\n{output.decode(errors='replace')}"


PRINTER = """
    import html, json, logging, os, subprocess, sys, urllib.parse
    token, key = os.environ["API_TOKEN"], os.environ["SIGNING_KEY"]
    print("plain", token)
    print("json", json.dumps({"token": token}))
    print("html", html.escape(token))
    print("url", urllib.parse.quote(token, safe=""), urllib.parse.urlencode({"token": token}))
    print("key follows"); sys.stdout.write(key + "\\n"); print("json key", json.dumps(key))  # the value and its newline in one write: print makes two
    sys.stderr.write(f"stderr {token}\\n")
    os.write(2, f"raw fd 2 {token}\\n".encode())
    logging.basicConfig(format="%(levelname)s %(message)s"); logging.getLogger("locustfile").warning("logged %s", token)
    sys.stdout.write("split " + token[:6]); sys.stdout.flush(); sys.stdout.write(token[6:] + " joined\\n")
    subprocess.run(["sh", "-c", 'echo "child process $API_TOKEN"'], check=True)
    print("pid", os.getpid(), "parent", os.getppid(), os.environ.get("LOAD_MANAGER_OUTPUT_RELAYED"))
    raise RuntimeError(f"failing with {token}")
"""


def test_everything_a_process_writes_reaches_its_log_masked_and_its_last_words_too(tmp_path):
    code, output = run(tmp_path, PRINTER, armed_env(tmp_path))
    assert code == 1, output  # the uncaught exception's exit code, passed on by the relay
    assert_masked(output)
    text = output.decode()
    for said in ("plain ***", 'json {"token": "***"}', "html ***", "url *** token=***", "stderr ***", "raw fd 2 ***",
                 "WARNING logged ***", "split *** joined", "child process ***"):  # fmt: skip
        assert said in text, f"{said!r} not in\n{text}"
    assert 'key follows\n***\njson key "***"\n' in text  # a multi-line value written at once is masked whole
    assert text.rstrip().endswith("RuntimeError: failing with ***")  # a crash's last words, after the process is gone
    pid, _, parent, relayed = text.split("\npid ", 1)[1].split()[:4]
    assert pid != parent and relayed == "1"  # Locust is the relay's child: the relay kept the pid the backend knows


def test_the_relay_passes_on_a_stop_and_answers_with_the_childs_exit_code(tmp_path):
    stopping = """
        import os, signal, sys, time
        def stop(*_):
            print("stopping with", os.environ["API_TOKEN"], flush=True)
            sys.exit(3)
        signal.signal(signal.SIGTERM, stop)
        print("ready", flush=True)
        time.sleep(60)
    """
    process, log = start(tmp_path, stopping, armed_env(tmp_path))
    try:
        eventually(lambda: b"ready" in log.read_bytes(), timeout=30)
        os.kill(process.pid, signal.SIGTERM)  # what the local teardown and ECS's StopTask do: the main process only
        assert process.wait(timeout=30) == 3
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert b"stopping with ***" in log.read_bytes()
    killed, _ = run(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGKILL)", armed_env(tmp_path))
    assert killed == 128 + signal.SIGKILL  # as a shell, and Docker, report a killed process


def test_without_secrets_nothing_stands_between_the_process_and_its_log(tmp_path):
    code, output = run(tmp_path, "import os; print('pid', os.getpid(), 'parent', os.getppid(), os.environ.get('LOAD_MANAGER_OUTPUT_RELAYED'))",
                       armed_env(tmp_path, secrets=None))  # fmt: skip
    assert code == 0 and output.decode().split()[-1] == "None"


def test_locust_records_names_errors_exceptions_and_log_lines_masked(tmp_path):
    # Written to a file of its own, not printed: the relay would mask the output anyway.
    recorder = """
        import json, logging, os
        import locust.main  # the sitecustomize hooks Locust once this is imported, as in Locust's own start
        from locust import log
        from locust.env import Environment
        from locust.exception import CatchResponseError
        token = os.environ["API_TOKEN"]
        environment = Environment()
        runner = environment.create_local_runner()
        stats = runner.stats
        stats.log_request("GET", f"/items?token={token}", 12, 3)
        stats.log_error("GET", f"/items?token={token}", CatchResponseError(f"401 for {token}"))
        stats.log_error("GET", "/plain", ValueError("nothing secret"))
        runner.log_exception("local", f"boom {token}", f"Traceback ... {token}")
        log.setup_logging("INFO")
        logging.getLogger("locustfile").info("logged %s", token)
        records = {
            "names": [name for name, _method in stats.entries], "errors": [e.to_dict() for e in stats.errors.values()],
            "error_names": [e.to_name() for e in stats.errors.values()],
            "exceptions": [[row["msg"], row["traceback"]] for row in runner.exceptions.values()], "logs": log.get_logs(),
        }
        with open(os.environ["RECORDS"], "w", encoding="utf-8") as file:
            json.dump(records, file)
        runner.quit()
    """
    records_path = tmp_path / "records.json"
    code, output = run(tmp_path, recorder, {**armed_env(tmp_path), "RECORDS": str(records_path)})
    assert code == 0, output
    raw = records_path.read_text(encoding="utf-8")
    records = json.loads(raw)
    assert TOKEN not in raw and all(form not in raw for form in redaction.forms(TOKEN))
    assert records["names"] == ["/items?token=***", "/plain"]
    assert [e["error"] for e in records["errors"]] == ["CatchResponseError('401 for ***')", "ValueError('nothing secret')"]
    assert records["error_names"][0] == "GET /items?token=***: '401 for ***'"
    assert records["exceptions"] == [["boom ***", "Traceback ... ***"]]
    assert any(line.endswith("logged ***") for line in records["logs"]), records["logs"]
    assert_masked(output)


def test_the_control_plane_masks_the_same_forms_as_the_processes():
    redactor = Redactor(lambda: list(SECRETS.values()))
    for value in SECRETS.values():
        for form in redaction.forms(value):
            assert redactor.text(f"<{form}>") == "<***>"
    assert redactor.text("nothing secret") == "nothing secret"


def test_a_worker_loads_the_generator_usage_plugin_and_may_not_have_a_web_ui(tmp_path):
    worker = """
        import locust.main  # the sitecustomize's plugins hook Locust's events.init here
        import gevent
        from locust import events
        class WorkerRunner:  # what the plugin sees of Locust's: its class name and send_message
            def __init__(self):
                self.sent = []
            def send_message(self, kind, data):
                self.sent.append((kind, sorted(data)))
        runner = WorkerRunner()
        events.init.fire(environment=None, runner=runner, web_ui=None)
        gevent.sleep(0.01)
        print("sent", runner.sent)
        class WebUi:
            app = object()
        events.init.fire(environment=None, runner=None, web_ui=WebUi())  # a web UI without a secret: refused
        print("still running")
    """
    code, output = run(tmp_path, worker, armed_env(tmp_path, secrets=None))
    assert "sent [('load_manager_usage', ['at', 'cpu', 'rss', 'wait'])]" in output.decode(), output
    assert code == web_guard.WEB_GUARD_FAILED and b"still running" not in output and b"a web UI but no web API secret" in output


def test_a_workers_guard_folder_holds_no_secret_and_the_exit_codes_agree(tmp_path):
    spec = ClusterSpec(run_id="r1", script="from locust import User\n", target_url="http://127.0.0.1:9", users=1, spawn_rate=1, duration_seconds=1)
    archive = runtime_archive(spec, web_secret="s" * 43)  # the local backend's: one archive for every process
    assert {"web_guard.py", "redaction.py", "generator_usage.py"} <= set(zipfile.ZipFile(io.BytesIO(runtime_archive(spec))).namelist())
    env = bootstrap.web_guard_env(archive, parent=str(tmp_path), web_ui=False)
    folder = env["PYTHONPATH"]
    assert env[bootstrap.WEB_GUARD_ENV] == web_guard.NO_WEB_UI == bootstrap.NO_WEB_UI
    assert sorted(os.listdir(folder)) == ["generator_usage.py", "redaction.py", "sitecustomize.py"]
    assert bootstrap.REDACTION_FAILED == web_guard.RELAY_FAILED == redaction.RELAY_FAILED and bootstrap.REDACTION_FAILED in BOOTSTRAP_FAILURES


def test_a_process_whose_redaction_cannot_start_never_runs(tmp_path):
    # The plugin fails (here: fork refused by a sitecustomize-level stand-in): the process exits before any of its code.
    env = armed_env(tmp_path)
    folder = Path(env["PYTHONPATH"])
    source = (folder / "redaction.py").read_text()
    (folder / "redaction.py").write_text(source.replace("child = os.fork()", "raise OSError('fork refused')"))
    code, output = run(tmp_path, "print('started')", env)
    assert code == web_guard.RELAY_FAILED and b"started" not in output and b"redaction.py could not be installed: fork refused" in output
