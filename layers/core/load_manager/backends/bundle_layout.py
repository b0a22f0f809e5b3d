"""How a run's bundle reaches Locust, the same on every backend: one runtime archive, one loader.

The runtime archive holds `bootstrap.py` (this package's bootstrap module, stdlib only),
`manifest.json` (`entryPath`, and `runtimeModules`: Locust's runtime, which requirements.txt may
not replace) and every file of the bundle under `bundle/`. Whatever runs Locust
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
from .bootstrap import WEB_GUARD_MEMBER, WEB_SECRET_MEMBER

BUNDLE_URL_ENV = "LOAD_MANAGER_BUNDLE_URL"
LOADER = (
    "import io,os,urllib.request as u,zipfile as z;"
    "b=u.urlopen(os.environ['LOAD_MANAGER_BUNDLE_URL'],timeout=60).read();"
    "exec(compile(z.ZipFile(io.BytesIO(b)).read('bootstrap.py'),'bootstrap.py','exec'),{'__name__':'__main__','BUNDLE':b})"
)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def loader_command(python: str, *bootstrap_options: str, locust_args: list[str]) -> list[str]:
    return [python, "-c", LOADER, *bootstrap_options, "--", *locust_args]


def runtime_archive(spec: ClusterSpec, *, web_secret: str | None = None) -> bytes:
    """The bootstrap, the manifest and every file of the spec's bundle (its entry included); with
    `web_secret`, also the secret and the web guard that makes Locust's web API require it. Those
    two sit outside `bundle/`: the bootstrap keeps them out of the bundle's folder."""
    files = {**dict(spec.files), spec.script_name: spec.script.encode("utf-8")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "bootstrap.py", Path(__file__).with_name("bootstrap.py").read_bytes())
        if web_secret:
            _add(archive, WEB_SECRET_MEMBER, web_secret.encode("ascii"))
            _add(archive, WEB_GUARD_MEMBER, Path(__file__).with_name("web_guard.py").read_bytes())
        manifest = {"entryPath": spec.script_name, "runtimeModules": sorted(RUNTIME_MODULES)}
        _add(archive, "manifest.json", json.dumps(manifest).encode())
        for path in sorted(files):
            _add(archive, f"bundle/{path}", files[path])
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)
