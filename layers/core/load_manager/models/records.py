"""Records that are only stored, never answered as they are: a revision as its store keeps it, and
the metrics samples a run's poll writes (models/metrics.py: named here, imported when named, so that
a revision's store builds no runs-area model)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from load_manager.models.revisions import ScriptRevisionSummary

if TYPE_CHECKING:
    from load_manager.models.metrics import MetricsSample as MetricsSample


class StoredRevision(ScriptRevisionSummary):
    """A revision as stored: the API summary plus its tenant and (when loaded) its text."""

    account_id: str
    content: str | None = None


def __getattr__(name: str) -> Any:
    if name == "MetricsSample":  # the scripts function stores revisions without the generators' models (3 ms)
        return importlib.import_module("load_manager.models.metrics").MetricsSample
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
