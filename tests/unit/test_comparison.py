"""Comparing two runs' final figures: direction-aware deltas, one-sided endpoints, highlights."""

from __future__ import annotations

from support.results import endpoint, summary

from load_manager.analysis.comparison import compare_endpoints, delta, figure_deltas, highlights, summary_figures
from load_manager.analysis.criteria import Results


def test_deltas_are_absolute_and_relative_and_know_which_way_is_worse():
    assert delta("p95_ms", 50, 75).model_dump() == {"base": 50, "target": 75, "absolute": 25, "percent": 50.0, "worse": True}
    assert delta("rps", 100, 80).worse is True and delta("rps", 100, 120).worse is False
    assert delta("requests", 100, 200).worse is None  # more requests is neither better nor worse
    assert delta("p95_ms", 0, 5).percent is None  # no percentage of nothing
    assert delta("p95_ms", None, 5).absolute is None


def test_a_new_slow_endpoint_is_named_with_how_much_slower_it_made_things():
    base = Results.of(summary(p95_ms=20.0), [endpoint("/", p95_ms=15.0), endpoint("/items", p95_ms=25.0), endpoint("/old")])
    target = Results.of(summary(p95_ms=310.0), [endpoint("/", p95_ms=16.0), endpoint("/items", p95_ms=60.0), endpoint("/checkout", p95_ms=300.0)])
    overall = figure_deltas(summary_figures(base.summary), summary_figures(target.summary))
    both, only_base, only_target = compare_endpoints(base, target)
    assert [e.endpoint for e in both] == ["GET /items", "GET /"]  # the biggest p95 regression first
    assert [e.endpoint for e in only_base] == ["GET /old"] and [e.endpoint for e in only_target] == ["GET /checkout"]
    assert both[0].deltas.p95_ms.absolute == 35.0 and both[0].deltas.p95_ms.percent == 140.0
    lines = [h.message for h in highlights(overall, both, only_base, only_target)]
    assert lines[0] == "All requests: p95 +290 ms (+1450 %), 20 ms -> 310 ms"
    assert lines[1] == "GET /checkout: new in the target run, p95 300 ms, +1400 % against the base run's overall p95 of 20 ms (500 requests)"
    assert "GET /items: p95 +35 ms (+140 %), 25 ms -> 60 ms" in lines
    assert "GET /old: only in the base run" in lines
    assert not any(line.startswith("GET /: p95") for line in lines), "1 ms on a fast endpoint is noise"
