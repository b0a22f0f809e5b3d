"""Where HTML reports go: S3 in AWS (REPORTS_BUCKET), the data directory locally.

Two per run: Locust's own report (`<run>.html`) and our results page (`<run>.results.html`).
Reading them back: locally the file, in AWS a short-lived presigned URL to redirect to.
"""

from __future__ import annotations

import os
from pathlib import Path

from load_manager.adapters import aws_clients
from load_manager.settings import get_settings

PRESIGNED_SECONDS = 300


def save_report(account_id: str, run_id: str, html: str) -> str:
    """Store Locust's report; returns its location (s3://... or a file path)."""
    return _save(account_id, f"{run_id}.html", html)


def save_results_report(account_id: str, run_id: str, html: str) -> str:
    """Store the results page rendered at Finalize; returns its location."""
    return _save(account_id, f"{run_id}.results.html", html)


def save_comparison_report(account_id: str, base_id: str, target_id: str, html: str) -> str:
    """Store a comparison page (rendered per request) to hand out a link to; returns its location."""
    return _save(account_id, f"compare/{base_id}_{target_id}.html", html)


def save_rendered_run_report(account_id: str, run_id: str, html: str) -> str:
    """Store a run's page rendered per request (no page kept at Finalize); never the Finalize copy."""
    return _save(account_id, f"rendered/{run_id}.results.html", html)


def in_s3() -> bool:
    """Reports go to S3 (in AWS), not to the data directory."""
    return bool(get_settings().reports_bucket)


def _save(account_id: str, filename: str, html: str) -> str:
    settings = get_settings()
    if settings.reports_bucket:
        key = f"reports/{account_id}/{filename}"
        aws_clients.client("s3").put_object(
            Bucket=settings.reports_bucket, Key=key, Body=html.encode("utf-8"),
            ContentType="text/html; charset=utf-8", ServerSideEncryption="AES256",
        )
        return f"s3://{settings.reports_bucket}/{key}"
    path = Path(settings.data_dir) / "reports" / account_id / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)  # a retried Finalize overwrites atomically
    return str(path)


def is_s3(location: str) -> bool:
    return location.startswith("s3://")


def presigned_url(location: str, expires_seconds: int = PRESIGNED_SECONDS) -> str:
    """A GET URL for an s3:// location, valid for `expires_seconds`."""
    bucket, _, key = location.removeprefix("s3://").partition("/")
    # SigV4: S3 refuses the legacy (v2) query signature botocore may still produce for presigned URLs.
    client = aws_clients.client("s3", signature_version="s3v4", s3={"addressing_style": "virtual"})
    return client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key, "ResponseContentType": "text/html; charset=utf-8"}, ExpiresIn=expires_seconds
    )


def read_local(location: str) -> str | None:
    """A report stored in the data directory, or None when it is gone (or not ours to read)."""
    path = Path(location).resolve()
    reports = (Path(get_settings().data_dir) / "reports").resolve()
    if not path.is_relative_to(reports) or not path.is_file():
        return None
    return path.read_text(encoding="utf-8")
