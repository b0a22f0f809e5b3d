"""The web console's files: which ones ship, how each is served, and its runtime configuration.

One rule for both places the console is served from: `load-manager serve` (load_manager_local.console)
and the S3 bucket behind CloudFront that the console publisher fills at deploy. Standard library
only and no package-relative import: the console layer's build (layers/console/) loads this file by
path, outside any virtual environment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

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
CONFIG_NAME = "config.json"
# Names carry no content hash, so every file is revalidated (ETag) on each use; the configuration
# is never stored at all.
FILE_CACHE_CONTROL = "no-cache"
CONFIG_CACHE_CONTROL = "no-store"
LOCAL_CONFIG: dict[str, Any] = {"apiBase": "", "auth": {"mode": "none"}}
AUTH_MODES = ("none", "cognito")
# Same origin only; CodeMirror and uPlot set inline styles, nothing runs inline scripts.
BASE_CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"


def is_published(relative: str) -> bool:
    return relative.startswith(PUBLISHED) and not relative.startswith(UNPUBLISHED)


def published_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(URL path without the leading slash, file) for every file the console ships."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and is_published(relative):
            yield relative, path


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(PurePosixPath(name).suffix, "application/octet-stream")


def is_asset_path(path: str) -> bool:
    """A path naming a file (a known extension): missing, it is a 404, never the page's index.html.

    CloudFront's viewer-request function in template.yaml applies the same rule with the same list.
    """
    return PurePosixPath(path).suffix in CONTENT_TYPES


def check_config(config: Any) -> dict[str, Any]:
    """The runtime configuration (`/config.json`) if it is one the console can use, else ValueError."""
    if not isinstance(config, Mapping) or not isinstance(config.get("apiBase", ""), str):
        raise ValueError('the console configuration must be a JSON object like {"apiBase": "", "auth": {"mode": "none"}}')
    auth = config.get("auth")
    if not isinstance(auth, Mapping) or auth.get("mode") not in AUTH_MODES:
        raise ValueError(f"auth.mode must be one of {', '.join(AUTH_MODES)}")
    if auth["mode"] == "cognito":
        # Empty domain or clientId is allowed: a stack on an existing issuer is deployed before its
        # app client can know the console's URL, and the console then says what to set.
        for key in ("domain", "clientId"):
            if not isinstance(auth.get(key), str):
                raise ValueError(f'auth mode "cognito" needs auth.{key} (a string)')
        domain = urlsplit(auth["domain"])
        if auth["domain"] and (domain.scheme not in ("https", "http") or not domain.netloc):
            raise ValueError("auth.domain must be the hosted UI's URL, like https://PREFIX.auth.REGION.amazoncognito.com")
        if not isinstance(auth.get("scopes", []), list):
            raise ValueError("auth.scopes must be a list")
    return dict(config)


def content_security_policy(config: Mapping[str, Any]) -> str:
    """The page's CSP: same origin, plus the sign-in service's origin the browser POSTs tokens to."""
    auth = config.get("auth") or {}
    parts = urlsplit(str(auth.get("domain") or ""))
    if auth.get("mode") != "cognito" or not parts.netloc:
        return BASE_CSP
    return f"{BASE_CSP}; connect-src 'self' {parts.scheme}://{parts.netloc}"
