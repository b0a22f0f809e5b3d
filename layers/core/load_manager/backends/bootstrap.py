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
   has succeeded: two runs never half-use one, a later run reuses it, a killed build is rebuilt;
3. chdir to DIR and exec `python -m locust -f DIR/<entry> <locust arguments>` (same process id).

Exit codes before Locust: 3 = pip failed (its output is in the log above the line saying so),
4 = the archive is unusable.
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


def main(argv: list[str], archive: bytes) -> None:
    options, locust_args = _parse(argv)
    dest = options.get("--dest") or tempfile.mkdtemp(prefix="bundle-")
    try:
        manifest = _unpack(archive, dest)
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
        _fail(BAD_ARCHIVE, f"the bundle archive cannot be unpacked: {exc}")
    python = sys.executable
    requirements = os.path.join(dest, "requirements.txt")
    if os.path.isfile(requirements):
        cache = options.get("--env-cache") or os.path.join(tempfile.gettempdir(), "load-manager-envs")
        python = ensure_environment(requirements, cache)
    os.chdir(dest)
    entry = os.path.join(dest, manifest["entryPath"])
    sys.stdout.flush()
    os.execv(python, [python, "-m", "locust", "-f", entry, *locust_args])


def _parse(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    args = list(argv)
    while args and args[0] != "--":
        name = args.pop(0)
        if name not in ("--dest", "--env-cache") or not args:
            _fail(BAD_ARCHIVE, f"unknown bootstrap option {name!r}")
        options[name] = args.pop(0)
    return options, args[1:]


def _unpack(archive: bytes, dest: str) -> dict:
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


def ensure_environment(requirements_path: str, cache: str) -> str:
    """The Python of the environment for these requirements, built once and then reused."""
    with open(requirements_path, "rb") as file:
        key = environment_key(file.read())
    os.makedirs(cache, exist_ok=True)
    env = os.path.join(cache, key)
    python = os.path.join(env, "bin", "python")
    with open(os.path.join(cache, key + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released by the kernel if this process dies
        if os.path.exists(os.path.join(env, READY_MARKER)):
            print(f"{PREFIX} reusing the environment {key} for requirements.txt", flush=True)
            return python
        print(f"{PREFIX} building the environment {key} for requirements.txt", flush=True)
        shutil.rmtree(env, ignore_errors=True)  # whatever a killed build left
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", env], check=True)
        _link_base_site(env)
        command = [python, "-m", "pip", "install", "--no-input", "--disable-pip-version-check", "-r", requirements_path]
        code = subprocess.run(command, stdin=subprocess.DEVNULL).returncode
        if code != 0:
            shutil.rmtree(env, ignore_errors=True)
            _fail(REQUIREMENTS_FAILED, f"installing requirements.txt failed (pip exit code {code}); pip's output is above")
        marker = os.path.join(env, READY_MARKER + ".tmp")
        with open(marker, "w") as file:
            file.write(key)
        os.replace(marker, os.path.join(env, READY_MARKER))
    return python


def _link_base_site(env: str) -> None:
    """A venv made from inside another venv sees the *interpreter's* site-packages, not the outer
    venv's: a .pth adds this Python's own site folders (after the environment's, so what
    requirements.txt installs wins). Harmless where they are the same (the Locust image)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    target = os.path.join(env, "lib", version, "site-packages")
    folders = [path for path in site.getsitepackages() if os.path.isdir(path)]
    with open(os.path.join(target, "_load_manager_base.pth"), "w") as file:
        file.write("import site; " + "; ".join(f"site.addsitedir({path!r})" for path in folders) + "\n")


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
