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
   did, whatever the locale. An environment in which requirements.txt installed a module of
   Locust's runtime (`runtimeModules` of the manifest: Locust, another Locust, or any of its
   dependencies in another version) is refused, built or reused: its site folder comes first;
3. chdir to DIR and exec `python -P -m locust -f DIR/<entry> <locust arguments>` (same process
   id). `-P` keeps the working directory (the bundle) off sys.path while Python starts Locust and
   Locust imports its dependencies, so no bundle file can stand in for them; Locust then puts the
   working directory and the entry's folder first itself when it loads the locustfile, so the
   bundle's own imports work as with plain `locust -f`. Before exec, `install_web_guard` arms the
   archive's web guard: that Locust's web API then refuses any request without the launch's secret.

Exit codes before Locust: 3 = pip failed (its output is in the log above the line saying so) or
requirements.txt replaced part of Locust's runtime, 4 = the archive is unusable, 5 = the web
guard could not be installed (web_guard.WEB_GUARD_FAILED; Locust never starts with an open web API).
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
READY_MARKER = ".load-manager-ready"
PREFIX = "load-manager:"
# The launch's web API secret and the guard that makes Locust require it (web_guard.py), kept out
# of the bundle's folder: see install_web_guard.
WEB_SECRET_MEMBER = "web-secret"
WEB_GUARD_MEMBER = "web_guard.py"
WEB_GUARD_ENV = "LOAD_MANAGER_WEB_GUARD"


def main(argv: list[str], archive: bytes) -> None:
    options, locust_args = _parse(argv)
    dest = options.get("--dest") or tempfile.mkdtemp(prefix="bundle-")
    try:
        manifest = unpack(archive, dest)
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
        _fail(BAD_ARCHIVE, f"the bundle archive cannot be unpacked: {exc}")
    python = sys.executable
    requirements = os.path.join(dest, "requirements.txt")
    if os.path.isfile(requirements):
        cache = options.get("--env-cache") or os.path.join(tempfile.gettempdir(), "load-manager-envs")
        python = ensure_environment(requirements, cache, frozenset(manifest.get("runtimeModules", ())))
    os.chdir(dest)
    entry = os.path.join(dest, manifest["entryPath"])
    install_web_guard(archive)
    sys.stdout.flush()
    os.execv(python, locust_command(python, entry, locust_args))


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


def environment_key(requirements: bytes) -> str:
    """The cache key: the requirements' bytes and the interpreter they are installed for."""
    tag = f"{sys.implementation.cache_tag}-{sysconfig.get_platform()}-{sys.version}"
    return hashlib.sha256(tag.encode() + b"\0" + requirements).hexdigest()[:32]


def ensure_environment(requirements_path: str, cache: str, runtime_modules: frozenset[str] = frozenset()) -> str:
    """The Python of the environment for these requirements, built once and then reused; exits
    with REQUIREMENTS_FAILED if pip fails or the environment replaces a module in `runtime_modules`."""
    with open(requirements_path, "rb") as file:
        key = environment_key(file.read())
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
        code = subprocess.run(command, stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUTF8": "1"}).returncode
        if code != 0:
            shutil.rmtree(env, ignore_errors=True)
            _fail(REQUIREMENTS_FAILED, f"installing requirements.txt failed (pip exit code {code}); pip's output is above")
        _refuse_replaced_runtime(env, runtime_modules, remove=True)
        marker = os.path.join(env, READY_MARKER + ".tmp")
        with open(marker, "w") as file:
            file.write(key)
        os.replace(marker, os.path.join(env, READY_MARKER))
    return python


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


def install_web_guard(archive: bytes) -> None:
    """Make the Locust about to be exec'd refuse web API requests without the launch's secret: the
    archive's guard (web_guard.py) becomes the `sitecustomize` of a new private folder (0700, not
    the bundle's) put first on PYTHONPATH, beside the secret (0600), whose path is in
    LOAD_MANAGER_WEB_GUARD. At start the guard reads the secret, deletes the folder and the two
    variables, and hooks Locust's `events.init` (see web_guard). An archive without a secret
    (a launch from before secrets) changes nothing."""
    os.environ.update(web_guard_env(archive, os.environ.get("PYTHONPATH", "")))


def web_guard_env(archive: bytes, pythonpath: str = "", parent: str | None = None) -> dict[str, str]:
    """Write the archive's guard and secret into a new private folder (under `parent`, default the
    temporary folder) and return the variables that arm them for a Locust started with them
    (`pythonpath`: the PYTHONPATH it would have had); {} for an archive without a secret. Also
    what the local backend uses when it starts Locust itself (a bundle without requirements.txt)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        names = set(bundle.namelist())
        if WEB_SECRET_MEMBER not in names:
            return {}
        secret, guard = bundle.read(WEB_SECRET_MEMBER), bundle.read(WEB_GUARD_MEMBER)
    folder = tempfile.mkdtemp(prefix="load-manager-guard-", dir=parent)
    for name, content, mode in (("secret", secret, 0o600), ("sitecustomize.py", guard, 0o600)):
        fd = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as file:
            file.write(content)
    return {WEB_GUARD_ENV: os.path.join(folder, "secret"), "PYTHONPATH": os.pathsep.join(p for p in (folder, pythonpath) if p)}


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
