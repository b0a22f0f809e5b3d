"""A Locust project written the way teams write them, run by `serve` as a user starts it, with real
Locust against the example target:

- entries with Locust's -f meaning, a list and a folder: `["locustfiles/users.py", "locustfiles/"]`,
  where a shape module imports its sibling's users and a `_paths.py` helper is no locustfile;
- a user class deriving from a package that requirements.txt installs (a wheel built here, pip
  offline through the deployment's own pip settings): validated without error, with a note;
- requirements.txt pins another Locust (a 2.38.0 built here that would end any process importing
  it): the revision warns, naming the pin and the version that runs, the run ends Finished on the
  platform's Locust, and the run records the version that ran;
- a locust.conf setting the test's own option (read by Locust from the bundle's root: the target
  sees its path) and options the run owns (users, run time, headless, web port...): warned about,
  and the run's settings win (its users, its duration).
"""

from __future__ import annotations

from importlib import metadata

import pytest
import requests
from support.scripts import b64
from support.serve import serve, wait_final
from support.wheels import build_wheel

pytestmark = pytest.mark.slow

USERS = '''from _paths import CATALOGUE  # locustfiles/_paths.py: in the folder, not a locustfile ("_")
from lm_plugin_users import PluginHttpUser  # installed from requirements.txt
from locust import constant, events, task


@events.init_command_line_parser.add_listener
def _(parser):
    parser.add_argument("--api-path", default="/missing-conf", help="locust.conf sets it")


class ShopUser(PluginHttpUser):
    wait_time = constant(0.05)

    @task
    def browse(self):
        self.client.get(self.environment.parsed_options.api_path)
        self.client.get(self.home)  # the package's own attribute
        self.client.get(CATALOGUE)
'''
SHAPE = '''from locust import LoadTestShape

from users import ShopUser  # noqa: F401 - the sibling locustfile's users: one class for Locust


class RunUsers(LoadTestShape):
    """The run's users (its -u), whatever locust.conf says."""

    def tick(self):
        options = self.runner.environment.parsed_options
        return (options.num_users, options.spawn_rate)
'''
PLUGIN = '''from locust import HttpUser


class PluginHttpUser(HttpUser):
    abstract = True
    home = "/"
'''
CONF = """# the project's settings: Locust reads them from its working directory
api-path = /items
headless = true
users = 50
spawn-rate = 50
run-time = 2s
web-port = 1
autoquit = 0
locustfile = nothing.py
"""
REQUIREMENTS = "locust==2.38.0\nlm-plugin-users==1.0\n"
ENTRIES = ["locustfiles/users.py", "locustfiles/"]
USER_COUNT, DURATION = 3, 8


@pytest.fixture
def wheels(tmp_path):
    folder = tmp_path / "wheels"
    build_wheel(folder, "locust", "2.38.0", "raise SystemExit('Locust 2.38.0 of requirements.txt was imported')\n")
    build_wheel(folder, "lm-plugin-users", "1.0", PLUGIN, requires=("locust>=2.0",))
    return folder


def test_a_project_with_entries_an_installed_user_class_a_locust_pin_and_locust_conf_runs_finished(tmp_path, target, wheels):
    body = {
        "name": "shop", "targetUrl": target.url, "scriptContent": b64(USERS), "entryPath": ENTRIES,
        "files": [{"path": path, "content": b64(text)} for path, text in {
            "locustfiles/shape.py": SHAPE, "locustfiles/_paths.py": 'CATALOGUE = "/items/7"\n', "locust.conf": CONF, "requirements.txt": REQUIREMENTS,
        }.items()],
    }  # fmt: skip
    pip = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels)}  # the deployment's pip settings: only these wheels
    with serve(tmp_path / "data", extra_env=pip) as url:
        report = requests.post(f"{url}/v1/scripts/validate", json={k: body[k] for k in ("scriptContent", "entryPath", "files")}, timeout=30).json()
        created = requests.post(f"{url}/v1/load-tests", json=body, timeout=30)
        assert created.status_code == 201, created.json()
        test_id = created.json()["id"]
        revision = requests.get(f"{url}/v1/load-tests/{test_id}/script", timeout=10).json()
        start = {"targetUsers": USER_COUNT, "spawnRate": USER_COUNT, "durationSeconds": DURATION, "workers": 1}
        run = requests.post(f"{url}/v1/load-tests/{test_id}/runs", json=start, timeout=10).json()
        final = wait_final(url, run["id"])
        series = requests.get(f"{url}/v1/runs/{run['id']}/metrics", timeout=10).json()

    assert report["valid"] and report["errors"] == [] and report["userClasses"] == ["ShopUser"] and report["shapes"] == ["RunUsers"], report
    assert report["locustfiles"] == ["locustfiles/users.py", "locustfiles/shape.py"]
    assert revision["entries"] == ENTRIES and revision["warnings"] == report["warnings"] and revision["notes"] == report["notes"]
    locust = metadata.version("locust")
    assert f"requirements.txt line 1 pins locust==2.38.0: Locust belongs to the platform, so Locust {locust} runs instead" in revision["warnings"][-1]
    overridden = [w.split(" sets ")[1].split(",")[0] for w in revision["warnings"][:-1]]
    assert overridden == ["headless", "users", "spawn-rate", "run-time", "web-port", "autoquit", "locustfile"]
    assert revision["notes"] == ["ShopUser derives from a class of package lm-plugin-users (requirements.txt): taken as a Locust user class"]

    assert final["status"] == "Finished", final.get("failureReason")
    assert final["locustVersion"] == locust  # what the master said it runs: the platform's, not the pin
    by_path = target.stats()["byPath"]
    assert by_path.get("/items", 0) > 0 and "/missing-conf" not in by_path  # locust.conf's own option reached Locust
    assert by_path.get("/", 0) > 0 and by_path.get("/items/{id}", 0) > 0  # the package's user class and the folder's helper ran
    assert final["summary"]["totalRequests"] > 0
    # The run's users, not locust.conf's 50; and load still on after conf's 2 s run time.
    users = [u for u in series["users"] if u is not None]
    assert max(users) == USER_COUNT, series
    late = [u for at, u in zip(series["time"], series["users"], strict=True) if u and at >= final["startedAt"] + 5000]
    assert late and set(late) == {USER_COUNT}, series
    (env,) = [path for path in (tmp_path / "data" / "envs").iterdir() if path.is_dir()]
    site = next(env.glob("lib/python*/site-packages"))
    assert (site / "lm_plugin_users").is_dir() and not (site / "locust").exists()  # the pin never reached pip
    assert f"locust=={locust}\n" in (env / "load-manager-constraints.txt").read_text()
