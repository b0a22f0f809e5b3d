"""The README stays short and honest, and so do the site's pages where mkdocs cannot see.

- README.md is at most 200 lines: the documentation is the site (docs/), the README says what this
  is, the two commands, a tour, and where to read on.
- Every relative link in README.md and in docs/ names a file that exists (mkdocs --strict checks
  docs/ too, but only for pages; the README is read on GitHub, where nothing checks it).
- Every `make <target>` the README or a page names is a target of the Makefile, and the README
  names the two commands: `make demo` and `make test`.
- Every route the README or a page names (`GET /v1/...` in inline code) is an operation of
  openapi.json: prose about the API cannot name a route that does not exist.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MAX_README_LINES = 200
DOCS = sorted((ROOT / "docs").rglob("*.md"))
PAGES = [README, *DOCS]

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
HTML_LINK = re.compile(r"""(?:href|src)=["']([^"']+)["']""")
MAKE_IN_CODE = re.compile(r"`make ([a-z][\w-]*)")
MAKE_LINE = re.compile(r"^\s*(?:\$ )?make ([a-z][\w-]*)", re.MULTILINE)
MAKE_TARGET = re.compile(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", re.MULTILINE)
ROUTE = re.compile(r"`(?:(GET|POST|PUT|PATCH|DELETE|HEAD) )?(/v1/[^`\s?#]+)")
METHODS = {"get", "post", "put", "patch", "delete", "head"}


def _split(text: str) -> tuple[str, str]:
    """(prose, code): the page's lines outside and inside its fenced code blocks. A block ends at a
    line that is its opening fence's characters, at least as many, and nothing else."""
    prose, code, fence = [], [], None
    for line in text.splitlines():
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
        elif fence is not None and line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
            fence = None
        elif fence is None:
            prose.append(line)
        else:
            code.append(line)
    return "\n".join(prose), "\n".join(code)


def _prose(text: str) -> str:
    """The page without its fenced code blocks (a link or route in a code sample is an example)."""
    return _split(text)[0]


def _fenced(text: str) -> str:
    return _split(text)[1]


def relative_links(page: Path) -> list[str]:
    prose = _prose(page.read_text(encoding="utf-8"))
    targets = INLINE_LINK.findall(prose) + REFERENCE_LINK.findall(prose) + HTML_LINK.findall(prose)
    return [t for t in targets if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", t) and not t.startswith(("#", "//"))]


def make_targets() -> set[str]:
    return set(MAKE_TARGET.findall((ROOT / "Makefile").read_text(encoding="utf-8")))


def named_make_commands(page: Path) -> set[str]:
    text = page.read_text(encoding="utf-8")
    return set(MAKE_IN_CODE.findall(_prose(text))) | set(MAKE_LINE.findall(_fenced(text)))


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/"))


def api_operations() -> dict[str, set[str]]:
    """Path shape ({} for every parameter) -> its methods, from openapi.json."""
    operations: dict[str, set[str]] = {}
    for path, item in json.loads((ROOT / "openapi.json").read_text())["paths"].items():
        operations.setdefault(_shape(path), set()).update(m.upper() for m in item if m in METHODS)
    return operations


def named_routes(page: Path) -> list[tuple[str | None, str]]:
    """(method or None, path) of every route the page's prose names in inline code; paths cut short
    (`…`), wildcards and bare prefixes (`/v1/`) are not routes."""
    found = ROUTE.findall(_prose(page.read_text(encoding="utf-8")))
    return [(method or None, path) for method, path in found if "…" not in path and "*" not in path and path.strip("/") != "v1"]


def test_the_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; at most {MAX_README_LINES}: move the detail to a page of docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_names_a_file(page):
    missing = []
    for link in relative_links(page):
        target = (page.parent / link.split("#")[0].split("?")[0]).resolve()
        if not target.exists():
            missing.append(link)
    assert not missing, f"{page.relative_to(ROOT)} links to files that do not exist: {missing}"


def test_the_readme_links_into_the_site():
    links = relative_links(README)
    assert any(link.startswith("docs/") for link in links), "the README should point at the documentation site's pages"


def test_the_readme_names_the_two_commands_and_they_are_make_targets():
    named = named_make_commands(README)
    assert {"demo", "test"} <= named, f"the README should name `make demo` and `make test`; it names {sorted(named)}"
    assert named <= make_targets(), f"the README names make targets the Makefile lacks: {sorted(named - make_targets())}"


@pytest.mark.parametrize("page", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_make_command_a_page_names_is_a_target(page):
    unknown = named_make_commands(page) - make_targets()
    assert not unknown, f"{page.relative_to(ROOT)} names make targets the Makefile lacks: {sorted(unknown)}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_route_named_is_an_operation_of_the_api(page):
    operations = api_operations()
    wrong = []
    for method, path in named_routes(page):
        methods = operations.get(_shape(path))
        if methods is None or (method is not None and method not in methods):
            wrong.append(f"{method or ''} {path}".strip())
    assert not wrong, f"{page.relative_to(ROOT)} names routes openapi.json does not have: {wrong}"


# ---- the checks themselves -------------------------------------------------------------------------


def test_the_checks_find_what_they_look_for(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "See [the guide](docs/guide.md#part), [site](https://example.com), [top](#top) and ![x](img.png).\n"
        "Run `make demo` or `make nothing-such`, call `GET /v1/runs/{id}/stats` or `/v1/load-tests/{testId}`,"
        " not `/v1/` nor `GET …/triggers`.\n"
        "```sh\nmake test\ncurl $API/v1/nope\n[not a link](nowhere.md)\n```\n\n"
        "After the block, [a link](after.md).\n\n````md\n```\n[inside](inside.md)\n```\n````\n",
        encoding="utf-8",
    )
    assert relative_links(page) == ["docs/guide.md#part", "img.png", "after.md"]
    assert named_make_commands(page) == {"demo", "nothing-such", "test"}
    assert named_routes(page) == [("GET", "/v1/runs/{id}/stats"), (None, "/v1/load-tests/{testId}")]
    assert "demo" in make_targets() and "test" in make_targets() and "nothing-such" not in make_targets()
    operations = api_operations()
    assert "GET" in operations[_shape("/v1/runs/{id}/stats")] and _shape("/v1/nope") not in operations
