"""Report pages as the API serves them: a run's results page, Locust's own report and a comparison
page, each as HTML to answer with or (in AWS) a presigned S3 URL to redirect to; and links to them
(`?format=link`). The pages are rendered by load_manager.report; stored by adapters.reports."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from load_manager.adapters import reports
from load_manager.errors import ReportNotFoundError
from load_manager.identity import Caller
from load_manager.models.results import ReportLink, RunComparison
from load_manager.models.runs import Run
from load_manager.report import render
from load_manager.store import Stores
from load_manager.usecases import results, run_report, series
from load_manager.usecases.reads import get_run


@dataclass(frozen=True)
class Page:
    """An HTML page to answer with, or a URL to redirect to (a presigned S3 URL in AWS)."""

    html: str | None = None
    redirect: str | None = None


def report(stores: Stores, caller: Caller, run_id: str) -> Page:
    return _run_page(stores, get_run(stores, caller, run_id))


def _run_page(stores: Stores, run: Run) -> Page:
    location = run.results_report_location
    if location and reports.is_s3(location):
        return Page(redirect=reports.presigned_url(location) + _locust_fragment(run))
    stored = reports.read_local(location) if location else None
    return Page(html=stored if stored is not None else run_report.render_run_report(stores, run))


def _locust_fragment(run: Run) -> str:
    """The page is static; the fragment (never sent to S3) hands it a fresh link to Locust's report."""
    if not run.report_location or not reports.is_s3(run.report_location):
        return ""
    return f"#locust={quote(reports.presigned_url(run.report_location), safe='')}"


def locust_report(stores: Stores, caller: Caller, run_id: str) -> Page:
    run = get_run(stores, caller, run_id)
    location = run.report_location
    if location and reports.is_s3(location):
        return Page(redirect=reports.presigned_url(location))
    html = reports.read_local(location) if location else None
    if html is None:
        raise ReportNotFoundError(f"run {run_id} has no Locust report (it is {run.status})")
    return Page(html=html)


def comparison_report(stores: Stores, caller: Caller, base_id: str | None, target_id: str) -> Page:
    return Page(html=_comparison_page(stores, caller, results.compare(stores, caller, base_id, target_id)))


def _comparison_page(stores: Stores, caller: Caller, comparison: RunComparison) -> str:
    base, target = (get_run(stores, caller, side.id) for side in (comparison.base, comparison.target))
    test = stores.load_tests.get(caller.account_id, target.load_test_id)
    sides = [series.series_of(stores, run, series.SeriesQuery()) for run in (base, target)]
    return render.comparison_page(comparison, test.name if test else None, *sides)


# ---- links to report pages (`?format=link`): a tab the console opens carries no token ----------------


def report_link(stores: Stores, caller: Caller, run_id: str) -> ReportLink:
    """In AWS the stored page's presigned URL (what GET …/report redirects to); a page rendered per
    request (no page was kept at Finalize) is stored first. Locally the page's API path."""
    run = get_run(stores, caller, run_id)
    if not reports.in_s3():
        return _local_link(f"/v1/runs/{quote(run.id, safe='')}/report")
    page = _run_page(stores, run)
    if page.redirect:
        return _presigned_link(page.redirect)
    return _stored_link(reports.save_rendered_run_report(run.account_id, run.id, page.html or ""), _locust_fragment(run))


def locust_report_link(stores: Stores, caller: Caller, run_id: str) -> ReportLink:
    page = locust_report(stores, caller, run_id)  # a run without Locust's report: 404, as the page itself
    if page.redirect:
        return _presigned_link(page.redirect)
    return _local_link(f"/v1/runs/{quote(run_id, safe='')}/locust-report")


def comparison_report_link(stores: Stores, caller: Caller, base_id: str | None, target_id: str) -> ReportLink:
    """In AWS the page is rendered and stored (one object per account and pair of runs, overwritten:
    final runs render the same page) and its presigned URL answered; locally the page's API URL."""
    comparison = results.compare(stores, caller, base_id, target_id)
    base, target = comparison.base.id, comparison.target.id
    if not reports.in_s3():
        return _local_link(f"/v1/runs/compare/report?{urlencode({'base': base, 'target': target})}")
    html = _comparison_page(stores, caller, comparison)
    return _stored_link(reports.save_comparison_report(caller.account_id, base, target, html))


def _presigned_link(url: str) -> ReportLink:
    return ReportLink(url=url, expires_in_seconds=reports.PRESIGNED_SECONDS)


def _stored_link(location: str, fragment: str = "") -> ReportLink:
    return _presigned_link(reports.presigned_url(location) + fragment)


def _local_link(path: str) -> ReportLink:
    return ReportLink(url=path, expires_in_seconds=None)
