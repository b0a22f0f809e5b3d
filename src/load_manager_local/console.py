"""The web console's static files, as `load-manager serve` hands them out next to the API.

Paths under `/v1/` and `/aws/` are the API's (API Gateway's, and the local AWS emulations'); every
other `GET`/`HEAD` is the console's: a published file with its content type, `/config.json` (the
runtime configuration that a deploy writes in AWS), or, for any path that is not a file, `index.html`
so that every view has its own URL (history API routing in the browser).

Files are served with an ETag (304 on `If-None-Match`), `Cache-Control: no-cache` (always revalidated:
names carry no content hash) and gzip when the client accepts it. The same `published_files()` list
is what a deploy copies to S3.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from load_manager_local.api import ApiResponse

API_PREFIXES = ("/v1", "/aws")
# What the browser may fetch; everything else under console/ (package.json, tools/, vendor-src/,
# the tests' vendor/test/) is build material and is neither served nor published.
PUBLISHED = ("index.html", "app.css", "favicon.svg", "src/", "vendor/")
UNPUBLISHED = ("vendor/test/",)
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
COMPRESSIBLE = (".html", ".js", ".css", ".json", ".svg", ".md", ".txt")
GZIP_MIN_BYTES = 1024
# Same origin only; CodeMirror and uPlot set inline styles, nothing runs inline scripts.
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "content-security-policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
}
LOCAL_CONFIG = {"apiBase": "", "auth": {"mode": "none"}}


def is_api_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in API_PREFIXES)


def is_published(relative: str) -> bool:
    return relative.startswith(PUBLISHED) and not relative.startswith(UNPUBLISHED)


def published_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(URL path without the leading slash, file) for every file the console ships."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and is_published(relative):
            yield relative, path


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
        self.config = json.dumps(config if config is not None else LOCAL_CONFIG).encode()
        self._cache: dict[Path, _Encoded] = {}
        self._lock = threading.Lock()

    def respond(self, path: str, headers: Mapping[str, str]) -> ApiResponse:
        """The answer to a GET (or HEAD) of a non-API path."""
        if path == "/config.json":
            return ApiResponse(200, {"content-type": "application/json", "cache-control": "no-store", **SECURITY_HEADERS}, self.config)
        file = self._file_for(path)
        if file is None:
            return ApiResponse(404, {"content-type": "text/plain; charset=utf-8", **SECURITY_HEADERS}, b"Not Found")
        return self._file_response(file, headers)

    def _file_for(self, path: str) -> Path | None:
        relative = PurePosixPath(unquote(path)).as_posix().lstrip("/")
        candidate = (self.root / relative).resolve()
        inside = candidate == self.root or self.root in candidate.parents
        if inside and candidate.is_file() and is_published(candidate.relative_to(self.root).as_posix()):
            return candidate
        if PurePosixPath(relative).suffix in CONTENT_TYPES:
            return None  # a missing asset is a 404: the page would not make sense of index.html
        return self.root / "index.html"  # a view's URL: the browser-side router shows it

    def _file_response(self, file: Path, headers: Mapping[str, str]) -> ApiResponse:
        encoded = self._encoded(file)
        lowered = {k.lower(): v for k, v in headers.items()}
        use_gzip = encoded.gzipped is not None and "gzip" in lowered.get("accept-encoding", "")
        etag = f'"{encoded.etag}-gz"' if use_gzip else f'"{encoded.etag}"'
        out = {
            "content-type": CONTENT_TYPES.get(file.suffix, "application/octet-stream"),
            "cache-control": "no-cache",
            "etag": etag,
            "vary": "Accept-Encoding",
            **SECURITY_HEADERS,
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
