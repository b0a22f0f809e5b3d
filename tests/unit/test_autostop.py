"""Auto-stop: the failure ratio over a window is a difference of cumulative counts."""

from __future__ import annotations

from load_manager.analysis.autostop import Counts, check, reference, window_start
from load_manager.models.criteria import AutoStopSettings

SETTINGS = AutoStopSettings.model_validate({"failRatio": 0.9, "windowSeconds": 60})
START = 1_000_000


def test_no_decision_before_a_whole_window_has_passed():
    now = START + 59_000
    assert reference(SETTINGS, now, START, None) is None
    assert check(SETTINGS, Counts(now, 500, 500), None) is None


def test_from_the_start_once_the_window_fits():
    now = START + 61_000
    ref = reference(SETTINGS, now, START, None)
    assert ref == Counts(START, 0, 0)
    reason = check(SETTINGS, Counts(now, 1000, 950), ref)
    assert reason is not None and reason.observed_fail_ratio == 0.95 and (reason.requests, reason.failures) == (1000, 950)
    assert (reason.threshold, reason.window_seconds, reason.at) == (0.9, 60, now)
    assert "95.0% of 1000 requests failed over the last 60 s" in reason.message


def test_the_window_is_a_difference_of_cumulative_counts_not_an_average_of_ratios():
    # 10,000 good requests first, then a window with 100 requests of which 95 failed: 95 %, not ~1 %.
    now = START + 600_000
    before = Counts(window_start(SETTINGS, now) - 1000, 10_000, 5)
    assert check(SETTINGS, Counts(now, 10_100, 100), reference(SETTINGS, now, START, before)).observed_fail_ratio == 0.95
    # ... and a window that recovered does not fire, however bad the run was before.
    bad_before = Counts(window_start(SETTINGS, now) - 1000, 10_000, 9_900)
    assert check(SETTINGS, Counts(now, 11_000, 9_950), bad_before) is None


def test_at_the_threshold_fires_below_it_does_not():
    ref = Counts(START, 0, 0)
    assert check(SETTINGS, Counts(START + 61_000, 100, 90), ref) is not None
    assert check(SETTINGS, Counts(START + 61_000, 100, 89), ref) is None


def test_no_traffic_disabled_or_absent_settings_never_fire():
    ref = Counts(START, 0, 0)
    assert check(SETTINGS, Counts(START + 61_000, 0, 0), ref) is None
    assert check(AutoStopSettings.model_validate({"enabled": False}), Counts(START + 61_000, 10, 10), ref) is None
    assert check(None, Counts(START + 61_000, 10, 10), ref) is None
    assert check(SETTINGS, Counts(START + 61_000, 10, 10), Counts(START, 20, 0)) is None  # counts went backwards
