"""Comparing two runs' final figures: deltas overall and per endpoint, and what changed most."""

from __future__ import annotations

from pydantic.alias_generators import to_camel

from load_manager.analysis.criteria import Results, endpoint_key
from load_manager.models.results import Delta, EndpointComparison, FigureDeltas, Highlight, OneSidedEndpoint
from load_manager.models.run_summaries import EndpointSummary, RunSummary

# figure -> True when higher is worse, False when lower is worse, None when neither (a count).
DIRECTION: dict[str, bool | None] = {
    "requests": None, "failures": True, "fail_ratio": True, "rps": False, "avg_ms": True,
    "p50_ms": True, "p90_ms": True, "p95_ms": True, "p99_ms": True, "max_ms": True,
}  # fmt: skip
NOTABLE_PERCENT = 10.0  # a change smaller than this is noise for the highlights
MIN_P95_CHANGE_MS = 5.0  # ... and so is a few milliseconds on a fast endpoint
MAX_HIGHLIGHTS = 10


def delta(figure: str, base: float | None, target: float | None) -> Delta:
    if base is None or target is None:
        return Delta(base=base, target=target)
    absolute = target - base
    percent = None if base == 0 else round(absolute / base * 100, 3)
    higher_is_worse = DIRECTION[figure]
    worse = None if higher_is_worse is None or absolute == 0 else (absolute > 0) == higher_is_worse
    return Delta(base=base, target=target, absolute=round(absolute, 6), percent=percent, worse=worse)


def summary_figures(summary: RunSummary | None) -> dict[str, float | None]:
    if summary is None:
        return dict.fromkeys(DIRECTION)
    return {
        "requests": summary.total_requests, "failures": summary.total_failures, "fail_ratio": summary.fail_ratio,
        "rps": summary.rps, "avg_ms": summary.avg_ms, "p50_ms": summary.p50_ms, "p90_ms": summary.p90_ms,
        "p95_ms": summary.p95_ms, "p99_ms": summary.p99_ms, "max_ms": summary.max_ms,
    }  # fmt: skip


def endpoint_figures(e: EndpointSummary) -> dict[str, float | None]:
    return {
        "requests": e.requests, "failures": e.failures, "fail_ratio": e.failures / e.requests if e.requests else 0.0,
        "rps": e.rps, "avg_ms": e.avg_ms, "p50_ms": e.p50_ms, "p90_ms": e.p90_ms, "p95_ms": e.p95_ms,
        "p99_ms": e.p99_ms, "max_ms": e.max_ms,
    }  # fmt: skip


def figure_deltas(base: dict[str, float | None], target: dict[str, float | None]) -> FigureDeltas:
    return FigureDeltas(**{name: delta(name, base[name], target[name]) for name in DIRECTION})


def compare_endpoints(base: Results, target: Results) -> tuple[list[EndpointComparison], list[OneSidedEndpoint], list[OneSidedEndpoint]]:
    """(endpoints on both sides, the worst p95 change first; only in base; only in target)."""
    base_rows = {endpoint_key(e.method, e.name): e for e in base.endpoints}
    target_rows = {endpoint_key(e.method, e.name): e for e in target.endpoints}
    both = [
        EndpointComparison(
            endpoint=key, method=row.method, name=row.name, deltas=figure_deltas(endpoint_figures(base_rows[key]), endpoint_figures(row))
        )
        for key, row in target_rows.items() if key in base_rows
    ]  # fmt: skip
    both.sort(key=lambda c: -(c.deltas.p95_ms.absolute or 0.0))
    only_base = [_one_sided(key, row) for key, row in base_rows.items() if key not in target_rows]
    only_target = [_one_sided(key, row) for key, row in target_rows.items() if key not in base_rows]
    return both, only_base, only_target


def _one_sided(key: str, row: EndpointSummary) -> OneSidedEndpoint:
    return OneSidedEndpoint(endpoint=key, method=row.method, name=row.name, stats=row)


def highlights(
    overall: FigureDeltas, endpoints: list[EndpointComparison], only_base: list[OneSidedEndpoint], only_target: list[OneSidedEndpoint]
) -> list[Highlight]:
    """What changed most, in words: regressions (largest first), new and vanished endpoints, then improvements."""
    changes: list[tuple[float, Highlight]] = []
    for where, deltas in [(None, overall), *((e.endpoint, e.deltas) for e in endpoints)]:
        for figure in ("p95_ms", "rps", "fail_ratio"):
            found = _notable(where, figure, getattr(deltas, figure))
            if found is not None:
                changes.append(found)
    changes += [_new_endpoint(e, overall.p95_ms.base) for e in only_target]
    worse = sorted((c for c in changes if c[1].delta is None or c[1].delta.worse), key=lambda c: -c[0])
    better = sorted((c for c in changes if c[1].delta is not None and c[1].delta.worse is False), key=lambda c: -c[0])
    gone = [Highlight(endpoint=e.endpoint, metric="requests", message=f"{e.endpoint}: only in the base run") for e in only_base]
    return ([h for _, h in worse] + gone + [h for _, h in better])[:MAX_HIGHLIGHTS]


def _new_endpoint(e: OneSidedEndpoint, base_p95: float | None) -> tuple[float, Highlight]:
    """An endpoint only the target has, weighed by its p95 against the base run's overall p95: a
    new slow endpoint is what made the whole run slower."""
    p95 = e.stats.p95_ms
    against = ""
    weight = 0.0
    if p95 is not None and base_p95:
        weight = (p95 - base_p95) / base_p95 * 100
        against = f", {weight:+.0f} % against the base run's overall p95 of {_ms(base_p95)}"
    message = f"{e.endpoint}: new in the target run, p95 {_ms(p95)}{against} ({e.stats.requests:,} requests)"
    return weight, Highlight(endpoint=e.endpoint, metric="p95Ms", message=message)


def _notable(where: str | None, figure: str, d: Delta) -> tuple[float, Highlight] | None:
    if d.absolute is None or d.absolute == 0:
        return None
    if figure == "fail_ratio":
        if abs(d.absolute) < 0.01:
            return None
        text = f"failure ratio {d.base:.1%} -> {d.target:.1%}"
        return abs(d.absolute) * 100, Highlight(endpoint=where, metric=to_camel(figure), delta=d, message=f"{where or 'All requests'}: {text}")
    if d.percent is not None and abs(d.percent) < NOTABLE_PERCENT:
        return None
    if figure == "p95_ms" and abs(d.absolute) < MIN_P95_CHANGE_MS:
        return None
    pct = "" if d.percent is None else f" ({d.percent:+.0f} %)"
    text = f"p95 {d.absolute:+,.0f} ms{pct}, {_ms(d.base)} -> {_ms(d.target)}" if figure == "p95_ms" else f"rps {d.absolute:+,.1f}{pct}"
    weight = abs(d.percent) if d.percent is not None else abs(d.absolute)
    return weight, Highlight(endpoint=where, metric=to_camel(figure), delta=d, message=f"{where or 'All requests'}: {text}")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"
