"""Fixtures for tests that start real servers and real Locust processes. Everything they start is
stopped in a `finally`, pass or fail."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load_example(name: str) -> ModuleType:
    # examples/ is not a package: load the module from its path, once.
    module_name = f"examples_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def target():
    """The example target service on a free loopback port."""
    server = _load_example("target_service").start_target(port=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def example_locustfile() -> str:
    return (EXAMPLES / "locustfile.py").read_text()
