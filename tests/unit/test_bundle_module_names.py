"""A bundle can never replace Locust: the names refused at save time, the committed list of
Locust's runtime modules checked against the installed Locust, how the bootstrap starts Locust
(`python -P`), and the check of an environment built from requirements.txt."""

from __future__ import annotations

import json
import os
import site
import sys
import zipfile
from io import BytesIO

import pytest

from load_manager.backends.base import ClusterSpec
from load_manager.backends.bootstrap import locust_command, replaced_runtime
from load_manager.backends.bundle_layout import runtime_archive
from load_manager.bundle import reserved
from load_manager.bundle.core import build_bundle
from load_manager.bundle.locust_runtime import LOCUST_VERSION, RUNTIME_MODULES
from load_manager.bundle.templates import TEMPLATES
from load_manager.errors import ReservedModuleNameError

SIMPLE = b"from locust import HttpUser, task\n\n\nclass U(HttpUser):\n    @task\n    def t(self):\n        self.client.get('/')\n"


def bundle(paths: list[str], entry: str = "locustfile.py"):
    return build_bundle(entry, [(entry, SIMPLE), *[(path, b"x = 1\n") for path in paths if path != entry]])


def test_the_committed_runtime_modules_are_those_of_the_installed_locust():
    from importlib import metadata

    computed = reserved.runtime_modules()
    assert computed == RUNTIME_MODULES, (
        f"bundle/locust_runtime.py (Locust {LOCUST_VERSION}) is stale for the installed Locust {metadata.version('locust')}: "
        "regenerate it with `.venv/bin/python -m load_manager.bundle.reserved --write` and commit it"
    )
    # What the issue names, and what Locust imports as it starts, are all in it.
    assert {"locust", "gevent", "greenlet", "requests", "urllib3", "flask", "zmq", "msgpack", "geventhttpclient", "psutil", "socketio"} <= set(computed)


@pytest.mark.parametrize(
    ("path", "module", "what"),
    [
        ("locust/__main__.py", "locust", "locust"),
        ("locust/__init__.py", "locust", "locust"),
        ("gevent.py", "gevent", "gevent"),
        ("requests.py", "requests", "requests"),
        ("requests/__init__.py", "requests", "requests"),
        ("zmq/sub/deep.py", "zmq", "pyzmq"),
        ("gevent.cpython-312-x86_64-linux-gnu.so", "gevent", "gevent"),
        ("websocket.pyc", "websocket", "websocket-client"),
        ("zope/interface/__init__.py", "zope", "zope-event and zope-interface"),
        ("json.py", "json", "the standard library"),
        ("secrets.py", "secrets", "the standard library"),
        ("sitecustomize.py", "sitecustomize", "start-up hook"),
    ],
)
def test_a_file_named_like_a_runtime_module_is_refused_naming_file_module_and_distribution(path, module, what):
    with pytest.raises(ReservedModuleNameError) as err:
        reserved.check_module_names(bundle(["common/users.py", path]))
    details = err.value.details
    assert err.value.status == 422 and err.value.code == "ReservedModuleName"
    assert (details["path"], details["module"]) == (path, module) and what in details["shadows"]
    assert path in err.value.message and module in err.value.message and what in err.value.message


def test_every_offending_file_is_listed():
    with pytest.raises(ReservedModuleNameError) as err:
        reserved.check_module_names(bundle(["locust/__main__.py", "gevent.py", "requests.py", "common/x.py"]))
    assert [item["path"] for item in err.value.details["files"]] == ["gevent.py", "locust/__main__.py", "requests.py"]
    assert "and 2 more" in err.value.message


@pytest.mark.parametrize(
    "path",
    [
        "locust.conf",  # Locust's own config file, read from the working directory
        "requests/login.json",  # data in a folder named like a module is never imported
        "data/requests.csv",
        "common/requests.py",  # common.requests, not requests
        "locustfiles/gevent_helpers.py",
        "README.md",
        "gevent.txt",
    ],
)
def test_data_and_modules_under_other_names_are_fine(path):
    reserved.check_module_names(bundle(["common/__init__.py", path]))


def test_names_relative_to_the_entrys_folder_and_the_entry_itself_count():
    # Locust puts the entry's folder on sys.path: load/requests.py is `requests` there.
    with pytest.raises(ReservedModuleNameError) as err:
        reserved.check_module_names(bundle(["load/requests.py"], entry="load/main.py"))
    assert err.value.details["module"] == "requests"
    # Locust imports the entry under its file name (sys.modules["gevent"] would be the locustfile).
    with pytest.raises(ReservedModuleNameError):
        reserved.check_module_names(bundle([], entry="tests/gevent.py"))
    with pytest.raises(ReservedModuleNameError):  # Locust renames it `locustfile`, but at the root it is `locust` to anything else
        reserved.check_module_names(bundle([], entry="locust.py"))
    # other/requests.py is `other.requests` from the root and not under the entry's folder: fine.
    reserved.check_module_names(bundle(["other/__init__.py", "other/requests.py"], entry="load/main.py"))
    with pytest.raises(ReservedModuleNameError):  # the root is on sys.path whatever the entry's folder
        reserved.check_module_names(bundle(["requests.py"], entry="load/main.py"))


def test_every_template_passes():
    for template in TEMPLATES.values():
        files = [(path, text.encode()) for path, text in template.files.items()]
        reserved.check_module_names(build_bundle(template.entry_path, files))


# ---- at run time --------------------------------------------------------------------------------


def test_locust_starts_without_the_working_directory_on_sys_path():
    command = locust_command("/usr/bin/python3", "/tmp/b/load/main.py", ["--headless"])
    assert command == ["/usr/bin/python3", "-P", "-m", "locust", "-f", "/tmp/b/load/main.py", "--headless"]


def test_the_runtime_archive_tells_the_bootstrap_which_modules_requirements_may_not_replace():
    spec = ClusterSpec(run_id="r", script=SIMPLE.decode(), target_url="http://127.0.0.1:1", users=1, spawn_rate=1, duration_seconds=1)
    with zipfile.ZipFile(BytesIO(runtime_archive(spec))) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["entryPath"] == "locustfile.py" and manifest["runtimeModules"] == sorted(RUNTIME_MODULES)
    # The distributions pip may not change (the bootstrap's constraints) and Locust's -f (the entry alone).
    assert {"locust", "gevent", "greenlet", "flask"} <= set(manifest["runtimeDistributions"]) and manifest["locustfiles"] == []


def test_an_environment_that_installed_a_runtime_module_is_detected(tmp_path):
    """What requirements.txt installed into the environment's site folder, against this Python's
    own site folders (which hold Locust, requests and zope.interface here)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_dir = tmp_path / "lib" / version / "site-packages"
    (site_dir / "requests").mkdir(parents=True)
    (site_dir / "requests" / "__init__.py").write_text("")
    (site_dir / "requests-0.1.dist-info").mkdir()
    (site_dir / "msgpack.py").write_text("")
    (site_dir / "lm_shop_paths").mkdir()
    (site_dir / "lm_shop_paths" / "__init__.py").write_text("")
    (site_dir / "zope" / "component").mkdir(parents=True)  # a namespace portion beside the base's zope.interface
    (site_dir / "_load_manager_base.pth").write_text("")
    runtime = frozenset(RUNTIME_MODULES)
    assert any(os.path.isdir(os.path.join(path, "zope", "interface")) for path in site.getsitepackages())
    assert replaced_runtime(str(tmp_path), runtime) == ["msgpack.py", "requests"]
    (site_dir / "zope" / "interface").mkdir()  # the same portion the base has: it would win
    assert replaced_runtime(str(tmp_path), runtime) == ["msgpack.py", "requests", "zope/interface"]
