"""The order test files are handed to the workers: longest first.

With `--dist loadfile` a file runs whole on one worker, and each worker takes the next file when it
is free. A long file that starts late keeps the run waiting on it while the other workers sit idle
(a run here ended 60 s after the other workers because three one-test e2e files of 20-50 s were
handed out last). Longest first is the classic answer; the lengths come from the suite's own last
recorded run (tests/durations.json, seconds per file under `make test`'s load), and a file it does
not list is estimated from its markers. The order never changes a verdict, only when a file runs.

Refresh the record after adding or changing slow tests:

    PATH=".venv-sam/bin:$PATH" .venv/bin/python -m pytest -n 6 --dist loadfile --record-durations
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

DURATIONS = Path(__file__).resolve().parents[1] / "durations.json"
SLOW_TEST_SECONDS = 20.0  # a test that starts real Locust, a real server or a real build
TEST_SECONDS = 0.3


def recorded() -> dict[str, float]:
    try:
        return {str(name): float(seconds) for name, seconds in json.loads(DURATIONS.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def order(items: list[Any], root: Path) -> None:
    """Sort `items` (in place, stable: a file's tests stay together and in order) longest file first."""
    known = recorded()
    estimate: dict[str, float] = defaultdict(float)
    for item in items:
        estimate[_file(item, root)] += SLOW_TEST_SECONDS if item.get_closest_marker("slow") else TEST_SECONDS
    length = {name: known.get(name, guess) for name, guess in estimate.items()}
    items.sort(key=lambda item: -length[_file(item, root)])


class Recorder:
    """Sums each file's test durations (setup, call and teardown) as the controller receives them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.seconds[report.nodeid.split("::", 1)[0]] += report.duration

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        """The files this run ran replace their records; the others' stay (a partial run), but not
        those of files that are gone."""
        if self.seconds:
            root = DURATIONS.parent.parent
            kept = {name: seconds for name, seconds in recorded().items() if (root / name).is_file()}
            kept.update({name: round(seconds, 1) for name, seconds in self.seconds.items()})
            DURATIONS.write_text(json.dumps(dict(sorted(kept.items())), indent=1) + "\n")


def _file(item: Any, root: Path) -> str:
    return Path(item.path).relative_to(root).as_posix()
