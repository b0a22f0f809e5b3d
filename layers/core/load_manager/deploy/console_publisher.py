"""Custom::ConsoleFiles: the web console published to its S3 bucket and served fresh by CloudFront.

Properties (template.yaml, ConsolePublisher):
  BucketName      the private bucket CloudFront reads through Origin Access Control
  DistributionId  the distribution to invalidate
  Config          the runtime configuration, written as config.json (the console's auth settings)
  FilesVersion    the console files layer's version: new files make a new version, hence an Update here

Create/Update: every published file (exactly `published_files()` of the console layer, /opt/console)
with its Content-Type and Cache-Control, `index.html` last so it never names an asset not yet there;
then config.json; then whatever an earlier version left is deleted; then one invalidation of `/*`.
Delete: the bucket is emptied, so CloudFormation can delete it. The physical id names the bucket, so
an update never deletes what it has just published; only a new bucket replaces it (and the old one,
being deleted, is emptied).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from load_manager.deploy.console_files import (
    CONFIG_CACHE_CONTROL,
    CONFIG_NAME,
    FILE_CACHE_CONTROL,
    check_config,
    content_type,
    published_files,
)
from load_manager.deploy.custom_resource import Outcome, Request
from load_manager.observability import logger

DEFAULT_SOURCE = "/opt/console"  # where the ConsoleFilesLayer puts the files
DELETE_BATCH = 1000  # DeleteObjects' limit


class PublishError(Exception):
    """The console cannot be published as asked (missing files, a refused delete)."""


@dataclass
class ConsolePublisher:
    s3: Any
    cloudfront: Any
    source: Path

    def __call__(self, request: Request) -> Outcome:
        bucket = _required(request.properties, "BucketName")
        if request.request_type == "Delete":
            removed = self.empty(bucket)
            return Outcome(request.physical_id or f"console-files:{bucket}", {"Removed": str(removed)})
        config = check_config(request.properties.get("Config"))
        published = self.publish(bucket, config)
        stale = self.remove_stale(bucket, keep=set(published))
        invalidation = self.invalidate(_required(request.properties, "DistributionId"), request.request_id)
        logger.info("console published", extra={"bucket": bucket, "files": len(published), "removed": stale, "invalidation": invalidation})
        return Outcome(f"console-files:{bucket}", {"Files": str(len(published)), "Removed": str(len(stale)), "InvalidationId": invalidation})

    def publish(self, bucket: str, config: Mapping[str, Any]) -> list[str]:
        """Upload the files and config.json; the keys written."""
        files = sorted(published_files(self.source), key=lambda item: item[0] == "index.html")
        if not files or files[-1][0] != "index.html":
            raise PublishError(f"no console files in {self.source} (the console files layer is missing or empty)")
        for name, path in files:
            self.s3.put_object(Bucket=bucket, Key=name, Body=path.read_bytes(), ContentType=content_type(name), CacheControl=FILE_CACHE_CONTROL)
        body = json.dumps(config, separators=(",", ":")).encode()
        self.s3.put_object(Bucket=bucket, Key=CONFIG_NAME, Body=body, ContentType=content_type(CONFIG_NAME), CacheControl=CONFIG_CACHE_CONTROL)
        return [name for name, _ in files] + [CONFIG_NAME]

    def remove_stale(self, bucket: str, keep: set[str]) -> list[str]:
        stale = [key for key in self._keys(bucket) if key not in keep]
        self._delete(bucket, stale)
        return stale

    def empty(self, bucket: str) -> int:
        try:
            keys = list(self._keys(bucket))
        except self.s3.exceptions.NoSuchBucket:
            return 0  # already gone: nothing to empty
        self._delete(bucket, keys)
        return len(keys)

    def invalidate(self, distribution_id: str, request_id: str) -> str:
        # The request id as caller reference: a retried request makes no second invalidation.
        answer = self.cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": request_id},
        )
        return str(answer["Invalidation"]["Id"])

    def _keys(self, bucket: str) -> Iterator[str]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                yield item["Key"]

    def _delete(self, bucket: str, keys: Iterable[str]) -> None:
        keys = list(keys)
        for start in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
            answer = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise PublishError(f"could not delete {len(answer['Errors'])} object(s), e.g. {first.get('Key')}: {first.get('Message')}")


def _required(properties: Mapping[str, Any], name: str) -> str:
    value = properties.get(name)
    if not isinstance(value, str) or not value:
        raise PublishError(f"the resource property {name} is required")
    return value


def handle(request: Request) -> Outcome:
    """The Lambda's entry for Custom::ConsoleFiles: AWS clients made on first use, never at import."""
    import boto3  # lazy: boto3 costs 119 ms at import (bench/cold_import.py --lazy)

    publisher = ConsolePublisher(boto3.client("s3"), boto3.client("cloudfront"), Path(os.environ.get("CONSOLE_FILES_DIR", DEFAULT_SOURCE)))
    return publisher(request)
