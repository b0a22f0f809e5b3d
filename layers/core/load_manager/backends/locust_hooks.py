"""What the loader adds to each Locust process beside the bundle: the worker's share of the test
data, the run's load profile as a shape, and the worker's index as Locust's `runner.worker_index`.

Standard library only at import, one file: it runs in the Locust image's Python. It travels in the
runtime archive (bundle_layout) and is used twice in each process of a cluster:

1. before Locust, by the bootstrap (`bootstrap.prepare_runtime` runs `prepare` from the archive's
   copy): a worker of several (LOAD_MANAGER_WORKER_INDEX / LOAD_MANAGER_WORKER_COUNT in its
   environment, set by the backend per process or task) rewrites each `dataSplit` CSV of its own
   bundle folder to the header and its contiguous share of the rows (rows [n*i/N, n*(i+1)/N)), so
   every row is used by exactly one worker; the master and a single process keep every row. Then,
   when there is a profile or the process is a worker, this file is written into a folder of its
   own beside the bundle (never in it), with the profile, and added to Locust's `-f` list;
2. inside Locust, imported as the locustfile `load_manager_runtime` (no user class, no shape at
   module level), it adds an `events.init` listener that:
   - on the process that runs shapes (the master, or a single process), makes the run's profile
     Locust's shape (`environment.shape_class`), in place of any shape of the script's: the run's
     loadProfile wins, so another profile needs no edit of the script;
   - on a worker, sets `runner.worker_index` to the index the backend gave it (the one its data share
     was cut by), and keeps it when a reconnect's `ack` brings the master's own numbering.

Imported under any other name (the control plane's package, tests) it does nothing at import.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

WORKER_INDEX_ENV = "LOAD_MANAGER_WORKER_INDEX"
WORKER_COUNT_ENV = "LOAD_MANAGER_WORKER_COUNT"
RUNTIME_MODULE = "load_manager_runtime"  # the locustfile name Locust imports this file under
PROFILE_FILE = "load_manager_profile.json"
RUNTIME_FOLDER_PREFIX = "load-manager-runtime-"  # + the bundle folder's name, beside it: never in the bundle

Stage = Sequence[Any]  # (durationSeconds, users, spawnRate)


# ---- before Locust: the worker's data, the runtime folder ---------------------------------------


def slot_env(index: int | None, count: int) -> dict[str, str]:
    """The variables that tell a process of the cluster its place (what `worker_slot` reads): every
    process the worker count; a worker (or a single process: worker 0 of 1) its index; a master none."""
    env = {WORKER_COUNT_ENV: str(count)}
    if index is not None:
        env[WORKER_INDEX_ENV] = str(index)
    return env


def worker_slot(environ: Mapping[str, str]) -> tuple[int | None, int]:
    """(index, count) from the backend's variables: index None on a master or a single process."""
    try:
        count = max(1, int(environ.get(WORKER_COUNT_ENV, "1")))
        index = int(environ[WORKER_INDEX_ENV]) if WORKER_INDEX_ENV in environ else None
    except ValueError:
        return None, 1
    return (index if index is not None and 0 <= index < count else None), count


def prepare(source: bytes, manifest: Mapping[str, Any], dest: str, environ: Mapping[str, str]) -> list[str]:
    """Split this worker's data in `dest` and write the runtime folder when needed; returns the
    extra `-f` entries (this file's copy), [] when Locust needs nothing of it."""
    index, count = worker_slot(environ)
    is_worker = index is not None and count > 1
    if is_worker:
        for path in manifest.get("dataSplit") or []:
            split_csv(os.path.join(dest, path), index or 0, count)
    profile = [list(stage) for stage in manifest.get("loadProfile") or []]
    if not profile and not is_worker:
        return []
    parent, name = os.path.split(os.path.realpath(dest).rstrip(os.sep))
    folder = os.path.join(parent, RUNTIME_FOLDER_PREFIX + name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, PROFILE_FILE), "w", encoding="utf-8") as file:
        json.dump(profile, file)
    module = os.path.join(folder, RUNTIME_MODULE + ".py")
    with open(module, "wb") as file:
        file.write(source)
    return [module]


def split_csv(path: str, index: int, count: int) -> tuple[int, int]:
    """Keep the header and rows [n*index/count, n*(index+1)/count) of the CSV at `path` (blank lines
    are no rows; a quoted field may span lines). Returns (rows kept, rows in all)."""
    with open(path, encoding="utf-8", newline="") as file:
        records = list(csv_records(file))
    if not records:
        return 0, 0
    header, rows = records[0], [record for record in records[1:] if record.strip()]
    start, end = len(rows) * index // count, len(rows) * (index + 1) // count
    kept = [_line(header), *(_line(row) for row in rows[start:end])]
    temporary = path + ".split"
    with open(temporary, "w", encoding="utf-8", newline="") as file:
        file.writelines(kept)
    os.replace(temporary, path)
    return end - start, len(rows)


def csv_records(lines: Iterator[str] | Any) -> Iterator[str]:
    """Each record's raw text, as read (csv.reader consumes exactly one record's lines per row)."""
    raw: list[str] = []

    def feed() -> Iterator[str]:
        for line in lines:
            raw.append(line)
            yield line

    for _ in csv.reader(feed()):
        yield "".join(raw)
        raw.clear()


def _line(record: str) -> str:
    return record if record.endswith(("\n", "\r")) else record + "\n"


# ---- inside Locust ----------------------------------------------------------------------------


def stage_at(stages: Sequence[Stage], elapsed: float) -> tuple[int, float] | None:
    """(users, spawnRate) `elapsed` seconds into the profile; None once every stage is over."""
    end = 0.0
    for duration, users, rate in stages:
        end += float(duration)
        if elapsed < end:
            return int(users), float(rate)
    return None


def profile_shape(stages: Sequence[Stage]) -> Any:
    """A LoadTestShape instance that follows `stages` from the moment Locust starts the shape."""
    from locust import LoadTestShape  # lazy: locust costs 600 ms at import (bench/cold_import.py --lazy); Locust's own process has it

    class LoadManagerProfile(LoadTestShape):
        def tick(self) -> tuple[int, float] | None:
            return stage_at(stages, self.get_run_time())

    return LoadManagerProfile()


def pin_worker_index(runner: Any, index: int) -> None:
    """`runner.worker_index` = the backend's index, also after a reconnect's `ack` (which carries
    the index the master gave by order of connection)."""
    runner.worker_index = index
    handle = runner.handle_message

    def handle_message(message: Any) -> None:
        handle(message)
        if getattr(message, "type", None) == "ack":
            runner.worker_index = index

    runner.handle_message = handle_message


def install(folder: str, environ: Mapping[str, str]) -> None:
    """Hook Locust's `events.init` (see the module doc)."""
    from locust import events  # lazy: locust costs 600 ms at import (bench/cold_import.py --lazy); Locust's own process has it
    from locust.runners import WorkerRunner  # lazy: part of locust's 600 ms at import (bench/cold_import.py --lazy)

    with open(os.path.join(folder, PROFILE_FILE), encoding="utf-8") as file:
        stages = json.load(file)
    index, _count = worker_slot(environ)

    def on_init(environment: Any, runner: Any = None, **_kwargs: Any) -> None:
        if isinstance(runner, WorkerRunner):
            if index is not None:
                pin_worker_index(runner, index)
        elif stages:
            shape = profile_shape(stages)
            shape.runner = runner
            environment.shape_class = shape

    events.init.add_listener(on_init)


if __name__ == RUNTIME_MODULE:  # imported by Locust from the runtime folder (-f)
    install(os.path.dirname(os.path.abspath(__file__)), os.environ)
