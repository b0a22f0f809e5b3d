"""A tiny wheel built on the spot, so a bundle's requirements.txt can name a package that is not
installed anywhere and pip can install it offline (`--no-index --find-links`)."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(directory: Path, name: str, version: str, module_source: str, *, requires: tuple[str, ...] = (), module: str | None = None) -> Path:
    """`<name>-<version>-py3-none-any.whl` holding one package `<module>` (default: `<name>`,
    underscored) whose `__init__.py` is `module_source`; `requires`: its Requires-Dist lines."""
    distribution = name.replace("-", "_")
    module = module or distribution
    dist_info = f"{distribution}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{module}/__init__.py": module_source.encode(),
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: load-manager-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items()) + f"{dist_info}/RECORD,,\n"
    files[f"{dist_info}/RECORD"] = record.encode()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{distribution}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name_in_wheel, data in files.items():
            wheel.writestr(name_in_wheel, data)
    return path
