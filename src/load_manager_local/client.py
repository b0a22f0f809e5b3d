"""A small client of the Load Manager HTTP API (any deployment: a local `serve`, or API Gateway),
for the CLI. Errors come back as ApiError with the API's code and message."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import requests

DEFAULT_API_URL = "http://127.0.0.1:8080"
TIMEOUT_SECONDS = 30


class ApiError(Exception):
    """The API answered an error (or could not be reached: status 0)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details


@dataclass
class ApiClient:
    base_url: str
    token: str | None = None

    @classmethod
    def from_options(cls, api_url: str | None, token: str | None) -> ApiClient:
        url = api_url or os.environ.get("LOAD_MANAGER_API_URL") or DEFAULT_API_URL
        return cls(url.rstrip("/"), token or os.environ.get("LOAD_MANAGER_TOKEN") or None)

    def __post_init__(self) -> None:
        self.session = requests.Session()
        if self.token:
            self.session.headers["Authorization"] = f"Bearer {self.token}"

    def get(self, path: str, **params: Any) -> Any:
        return self._json("GET", path, params=_query(params))

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self._json("POST", path, json=body if body is not None else {}, headers=headers)

    def put(self, path: str, body: Any) -> Any:
        return self._json("PUT", path, json=body)

    def patch(self, path: str, body: Any) -> Any:
        return self._json("PATCH", path, json=body)

    def delete(self, path: str) -> Any:
        return self._json("DELETE", path)

    def text(self, path: str, **params: Any) -> str:
        """A text answer (an HTML page). A redirect (a presigned S3 URL in AWS) is followed; the
        token is not sent to the other host."""
        return self._send("GET", path, params=_query(params)).text

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        return response.json() if response.content else None

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, self.base_url + path, timeout=TIMEOUT_SECONDS, **kwargs)
        except requests.RequestException as exc:
            raise ApiError(0, "Unreachable", f"cannot reach the API at {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            raise _error(response)
        return response


def _query(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


def _error(response: requests.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = body.get("code") or f"HTTP{response.status_code}"
    message = body.get("message") or response.reason or "request failed"
    return ApiError(response.status_code, str(code), str(message), body.get("details"))
