"""Load our Lambda function modules by file path, each under a distinct import name.

Every function is `functions/<name>/app.py`; in Lambda each is imported as `app`, so here they get
names like `lm_function_load_tests` to live side by side in one process. `ExecutionEnvironments`
keeps several independent copies of a function, like Lambda's concurrent execution environments:
a Powertools resolver holds the current event on itself, so one copy serves one request at a time.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from types import ModuleType


def project_root() -> Path:
    override = os.environ.get("LOAD_MANAGER_ROOT")
    if override:
        return Path(override)
    # src/load_manager_local/functions.py -> the repository root
    return Path(__file__).resolve().parents[2]


def load_function(name: str, instance: int = 0) -> ModuleType:
    module_name = f"lm_function_{name}" + (f"_env{instance}" if instance else "")
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = project_root() / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"no function {name!r} at {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


class ExecutionEnvironments:
    """Idle copies of each function; a busy one is never handed out twice."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, list[ModuleType]] = defaultdict(list)
        self._created: dict[str, int] = defaultdict(int)

    @contextmanager
    def acquire(self, name: str) -> Iterator[ModuleType]:
        with self._lock:
            if self._idle[name]:
                module = self._idle[name].pop()
            else:
                instance = self._created[name]
                self._created[name] += 1
                module = None
        if module is None:
            module = load_function(name, instance)
        try:
            yield module
        finally:
            with self._lock:
                self._idle[name].append(module)
