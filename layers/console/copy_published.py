"""Copy the console's published files, and nothing else, into a directory: the console layer's build.

    python3 layers/console/copy_published.py SOURCE_DIR TARGET_DIR

Runs under whatever python3 `sam build` finds, outside the project's virtual environment, so the rule
module is loaded by its path (it uses the standard library only).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

RULE = Path(__file__).resolve().parents[1] / "core" / "load_manager" / "deploy" / "console_files.py"


def _rule():
    spec = importlib.util.spec_from_file_location("console_files", RULE)
    assert spec is not None and spec.loader is not None, RULE
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(source: str, target: str) -> int:
    names = []
    for name, path in _rule().published_files(Path(source)):
        destination = Path(target) / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        names.append(name)
    if "index.html" not in names:
        print(f"copy_published: no console in {Path(source).resolve()} (index.html missing)", file=sys.stderr)
        return 1
    print(f"copy_published: {len(names)} console files into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]) if len(sys.argv) == 3 else 2)
