"""Where a launch's web API secret lives between invocations of the run_workflow Lambda.

The master refuses every web API request without the launch's secret (bootstrap: the web guard).
The secret is random per launch and must reach two places:
- the master: inside the runtime archive it downloads by presigned URL (bundle_layout), which the
  bootstrap keeps out of the bundle's folder. Not in RunTask's overrides or the task definition:
  DescribeTasks shows those to anyone allowed to describe tasks;
- every later invocation that talks to the master (poll, stop, collect): the handle is stored in the
  run record, so the secret is not put there. It is an S3 object beside the archive
  (`scripts/<run>/<launch>/web-secret`, SSE, the bucket private), read once per execution
  environment and launch, and deleted with the archive at teardown (the bucket's lifecycle rule
  expires `scripts/` after 7 days if teardown never ran).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from .tasks import S3_GONE_ERRORS, AwsApiError, aws_call, key_part

SECRET_OBJECT = "web-secret"
_CACHED = 64
_cache: OrderedDict[tuple[str, str], str] = OrderedDict()


def secret_key(run_id: str, launch_id: str) -> str:
    return f"scripts/{key_part(run_id)}/{launch_id}/{SECRET_OBJECT}"


def store_secret(s3: Any, bucket: str, key: str, secret: str) -> None:
    aws_call(s3.put_object, Bucket=bucket, Key=key, Body=secret.encode("ascii"), ContentType="text/plain", ServerSideEncryption="AES256")
    _remember(bucket, key, secret)


def read_secret(s3: Any, bucket: str, key: str) -> str | None:
    """The launch's secret; None once it is gone (torn down, or a launch from before secrets)."""
    if (bucket, key) in _cache:
        _cache.move_to_end((bucket, key))
        return _cache[(bucket, key)]
    try:
        body = aws_call(s3.get_object, Bucket=bucket, Key=key)["Body"].read()
    except AwsApiError as exc:
        if exc.code in S3_GONE_ERRORS:
            return None
        raise
    secret = body.decode("ascii").strip()
    _remember(bucket, key, secret)
    return secret


def forget_secret(bucket: str, key: str) -> None:
    _cache.pop((bucket, key), None)


def _remember(bucket: str, key: str, secret: str) -> None:
    _cache[(bucket, key)] = secret
    _cache.move_to_end((bucket, key))
    while len(_cache) > _CACHED:
        _cache.popitem(last=False)
