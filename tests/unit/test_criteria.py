"""Pass/fail criteria, judged on final figures: thresholds, regressions against a baseline, gaps."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from support.results import endpoint, summary

from load_manager.analysis.criteria import Results, evaluate, regression_percent
from load_manager.models.criteria import Criterion


def criterion(**fields) -> Criterion:
    return Criterion.model_validate(fields)


RUN = Results.of(summary(), [endpoint("/"), endpoint("/checkout", requests=200, failures=10, p95_ms=250.0)])


def test_no_criteria_or_no_results_is_not_evaluated():
    assert evaluate([], RUN, None) == ("NotEvaluated", [])
    assert evaluate([criterion(metric="p95Ms", operator="<", threshold=100)], Results.of(None, []), None) == ("NotEvaluated", [])


@pytest.mark.parametrize(
    ("fields", "passed", "actual"),
    [
        ({"metric": "p95Ms", "operator": "<", "threshold": 50}, False, 50.0),  # strict: equal fails
        ({"metric": "p95Ms", "operator": "<=", "threshold": 50}, True, 50.0),
        ({"metric": "rps", "operator": ">=", "threshold": 100}, True, 100.0),
        ({"metric": "rps", "operator": ">", "threshold": 100}, False, 100.0),
        ({"metric": "failRatio", "operator": "<=", "threshold": 0.01}, True, 0.01),
        ({"metric": "p90Ms", "operator": "<", "threshold": 41}, True, 40.0),
        ({"metric": "maxMs", "operator": "<", "threshold": 200}, False, 300.0),
        ({"metric": "p95Ms", "endpoint": "GET /checkout", "operator": "<", "threshold": 200}, False, 250.0),
        ({"metric": "failRatio", "endpoint": "GET /checkout", "operator": "<", "threshold": 0.1}, True, 0.05),  # 10/200, per endpoint
    ],
)
def test_thresholds(fields, passed, actual):
    result, [line] = evaluate([criterion(**fields)], RUN, None)
    assert (line.passed, line.actual) == (passed, pytest.approx(actual))
    assert result == ("Passed" if passed else "Failed")
    assert ("passed" if passed else "failed") in line.message


def test_one_failing_criterion_fails_the_run_and_every_line_is_reported():
    result, lines = evaluate([criterion(metric="p95Ms", operator="<", threshold=100), criterion(metric="rps", operator=">", threshold=500)], RUN, None)
    assert result == "Failed" and [line.passed for line in lines] == [True, False]


def test_an_endpoint_without_requests_fails_its_criterion():
    result, [line] = evaluate([criterion(metric="p95Ms", endpoint="POST /pay", operator="<", threshold=1000)], RUN, None)
    assert result == "Failed" and line.actual is None and "no value" in line.message


def test_regression_against_the_baseline():
    baseline = Results.of(summary(p95_ms=40.0, rps=120.0), [endpoint("/checkout", p95_ms=200.0)])
    grown = criterion(metric="p95Ms", maxRegressionPercent=10)  # 50 vs 40: +25 %
    slack = criterion(metric="p95Ms", endpoint="GET /checkout", maxRegressionPercent=30)  # 250 vs 200: +25 %
    dropped = criterion(metric="rps", maxRegressionPercent=10)  # 100 vs 120: a drop of 16.7 %
    result, (a, b, c) = evaluate([grown, slack, dropped], RUN, baseline)
    assert result == "Failed"
    assert (a.passed, a.baseline, a.regression_percent, a.limit) == (False, 40.0, 25.0, pytest.approx(44.0))
    assert (b.passed, b.regression_percent) == (True, 25.0)
    assert (c.passed, c.regression_percent, c.limit) == (False, pytest.approx(16.667, abs=1e-3), pytest.approx(108.0))


def test_rps_growing_is_no_regression_and_a_faster_run_passes():
    baseline = Results.of(summary(p95_ms=80.0, rps=50.0), [])
    result, lines = evaluate([criterion(metric="rps", maxRegressionPercent=0), criterion(metric="p95Ms", maxRegressionPercent=0)], RUN, baseline)
    assert result == "Passed" and [line.regression_percent for line in lines] == [-100.0, -37.5]


def test_a_baseline_without_the_figure_fails_the_criterion():
    result, [line] = evaluate([criterion(metric="p95Ms", endpoint="GET /checkout", maxRegressionPercent=50)], RUN, Results.of(summary(), []))
    assert result == "Failed" and line.baseline is None and "baseline has no value" in line.message


def test_growth_from_zero_is_an_unbounded_regression():
    assert regression_percent("failRatio", 0.0, 0.0) == 0.0
    assert regression_percent("failRatio", 0.0, 0.2) is None
    assert regression_percent("rps", 0.0, 10.0) == 0.0
    baseline = Results.of(summary(fail_ratio=0.0), [])
    _, [line] = evaluate([criterion(metric="failRatio", maxRegressionPercent=1000)], RUN, baseline)
    assert line.passed is False and line.regression_percent is None


@pytest.mark.parametrize(
    "fields",
    [
        {"metric": "p42Ms", "operator": "<", "threshold": 1},  # unknown metric
        {"metric": "p95Ms", "operator": "<<", "threshold": 1},  # unknown operator
        {"metric": "p95Ms", "operator": "<"},  # no threshold
        {"metric": "p95Ms", "threshold": 1},  # no operator
        {"metric": "p95Ms"},  # neither kind
        {"metric": "p95Ms", "operator": "<", "threshold": 1, "maxRegressionPercent": 5},  # both kinds
        {"metric": "p95Ms", "maxRegressionPercent": -1},
        {"metric": "p95Ms", "operator": "<", "threshold": -1},
        {"metric": "failRatio", "operator": "<", "threshold": 5},  # a ratio is at most 1
        {"metric": "p95Ms", "operator": "<", "threshold": 1, "endpoint": "/checkout"},  # no method
        {"metric": "p95Ms", "operator": "<", "threshold": 1, "endpoint": "GET"},  # no name
        {"metric": "p95Ms", "operator": "<", "threshold": 1, "endpoint": "GET  /x"},  # name starts with a space
        {"metric": "p95Ms", "operator": "<", "threshold": 1, "max_regression_percent": 5},  # snake_case is not the wire name
    ],
)
def test_malformed_criteria_are_rejected_when_parsed(fields):
    with pytest.raises(ValidationError):
        Criterion.model_validate(fields)


def test_endpoint_names_keep_spaces_and_custom_request_types():
    assert criterion(metric="p95Ms", operator="<", threshold=1, endpoint="grpc Checkout Service/Pay").endpoint == "grpc Checkout Service/Pay"
