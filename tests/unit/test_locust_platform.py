"""What the platform keeps for itself in a bundle (bundle/locust_conf.py, bundle/runtime_pins.py,
bundle/entries.py), held to the installed Locust 2.47's own parser and pip's own reading:

- locust.conf: the options each run sets are taken out before Locust reads the file, and Locust's
  real parser, given the sanitised file and the command line a run gets, ends with the run's
  settings, while the test's own options (a custom argument) keep the file's value;
- requirements.txt: lines naming Locust or its runtime are commented out line by line (continued
  hash lines too), and what is left is still a file pip reads the same way;
- the bootstrap's constraints pin every runtime distribution to this Python's version;
- entries resolve as Locust's -f does (folders, `_` files skipped, order kept, each file once);
- the version Locust's web UI page states is read back.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from importlib import metadata

import configargparse
import pytest

from load_manager.backends.bootstrap import runtime_constraints
from load_manager.backends.bundle_layout import BOOTSTRAP_FAILURES
from load_manager.backends.ecs.tasks import task_status
from load_manager.backends.locust_stats import locust_version
from load_manager.bundle.core import build_bundle, normalise_entries
from load_manager.bundle.entries import resolve
from load_manager.bundle.locust_conf import LOCUST_OPTIONS, OWNED, conf_warnings, owned_option, runtime_text
from load_manager.bundle.requirements import check_requirements
from load_manager.bundle.runtime_pins import RUNTIME_DISTRIBUTIONS, pin_messages, runtime_pins, without_runtime_pins
from load_manager.errors import InvalidBundlePathError, InvalidLocustConfError

CONF = b"""# the project's own settings
api-path = /items/7
headless = true
users: 50
run-time 2s
--web-port 1
-u 40
run-ti = 3s
master-bind-port = 1
locustfile = nothing.py
autoquit = 0
loglevel = DEBUG
tags = [checkout]
"""


# Locust is imported in a process of its own: it monkey-patches the standard library as it loads.
LOCUST_PARSER = """
import json, sys
from locust.argument_parser import get_parser
parser = get_parser()
if sys.argv[1] == "groups":
    print(json.dumps({g.title: [o[2:] for a in g._group_actions for o in a.option_strings if o.startswith("--")] for g in parser._action_groups}))
else:
    parser.add_argument("--api-path", default="/missing")  # what the locustfile's init_command_line_parser adds
    options = parser.parse_args(sys.argv[2:])
    print(json.dumps({k: v for k, v in vars(options).items() if isinstance(v, (str, int, float, bool, list, type(None)))}))
"""


def locust_parse(what: str, *args: str, cwd=None, home=None) -> dict:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home or cwd or "/nonexistent")}
    done = subprocess.run([sys.executable, "-c", LOCUST_PARSER, what, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_option_names_are_those_of_the_installed_locust():
    groups = locust_parse("groups")
    assert LOCUST_OPTIONS == {name for names in groups.values() for name in names}
    for title in ("Web UI options", "Master options", "Worker options"):
        assert set(groups[title]) <= set(OWNED), title


def test_owned_keys_include_what_argparse_would_abbreviate_to_an_owned_option():
    assert owned_option("headless") == "headless" and owned_option("--run-time") == "run-time"
    assert owned_option("-u") == "users" and owned_option("web-p") == "web-port"  # `--u`, `--web-p`: argparse abbreviations
    assert owned_option("expect-w") == "expect-workers"  # ambiguous for argparse (Locust would exit): dropped all the same
    assert owned_option("config-users") is None and owned_option("tags") is None  # Locust's, the test's to set
    assert owned_option("api-path") is None  # a custom argument the locustfile adds


def test_locust_conf_warnings_name_each_overridden_option_with_its_line():
    warnings = conf_warnings(CONF)
    named = [w.split(" sets ", 1)[1].split(",", 1)[0] for w in warnings]
    assert named == ["headless", "users", "run-time", "--web-port", "-u (users)", "run-ti (run-time)", "master-bind-port", "locustfile", "autoquit"]
    assert warnings[0].startswith("locust.conf line 3 sets headless")


def test_locusts_own_parser_reads_the_sanitised_conf_and_the_run_settings_win(tmp_path):
    """Locust's real parser (get_parser, as main() builds it) in the bundle's folder, holding the
    locust.conf the archive carries, with the local backend's command line for a single process."""
    sanitised = runtime_text(CONF)
    assert sanitised.count(b"\n") == CONF.count(b"\n") and b"api-path = /items/7" in sanitised  # same lines, same numbers
    (tmp_path / "locust.conf").write_bytes(sanitised)
    run_args = ["-f", "locustfile.py", "--host", "http://127.0.0.1:9", "--web-host", "127.0.0.1", "--web-port", "8123",
                "--autostart", "-u", "3", "-r", "3"]  # fmt: skip
    options = locust_parse("parse", *run_args, cwd=tmp_path)
    assert [options[k] for k in ("headless", "run_time", "num_users", "web_port", "autoquit")] == [False, None, 3, 8123, -1]
    assert options["master_bind_port"] == 5557 and options["locustfile"] == "locustfile.py"
    assert options["api_path"] == "/items/7" and options["loglevel"] == "DEBUG" and options["tags"] == ["checkout"]  # the test's own
    # The file as written would have won where the command line says nothing.
    (tmp_path / "locust.conf").write_bytes(CONF)
    raw = locust_parse("parse", *run_args, cwd=tmp_path)
    assert raw["headless"] is True and raw["autoquit"] == 0 and raw["web_port"] == 8123  # what the command line sets, it wins
    assert raw["run_time"] == 3  # `run-ti`: argparse's abbreviation of --run-time, where the command line is silent


def test_a_locust_conf_locust_cannot_read_is_refused():
    with pytest.raises(InvalidLocustConfError) as err:
        conf_warnings(b"users = 3\n= 5\n")
    assert err.value.details == {"file": "locust.conf", "line": 2}
    with pytest.raises(configargparse.ConfigFileParserException):  # what Locust itself says of that line
        configargparse.DefaultConfigFileParser().parse(io.StringIO("= 5\n"))


HASHED = (
    "# pip-compile --generate-hashes\n"
    "locust==2.38.0 \\\n    --hash=sha256:" + "a" * 64 + " \\\n    --hash=sha256:" + "b" * 64 + "\n"
    "    # via -r requirements.in\n"
    "lm-plugin-users==1.0 \\\n    --hash=sha256:" + "c" * 64 + "\n"
    "gevent>=24 ; python_version >= '3.9'\n"
    "requests\n"
).encode()


def test_runtime_requirements_are_left_out_line_by_line_and_pip_reads_the_rest_the_same():
    pins = runtime_pins(HASHED)
    assert [(p.first_line, p.last_line, p.name) for p in pins] == [(2, 4, "locust"), (8, 8, "gevent"), (9, 9, "requests")]
    kept = without_runtime_pins(HASHED)
    assert kept.count(b"\n") == HASHED.count(b"\n")  # pip's line numbers stay the file's
    assert check_requirements(kept) == ["lm-plugin-users==1.0"]  # what pip installs now: the hash lines went with their requirement
    warnings, notes = pin_messages(pins)
    assert warnings[0] == "requirements.txt line 2 pins locust==2.38.0: Locust belongs to the platform, so Locust 2.47.0 runs instead (the line is left out)"
    assert "gevent" in warnings[1] and len(warnings) == 2
    assert notes == ["requirements.txt line 9: requests is part of Locust's runtime; the copy that comes with Locust 2.47.0 is used"]
    assert pin_messages(runtime_pins(b"locust>=2.40,<3\n")) == ([], ["requirements.txt line 1: locust<3,>=2.40 is met by the platform's Locust 2.47.0, which runs (the line is left out)"])


def test_the_constraints_pin_every_runtime_distribution_this_python_has():
    pinned = dict(line.split("==") for line in runtime_constraints(sorted(RUNTIME_DISTRIBUTIONS)).splitlines())
    assert pinned["locust"] == metadata.version("locust") == "2.47.0"
    assert pinned["gevent"] == metadata.version("gevent") and pinned["greenlet"] == metadata.version("greenlet")
    assert set(pinned) <= RUNTIME_DISTRIBUTIONS and len(pinned) >= 20


FILES = ["locustfiles/users.py", "locustfiles/shape.py", "locustfiles/_helpers.py", "locustfiles/deep/checkout.py", "locustfiles/data.csv", "common/x.py", "assets/logo.png"]


def test_entries_resolve_as_locusts_f_does():
    assert resolve(normalise_entries("locustfiles/"), FILES) == (
        ("locustfiles/",), ("locustfiles/deep/checkout.py", "locustfiles/shape.py", "locustfiles/users.py")
    )
    assert resolve(normalise_entries("locustfiles"), FILES)[0] == ("locustfiles/",)  # a folder, written without its slash
    entries = normalise_entries("locustfiles/users.py, locustfiles/")  # -f a.py,folder/: each file once, in order
    assert resolve(entries, FILES)[1] == ("locustfiles/users.py", "locustfiles/deep/checkout.py", "locustfiles/shape.py")
    for bad, why in [("assets/", "no locustfile"), ("nothing.py", "no entry file or folder"), ("locustfiles/data.csv", "Python file")]:
        with pytest.raises(InvalidBundlePathError, match=why):
            resolve(normalise_entries(bad), FILES)
    with pytest.raises(InvalidBundlePathError, match="comma"):
        normalise_entries(["a,b.py"])


def test_several_entries_are_another_snapshot_and_one_entry_keeps_its_digest():
    files = [("a.py", b"x = 1\n"), ("b.py", b"y = 2\n")]
    alone = build_bundle("a.py", files)
    assert build_bundle("a.py", files, normalise_entries(["a.py"])).digest == alone.digest and alone.entries == ()
    both = build_bundle("a.py", files, normalise_entries(["a.py", "b.py"]))
    assert both.digest != alone.digest and both.locustfiles == ("a.py", "b.py")


def test_the_version_is_read_from_locusts_web_ui_page():
    page = '<script>\n      window.templateArgs = {"locustfile": "a.py", "version": "2.47.0", "history": [{"a": "}"}]}\n    </script>'
    assert locust_version(page) == "2.47.0"
    assert locust_version("<html>nothing</html>") is None and locust_version("window.templateArgs = {broken") is None


def test_an_ecs_task_that_failed_before_locust_says_what_the_bootstrap_failed_at():
    task = {"taskArn": "arn:aws:ecs:r:1:task/c/abc", "lastStatus": "STOPPED", "desiredStatus": "STOPPED",
            "containers": [{"name": "locust", "exitCode": 3}]}  # fmt: skip
    status = task_status(task, "locust", "the Locust master task")
    assert status.reason == "the Locust master task stopped: " + BOOTSTRAP_FAILURES[3] == "the Locust master task stopped: installing the bundle's requirements.txt failed"
    task["containers"][0]["exitCode"] = 1  # Locust's own exit
    assert task_status(task, "locust", "the Locust master task").reason == "the Locust master task stopped"
