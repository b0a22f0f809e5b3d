"""Where Locust's HTML reports go: S3 in AWS, the data directory locally."""

from __future__ import annotations

import os
from pathlib import Path

from load_manager.settings import get_settings


def save_report(account_id: str, run_id: str, html: str) -> str:
    """Store the report; returns its location (s3://... or a file path)."""
    settings = get_settings()
    if settings.reports_bucket:
        import boto3

        key = f"reports/{account_id}/{run_id}.html"
        boto3.client("s3").put_object(
            Bucket=settings.reports_bucket, Key=key, Body=html.encode("utf-8"),
            ContentType="text/html; charset=utf-8", ServerSideEncryption="AES256",
        )
        return f"s3://{settings.reports_bucket}/{key}"
    directory = Path(settings.data_dir) / "reports" / account_id
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{run_id}.html"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)  # a retried Finalize overwrites atomically
    return str(path)
