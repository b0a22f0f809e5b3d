"""A run's results page: rendered from the final run and its series, kept once the run is final
(Finalize, MarkFailed), and rendered on demand when none was kept. Also where Locust's own HTML
report is kept. Storing goes through adapters.reports (S3 in AWS, the data directory locally)."""

from __future__ import annotations

from load_manager.adapters import reports
from load_manager.models.runs import Run
from load_manager.observability import logger
from load_manager.report import render
from load_manager.store import Stores
from load_manager.usecases import series


def render_run_report(stores: Stores, run: Run) -> str:
    test = stores.load_tests.get(run.account_id, run.load_test_id)
    metrics = series.series_of(stores, run, series.SeriesQuery())
    return render.run_page(run, test.name if test else None, metrics, locust_href=f"/v1/runs/{run.id}/locust-report")


def finalize_report(stores: Stores, run: Run) -> None:
    """Keep the final run's default series (encoded once) and its report page, and record where the
    page is. Never fails the run: without them, the API computes both on demand."""
    try:
        series.store_final_series(stores, run)
        location = reports.save_results_report(run.account_id, run.id, render_run_report(stores, run))
        stores.runs.update(run.account_id, run.id, {"results_report_location": location}, when_status_in={run.status})
    except Exception:
        logger.exception("the results report could not be stored", extra={"runId": run.id})


def keep_locust_report(run: Run, html: str) -> str:
    """Store Locust's own HTML report of the run; returns its location."""
    return reports.save_report(run.account_id, run.id, html)
