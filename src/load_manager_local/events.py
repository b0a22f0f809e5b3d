"""API Gateway HTTP API (payload 2.0) events, as the real service builds them."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

# The local caller administers its own tenant (it may configure clusters).
DEFAULT_CLAIMS = {
    "sub": "local-user",
    "email": "local@localhost",
    "email_verified": "true",  # as Cognito's ID token (through HTTP API) says it: names the actor
    "custom:accountId": "local",
    # The one local user administers its tenant and operates its deployment (assigns event sources).
    "cognito:groups": "[load-manager-admins load-manager-operators]",
}


def http_event(
    method: str,
    path: str,
    *,
    route_key: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway v2 event. `claims`: what the Lambda authorizer passed on; None: no authorizer ran
    (an unauthenticated route)."""
    raw = body.encode() if isinstance(body, str) else body
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        # API Gateway joins repeated parameters with commas.
        params[key] = f"{params[key]},{value}" if key in params else value
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": headers.get("user-agent", "")},
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if params:
        event["queryStringParameters"] = params
    if path_parameters:
        event["pathParameters"] = path_parameters
    if claims is not None:
        attach_authorizer_context(event, claims)
    if raw is not None:
        try:
            if not _is_text(headers.get("content-type", "")):
                raise UnicodeDecodeError("utf-8", b"", 0, 1, "binary media type")
            event["body"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            # As API Gateway: a body that is not text (a zip, an image) reaches Lambda base64-encoded.
            event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    return event


def attach_authorizer_context(event: dict[str, Any], context: dict[str, Any]) -> None:
    """Where the function finds what the HTTP API's Lambda authorizer passed on (its simple
    response's `context`): `requestContext.authorizer.lambda` (identity.claims_of reads it)."""
    event["requestContext"]["authorizer"] = {"lambda": dict(context)}


def _is_text(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    binary = ("application/zip", "application/x-zip-compressed", "application/octet-stream", "application/gzip")
    return not (media in binary or media.startswith(("image/", "audio/", "video/")))


class LambdaContext:
    """The attributes of a Lambda context that Powertools and our handlers read."""

    def __init__(self, function_name: str, timeout_seconds: float = 30.0, memory_mb: int = 512):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = uuid.uuid4().hex
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
