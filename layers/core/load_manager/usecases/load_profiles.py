"""A run's load and data settings, decided once when the run is created (and checked the same way
when a trigger, a schedule or a test's defaults are saved).

Load: the request's `loadProfile`; else, if the request sends any of targetUsers / spawnRate /
durationSeconds, a constant load from those and the test's defaults; else the test's
`defaultLoadProfile`; else a constant load from the test's defaults. A profile sent together with
the fields it replaces is refused (LoadProfileConflict): the run's duration is the profile's total,
its users the profile's peak (what the quotas judge), and nothing is silently dropped.

Data split: the request's `dataSplit` (`[]`: none), else the test's. Each path must name a CSV
text file of the revision that runs (InvalidDataSplit otherwise): the loader splits it on every
worker before Locust starts (backends/bootstrap.py), so a wrong path never reaches Locust.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from load_manager.errors import InvalidBundlePathError, InvalidDataSplitError, LoadProfileConflictError
from load_manager.models.load_profiles import LoadProfile

if TYPE_CHECKING:  # annotations only
    from load_manager.models.bundles import BundleFileInfo
    from load_manager.models.runs import StartRunRequest

# What a profile replaces: a request's own fields, and a test's defaults.
RUN_CONSTANT_FIELDS = {"target_users": "targetUsers", "spawn_rate": "spawnRate", "duration_seconds": "durationSeconds"}
TEST_CONSTANT_FIELDS = {
    "default_users": "defaultUsers", "default_spawn_rate": "defaultSpawnRate", "default_duration_seconds": "defaultDurationSeconds",
}  # fmt: skip


def run_load(test: Any, request: StartRunRequest, default_users: int, default_duration: int) -> dict[str, Any]:
    """The run's target_users, spawn_rate, duration_seconds and load_profile (see the module doc)."""
    sent = [alias for name, alias in RUN_CONSTANT_FIELDS.items() if getattr(request, name) is not None]
    profile: LoadProfile | None = request.load_profile
    if profile is not None and sent:
        raise LoadProfileConflictError(
            f"loadProfile sets the users and the duration itself: do not send {', '.join(sent)} with it",
            details={"fields": ["loadProfile", *sent]},
        )
    if profile is None and not sent:
        profile = test.default_load_profile
    if profile is not None:
        return {
            "target_users": profile.peak_users, "spawn_rate": max(rate for _, _, rate in profile.plan()),
            "duration_seconds": profile.total_seconds, "load_profile": profile,
        }  # fmt: skip
    users = request.target_users or test.default_users or default_users
    return {
        "target_users": users, "spawn_rate": request.spawn_rate or test.default_spawn_rate or float(users),
        "duration_seconds": request.duration_seconds or test.default_duration_seconds or default_duration, "load_profile": None,
    }  # fmt: skip


def check_test_defaults(fields: dict[str, Any]) -> None:
    """A test's defaults (snake_case, as stored after a change) hold a profile or constant defaults, never both."""
    if fields.get("default_load_profile") is None:
        return
    both = [alias for name, alias in TEST_CONSTANT_FIELDS.items() if fields.get(name) is not None]
    if both:
        raise LoadProfileConflictError(
            f"defaultLoadProfile replaces {', '.join(both)}: clear them (null) or leave the profile out",
            details={"fields": ["defaultLoadProfile", *both]},
        )


def run_data_split(test: Any, request: StartRunRequest, files: Iterable[BundleFileInfo], revision_number: int) -> list[str]:
    """The run's dataSplit, checked against the files of the revision it runs."""
    paths = request.data_split if request.data_split is not None else test.data_split
    return checked_split(paths or [], files, f"revision {revision_number}")


def checked_split(paths: Iterable[str], files: Iterable[BundleFileInfo], where: str) -> list[str]:
    """Normalised paths, each a CSV text file among `files` (`where` names the revision in errors)."""
    wanted = list(paths)
    if not wanted:
        return []
    from load_manager.bundle.core import normalise_path  # lazy: 2 ms at import (bench/cold_import.py --lazy), only with a dataSplit

    by_path = {info.path: info for info in files}
    checked: list[str] = []
    for raw in wanted:
        try:
            path = normalise_path(raw, what="dataSplit path")
        except InvalidBundlePathError as exc:
            raise InvalidDataSplitError(exc.message, details=exc.details) from None
        problem = _problem(path, by_path.get(path), checked, where)
        if problem:
            raise InvalidDataSplitError(f"dataSplit: {problem}", details={"path": path})
        checked.append(path)
    return checked


def _problem(path: str, info: BundleFileInfo | None, earlier: list[str], where: str) -> str | None:
    if path in earlier:
        return f"{path!r} is named twice"
    if not path.lower().endswith(".csv"):
        return f"{path!r} is not a .csv file (only CSV rows can be shared out)"
    if info is None:
        return f"{path!r} is not a file of {where}"
    if info.binary:
        return f"{path!r} is not UTF-8 text"
    return None
