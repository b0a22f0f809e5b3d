"""MkDocs hook: reference pages rendered from the code at build time, so they cannot drift.

A page asks for a rendered part with a line of its own:

    <!-- reference: cli -->

and the build replaces it with what RENDERERS[name] returns. An unknown name, or a renderer that
finds the code no longer matches what it documents, fails the build (mkdocs build --strict).
Paths are relative to the repository root, where mkdocs.yml is.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

from mkdocs.exceptions import PluginError

sys.path.insert(0, str(Path(__file__).resolve().parent))

import render_cli  # noqa: E402
import render_events  # noqa: E402
import render_openapi  # noqa: E402
import render_roles  # noqa: E402
import render_settings  # noqa: E402
import render_template  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- reference: ([a-z-]+) -->$", re.MULTILINE)


@cache
def _openapi() -> dict:
    return render_openapi.load(ROOT / "openapi.json")


@cache
def _template() -> dict:
    return render_template.load(ROOT / "template.yaml")


RENDERERS: dict[str, Callable[[], str]] = {
    "api-operations": lambda: render_openapi.operations(_openapi()),
    "api-schemas": lambda: render_openapi.schemas(_openapi()),
    "cli": render_cli.reference,
    "cli-exit-codes": render_cli.exit_codes,
    "run-events": render_events.run_events,
    "route-roles": lambda: render_roles.route_roles(_openapi()),
    "template-parameters": lambda: render_template.parameters(_template()),
    "template-outputs": lambda: render_template.outputs(_template()),
    "settings": lambda: render_settings.settings(render_template.environments(_template())),
    "settings-other-variables": lambda: render_settings.other_variables(render_template.environments(_template())),
}


def on_config(config, **kwargs):
    # Each build reads the files afresh (`mkdocs serve` rebuilds in one process).
    _openapi.cache_clear()
    _template.cache_clear()
    return config


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    def render(found: re.Match) -> str:
        name = found.group(1)
        if name not in RENDERERS:
            raise PluginError(f"{page.file.src_uri}: no reference renderer {name!r} (known: {', '.join(sorted(RENDERERS))})")
        try:
            return RENDERERS[name]()
        except Exception as exc:  # any renderer failure is a failed build, said where
            raise PluginError(f"{page.file.src_uri}: rendering {name!r} failed: {type(exc).__name__}: {exc}") from exc

    return MARKER.sub(render, markdown)
