"""`load-manager serve --console-config FILE`: the JSON the console reads as /config.json.

Standard library only (the CLI imports it before anything heavy): the file is read and checked while
the arguments are parsed, so a bad one stops `serve` with the reason before anything starts.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from load_manager.deploy.console_files import check_config


def console_config_file(path: str) -> dict[str, Any]:
    """The file's configuration (an argparse `type`), or argparse's usage error saying what is wrong."""
    try:
        return check_config(json.loads(Path(path).read_text()))
    except (OSError, ValueError) as error:  # JSONDecodeError is a ValueError
        raise argparse.ArgumentTypeError(f"{path}: {error}") from error
