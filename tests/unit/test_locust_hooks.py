"""What the loader does in each Locust process beside the bundle (backends/locust_hooks.py, run by
the bootstrap from the runtime archive): each worker's share of a CSV, the runtime folder, the
profile's ticks, the worker index; and the same from a real runtime archive through the bootstrap."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from load_manager.backends import locust_hooks
from load_manager.backends.base import ClusterSpec
from load_manager.backends.bootstrap import BAD_ARCHIVE, prepare_runtime, unpack
from load_manager.backends.bundle_layout import runtime_archive
from load_manager.backends.ecs.tasks import TAG_WORKER_INDEX, missing_worker_indexes
from load_manager.backends.locust_hooks import (
    PROFILE_FILE,
    RUNTIME_MODULE,
    pin_worker_index,
    prepare,
    slot_env,
    split_csv,
    stage_at,
    worker_slot,
)

SOURCE = Path(locust_hooks.__file__).read_bytes()


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


@pytest.mark.parametrize("rows", [0, 1, 2, 7, 100])
@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_every_row_goes_to_exactly_one_worker_each_keeping_the_header(tmp_path, rows, count):
    text = "id,name\n" + "".join(f"{n},user{n}\n" for n in range(rows))
    shares = []
    for index in range(count):
        path = tmp_path / f"w{index}.csv"
        path.write_text(text, encoding="utf-8")
        kept, total = split_csv(str(path), index, count)
        got = _rows(path)
        assert got[0] == ["id", "name"] and total == rows and kept == len(got) - 1
        shares.append([int(row[0]) for row in got[1:]])
    assert [n for share in shares for n in share] == list(range(rows)), "contiguous shares, in order, each row once"
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_quoted_line_breaks_crlf_blank_lines_and_a_missing_last_newline(tmp_path):
    path = tmp_path / "users.csv"
    path.write_bytes(b'name,note\r\nann,"two\r\nlines"\r\n\r\nbob,plain\r\ncat,"a ""quoted"" word"')
    split_csv(str(path), 1, 2)
    assert path.read_bytes() == b'name,note\r\nbob,plain\r\ncat,"a ""quoted"" word"\n'
    path.write_bytes(b'name,note\r\nann,"two\r\nlines"\r\n\r\nbob,plain\r\ncat,"a ""quoted"" word"')
    assert split_csv(str(path), 0, 2) == (1, 3)
    assert path.read_bytes() == b'name,note\r\nann,"two\r\nlines"\r\n'  # a record's bytes as they were


def test_a_worker_splits_and_gets_the_runtime_folder_beside_its_bundle(tmp_path):
    bundle = tmp_path / "worker-1"
    (bundle / "data").mkdir(parents=True)
    (bundle / "data" / "users.csv").write_text("u\n" + "".join(f"{n}\n" for n in range(10)))
    manifest = {"dataSplit": ["data/users.csv"], "loadProfile": []}
    extra = prepare(SOURCE, manifest, str(bundle), slot_env(1, 2))
    assert _rows(bundle / "data" / "users.csv") == [["u"], *[[str(n)] for n in range(5, 10)]]
    (module,) = extra
    runtime = tmp_path / "load-manager-runtime-worker-1"
    assert module == str(runtime / f"{RUNTIME_MODULE}.py"), "beside the bundle, never in it"
    assert Path(module).read_bytes() == SOURCE and json.loads((runtime / PROFILE_FILE).read_text()) == []


def test_the_master_and_a_single_process_keep_every_row(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "users.csv").write_text("u\n1\n2\n")
    profile = [[3, 10, 10.0], [3, 30, 20.0]]
    master = prepare(SOURCE, {"dataSplit": ["users.csv"], "loadProfile": profile}, str(bundle), slot_env(None, 4))
    assert len(master) == 1 and json.loads((tmp_path / "load-manager-runtime-bundle" / PROFILE_FILE).read_text()) == profile
    single = tmp_path / "single"
    single.mkdir()
    (single / "users.csv").write_text("u\n1\n2\n")
    assert prepare(SOURCE, {"dataSplit": ["users.csv"], "loadProfile": []}, str(single), slot_env(0, 1)) == []
    assert (bundle / "users.csv").read_text() == (single / "users.csv").read_text() == "u\n1\n2\n"
    assert not (tmp_path / "load-manager-runtime-single").exists(), "nothing to add to Locust: nothing written"


def test_worker_slots_and_stages():
    assert worker_slot(slot_env(2, 3)) == (2, 3) and worker_slot(slot_env(None, 3)) == (None, 3) and worker_slot({}) == (None, 1)
    assert worker_slot({"LOAD_MANAGER_WORKER_INDEX": "3", "LOAD_MANAGER_WORKER_COUNT": "3"}) == (None, 3)  # out of range
    assert worker_slot({"LOAD_MANAGER_WORKER_INDEX": "x"}) == (None, 1)
    stages = [(4, 10, 50.0), (4, 30, 50.0), (5, 5, 50.0)]
    assert [stage_at(stages, t) for t in (0, 3.9, 4, 7.99, 8, 12.9, 13)] == [(10, 50.0), (10, 50.0), (30, 50.0), (30, 50.0), (5, 50.0), (5, 50.0), None]


def test_a_worker_keeps_its_index_when_a_reconnect_acks_with_the_masters_numbering():
    handled = []
    runner = SimpleNamespace(worker_index=0)
    runner.handle_message = lambda message: (handled.append(message.type), setattr(runner, "worker_index", message.data["index"]))
    pin_worker_index(runner, 3)
    assert runner.worker_index == 3
    runner.handle_message(SimpleNamespace(type="ack", data={"index": 0}))
    assert runner.worker_index == 3 and handled == ["ack"]


def test_missing_worker_indexes_counts_what_runs():
    tagged = [{"tags": [{"key": TAG_WORKER_INDEX, "value": str(n)}]} for n in (0, 2)]
    assert missing_worker_indexes(tagged, 4) == [1, 3]
    assert missing_worker_indexes([*tagged, {"tags": []}], 4) == [3], "an untagged worker stands for one missing index"
    assert missing_worker_indexes([], 2) == [0, 1]


def test_the_bootstrap_prepares_from_a_real_runtime_archive(tmp_path):
    spec = ClusterSpec(
        run_id="r", script="from locust import HttpUser\n", target_url="http://127.0.0.1:9", users=3, spawn_rate=1, duration_seconds=9, workers=3,
        files={"data/a.csv": b"h\n1\n2\n3\n4\n5\n6\n"}, data_split=("data/a.csv",), load_profile=((9, 3, 3.0),),
    )  # fmt: skip
    archive = runtime_archive(spec)
    dest = tmp_path / "worker-2"
    manifest = unpack(archive, str(dest))
    assert manifest["dataSplit"] == ["data/a.csv"] and manifest["loadProfile"] == [[9, 3, 3.0]]
    (extra,) = prepare_runtime(archive, manifest, str(dest), slot_env(2, 3))
    assert (dest / "data" / "a.csv").read_text() == "h\n5\n6\n" and Path(extra).read_bytes() == SOURCE
    # A file that cannot be split fails the process before Locust, saying why (the bootstrap's exit code).
    (dest / "data" / "a.csv").write_text("h\n" + '"' + "x" * 200_000 + '"\n')
    with pytest.raises(SystemExit) as failed:
        prepare_runtime(archive, manifest, str(dest), slot_env(0, 3))
    assert failed.value.code == BAD_ARCHIVE


def test_in_locust_the_runs_profile_replaces_the_scripts_shape(tmp_path):
    """Real Locust objects, in a process of their own (importing Locust patches the interpreter)."""
    (tmp_path / PROFILE_FILE).write_text(json.dumps([[4, 10, 50.0], [4, 30, 50.0]]))
    program = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(Path(locust_hooks.__file__).parent)!r})
        from locust import HttpUser, LoadTestShape, events, task
        from locust.env import Environment
        import locust_hooks

        class Script(LoadTestShape):
            def tick(self):
                return (99, 99)

        class User(HttpUser):
            host = "http://127.0.0.1:9"
            @task
            def t(self):
                pass

        locust_hooks.install({str(tmp_path)!r}, {{}})
        environment = Environment(user_classes=[User], shape_class=Script(), events=events)  # as locust.main creates it
        runner = environment.create_local_runner()
        environment.events.init.fire(environment=environment, runner=runner, web_ui=None)
        shape = environment.shape_class
        print(json.dumps([type(shape).__name__, shape.runner is runner, shape.tick()]))
    """)
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": ""})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["LoadManagerProfile", True, [10, 50.0]]


def test_csv_records_reads_one_record_at_a_time():
    lines = io.StringIO('a,b\n"x\ny",z\n\nlast', newline="")
    assert list(locust_hooks.csv_records(lines)) == ["a,b\n", '"x\ny",z\n', "\n", "last"]


def test_a_local_worker_that_exits_ends_the_run_with_its_reason(tmp_path):
    from load_manager.backends.base import ProcessStatus
    from load_manager.backends.local_workers import worker_exit, worker_paths

    details = {"work_dir": str(tmp_path), "worker_pgids": [101, 102]}
    master = ProcessStatus(alive=True, exit_code=None, log_tail="the log")
    assert worker_exit(details, master, {}) is master
    Path(worker_paths(str(tmp_path), 1)["exit_code_path"]).write_text("3\n")
    status = worker_exit(details, master, {3: "installing the bundle's requirements.txt failed"})
    assert (status.alive, status.exit_code, status.reason, status.log_tail) == (False, 3, "worker 1: installing the bundle's requirements.txt failed", "the log")
