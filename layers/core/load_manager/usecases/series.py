"""A run's metrics series as the API serves it: downsampled on read into buckets (percentiles never
averaged), polled with a `since` cursor, and a final run's default series encoded once at Finalize
(`store_final_series`) and served as it was kept. The downsampling is the store's, exactly as
load_manager.analysis.series defines it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from load_manager.analysis.criteria import endpoint_key
from load_manager.analysis.series import Columns, bucket_of, step_for
from load_manager.errors import BadRequestError, InvalidCursorError
from load_manager.models.base import FINAL_STATUSES
from load_manager.models.results import MetricsSeries, SeriesColumns
from load_manager.pagination import SINCE_MISMATCH, decode_series_cursor, series_cursor, series_cursor_after
from load_manager.store import Stores

if TYPE_CHECKING:  # annotations only: the runs come from the store, which builds their models
    from load_manager.models.runs import Run

PERCENTILES_ALL = "p50/p95: Locust's ~10 s window at each sample; p99: cumulative since the run started"
PERCENTILES_ENDPOINT = "cumulative since the run started (Locust keeps no per-endpoint window)"


@dataclass(frozen=True)
class SeriesQuery:
    start: int | None = None  # `from`, epoch ms
    end: int | None = None  # `to`, epoch ms
    step: int | None = None  # ms
    endpoint: str | None = None
    since: str | None = None


@dataclass(frozen=True)
class SeriesAnswer:
    """A metrics answer: the series, or (a final run's default series) its header and the columns as
    they were encoded at Finalize, joined without decoding them again."""

    series: MetricsSeries
    encoded_columns: str | None = None

    def json(self) -> str:
        if self.encoded_columns is None:
            return self.series.model_dump_json(by_alias=True)
        head = self.series.model_dump_json(by_alias=True, exclude=set(SeriesColumns.model_fields))
        return head[:-1] + "," + self.encoded_columns[1:]


def answer(stores: Stores, run: Run, query: SeriesQuery) -> SeriesAnswer:
    """The run's series for `query`; a final run's default series as it was kept at Finalize."""
    if run.status in FINAL_STATUSES and run.series_step_ms and query == SeriesQuery(endpoint=query.endpoint):
        stored = stores.metrics.final_series(run.account_id, run.id, query.endpoint)
        if stored is not None:
            cursor = series_cursor_after(stored, run.series_step_ms, run.started_at or run.created_at)
            return SeriesAnswer(_series_model(run, query, *_default_window(run), Columns(), cursor), stored)
    return SeriesAnswer(series_of(stores, run, query))


def store_final_series(stores: Stores, run: Run) -> None:
    """At Finalize: encode the final run's default series (all requests and each endpoint) once. Every
    endpoint's buckets come from one pass over the samples and are kept in one write: a query per
    endpoint would read every sample's endpoint rows once per endpoint."""
    if not run.series_step_ms:
        return
    overall = series_of(stores, run, SeriesQuery())
    encoded: dict[str | None, str] = {None: _encoded(overall)}
    keys = [endpoint_key(e.method, e.name) for e in run.endpoints]
    by_endpoint = stores.metrics.endpoint_buckets(run.account_id, run.id, keys, origin=overall.origin, step=overall.step_ms)
    for key in keys:
        encoded[key] = _encoded(by_endpoint.get(key) or Columns())
    stores.metrics.save_final_series_batch(run.account_id, run.id, encoded)


def _encoded(columns: Columns | SeriesColumns) -> str:
    fields = {name: getattr(columns, name) for name in SeriesColumns.model_fields}
    return SeriesColumns.model_construct(**fields).model_dump_json(by_alias=True)


def _default_window(run: Run) -> tuple[int, int, tuple[int, int]]:
    origin = run.started_at or run.created_at
    return origin, run.series_step_ms or 0, (origin, max(origin + run.duration_seconds * 1000, run.ended_at or 0))


def series_of(stores: Stores, run: Run, query: SeriesQuery) -> MetricsSeries:
    if query.start is not None and query.end is not None and query.start > query.end:
        raise BadRequestError("`from` is after `to`", code="InvalidWindow")
    origin = run.started_at or run.created_at
    # The default window is the whole run and its step the one fixed at start (older runs: computed),
    # so a live client polls with the same step from the first sample to the last.
    window_start = origin if query.start is None else query.start
    window_end = query.end if query.end is not None else max(origin + run.duration_seconds * 1000, run.ended_at or 0)
    own_step = run.series_step_ms if run.started_at else None
    custom = query.start is not None or query.end is not None or query.step not in (None, own_step)
    step = own_step if own_step and not custom else step_for(window_end - window_start, query.step)
    read_from = query.start
    if query.since:
        step, read_from = _since(query, window_start)
    columns = stores.metrics.buckets(run.account_id, run.id, endpoint=query.endpoint, start=read_from, end=query.end, origin=origin, step=step)
    last = columns.time[-1] if columns.time else (read_from if read_from is not None else bucket_of(window_start, origin, step))
    return _series_model(run, query, origin, step, (window_start, window_end), columns, series_cursor(step, last))


def _since(query: SeriesQuery, window_start: int) -> tuple[int, int]:
    """(step, first bucket to read) from a `since` cursor; it fixes the step."""
    cursor = decode_series_cursor(query.since)
    if cursor is None or (query.step is not None and query.step != cursor.step):
        raise InvalidCursorError(SINCE_MISMATCH)
    return cursor.step, max(cursor.bucket, query.start or cursor.bucket)


def _series_model(run: Run, query: SeriesQuery, origin: int, step: int, window: tuple[int, int], c: Columns, cursor: str) -> MetricsSeries:
    # Built without validation: every value comes from our own store (up to 7,000 of them), typed.
    return MetricsSeries.model_construct(
        run_id=run.id, endpoint=query.endpoint, origin=origin, step_ms=step, window_start=window[0], window_end=window[1],
        complete=run.status in FINAL_STATUSES, next_since=cursor,
        percentiles=PERCENTILES_ENDPOINT if query.endpoint else PERCENTILES_ALL,
        time=c.time, users=c.users, rps=c.rps, failures_per_second=c.failures_per_second, p50_ms=c.p50_ms, p95_ms=c.p95_ms, p99_ms=c.p99_ms,
    )  # fmt: skip
