"""Locust 2.47's web API answers, parsed into the port's types (`base`).

`GET /stats/requests` carries the median, p95 and p99 per row; the final results add p90 from
`GET /stats/requests/csv`, which reports every percentile Locust computes (rounded to whole ms).
Both come from the master's merged histograms. Anything missing or malformed parses as zero
rather than failing a run: Locust omits figures for rows without requests.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .base import STATE_MISSING, EndpointStats, ErrorStats, FinalResults, LiveStats

AGGREGATED_ROW = "Aggregated"
_TEMPLATE_ARGS = "window.templateArgs = "


def endpoint_stats(row: Mapping[str, Any]) -> EndpointStats:
    return EndpointStats(
        method=row.get("method") or "",
        name=str(row.get("name", "")),
        num_requests=int(row.get("num_requests") or 0),
        num_failures=int(row.get("num_failures") or 0),
        avg_ms=_number(row.get("avg_response_time")),
        min_ms=_number(row.get("min_response_time")),
        max_ms=_number(row.get("max_response_time")),
        p50_ms=_number(row.get("median_response_time")),
        p95_ms=_number(row.get("response_time_percentile_0.95")),
        p99_ms=_number(row.get("response_time_percentile_0.99")),
        rps=_number(row.get("total_rps")),
        current_rps=_number(row.get("current_rps")),
        current_fail_per_sec=_number(row.get("current_fail_per_sec")),
    )


def error_stats(row: Mapping[str, Any]) -> ErrorStats:
    return ErrorStats(
        method=row.get("method") or "",
        name=str(row.get("name", "")),
        error=str(row.get("error", "")),
        occurrences=int(row.get("occurrences") or 0),
    )


def live_stats(payload: Mapping[str, Any]) -> LiveStats:
    aggregated, endpoints = _split_rows(payload)
    current = payload.get("current_response_time_percentiles") or {}
    worker_count = payload.get("worker_count")
    return LiveStats(
        state=str(payload.get("state") or STATE_MISSING),
        user_count=int(payload.get("user_count") or 0),
        worker_count=None if worker_count is None else int(worker_count),
        current_rps=_number(payload.get("current_rps")),
        average_rps=_number(payload.get("total_rps")),
        failures_per_second=_number(payload.get("current_fail_per_sec")),
        fail_ratio=_number(payload.get("fail_ratio")),
        total_requests=aggregated.num_requests,
        total_failures=aggregated.num_failures,
        p50_ms=aggregated.p50_ms,
        p95_ms=aggregated.p95_ms,
        p99_ms=aggregated.p99_ms,
        current_p50_ms=_optional_number(current.get("response_time_percentile_0.5")),
        current_p95_ms=_optional_number(current.get("response_time_percentile_0.95")),
        endpoints=endpoints,
        errors=_errors(payload),
    )


def final_results(
    payload: Mapping[str, Any], *, percentiles_csv: str | None = None, html_report: str | None, exit_code: int | None, log_tail: str
) -> FinalResults:
    aggregated, endpoints = _split_rows(payload)
    p90 = p90_by_row(percentiles_csv) if percentiles_csv else {}
    return FinalResults(
        aggregated=replace(aggregated, p90_ms=p90.get(("", AGGREGATED_ROW))),
        endpoints=[replace(e, p90_ms=p90.get((e.method, e.name))) for e in endpoints],
        errors=_errors(payload),
        fail_ratio=_number(payload.get("fail_ratio")),
        html_report=html_report,
        exit_code=exit_code,
        log_tail=log_tail,
    )


def locust_version(page: str) -> str | None:
    """The version in Locust's web UI page (`GET /`): Locust 2.x renders `window.templateArgs = {...}`
    (its template's arguments as JSON, "version" among them). None when the page says nothing."""
    at = page.find(_TEMPLATE_ARGS)
    if at < 0:
        return None
    try:
        args, _ = json.JSONDecoder().raw_decode(page, at + len(_TEMPLATE_ARGS))
    except ValueError:
        return None
    version = args.get("version") if isinstance(args, dict) else None
    return str(version)[:64] if isinstance(version, str) and version else None


def p90_by_row(text: str) -> dict[tuple[str, str], float]:
    """(method, name) -> p90 from `/stats/requests/csv` (the Aggregated row has no method)."""
    found: dict[tuple[str, str], float] = {}
    for row in csv.DictReader(io.StringIO(text)):
        value = row.get("90%")
        if value and value != "N/A":
            try:
                found[(row.get("Type") or "", row.get("Name") or "")] = float(value)
            except ValueError:
                continue
    return found


def is_master(payload: Mapping[str, Any]) -> bool:
    """A master's answer (its users run in worker processes) lists them; a single process's does not."""
    return "workers" in payload or "worker_count" in payload


def total_requests(payload: Mapping[str, Any]) -> int:
    """The Aggregated row's request count of a `/stats/requests` answer."""
    return _split_rows(payload)[0].num_requests


def csv_total_requests(text: str) -> int | None:
    """The Aggregated row's "Request Count" of `/stats/requests/csv` (None: no such row)."""
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("Name") == AGGREGATED_ROW and not row.get("Type"):
            try:
                return int(row.get("Request Count") or 0)
            except ValueError:
                return None
    return None


def _split_rows(payload: Mapping[str, Any]) -> tuple[EndpointStats, list[EndpointStats]]:
    """(the Aggregated row, every other row). Locust puts Aggregated last, with no method."""
    rows = [row for row in payload.get("stats") or [] if isinstance(row, Mapping)]
    endpoints = [endpoint_stats(row) for row in rows if not _is_aggregated(row)]
    aggregated_row = next((row for row in reversed(rows) if _is_aggregated(row)), None)
    return endpoint_stats(aggregated_row or {"name": AGGREGATED_ROW}), endpoints


def _errors(payload: Mapping[str, Any]) -> list[ErrorStats]:
    rows = payload.get("errors") or []
    return [error_stats(row) for row in rows if isinstance(row, Mapping)]


def _is_aggregated(row: Mapping[str, Any]) -> bool:
    return row.get("name") == AGGREGATED_ROW and not row.get("method")


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _optional_number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
