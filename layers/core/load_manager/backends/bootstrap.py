"""What runs before Locust, wherever Locust runs (a local process, a Fargate task): lay the bundle
out, install its requirements, then become Locust.

Standard library only, one file: it runs in the Locust image's Python (`locustio/locust`), where
nothing of Load Manager is installed. It travels inside the runtime archive (`bootstrap.py` next to
`manifest.json` and `bundle/…`, built by `bundle_layout.runtime_archive`), which the loader
(`bundle_layout.LOADER`, the task definitions' entry point) downloads and executes:

    python -c LOADER [--dest DIR] [--env-cache DIR] -- <locust arguments>
    env LOAD_MANAGER_BUNDLE_URL=<presigned S3 URL, or file:// locally>

1. unpack `bundle/…` into DIR (default: a new temporary folder), refusing any path that would leave it;
2. if the bundle has requirements.txt: a virtual environment cached under --env-cache by the
   digest of requirements.txt and the interpreter (`--system-site-packages` plus a .pth to the
   base environment's site folders, so Locust and its dependencies come from the base and only
   what is missing is installed), built under an exclusive lock and marked ready only once pip
   has succeeded: two runs never half-use one, a later run reuses it, a killed build is rebuilt.
   pip runs with PYTHONUTF8=1, so it decodes requirements.txt as UTF-8 as the check at save time
   did, whatever the locale. Locust belongs to the platform: the archive's requirements.txt no
   longer names it or its runtime (bundle.runtime_pins), and pip installs with a constraints file
   pinning every distribution of that runtime (`runtimeDistributions` of the manifest) to this
   Python's version (`runtime_constraints`), so no dependency can replace one either (pip fails,
   naming the conflict). An environment that still installed a module of Locust's runtime
   (`runtimeModules`: a package of another name providing it) is refused, built or reused: its
   site folder comes first. pip's output goes to the log as it comes; a failure ends with one
   line quoting pip's ERROR lines, so the last lines of the log say why on every backend;
   Then (the archive's locust_hooks.py) a worker of several cuts each `dataSplit` CSV to its own
   share, and the runtime hooks (a load profile's shape, the worker index) join Locust's `-f` list;
3. chdir to DIR and exec `python -P -m locust -f DIR/<entry>[,DIR/<locustfile>...] <locust arguments>` (same process
   id). `-P` keeps the working directory (the bundle) off sys.path while Python starts Locust and
   Locust imports its dependencies, so no bundle file can stand in for them; Locust then puts the
   working directory and the entry's folder first itself when it loads the locustfile, so the
   bundle's own imports work as with plain `locust -f`. Before exec, `install_web_guard` arms the
   archive's web guard: that Locust's web API then refuses any request without the launch's secret.

Secrets in the output: once the run's environment is set (before pip), `redact_output` starts the
archive's redaction relay when the run has secrets: from then on everything this process and what
it becomes print (pip, Locust, the locustfile) reaches the log with each secret masked.

HOME: pip runs with LOAD_MANAGER_PIP_HOME as its HOME when the backend gives one (the local
backend: the user's own, so pip's configuration, credentials and cache are the user's, while
Locust's HOME is the launch's own); the variable is gone before Locust starts.

Exit codes before Locust: 3 = pip failed (its output is in the log above the line saying so) or
requirements.txt replaced part of Locust's runtime, 4 = the archive is unusable, 5 = the web
guard could not be installed (web_guard.WEB_GUARD_FAILED; Locust never starts with an open web API),
6 = the output's redaction could not be started (nothing runs with the run's secrets unmasked).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from typing import NoReturn

REQUIREMENTS_FAILED = 3
BAD_ARCHIVE = 4
REDACTION_FAILED = 6  # web_guard.RELAY_FAILED, redaction.RELAY_FAILED
READY_MARKER = ".load-manager-ready"
PREFIX = "load-manager:"
# The launch's web API secret and the guard that makes Locust require it (web_guard.py), kept out
# of the bundle's folder: see install_web_guard.
WEB_SECRET_MEMBER = "web-secret"
WEB_GUARD_MEMBER = "web_guard.py"
GENERATOR_USAGE_MEMBER = "generator_usage.py"  # a plugin the guard loads: each process's CPU and memory (generator_usage.py)
REDACTION_MEMBER = "redaction.py"  # a plugin the guard loads first, and the relay this bootstrap starts (redaction.py)
PLUGIN_MEMBERS = (REDACTION_MEMBER, GENERATOR_USAGE_MEMBER)
WEB_GUARD_ENV = "LOAD_MANAGER_WEB_GUARD"
NO_WEB_UI = "none"  # WEB_GUARD_ENV for a process without a web UI (web_guard.NO_WEB_UI)
PIP_HOME_ENV = "LOAD_MANAGER_PIP_HOME"
# The worker's data share, the load profile's shape and the worker index (locust_hooks.py).
RUNTIME_HOOKS_MEMBER = "locust_hooks.py"
# The run's variables and secrets, JSON (only in a remote task's archive: a local process gets them
# in its environment from the backend itself).
RUN_ENV_MEMBER = "run-env.json"


def main(argv: list[str], archive: bytes) -> None:
    options, locust_args = _parse(argv)
    dest = options.get("--dest") or tempfile.mkdtemp(prefix="bundle-")
    try:
        manifest = unpack(archive, dest)
        os.environ.update(run_environment(archive))  # before pip: a private index's credentials may be among them
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
        _fail(BAD_ARCHIVE, f"the bundle archive cannot be unpacked: {exc}")
    redact_output(archive)  # before pip, whose output may show a secret (an index URL with a token)
    pip_home = os.environ.pop(PIP_HOME_ENV, None)
    python = sys.executable
    requirements = os.path.join(dest, "requirements.txt")
    if os.path.isfile(requirements):
        cache = options.get("--env-cache") or os.path.join(tempfile.gettempdir(), "load-manager-envs")
        constraints = runtime_constraints(manifest.get("runtimeDistributions", ()))
        python = ensure_environment(requirements, cache, frozenset(manifest.get("runtimeModules", ())), constraints, home=pip_home)
    runtime_files = prepare_runtime(archive, manifest, dest, os.environ)
    os.chdir(dest)
    entry = ",".join(locustfile_paths(dest, manifest))
    install_web_guard(archive, web_ui="--worker" not in locust_args)
    sys.stdout.flush()
    os.execv(python, locust_command(python, ",".join([entry, *runtime_files]), locust_args))


def locustfile_paths(dest: str, manifest: dict) -> list[str]:
    """Every locustfile of Locust's -f, in the bundle laid out at `dest` (the entry alone when the
    manifest lists none)."""
    return [os.path.join(dest, path) for path in manifest.get("locustfiles") or [manifest["entryPath"]]]


def runtime_constraints(distributions: list[str] | tuple[str, ...]) -> str:
    """pip constraints pinning each distribution of Locust's runtime this Python has to its version."""
    from importlib import metadata  # lazy: importlib.metadata costs 25 ms at import (bench/cold_import.py --lazy), only before pip in a run

    pins = []
    for name in sorted(distributions):
        try:
            pins.append(f"{name}=={metadata.version(name)}\n")
        except metadata.PackageNotFoundError:  # an optional dependency this image does not have
            continue
    return "".join(pins)


def locust_command(python: str, entry: str, locust_args: list[str]) -> list[str]:
    """-P: no working directory on sys.path while Locust and its dependencies are imported."""
    return [python, "-P", "-m", "locust", "-f", entry, *locust_args]


def _parse(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    args = list(argv)
    while args and args[0] != "--":
        name = args.pop(0)
        if name not in ("--dest", "--env-cache") or not args:
            _fail(BAD_ARCHIVE, f"unknown bootstrap option {name!r}")
        options[name] = args.pop(0)
    return options, args[1:]


def unpack(archive: bytes, dest: str) -> dict:
    """Lay the archive's bundle out in `dest`; returns the manifest. The local backend calls it too."""
    root = os.path.realpath(dest)
    os.makedirs(root, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        for info in bundle.infolist():
            if not info.filename.startswith("bundle/") or info.filename.endswith("/"):
                continue
            relative = info.filename[len("bundle/"):]
            target = os.path.realpath(os.path.join(root, relative))
            if os.path.isabs(relative) or not target.startswith(root + os.sep):
                raise ValueError(f"entry {info.filename!r} would leave the bundle folder")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with bundle.open(info) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
    return manifest


def prepare_runtime(archive: bytes, manifest: dict, dest: str, environ) -> list[str]:
    """The archive's locust_hooks.prepare: this worker's share of the dataSplit files, and the extra
    `-f` entries Locust needs (the load profile's shape, the worker index). Exits with BAD_ARCHIVE
    when a file cannot be split. An archive without the hooks (an older launch) needs nothing."""
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        source = bundle.read(RUNTIME_HOOKS_MEMBER) if RUNTIME_HOOKS_MEMBER in bundle.namelist() else None
    if source is None:
        return []
    hooks: dict = {"__name__": "load_manager_hooks"}
    exec(compile(source, RUNTIME_HOOKS_MEMBER, "exec"), hooks)  # our own module, from the archive we built
    try:
        return hooks["prepare"](source, manifest, dest, environ)
    except Exception as exc:  # OSError, UnicodeDecodeError, csv.Error (a field over csv's size limit): the run fails saying so
        _fail(BAD_ARCHIVE, f"the bundle's dataSplit files cannot be split: {type(exc).__name__}: {exc}")


def redact_output(archive: bytes) -> None:
    """The archive's redaction.relay_output, for the run's secrets (SECRET_NAMES_ENV): this process's
    output, and that of everything it becomes or starts, then reaches the log masked. Exits with
    REDACTION_FAILED if the relay cannot start; nothing to do for a run without secrets or an
    archive without the module (an older launch)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        source = bundle.read(REDACTION_MEMBER) if REDACTION_MEMBER in bundle.namelist() else None
    if source is None:
        return
    redaction: dict = {"__name__": "load_manager_redaction"}
    exec(compile(source, REDACTION_MEMBER, "exec"), redaction)  # our own module, from the archive we built
    try:
        redaction["relay_output"](redaction["secret_values"](os.environ))
    except OSError as exc:
        _fail(REDACTION_FAILED, f"the run's secrets cannot be masked in Locust's output: {exc}")


def run_environment(archive: bytes) -> dict[str, str]:
    """The run's variables and secrets the archive carries ({} for none): Locust and every process it
    starts inherit them from this process's environment."""
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        if RUN_ENV_MEMBER not in bundle.namelist():
            return {}
        return {str(name): str(value) for name, value in json.loads(bundle.read(RUN_ENV_MEMBER)).items()}


def environment_key(requirements: bytes) -> str:
    """The cache key: the requirements' bytes and the interpreter they are installed for."""
    tag = f"{sys.implementation.cache_tag}-{sysconfig.get_platform()}-{sys.version}"
    return hashlib.sha256(tag.encode() + b"\0" + requirements).hexdigest()[:32]


def ensure_environment(
    requirements_path: str, cache: str, runtime_modules: frozenset[str] = frozenset(), constraints: str = "", home: str | None = None
) -> str:
    """The Python of the environment for these requirements (installed under `constraints`, pip's
    format, by a pip whose HOME is `home` if given), built once and then reused; exits with
    REQUIREMENTS_FAILED if pip fails or the environment replaces a module in `runtime_modules`."""
    with open(requirements_path, "rb") as file:
        key = environment_key(file.read() + (b"\0constraints\0" + constraints.encode() if constraints else b""))
    os.makedirs(cache, exist_ok=True)
    env = os.path.join(cache, key)
    python = os.path.join(env, "bin", "python")
    with open(os.path.join(cache, key + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released by the kernel if this process dies
        if os.path.exists(os.path.join(env, READY_MARKER)):
            print(f"{PREFIX} reusing the environment {key} for requirements.txt", flush=True)
            _refuse_replaced_runtime(env, runtime_modules, remove=False)
            return python
        print(f"{PREFIX} building the environment {key} for requirements.txt", flush=True)
        shutil.rmtree(env, ignore_errors=True)  # whatever a killed build left
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", env], check=True)
        _link_base_site(env)
        command = [python, "-m", "pip", "install", "--no-input", "--disable-pip-version-check", "-r", requirements_path]
        if constraints:
            pinned = os.path.join(env, "load-manager-constraints.txt")
            with open(pinned, "w") as text:
                text.write(constraints)
            command += ["-c", pinned]
        code, errors = _pip(command, home)
        if code != 0:
            shutil.rmtree(env, ignore_errors=True)
            said = ": " + " | ".join(errors[-4:]) if errors else "; pip's output is above"
            _fail(REQUIREMENTS_FAILED, f"installing requirements.txt failed (pip exit code {code}){said}")
        _refuse_replaced_runtime(env, runtime_modules, remove=True)
        marker = os.path.join(env, READY_MARKER + ".tmp")
        with open(marker, "w") as file:
            file.write(key)
        os.replace(marker, os.path.join(env, READY_MARKER))
    return python


def _pip(command: list[str], home: str | None = None) -> tuple[int, list[str]]:
    """Run pip, its output passed on as it comes; its exit code and the lines saying what failed."""
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUTF8": "1", **({"HOME": home} if home else {})}, text=True, encoding="utf-8", errors="replace",
    )  # fmt: skip
    errors: list[str] = []
    conflict = False  # inside pip's "The conflict is caused by:" block: which requirement wants what
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        conflict = line.startswith("The conflict is caused by:") or (conflict and line.startswith(" ") and bool(line.strip()))
        if line.startswith(("ERROR:", "error:")) or (conflict and line.startswith(" ")):
            errors.append(line.strip()[:300])
    return process.wait(), errors


def replaced_runtime(env: str, runtime_modules: frozenset[str]) -> list[str]:
    """What the environment's site folder holds that Python would import instead of the base's
    copy of a runtime module. A folder without __init__.py is a namespace portion, merged with the
    base's: only its entries the base has too are replacements (zope.component next to zope.interface
    is fine)."""
    site_dir = _site_dir(env)
    base_dirs = [path for path in site.getsitepackages() if os.path.isdir(path)]
    found = []
    for name in sorted(os.listdir(site_dir)):
        path = os.path.join(site_dir, name)
        folder = os.path.isdir(path)
        if (name if folder else name.split(".")[0]) not in runtime_modules or name.endswith((".dist-info", ".pth")):
            continue
        if folder and not any(os.path.exists(os.path.join(path, "__init__" + suffix)) for suffix in (".py", ".pyc", ".so")):
            shared = [sub for sub in sorted(os.listdir(path)) if any(os.path.exists(os.path.join(base, name, sub)) for base in base_dirs)]
            found += [f"{name}/{sub}" for sub in shared if sub != "__pycache__"]
        elif folder or name.endswith((".py", ".pyc", ".so")):
            found.append(name)
    return found


def _refuse_replaced_runtime(env: str, runtime_modules: frozenset[str], *, remove: bool) -> None:
    replaced = replaced_runtime(env, runtime_modules)
    if replaced:
        if remove:
            shutil.rmtree(env, ignore_errors=True)
        _fail(
            REQUIREMENTS_FAILED,
            f"installing requirements.txt failed: it installs {', '.join(replaced)}, which would replace Locust or one of its "
            "dependencies (the image's versions are used): remove those packages or pins from requirements.txt",
        )


def _site_dir(env: str) -> str:
    return os.path.join(env, "lib", f"python{sys.version_info.major}.{sys.version_info.minor}", "site-packages")


def _link_base_site(env: str) -> None:
    """A venv made from inside another venv sees the *interpreter's* site-packages, not the outer
    venv's: a .pth adds this Python's own site folders (after the environment's, so what
    requirements.txt installs wins). Harmless where they are the same (the Locust image)."""
    target = _site_dir(env)
    folders = [path for path in site.getsitepackages() if os.path.isdir(path)]
    with open(os.path.join(target, "_load_manager_base.pth"), "w") as file:
        file.write("import site; " + "; ".join(f"site.addsitedir({path!r})" for path in folders) + "\n")


def install_web_guard(archive: bytes, web_ui: bool = True) -> None:
    """Arm the archive's guard (web_guard.py) for the Locust about to be exec'd: it becomes the
    `sitecustomize` of a new private folder (0700, not the bundle's) put first on PYTHONPATH, with
    the plugins it loads and, for a process with a web UI (`web_ui`: not a worker), beside the
    secret (0600), whose path is in LOAD_MANAGER_WEB_GUARD: that Locust then refuses web API
    requests without it. At start the guard loads its plugins, reads the secret, deletes the folder
    and the two variables, and hooks Locust's `events.init` (see web_guard). An archive without
    the guard (a launch from before it) changes nothing."""
    os.environ.update(web_guard_env(archive, os.environ.get("PYTHONPATH", ""), web_ui=web_ui))


def web_guard_env(archive: bytes, pythonpath: str = "", parent: str | None = None, web_ui: bool = True) -> dict[str, str]:
    """Write the archive's guard, its plugins and (`web_ui` and the archive has one) its secret into a
    new private folder (under `parent`, default the temporary folder) and return the variables that
    arm them for a Locust started with them (`pythonpath`: the PYTHONPATH it would have had); {} for
    an archive without a guard. Without a secret the guard is armed for a process that must have no
    web UI (NO_WEB_UI). Also what the local backend uses when it starts Locust itself (a bundle
    without requirements.txt)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        names = set(bundle.namelist())
        if WEB_GUARD_MEMBER not in names:
            return {}
        files = [("sitecustomize.py", bundle.read(WEB_GUARD_MEMBER))] + [(name, bundle.read(name)) for name in PLUGIN_MEMBERS if name in names]
        if web_ui and WEB_SECRET_MEMBER in names:
            files.append(("secret", bundle.read(WEB_SECRET_MEMBER)))
    folder = tempfile.mkdtemp(prefix="load-manager-guard-", dir=parent)
    for name, content in files:
        fd = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(content)
    secret = os.path.join(folder, "secret") if files[-1][0] == "secret" else NO_WEB_UI
    return {WEB_GUARD_ENV: secret, "PYTHONPATH": os.pathsep.join(p for p in (folder, pythonpath) if p)}


def _fail(code: int, message: str) -> NoReturn:
    print(f"{PREFIX} {message}", file=sys.stderr, flush=True)
    raise SystemExit(code)


if __name__ == "__main__":
    bundle_bytes = globals().get("BUNDLE")
    if bundle_bytes is None:  # run as a file: the archive's path or URL is in the environment
        import urllib.request

        with urllib.request.urlopen(os.environ["LOAD_MANAGER_BUNDLE_URL"], timeout=60) as response:
            bundle_bytes = response.read()
    main(sys.argv[1:], bundle_bytes)
