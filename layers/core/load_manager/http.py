"""HTTP plumbing shared by every API function: the resolver, error mapping, caller, responses.

Domain errors become `{"code", "message", "details"}` here and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.logging import correlation_paths
from pydantic import BaseModel

from load_manager.access import PUBLIC, refusal, required_role, role_at_least
from load_manager.errors import LoadManagerError
from load_manager.identity import Caller, caller_from_event
from load_manager.models.base import IDENTITY_FIELDS, ErrorResponse
from load_manager.observability import count, logger, metrics
from load_manager.store import get_stores

JSON = "application/json"


def error_docs(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI `responses` entries for the error statuses a route can answer."""
    docs: dict[int, OpenAPIResponse] = {}
    for status in statuses:
        docs[status] = {
            "description": HTTPStatus(status).phrase,
            "content": {JSON: {"model": ErrorResponse}},
        }
    return docs


def responses(model: type[BaseModel] | None, *errors: int, status: int = 200, description: str = "OK") -> dict[int, OpenAPIResponse]:
    """A route's documented responses: its success (with its model) and its error statuses."""
    success: OpenAPIResponse = {"description": description}
    if model is not None:
        success["content"] = {JSON: {"model": model}}
    return {status: success, **error_docs(*errors)}


# Every authenticated route can answer these.
COMMON_ERRORS = (400, 401, 403, 422)
# ... and every route with a JSON body these.
BODY_ERRORS = (*COMMON_ERRORS, 415)


def json_response(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A response whose body the resolver validates against the route's model and serialises by alias."""
    return Response(status_code=status, content_type=JSON, body=model, headers=headers)


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    body = ErrorResponse(code=code, message=message, details=details).model_dump(by_alias=True, exclude_none=True)
    return Response(status_code=status, content_type=JSON, body=body)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        # Drop the "body"/"query" prefix noise but keep where the problem is.
        details.append({"location": loc, "type": error.get("type"), "message": error.get("msg", "")})
    return details


def _validation_error(exc: RequestValidationError) -> Response:
    details = _validation_details(exc)
    if any(d["type"] == "json_invalid" for d in details):
        return error_response(400, "MalformedJson", "the request body is not valid JSON")
    smuggled = sorted({d["location"][-1] for d in details if d["type"] == "extra_forbidden" and d["location"][-1] in IDENTITY_FIELDS})
    if smuggled:
        return error_response(
            422, "IdentityFieldNotAllowed",
            f"{', '.join(smuggled)} {'is' if len(smuggled) == 1 else 'are'} taken from the caller's token and cannot be set in the body",
            details,
        )
    first = details[0] if details else {"location": [], "message": "invalid request"}
    where = ".".join(p for p in first["location"] if p not in ("body",)) or "request"
    return error_response(422, "ValidationError", f"{where}: {first['message']}", details)


def build_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)

    @app.exception_handler(LoadManagerError)
    def _domain_error(exc: LoadManagerError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    def _request_invalid(exc: RequestValidationError) -> Response:
        return _validation_error(exc)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_media(_exc: RequestUnsupportedContentType) -> Response:
        return error_response(415, "UnsupportedMediaType", "send the body as JSON with Content-Type: application/json")

    @app.exception_handler(UnicodeDecodeError)
    def _body_not_utf8(_exc: UnicodeDecodeError) -> Response:
        return error_response(400, "MalformedBody", "the request body is not UTF-8 text")

    @app.exception_handler(Exception)
    def _bug(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(500, "InternalError", "internal error; the request id is in the logs")

    @app.not_found
    def _not_found(_exc: Exception) -> Response:
        return error_response(404, "RouteNotFound", "no such route")

    return app


def api_function(
    router: APIGatewayHttpRouter, binary_routes: dict[str, frozenset[str]] | None = None
) -> tuple[APIGatewayHttpResolver, Callable[[dict, Any], dict]]:
    """An API function's resolver (with the shared error mapping) and its Lambda handler.

    `binary_routes`: route key (`PUT /v1/…/archive`) -> the media types its body may have instead
    of JSON; the handler reads such a body with `raw_body`."""
    app = build_resolver()
    app.include_router(router)
    binary = binary_routes or {}

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @metrics.log_metrics
    def lambda_handler(event: dict, context: Any) -> dict:
        event = _encode_greedy_path(event)
        response = (
            _refuse_below_role(event)
            or _reject_unexpected_body(event, binary.get(event.get("routeKey", "")))
            or app.resolve(event, context)
        )
        response = _within_lambda_limit(response, str(event.get("routeKey", "")))
        count(f"Api{int(response.get('statusCode', 200)) // 100}xx")  # Api2xx, Api4xx, Api5xx
        return response

    return app, lambda_handler


# Lambda answers a synchronous invoke with at most 6 MB (its error names 6,291,556 bytes; API Gateway's
# 10 MB is not the binding limit). Past it the function fails after the work is done and API Gateway
# answers a bare 502. Routes bound what they answer (diffs are cut, lists paginated); this is the net.
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024


def response_bytes(response: dict) -> int:
    """The size of the response as Lambda serialises it (non-ASCII escaped: an upper bound)."""
    return len(json.dumps(response))


def _within_lambda_limit(response: dict, route_key: str) -> dict:
    """The response, or a 422 ResponseTooLarge in its place when it would exceed Lambda's limit."""
    body = response.get("body")
    # A string at most doubles when JSON-escaped, or x12 for non-ASCII text: small bodies skip the measure.
    if not isinstance(body, str) or len(body) * 12 + 65_536 < LAMBDA_RESPONSE_LIMIT:
        return response
    size = response_bytes(response)
    if size <= LAMBDA_RESPONSE_LIMIT:
        return response
    logger.error("an answer over Lambda's response limit was refused", extra={"routeKey": route_key, "responseBytes": size})
    count("ResponseTooLarge")
    error = ErrorResponse(
        code="ResponseTooLarge",
        message=f"the answer would be {size:,} bytes, over the {LAMBDA_RESPONSE_LIMIT:,} an API answer can carry; "
        "ask for less (a page, a window, one file)",
        details={"responseBytes": size, "limitBytes": LAMBDA_RESPONSE_LIMIT},
    )
    return {"statusCode": 422, "headers": {"Content-Type": JSON}, "body": error.model_dump_json(by_alias=True, exclude_none=True)}


def _error_dict(status: int, code: str, message: str, details: Any = None) -> dict:
    body = ErrorResponse(code=code, message=message, details=details)
    return {"statusCode": status, "headers": {"Content-Type": JSON}, "body": body.model_dump_json(by_alias=True, exclude_none=True)}


def _refuse_below_role(event: dict) -> dict | None:
    """401/403 before the handler (and before the body is even validated) for a caller below the
    role its route needs (access.ROUTE_ROLES). A route missing from the table is refused: fail closed."""
    route_key = str(event.get("routeKey") or "")
    need = required_role(route_key)
    if need == PUBLIC:
        return None
    if need is None:
        logger.error("a route without a line in access.ROUTE_ROLES was refused", extra={"routeKey": route_key})
        return _error_dict(403, "Forbidden", f"the route {route_key!r} declares no role", {"requiredRole": None, "role": None})
    try:
        caller = caller_from_event(event)
        confirm_token(caller)  # a revoked or expired token is a 401 before any role check
    except LoadManagerError as exc:
        return _error_dict(exc.status, exc.code, exc.message, exc.details)
    if role_at_least(caller.role, need):
        return None
    refused = refusal(caller.role, need)
    return _error_dict(refused.status, refused.code, refused.message, refused.details)


def confirm_token(caller: Caller) -> None:
    """For an API token caller, that its token is live now (usecases/tokens.confirm_active): the
    authorizer caches its answers, a DELETE /v1/tokens/{tokenId} must not wait for that cache."""
    if caller.token_id is None:
        return
    from load_manager.usecases.tokens import confirm_active  # lazy: token callers only; costs 12 ms at import (bench/cold_import.py)

    confirm_active(get_stores(), caller)


def _reject_unexpected_body(event: dict, binary_media: frozenset[str] | None) -> dict | None:
    """415 for a body that is not JSON, before Powertools tries to parse it as a form (a multipart
    type without a boundary makes it raise). Normalises the media type's case for it too. A route
    that takes a binary body (`binary_media`) takes those media types and nothing else."""
    headers = event.get("headers") or {}
    name = next((k for k in headers if k.lower() == "content-type"), None)
    media = (headers.get(name) or "").split(";")[0].strip().lower() if name else ""
    if binary_media is not None:
        if media in binary_media:
            return None
        wanted = " or ".join(sorted(binary_media))
        body = ErrorResponse(code="UnsupportedMediaType", message=f"send the body with Content-Type: {wanted}")
        return {"statusCode": 415, "headers": {"Content-Type": JSON}, "body": body.model_dump_json(by_alias=True, exclude_none=True)}
    if not event.get("body"):
        return None
    if media in ("", "application/json"):
        if name:
            headers[name] = "application/json"
        return None
    body = ErrorResponse(code="UnsupportedMediaType", message="send the body as JSON with Content-Type: application/json")
    return {"statusCode": 415, "headers": {"Content-Type": JSON}, "body": body.model_dump_json(by_alias=True, exclude_none=True)}


def _encode_greedy_path(event: dict) -> dict:
    """API Gateway's greedy `{name+}` parameter may hold slashes, which a Powertools `<name>` never
    matches: the path's tail is percent-encoded into one segment (the handler unquotes it)."""
    route_key = str(event.get("routeKey") or "")
    if not route_key.endswith("+}"):
        return event
    name = route_key.rsplit("{", 1)[1][:-2]
    value = (event.get("pathParameters") or {}).get(name)
    parts = str(event.get("rawPath") or "").split("/")
    keep = route_key.split(" ", 1)[-1].rsplit("/", 1)[0].count("/") + 1  # segments before `{name+}`
    if value is None or len(parts) <= keep:
        return event
    head = "/".join(parts[:keep])
    return {**event, "rawPath": f"{head}/{quote(value, safe='')}"}


def raw_body(app: APIGatewayHttpResolver) -> bytes:
    """The request body as bytes (API Gateway hands binary bodies over base64-encoded)."""
    event = app.current_event.raw_event
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except (binascii.Error, ValueError):
            return b""
    return body.encode("utf-8", "surrogateescape")


def binary_response(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        status_code=200, content_type=media_type, body=body,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, max-age=31536000, immutable"},
    )  # fmt: skip


def current_caller(app: APIGatewayHttpResolver) -> Caller:
    return caller_from_event(app.current_event.raw_event)

