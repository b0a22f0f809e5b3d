"""Module names a bundle cannot use: those of Locust's own runtime.

A run unpacks the bundle and starts Locust with the bundle as its working directory. Locust puts
that directory and the entry's folder at the front of sys.path when it loads the locustfile (and
leaves the working directory there), and registers the entry module under its file name. A bundle
file named like a module of the runtime would then be imported in its place: `locust/__init__.py`,
`gevent.py` or `requests.py` could replace Locust itself or what it runs on (and report made-up
stats). Two layers stop that:

- here, at save time: a file whose top-level import name (from the bundle's root, or from the
  entry's folder) is a runtime module is refused with `ReservedModuleName`, naming the file and
  what it would replace. Runtime modules are the top-level import names of Locust and of every
  distribution it depends on, transitively (`locust_runtime.py`, generated from the installed
  Locust because the Lambda layer does not ship it), and the standard library's
  (`sys.stdlib_module_names`: the working directory stays first on sys.path after the locustfile
  is loaded, so a standard module imported later would come from the bundle), and Python's
  start-up hooks `sitecustomize` and `usercustomize`;
- at run time, in the bootstrap: Locust is started with `python -P`, so the working directory is
  not on sys.path while Locust and its dependencies are imported, and an environment in which
  requirements.txt installed a runtime module is refused (see `backends/bootstrap.py`).

Only files Python can import count (`.py`, `.pyc`, extension modules; at the top, or anywhere under
a folder of such a name): data such as `locust.conf` or `requests/login.json` is fine. The entry
counts under its file name too: Locust registers it in sys.modules as such.

Regenerate `locust_runtime.py` after changing the Locust version:
`.venv/bin/python -m load_manager.bundle.reserved --write` (a unit test fails while it is stale).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from load_manager.bundle.core import Bundle
from load_manager.bundle.locust_runtime import RUNTIME_MODULES
from load_manager.errors import ReservedModuleNameError

_IMPORTABLE_SUFFIXES = (".py", ".pyc", ".pyw", ".so", ".pyd")
_GENERATED = Path(__file__).with_name("locust_runtime.py")
_STARTUP_HOOKS = frozenset({"sitecustomize", "usercustomize"})  # imported by `site` from sys.path at start


def shadowed(module: str) -> str | None:
    """What a top-level module of this name would replace, or None when nothing."""
    if module in RUNTIME_MODULES:
        return "distribution " + " and ".join(RUNTIME_MODULES[module]) + " (Locust's runtime)"
    if module in sys.stdlib_module_names:
        return "the standard library"
    if module in _STARTUP_HOOKS:
        return "Python's start-up hook"
    return None


def top_level_names(path: str, entry_path: str | Sequence[str]) -> list[str]:
    """The top-level module names under which Python could import this bundle file (`entry_path`:
    the locustfile, or every locustfile: each one's folder is on sys.path while it loads)."""
    if not path.endswith(_IMPORTABLE_SUFFIXES):
        return []
    locustfiles = [entry_path] if isinstance(entry_path, str) else list(entry_path)
    relatives = [path]
    for entry in locustfiles:
        entry_dir = entry.rsplit("/", 1)[0] + "/" if "/" in entry else ""
        relatives += [path[len(entry_dir) :]] if entry_dir and path.startswith(entry_dir) else []
    names = [_top(relative) for relative in relatives]
    if path in locustfiles:  # Locust imports a locustfile under its file name (sys.modules[stem])
        names.append(path.rsplit("/", 1)[-1].split(".")[0])
    return sorted({name for name in names if name})


def _top(relative: str) -> str:
    """`common/x.py` -> common (a package folder); `gevent.cpython-312-x86_64-linux-gnu.so` -> gevent."""
    head, _, rest = relative.partition("/")
    return head if rest else head.split(".")[0]


def check_module_names(bundle: Bundle) -> None:
    """Raise ReservedModuleNameError naming every file that would replace a runtime module."""
    found = []
    for path in bundle.files:
        for module in top_level_names(path, bundle.locustfiles):
            what = shadowed(module)
            if what is not None:
                found.append({"path": path, "module": module, "shadows": what})
    if not found:
        return
    first = found[0]
    more = f" (and {len(found) - 1} more, see details.files)" if len(found) > 1 else ""
    raise ReservedModuleNameError(
        f"{first['path']!r} would be imported as module {first['module']!r} instead of {first['shadows']}{more}: rename it",
        details={"path": first["path"], "module": first["module"], "shadows": first["shadows"], "files": found},
    )


# ---- generating locust_runtime.py (dev environment only: needs Locust installed) ----------------


def runtime_modules(root: str = "locust") -> dict[str, tuple[str, ...]]:
    """Top-level import name -> distributions, over `root` and its whole installed dependency
    closure (markers evaluated here, extras followed)."""
    from packaging.requirements import Requirement  # lazy: 11 ms at import (bench/cold_import.py --lazy), dev-time generator only
    from packaging.utils import canonicalize_name  # lazy: with packaging.requirements (above), 11 ms (bench/cold_import.py --lazy)

    modules: dict[str, set[str]] = {}
    queue: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while queue:
        name, extras = queue.pop()
        if (canonicalize_name(name), extras) in seen:
            continue
        seen.add((canonicalize_name(name), extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:  # not installed here: not part of this runtime
            continue
        for module in _top_level_of(dist):
            modules.setdefault(module, set()).add(canonicalize_name(dist.metadata["Name"]))
        environments = [{"extra": extra} for extra in sorted(extras)] or [{"extra": ""}]
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or any(requirement.marker.evaluate(env) for env in environments):
                queue.append((requirement.name, frozenset(requirement.extras)))
    return {module: tuple(sorted(dists)) for module, dists in sorted(modules.items())}


def _top_level_of(dist: Any) -> set[str]:
    """top_level.txt where the wheel has one, and what RECORD installs (either can miss names)."""
    names = set((dist.read_text("top_level.txt") or "").split())
    for file in dist.files or []:
        parts = file.parts
        if parts[0] == ".." or parts[0].endswith((".dist-info", ".data")):
            continue
        names.add(parts[0] if len(parts) > 1 else inspect.getmodulename(parts[0]) or "")
    return {name for name in names if name.isidentifier()}


def _tuple_text(items: tuple[str, ...]) -> str:
    return "(" + ", ".join(f'"{item}"' for item in items) + ("," if len(items) == 1 else "") + ")"


def render() -> str:
    lines = [
        '"""Generated by `python -m load_manager.bundle.reserved --write`; do not edit.',
        "",
        f"The top-level import names of Locust {metadata.version('locust')} and of every distribution it depends on",
        f"(as installed on CPython {sys.version_info.major}.{sys.version_info.minor}), each with the distributions providing it.",
        '"""',
        "",
        f'LOCUST_VERSION = "{metadata.version("locust")}"',
        "RUNTIME_MODULES: dict[str, tuple[str, ...]] = {",
        *(f'    "{module}": {_tuple_text(dists)},' for module, dists in runtime_modules().items()),
        "}",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        _GENERATED.write_text(render())
        print(f"wrote {_GENERATED}")
    else:
        sys.stdout.write(render())
