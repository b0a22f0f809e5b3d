"""The suite hands its files to the workers longest first (support/file_order.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from support import file_order


@dataclass
class Item:
    path: Path
    name: str
    slow: bool = False

    def get_closest_marker(self, name: str):
        return object() if name == "slow" and self.slow else None


def test_recorded_lengths_come_first_then_estimates_and_a_files_tests_stay_in_order(tmp_path, monkeypatch):
    record = tmp_path / "durations.json"
    record.write_text(json.dumps({"tests/a.py": 5.0, "tests/b.py": 90.0}))
    monkeypatch.setattr(file_order, "DURATIONS", record)
    items = [
        Item(tmp_path / "tests/a.py", "a1"), Item(tmp_path / "tests/a.py", "a2"),
        Item(tmp_path / "tests/b.py", "b1"),
        Item(tmp_path / "tests/new_e2e.py", "n1", slow=True), Item(tmp_path / "tests/new_e2e.py", "n2", slow=True),  # ~40 s estimated
        Item(tmp_path / "tests/new_unit.py", "u1"),  # ~0.3 s estimated
    ]  # fmt: skip
    file_order.order(items, tmp_path)
    assert [item.name for item in items] == ["b1", "n1", "n2", "a1", "a2", "u1"]


def test_a_recording_replaces_the_files_it_ran_and_forgets_files_that_are_gone(tmp_path, monkeypatch):
    (tmp_path / "tests").mkdir()
    for name in ("kept.py", "ran.py"):
        (tmp_path / "tests" / name).write_text("")
    record = tmp_path / "tests" / "durations.json"
    record.write_text(json.dumps({"tests/kept.py": 3.0, "tests/ran.py": 50.0, "tests/gone.py": 9.0}))
    monkeypatch.setattr(file_order, "DURATIONS", record)
    recorder = file_order.Recorder()
    for when, seconds in (("setup", 0.5), ("call", 7.0), ("teardown", 0.25)):
        recorder.pytest_runtest_logreport(type("Report", (), {"nodeid": "tests/ran.py::test_x", "when": when, "duration": seconds})())
    recorder.pytest_sessionfinish(None, 0)
    assert json.loads(record.read_text()) == {"tests/kept.py": 3.0, "tests/ran.py": 7.8}
