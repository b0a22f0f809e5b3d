"""The web console's static files, as `load-manager serve` hands them out next to the API.

Paths under `/v1/` and `/aws/` are the API's (API Gateway's, and the local AWS emulations'); every
other `GET`/`HEAD` is the console's: a published file with its content type, `/config.json` (the
runtime configuration that a deploy writes in AWS), or, for any path that is not a file, `index.html`
so that every view has its own URL (history API routing in the browser).

Files are served with an ETag (304 on `If-None-Match`), `Cache-Control: no-cache` (always revalidated:
names carry no content hash) and gzip when the client accepts it. Which files ship, their types and
cache headers, and the CSP come from `load_manager.deploy.console_files`: the same rule the console
publisher applies when a deploy copies them to S3 behind CloudFront. `serve --console-config FILE`
answers `/config.json` with that file instead of the local `{"auth": {"mode": "none"}}`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from load_manager.deploy.console_files import (
    CONFIG_CACHE_CONTROL,
    CONTENT_TYPES,
    FILE_CACHE_CONTROL,
    LOCAL_CONFIG,
    content_security_policy,
    content_type,
    is_asset_path,
    is_published,
    published_files,
)
from load_manager_local.api import ApiResponse

__all__ = ["CONTENT_TYPES", "ConsoleFiles", "is_api_path", "is_published", "published_files"]

API_PREFIXES = ("/v1", "/aws")
COMPRESSIBLE = (".html", ".js", ".css", ".json", ".svg", ".md", ".txt")
GZIP_MIN_BYTES = 1024


def security_headers(config: Mapping[str, Any]) -> dict[str, str]:
    # The same headers CloudFront's response headers policy adds in AWS (template.yaml).
    return {
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
        "content-security-policy": content_security_policy(config),
    }



def is_api_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES)


@dataclass(frozen=True)
class _Encoded:
    """One file's bytes, ready to send, kept until the file changes."""

    version: tuple[int, int]  # (mtime_ns, size)
    body: bytes
    gzipped: bytes | None
    etag: str


class ConsoleFiles:
    def __init__(self, root: Path, config: Mapping[str, Any] | None = None):
        self.root = root.resolve()
        config = config if config is not None else LOCAL_CONFIG
        self.config = json.dumps(config).encode()
        self.headers = security_headers(config)
        self._cache: dict[Path, _Encoded] = {}
        self._lock = threading.Lock()

    def respond(self, path: str, headers: Mapping[str, str]) -> ApiResponse:
        """The answer to a GET (or HEAD) of a non-API path."""
        if path == "/config.json":
            return ApiResponse(200, {"content-type": "application/json", "cache-control": CONFIG_CACHE_CONTROL, **self.headers}, self.config)
        file = self._file_for(path)
        if file is None:
            return ApiResponse(404, {"content-type": "text/plain; charset=utf-8", **self.headers}, b"Not Found")
        return self._file_response(file, headers)

    def _file_for(self, path: str) -> Path | None:
        relative = PurePosixPath(unquote(path)).as_posix().lstrip("/")
        candidate = (self.root / relative).resolve()
        inside = candidate == self.root or self.root in candidate.parents
        if inside and candidate.is_file() and is_published(candidate.relative_to(self.root).as_posix()):
            return candidate
        if is_asset_path(relative):
            return None  # a missing asset is a 404: the page would not make sense of index.html
        return self.root / "index.html"  # a view's URL: the browser-side router shows it

    def _file_response(self, file: Path, headers: Mapping[str, str]) -> ApiResponse:
        encoded = self._encoded(file)
        lowered = {k.lower(): v for k, v in headers.items()}
        use_gzip = encoded.gzipped is not None and "gzip" in lowered.get("accept-encoding", "")
        etag = f'"{encoded.etag}-gz"' if use_gzip else f'"{encoded.etag}"'
        out = {
            "content-type": content_type(file.name),
            "cache-control": FILE_CACHE_CONTROL,
            "etag": etag,
            "vary": "Accept-Encoding",
            **self.headers,
        }
        if etag in [tag.strip() for tag in lowered.get("if-none-match", "").split(",")]:
            return ApiResponse(304, {k: v for k, v in out.items() if k != "content-type"}, b"")
        if use_gzip and encoded.gzipped is not None:
            return ApiResponse(200, {**out, "content-encoding": "gzip"}, encoded.gzipped)
        return ApiResponse(200, out, encoded.body)

    def _encoded(self, file: Path) -> _Encoded:
        stat = file.stat()
        version = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(file)
        if cached is not None and cached.version == version:
            return cached
        body = file.read_bytes()
        compress = file.suffix in COMPRESSIBLE and len(body) >= GZIP_MIN_BYTES
        encoded = _Encoded(
            version=version,
            body=body,
            gzipped=gzip.compress(body, compresslevel=6, mtime=0) if compress else None,
            etag=hashlib.sha256(body).hexdigest()[:20],
        )
        with self._lock:
            self._cache[file] = encoded
        return encoded
