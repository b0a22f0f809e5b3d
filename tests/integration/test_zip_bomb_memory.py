"""A 1 GB zip bomb is refused while the process stays under 200 MB of memory.

The archive (about 1 MB of deflate for 1 GiB of zeros) is built and uploaded in a child process,
through the real API handler, so its peak RSS (VmHWM) measures nothing but this: Python,
the handlers, the archive and its bounded decompression.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHILD = textwrap.dedent(
    """
    import io, json, os, sys, zipfile
    sys.path.insert(0, os.path.join(sys.argv[1], "tests"))
    import conftest  # noqa: F401  (quiet Powertools, test credentials)
    from load_manager.store import set_stores
    from load_manager.store.sqlite import build_sqlite_stores
    from load_manager_local.api import InProcessApi

    GIB = 1024 ** 3
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("locustfile.py", "from locust import HttpUser\\nclass U(HttpUser):\\n    pass\\n")
        with archive.open("zeros.bin", "w", force_zip64=True) as stream:
            chunk = bytes(1024 * 1024)
            for _ in range(GIB // len(chunk)):
                stream.write(chunk)
    bomb = buffer.getvalue()
    del buffer
    set_stores(build_sqlite_stores(sys.argv[2]))
    api = InProcessApi()
    body = {"name": "bomb", "scriptContent": "ZnJvbSBsb2N1c3QgaW1wb3J0IEh0dHBVc2VyCmNsYXNzIFUoSHR0cFVzZXIpOgogICAgcGFzcwo="}
    tid = api.request("POST", "/v1/load-tests", body=body).json()["id"]
    response = api.request("PUT", f"/v1/load-tests/{tid}/script/archive", body=bomb, headers={"content-type": "application/zip"})
    declared = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(bomb)).infolist())
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child of a big pytest worker
    # would report its parent's peak; VmHWM belongs to this process's own memory map.
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"status": response.status, "body": response.json(), "zipBytes": len(bomb), "declared": declared,
                      "maxRssKiB": peak}))
    """
)


def test_a_1gb_zip_bomb_is_refused_under_200mb_of_memory(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), str(tmp_path / "lm.db")], capture_output=True, text=True, timeout=240, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["declared"] >= 1024**3 and report["zipBytes"] < 4 * 1024 * 1024  # a real bomb, small enough to upload
    assert report["status"] == 413 and report["body"]["code"] == "BundleTooLarge", report
    assert report["maxRssKiB"] < 200 * 1024, f"peak RSS {report['maxRssKiB'] / 1024:.0f} MiB"
    print(f"1 GiB zip bomb ({report['zipBytes']} bytes) refused; peak RSS {report['maxRssKiB'] / 1024:.0f} MiB")
