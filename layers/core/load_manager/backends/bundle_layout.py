"""How a run's bundle reaches Locust, the same on every backend: one runtime archive, one loader.

The runtime archive holds `bootstrap.py` (this package's bootstrap module, stdlib only),
`manifest.json` (`entryPath`; `locustfiles`, every file of Locust's -f; `runtimeModules` and
`runtimeDistributions`: Locust's runtime, which requirements.txt may not replace) and every file of
the bundle under `bundle/`, as Locust gets them (bundle.platform.runtime_files: locust.conf without
the options each run sets, requirements.txt without Locust's runtime). Whatever runs Locust
starts the loader below with LOAD_MANAGER_BUNDLE_URL pointing at the archive (`file://` for the
local backend, a presigned S3 URL on ECS): it downloads the archive and executes the bootstrap
from inside it, which unpacks the bundle, installs requirements.txt and execs Locust with the
bundle's folder as its working directory but not on sys.path while Locust starts (`python -P`;
see `bootstrap`).

The ECS task definitions in template.yaml declare `python -c LOADER` as their entry point; a test
keeps the two identical.
"""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

from load_manager.bundle.locust_runtime import RUNTIME_MODULES

from .base import ClusterSpec
from .bootstrap import (
    BAD_ARCHIVE,
    GENERATOR_USAGE_MEMBER,
    REDACTION_FAILED,
    REDACTION_MEMBER,
    REQUIREMENTS_FAILED,
    RUN_ENV_MEMBER,
    RUNTIME_HOOKS_MEMBER,
    WEB_GUARD_MEMBER,
    WEB_SECRET_MEMBER,
)
from .web_guard import WEB_GUARD_FAILED

BUNDLE_URL_ENV = "LOAD_MANAGER_BUNDLE_URL"
LOADER = (
    "import io,os,urllib.request as u,zipfile as z;"
    "b=u.urlopen(os.environ['LOAD_MANAGER_BUNDLE_URL'],timeout=60).read();"
    "exec(compile(z.ZipFile(io.BytesIO(b)).read('bootstrap.py'),'bootstrap.py','exec'),{'__name__':'__main__','BUNDLE':b})"
)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# What the bootstrap's own exit codes mean, for a run's failure reason (every backend).
BOOTSTRAP_FAILURES = {
    REQUIREMENTS_FAILED: "installing the bundle's requirements.txt failed",
    BAD_ARCHIVE: "the bundle could not be unpacked",
    WEB_GUARD_FAILED: "the web API guard could not be installed",
    REDACTION_FAILED: "the run's secrets could not be masked in Locust's output",
}


def loader_command(python: str, *bootstrap_options: str, locust_args: list[str]) -> list[str]:
    return [python, "-c", LOADER, *bootstrap_options, "--", *locust_args]


def runtime_archive(spec: ClusterSpec, *, web_secret: str | None = None, with_run_env: bool = False) -> bytes:
    """The bootstrap, the manifest, every file of the spec's bundle (its entry included), and the
    runtime's sitecustomize with its plugins (web_guard.py: the redaction, the generator usage); with
    `web_secret`, also the secret the guard makes Locust's web API require; with
    `with_run_env`, the run's variables and secrets (a remote task's only private channel: the ecs
    backend deletes such an archive once every task has it). Those sit outside `bundle/`: the
    bootstrap keeps them out of the bundle's folder."""
    # As Locust gets them: locust.conf without what each run sets, requirements.txt without Locust's runtime.
    from load_manager.bundle.platform import runtime_files  # lazy: bundle.platform costs 10 ms at import (bench/cold_import.py --lazy), archives only

    files = runtime_files({**dict(spec.files), spec.script_name: spec.script.encode("utf-8")})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "bootstrap.py", Path(__file__).with_name("bootstrap.py").read_bytes())
        if web_secret:
            _add(archive, WEB_SECRET_MEMBER, web_secret.encode("ascii"))
        # Every process's sitecustomize (the web guard, where there is a web UI) and its plugins: the
        # run's secrets masked in its output (also the bootstrap's relay), its CPU and memory.
        for member in (WEB_GUARD_MEMBER, REDACTION_MEMBER, GENERATOR_USAGE_MEMBER):
            _add(archive, member, Path(__file__).with_name(member).read_bytes())
        manifest: dict[str, object] = {"entryPath": spec.script_name, "runtimeModules": sorted(RUNTIME_MODULES)}
        # The load profile's stages and the CSV files each worker keeps its share of (locust_hooks.py).
        manifest |= {"loadProfile": [list(stage) for stage in spec.load_profile], "dataSplit": list(spec.data_split)}
        _add(archive, RUNTIME_HOOKS_MEMBER, Path(__file__).with_name("locust_hooks.py").read_bytes())
        # Every locustfile of -f, and the distributions pip may not change (bootstrap.runtime_constraints).
        manifest |= {"locustfiles": list(spec.locustfiles), "runtimeDistributions": sorted({d for dists in RUNTIME_MODULES.values() for d in dists})}
        _add(archive, "manifest.json", json.dumps(manifest).encode())
        if with_run_env and spec.run_env:
            _add(archive, RUN_ENV_MEMBER, json.dumps(dict(spec.run_env)).encode())
        for path in sorted(files):
            _add(archive, f"bundle/{path}", files[path])
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)
