"""Shared fixtures: isolated stores per test and the HTTP API in process (same handlers as Lambda)."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

# Quiet, deterministic Powertools during tests; no AWS credentials ever leave the process.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "load-manager-test")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # the EMF test turns them on
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
# Reports a test's runs store (Locust's and the results page) go to a temporary directory, never the checkout's .data/.
if "LOAD_MANAGER_DATA_DIR" not in os.environ:
    os.environ["LOAD_MANAGER_DATA_DIR"] = tempfile.mkdtemp(prefix="lm-tests-data-")
    atexit.register(shutil.rmtree, os.environ["LOAD_MANAGER_DATA_DIR"], ignore_errors=True)

from support import file_order  # noqa: E402
from support.examples import load_example  # noqa: E402

from load_manager.adapters.vault import FileVault  # noqa: E402
from load_manager.adapters.vaults import set_vault  # noqa: E402
from load_manager.lifecycle import run_environment  # noqa: E402
from load_manager.store import set_stores  # noqa: E402
from load_manager.store.mongo import build_mongo_stores  # noqa: E402
from load_manager.store.sqlite import build_sqlite_stores  # noqa: E402
from load_manager_local.api import InProcessApi  # noqa: E402
from load_manager_local.botocore_models import share_botocore_models  # noqa: E402

# moto's mocks each build fresh boto3 sessions: parse botocore's JSON models once per test process.
share_botocore_models()


def _mongomock_stores():
    from support.locked_mongomock import locked_database

    return build_mongo_stores(locked_database())


def _real_mongo_stores():
    from pymongo import MongoClient

    client = MongoClient(os.environ["MONGODB_URI"], serverSelectionTimeoutMS=5000)
    name = f"load_manager_test_{os.getpid()}_{os.urandom(4).hex()}"
    return build_mongo_stores(client[name]), lambda: client.drop_database(name)


STORE_KINDS = ["sqlite", "mongomock"] + (["mongodb"] if os.environ.get("MONGODB_URI") else [])


@pytest.fixture(params=STORE_KINDS)
def any_stores(request, tmp_path):
    """Each store adapter in turn: the contract suite runs against all of them."""
    cleanup = None
    if request.param == "sqlite":
        stores = build_sqlite_stores(str(tmp_path / "lm.db"))
    elif request.param == "mongomock":
        stores = _mongomock_stores()
    else:
        stores, cleanup = _real_mongo_stores()
    set_stores(stores)
    yield stores
    set_stores(None)
    if cleanup:
        cleanup()


@pytest.fixture
def stores(tmp_path):
    stores = build_sqlite_stores(str(tmp_path / "lm.db"))
    set_stores(stores)
    yield stores
    set_stores(None)


@pytest.fixture(scope="session")
def _routes():
    return InProcessApi().routes


@pytest.fixture
def api(stores, _routes):
    """The whole HTTP API in process, on a fresh SQLite store."""
    return InProcessApi(routes=_routes)


@pytest.fixture
def api_any_store(any_stores, _routes):
    return InProcessApi(routes=_routes)


@pytest.fixture
def vault(tmp_path):
    """The local file secret store under tmp_path/vault, installed as the deployment's; no value
    another test's run read is cached (lifecycle/run_environment.py)."""
    vault = FileVault(tmp_path / "vault")
    set_vault(vault)
    run_environment._cache.clear()
    yield vault
    set_vault(None)
    run_environment._cache.clear()


# ---- real servers (everything they start is stopped in a `finally`, pass or fail) ---------------

EXAMPLES = ROOT / "examples"


@pytest.fixture
def target():
    """The example target service on a free loopback port."""
    server = load_example("target_service").start_target(port=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def example_locustfile() -> str:
    return (EXAMPLES / "locustfile.py").read_text()


def pytest_addoption(parser):
    parser.addoption("--record-durations", action="store_true", help="write each file's test time to tests/durations.json (support/file_order.py)")


def pytest_configure(config):
    if config.getoption("--record-durations") and not hasattr(config, "workerinput"):  # the controller sees every report
        config.pluginmanager.register(file_order.Recorder(), "record-durations")


def pytest_collection_modifyitems(config, items):
    """Longest file first (support/file_order.py): with `--dist loadfile` a long file that starts
    last keeps the whole run waiting on it while the other workers sit idle."""
    file_order.order(items, ROOT)
