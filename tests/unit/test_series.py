"""Downsampling: at most 1,000 points, percentiles never averaged, buckets aligned to the run's start."""

from __future__ import annotations

import pytest

from load_manager.analysis.series import MAX_POINTS, SeriesRow, bucket_of, downsample, step_for

ORIGIN = 1_700_000_000_000


def row(at: int, users=10, rps=100.0, fps=0.0, p50=10.0, p95=50.0, p99=90.0) -> SeriesRow:
    return SeriesRow(at, users, rps, fps, p50, p95, p99)


@pytest.mark.parametrize("span_ms", [1_000, 60_000, 3_600_000, 86_400_000, 86_400_000 + 7_200_000])
def test_the_default_step_fits_the_span_in_1000_points_whole_seconds(span_ms):
    step = step_for(span_ms)
    assert step % 1000 == 0 and step >= 1000
    # The most buckets a window of that span can touch, whatever its alignment to the grid.
    assert span_ms // step + 2 <= MAX_POINTS


def test_a_requested_step_is_kept_when_it_fits_and_raised_when_it_does_not():
    assert step_for(60_000, 5_000) == 5_000
    assert step_for(3_600_000, 1_000) == step_for(3_600_000) == 4_000


def test_one_hour_sampled_every_2_s_gives_at_most_1000_points():
    rows = [row(ORIGIN + i * 2000) for i in range(1800)]
    columns = downsample(rows, ORIGIN, step_for(3_600_000))
    assert 0 < len(columns) <= MAX_POINTS and len(columns) == 900
    assert len(columns.users) == len(columns.rps) == len(columns.p99_ms) == len(columns)


def test_a_bucket_keeps_the_highest_percentile_and_users_and_the_mean_rate():
    rows = [row(ORIGIN, users=5, rps=100, p50=10, p95=50, p99=80), row(ORIGIN + 2000, users=8, rps=200, fps=4, p50=12, p95=400, p99=500),
            row(ORIGIN + 4000, users=10, rps=300, fps=2, p50=11, p95=60, p99=None)]  # fmt: skip
    columns = downsample(rows, ORIGIN, 10_000)
    assert columns.time == [ORIGIN]
    assert (columns.users, columns.rps, columns.failures_per_second) == ([10], [200.0], [2.0])
    assert (columns.p50_ms, columns.p95_ms, columns.p99_ms) == ([12], [400], [500])  # the spike survives; never (50+400+60)/3


def test_buckets_are_aligned_to_the_origin_and_empty_ones_have_no_point():
    rows = [row(ORIGIN + 500), row(ORIGIN + 1500), row(ORIGIN + 9_000)]
    columns = downsample(rows, ORIGIN, 2000)
    assert columns.time == [ORIGIN, ORIGIN + 8000]
    assert bucket_of(ORIGIN + 1999, ORIGIN, 2000) == ORIGIN and bucket_of(ORIGIN - 1, ORIGIN, 2000) == ORIGIN - 2000


def test_missing_figures_stay_missing():
    columns = downsample([row(ORIGIN, p50=None, p95=None, p99=None, rps=None)], ORIGIN, 1000)
    assert (columns.p95_ms, columns.rps) == ([None], [None])
