"""A bundle can never replace Locust at run time either (the layer behind the save-time check).

- A revision stored before module names were checked (written to the store directly here, as an
  old revision would be) carries `locust/__init__.py`, `locust/__main__.py`, `gevent.py` and
  `requests.py` at its root and `requests.py` next to its entry, each of which ends the process if
  imported. Its run starts real Locust all the same (`python -P`: the working directory is not on
  sys.path while Locust and its dependencies are imported), the locustfile's own imports from its
  folder and from the bundle's root still work, and the run ends Finished with the target's count.
- A requirements.txt that installs a module of Locust's runtime under another distribution's name
  (`lm-msgpack-shim`, built here, holding a package `msgpack`; pip offline) ends the run Failed
  with a reason naming it, before Locust starts. (A pin of a runtime distribution itself, such as
  `msgpack==0.0.1`, never reaches pip: bundle.runtime_pins leaves it out.)
"""

from __future__ import annotations

import pytest
from support.runs import start_run, wait_until_final
from support.scripts import b64
from support.wheels import build_wheel

from load_manager.bundle.core import build_bundle
from load_manager.identity import Caller
from load_manager_local.events import DEFAULT_CLAIMS

pytestmark = pytest.mark.slow

ENTRY = '''import gevent
import requests

import helpers  # load/helpers.py: the entry's folder is on sys.path, as with `locust -f`
from common.paths import ITEM  # common/paths.py: so is the bundle's root (the working directory)
from locust import HttpUser, constant, task

# requests.py and gevent.py of the bundle end the process if imported: these are the real ones.
assert hasattr(requests, "Session") and hasattr(gevent, "spawn")


class ShopUser(HttpUser):
    wait_time = constant(0.05)

    @task
    def item(self):
        self.client.get(ITEM, name=helpers.NAME)
'''


def trap(name: str) -> bytes:
    return f"raise SystemExit('the bundle\\'s {name} was imported instead of the real one')\n".encode()


FILES = {
    "load/locustfile.py": ENTRY.encode(),
    "load/helpers.py": b'NAME = "/items/[id]"\n',
    "load/requests.py": trap("load/requests.py"),
    "common/__init__.py": b"",
    "common/paths.py": b'ITEM = "/items/7"\n',
    "locust/__init__.py": trap("locust package"),
    "locust/__main__.py": trap("locust/__main__.py"),
    "gevent.py": trap("gevent.py"),
    "requests.py": trap("requests.py"),
}


def store_unchecked_revision(test_id: str, entry: str, files: dict[str, bytes]) -> str:
    """Append a revision the way the save use case does, minus today's checks: what a revision
    saved before them looks like. Returns its digest."""
    from load_manager.store import get_stores
    from load_manager.usecases.bundles import CheckedBundle
    from load_manager.usecases.scripts import draft_revision
    from load_manager.validation import ScriptAnalysis, analyse_files

    bundle = build_bundle(entry, list(files.items()))  # paths and limits only
    analysis = ScriptAnalysis(text=bundle.entry_text, size_bytes=bundle.size_bytes, sha256=bundle.digest)
    analyse_files(analysis, {path: data for path, data in files.items() if path.endswith(".py")}, entry)
    checked = CheckedBundle(bundle, analysis)
    account = DEFAULT_CLAIMS["custom:accountId"]
    caller = Caller(subject=DEFAULT_CLAIMS["sub"], email=DEFAULT_CLAIMS["email"], account_id=account, groups=frozenset())
    stores = get_stores()
    draft = draft_revision(caller, test_id, checked, "saved before module names were checked")
    revision, created = stores.revisions.append(draft, skip_if_same_as_latest=True, blobs=checked.blobs())
    assert created
    stores.load_tests.advance_latest_revision(account, test_id, revision)
    return bundle.digest


def create(client, target, files: list[dict] | None = None) -> str:
    simple = "from locust import HttpUser, constant, task\n\n\nclass U(HttpUser):\n    wait_time = constant(0.05)\n\n    @task\n    def t(self):\n        self.client.get('/items/1')\n"
    body = {"name": "shadowing", "scriptContent": b64(simple), "files": files or [], "targetUrl": target.url}
    response = client.request("POST", "/v1/load-tests", body=body)
    assert response.status == 201, response.json()
    return response.json()["id"]


def test_a_bundle_that_slipped_past_the_check_runs_real_locust_and_finishes(client, target):
    tid = create(client, target)
    refused = client.request(
        "PUT", f"/v1/load-tests/{tid}/script",
        body={"scriptContent": b64(ENTRY), "entryPath": "load/locustfile.py",
              "files": [{"path": path, "content": b64(data.decode())} for path, data in FILES.items() if path != "load/locustfile.py"]},
    )  # fmt: skip
    assert refused.status == 422 and refused.json()["code"] == "ReservedModuleName"  # today it would not get in
    digest = store_unchecked_revision(tid, "load/locustfile.py", FILES)

    run = wait_until_final(client, start_run(client, tid, targetUsers=2, durationSeconds=3)["id"], timeout=180)
    assert run["status"] == "Finished", run.get("failureReason")
    assert run["scriptSha256"] == digest and run["revisionNumber"] == 2
    served = target.stats()["byPath"].get("/items/{id}", 0)
    reported = run["summary"]["totalRequests"]
    assert 0 < reported <= served <= reported + 2, (reported, served)  # at most one request in flight per user at stop
    assert target.total_requests() == served  # nothing else reached the target


@pytest.fixture
def offline_index(tmp_path, monkeypatch):
    """pip sees only a folder holding a package `msgpack` of our own, in a distribution of another
    name (Locust runs on msgpack 1.x): the constraints on Locust's runtime do not know that name."""
    wheels = build_wheel(tmp_path / "wheels", "lm-msgpack-shim", "0.0.1", "raise SystemExit('a fake msgpack')\n", module="msgpack").parent
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))


def test_requirements_that_replace_a_runtime_module_end_the_run_failed_before_locust_starts(client, target, offline_index, tmp_path):
    tid = create(client, target, [{"path": "requirements.txt", "content": b64("lm-msgpack-shim==0.0.1\n")}])
    run = wait_until_final(client, start_run(client, tid, targetUsers=1, durationSeconds=2)["id"], timeout=180)
    assert run["status"] == "Failed"
    reason = run["failureReason"]
    assert "requirements.txt failed" in reason and "msgpack" in reason and "would replace Locust" in reason, reason
    assert target.total_requests() == 0
    envs = tmp_path / "envs"
    assert not envs.exists() or not [path for path in envs.iterdir() if path.is_dir()]  # the environment was not kept
