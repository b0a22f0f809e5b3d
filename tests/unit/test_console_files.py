"""The console's static files as `serve` hands them out, and the vendored front-end they rely on."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from load_manager_local.console import ConsoleFiles, is_api_path, published_files

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "console"


@pytest.fixture(scope="module")
def files() -> ConsoleFiles:
    return ConsoleFiles(CONSOLE)


def test_api_paths_are_left_to_the_api():
    assert is_api_path("/v1") and is_api_path("/v1/load-tests") and is_api_path("/aws/events")
    assert not is_api_path("/") and not is_api_path("/tests/v1") and not is_api_path("/v10")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/src/main.js", "text/javascript; charset=utf-8"),
        ("/app.css", "text/css; charset=utf-8"),
        ("/vendor/uplot.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
        ("/vendor/THIRD_PARTY_NOTICES.md", "text/markdown; charset=utf-8"),
    ],
)
def test_a_file_is_served_with_its_content_type(files, path, content_type):
    response = files.respond(path, {})
    assert response.status == 200
    assert response.headers["content-type"] == content_type
    assert response.body == (CONSOLE / path.lstrip("/")).read_bytes()


@pytest.mark.parametrize("path", ["/", "/tests", "/tests/abc/history", "/runs/compare", "/runs/x.y"])
def test_a_view_url_is_index_html(files, path):
    response = files.respond(path, {})
    assert response.status == 200 and response.headers["content-type"].startswith("text/html")
    assert response.body == (CONSOLE / "index.html").read_bytes()


@pytest.mark.parametrize(
    "path",
    ["/src/missing.js", "/package.json", "/package-lock.json", "/tools/vendor.py.js", "/vendor/test/axe.min.js",
     "/vendor-src/preact.js", "/src/../package.json", "/%2e%2e/pyproject.json"],
)
def test_missing_or_unpublished_files_are_404(files, path):
    assert files.respond(path, {}).status == 404


def test_nothing_outside_the_console_directory_is_served(files):
    response = files.respond("/src/../../pyproject.toml", {})
    assert b"[project]" not in response.body


def test_gzip_etag_and_revalidation(files):
    plain = files.respond("/vendor/preact.js", {})
    zipped = files.respond("/vendor/preact.js", {"Accept-Encoding": "gzip, br"})
    assert zipped.headers["content-encoding"] == "gzip" and gzip.decompress(zipped.body) == plain.body
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] != zipped.headers["etag"]  # two representations, two validators
    assert plain.headers["cache-control"] == "no-cache" and plain.headers["vary"] == "Accept-Encoding"
    again = files.respond("/vendor/preact.js", {"If-None-Match": zipped.headers["etag"], "Accept-Encoding": "gzip"})
    assert again.status == 304 and again.body == b""


def test_config_json_is_the_local_runtime_configuration(files):
    response = files.respond("/config.json", {})
    assert response.headers["cache-control"] == "no-store"
    assert json.loads(response.body) == {"apiBase": "", "auth": {"mode": "none"}}
    assert json.loads(ConsoleFiles(CONSOLE, {"apiBase": "", "auth": {"mode": "cognito"}}).respond("/config.json", {}).body)["auth"] == {"mode": "cognito"}


def test_published_files_are_what_the_browser_may_load():
    names = {name for name, _ in published_files(CONSOLE)}
    assert {"index.html", "app.css", "src/main.js", "vendor/preact.js", "vendor/codemirror.js", "vendor/uplot.js"} <= names
    assert not [n for n in names if n.startswith(("vendor/test/", "vendor-src/", "tools/")) or n.startswith("package")]


# ---- the front-end code itself ---------------------------------------------------------------

IMPORT = re.compile(r"""(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)""")
STATIC_IMPORT = re.compile(r"""(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]""")


def _our_modules() -> list[Path]:
    return sorted((CONSOLE / "src").rglob("*.js"))


def test_our_code_imports_only_relative_modules_of_this_origin():
    for module in _our_modules():
        for static, dynamic in IMPORT.findall(module.read_text()):
            specifier = static or dynamic
            assert specifier.startswith((".", "/")), f"{module}: bare or remote import {specifier!r} (no build step, no CDN)"
            assert (module.parent / specifier).resolve().is_file(), f"{module}: {specifier} does not exist"


def test_codemirror_is_not_in_the_run_page_static_import_graph():
    # Only a dynamic import() may reach it: the run page's first load must not ship the editor.
    seen: set[Path] = set()
    pending = [CONSOLE / "src" / "main.js", CONSOLE / "src" / "pages" / "run.js"]
    while pending:
        module = pending.pop()
        if module in seen or module.parent == CONSOLE / "vendor":
            seen.add(module)
            continue
        seen.add(module)
        pending += [(module.parent / spec).resolve() for spec in STATIC_IMPORT.findall(module.read_text())]
    assert CONSOLE / "vendor" / "uplot.js" in seen
    assert CONSOLE / "vendor" / "codemirror.js" not in seen


def test_the_vendored_files_match_the_lock_and_carry_their_licences():
    lock = json.loads((CONSOLE / "package-lock.json").read_text())["packages"]
    notices = (CONSOLE / "vendor" / "THIRD_PARTY_NOTICES.md").read_text()
    rows = re.findall(r"^\| (\S+) \| (\S+) \| (\S+) \| .* \| `LICENSES/(\S+)` \|$", notices, re.MULTILINE)
    assert {"preact", "htm", "uplot", "@codemirror/merge", "@codemirror/lang-python", "axe-core"} <= {r[0] for r in rows}
    for package, version, _licence, licence_file in rows:
        assert lock[f"node_modules/{package}"]["version"] == version, package
        assert (CONSOLE / "vendor" / "LICENSES" / licence_file).stat().st_size > 0
    direct = json.loads((CONSOLE / "package.json").read_text())
    for name, version in {**direct["dependencies"], **direct["devDependencies"]}.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned to an exact version: {version}"
