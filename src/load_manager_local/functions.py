"""Load our Lambda function modules by file path, each under a distinct import name.

Every function is `functions/<name>/app.py`; in Lambda each is imported as `app`, so here they get
names like `lm_function_load_tests` to live side by side in one process.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path
from types import ModuleType


def project_root() -> Path:
    override = os.environ.get("LOAD_MANAGER_ROOT")
    if override:
        return Path(override)
    # src/load_manager_local/functions.py -> the repository root
    return Path(__file__).resolve().parents[2]


_load_lock = threading.RLock()


def load_function(name: str) -> ModuleType:
    module_name = f"lm_function_{name}"
    with _load_lock:  # never hand out a half-executed module to another thread
        return sys.modules.get(module_name) or _load(module_name, name)


def _load(module_name: str, name: str) -> ModuleType:
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

