"""Locust's HTML report goes to S3 in AWS (REPORTS_BUCKET) and to the data directory locally."""

from __future__ import annotations

import boto3
from moto import mock_aws

from load_manager.adapters.reports import save_report
from load_manager.settings import set_settings


def test_report_goes_to_the_data_directory_locally(tmp_path, monkeypatch):
    monkeypatch.setenv("LOAD_MANAGER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("REPORTS_BUCKET", raising=False)
    set_settings(None)
    try:
        location = save_report("acct", "run1", "<html>report</html>")
        assert location == str(tmp_path / "reports" / "acct" / "run1.html")
        assert open(location).read() == "<html>report</html>"
        save_report("acct", "run1", "<html>again</html>")  # a retried Finalize overwrites
        assert open(location).read() == "<html>again</html>"
    finally:
        set_settings(None)


@mock_aws
def test_report_goes_to_s3_when_a_bucket_is_configured(monkeypatch):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="lm-artifacts")
    monkeypatch.setenv("REPORTS_BUCKET", "lm-artifacts")
    set_settings(None)
    try:
        location = save_report("acct", "run1", "<html>report</html>")
        assert location == "s3://lm-artifacts/reports/acct/run1.html"
        stored = boto3.client("s3", region_name="us-east-1").get_object(Bucket="lm-artifacts", Key="reports/acct/run1.html")
        assert stored["Body"].read() == b"<html>report</html>" and stored["ContentType"].startswith("text/html")
    finally:
        set_settings(None)
