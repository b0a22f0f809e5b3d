"""The web guard: Locust's web API answers only requests that carry the launch's secret.

Locust 2.47's web UI has no authentication of its own (basic auth is gone; `--web-login` needs a
flask-login user loader), and it listens wherever it is told: on ECS the task's address, reachable
by anything its security group admits; locally 127.0.0.1, reachable by every process of the machine,
other runs' locustfiles included. So every request must carry `Authorization: Bearer <secret>`
(`locust_web.LocustWebApi` sends it); anything else is answered 401 before Locust sees it.

Standard library only, one file: it runs in the Locust image's Python. It travels in every runtime
archive (bundle_layout), beside the secret in the one for processes with a web UI; the bootstrap
(`install_web_guard`; the local backend, `web_guard_env`) writes them into a private folder outside
the bundle's, puts the folder first on PYTHONPATH and execs Locust, whose interpreter then imports
this file as `sitecustomize` at start, in every Locust process (master, workers, single):
1. it loads the plugins written beside it (PLUGINS), which hook Locust the same way: `redaction`
   first (the run's secrets masked in all the process writes: it must start before anything else
   runs, and a process whose redaction cannot start exits, RELAY_FAILED), then `generator_usage`
   (each Locust process's CPU and memory: a worker reports its own to the master); another plugin
   that fails is skipped;
2. it reads the secret, deletes the folder and takes itself off PYTHONPATH (nothing of it is left
   on disk or in the environment for the locustfile, or for any process it starts, to find);
3. when `locust.main` is imported (before Locust's main() runs), it adds an `events.init` listener
   which, on the process that has a web UI (the master, or a single process), puts a Flask
   `before_request` check first on `web_ui.app`. A process armed without a secret (SECRET_ENV is
   NO_WEB_UI: a worker) has no web UI to guard: it exits if it gets one;
4. it runs the `sitecustomize` it shadows, if any (the image's, a test's), as Python would have.

It fails closed: if the guard cannot be installed, the process exits (WEB_GUARD_FAILED) before
Locust starts, and the run fails with that reason rather than run with an open web API.
"""

from __future__ import annotations

import hmac
import importlib.abc
import importlib.machinery
import importlib.util
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import Any

SECRET_ENV = "LOAD_MANAGER_WEB_GUARD"  # the secret file's path, for this interpreter only
NO_WEB_UI = "none"  # SECRET_ENV's value in a process that must have no web UI (a worker): no secret
HEADER = "Authorization"
SCHEME = "Bearer"
WEB_GUARD_FAILED = 5
RELAY_FAILED = 6  # the run's secrets could not be masked in this process's output (redaction.RELAY_FAILED)


def authorization(secret: str) -> str:
    """The header value a request must carry."""
    return f"{SCHEME} {secret}"


def require_secret(app: Any, secret: str) -> None:
    """Refuse (401) every request to the Flask `app` whose Authorization is not the secret's. First
    of the app's before_request functions: nothing of Locust's runs for a refused request."""
    from flask import Response, request  # lazy: 104 ms at import (bench/cold_import.py --lazy), in Locust's process only

    expected = authorization(secret).encode()

    def check() -> Any:
        given = request.headers.get(HEADER, "").encode()
        if hmac.compare_digest(given, expected):
            return None
        return Response(
            "this Locust web API answers Load Manager only\n", status=401,
            headers={"WWW-Authenticate": f'{SCHEME} realm="load-manager"'}, mimetype="text/plain",
        )  # fmt: skip

    app.before_request_funcs.setdefault(None, []).insert(0, check)


def init_listener(secret: str) -> Callable[..., None]:
    """Locust's `events.init` listener: guard the web UI of the process that has one."""

    def on_init(environment: Any = None, runner: Any = None, web_ui: Any = None, **_: Any) -> None:
        app = getattr(web_ui, "app", None)
        if app is not None:
            require_secret(app, secret)

    return on_init


class _WhenImported(importlib.abc.MetaPathFinder):
    """Calls `then(module)` right after `name` has been imported (before anyone uses it). It stays
    on sys.meta_path until then: a mere lookup (runpy's `find_spec` for `python -m`) loads nothing."""

    def __init__(self, name: str, then: Callable[[Any], None]):
        self.name, self.then = name, then
        self._looking = False

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: Any = None) -> Any:
        if fullname != self.name or self._looking:
            return None
        self._looking = True
        try:
            spec = importlib.util.find_spec(fullname)  # the module's own, found by the other finders
        finally:
            self._looking = False
        if spec is None or spec.loader is None:
            return spec
        run, finder = spec.loader.exec_module, self

        def exec_module(module: Any) -> None:
            run(module)
            if finder in sys.meta_path:
                sys.meta_path.remove(finder)
            finder.then(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def when_imported(name: str, then: Callable[[Any], None]) -> None:
    if name in sys.modules:
        then(sys.modules[name])
    else:
        sys.meta_path.insert(0, _WhenImported(name, then))


def refuse_web_ui(environment: Any = None, runner: Any = None, web_ui: Any = None, **_: Any) -> None:
    """The `events.init` listener of a process armed without a secret: a web UI there would be open."""
    if getattr(web_ui, "app", None) is not None:
        print("load-manager: this Locust process has a web UI but no web API secret", file=sys.stderr, flush=True)
        os._exit(WEB_GUARD_FAILED)


def take_secret(folder: str) -> str:
    """Read the secret the bootstrap left in `folder`, then remove the folder and every trace of it
    from this process's environment and path."""
    path = os.environ.pop(SECRET_ENV, "")
    if not path or os.path.dirname(os.path.abspath(path)) != folder:
        raise RuntimeError(f"{SECRET_ENV} does not name a secret beside the guard")
    with open(path, encoding="ascii") as file:
        secret = file.read().strip()
    if not secret:
        raise RuntimeError("the web secret is empty")
    forget(folder)
    return secret


def forget(folder: str) -> None:
    """Remove the guard's folder and every trace of it from this process's environment and path."""
    kept = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and os.path.abspath(p) != folder]
    if kept:
        os.environ["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        os.environ.pop("PYTHONPATH", None)
    sys.path[:] = [p for p in sys.path if not p or os.path.abspath(p) != folder]
    shutil.rmtree(folder, ignore_errors=True)


def run_shadowed_sitecustomize(folder: str) -> None:
    """The `sitecustomize` this file stands in front of, run as Python would have run it."""
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", [p for p in sys.path if os.path.abspath(p or ".") != folder])
    if spec is None or spec.loader is None:
        return
    try:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    except Exception as exc:  # noqa: BLE001 - as site.py does: report it, start anyway
        print(f"Error in sitecustomize; set PYTHONVERBOSE for traceback:\n{type(exc).__name__}: {exc}", file=sys.stderr)


# Load Manager's other additions to Locust, written beside the guard (bootstrap.web_guard_env), in
# this order: the redaction first, before anything else can print.
PLUGINS = ("redaction.py", "generator_usage.py")
REQUIRED_PLUGINS = {"redaction.py": RELAY_FAILED}  # ... and the exit code of a process where it fails


def install_plugins(folder: str) -> None:
    """Load each plugin beside the guard (before the folder goes) and let it hook Locust. A plugin
    that fails is reported and skipped (the guard, not a plugin, decides whether Locust starts),
    except a required one: without the redaction, the process exits before anything runs."""
    for name in PLUGINS:
        path = os.path.join(folder, name)
        try:
            spec = importlib.util.spec_from_file_location(f"load_manager_{name[:-3]}", path)
            if spec is None or spec.loader is None or not os.path.exists(path):
                continue
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            module.install(when_imported)
        except Exception as exc:  # noqa: BLE001
            print(f"load-manager: the Locust plugin {name} could not be installed: {exc}", file=sys.stderr, flush=True)
            if name in REQUIRED_PLUGINS:
                os._exit(REQUIRED_PLUGINS[name])


def install(folder: str) -> None:
    install_plugins(folder)
    try:
        if os.environ.get(SECRET_ENV) == NO_WEB_UI:
            os.environ.pop(SECRET_ENV)
            forget(folder)
            listener = refuse_web_ui
        else:
            listener = init_listener(take_secret(folder))
        # Once locust.main is loaded (the package, and its `events`, are then complete), before main() runs.
        when_imported("locust.main", lambda _main: sys.modules["locust"].events.init.add_listener(listener))
    except Exception as exc:  # noqa: BLE001 - fail closed: never run Locust with an open web API
        print(f"load-manager: the web API guard could not be installed: {exc}", file=sys.stderr, flush=True)
        os._exit(WEB_GUARD_FAILED)
    run_shadowed_sitecustomize(folder)


if __name__ == "sitecustomize":
    install(os.path.dirname(os.path.abspath(__file__)))
