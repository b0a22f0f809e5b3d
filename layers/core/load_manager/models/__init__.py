"""Pydantic models: the API contract (camelCase on the wire) and the stored records, one module per
area. Import from the area's module (`from load_manager.models.runs import Run`): nothing in the
project imports from this package itself (tests/unit/test_house.py checks it).

For code written against the old flat `load_manager.models`, a name is still found here, lazily:
nothing is imported until it is asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

AREAS = (
    "base", "bundles", "criteria", "load_profiles", "load_tests", "scripts", "runs", "records", "clusters", "results", "automation",
    "variables", "run_variables", "run_requests", "metrics", "revisions", "load_test_reads",
)


def __getattr__(name: str) -> Any:
    for area in AREAS:
        module = importlib.import_module(f"{__name__}.{area}")
        if name in vars(module) and not name.startswith("_"):
            return vars(module)[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
