"""Identifiers and clocks, in one place so tests and stores agree on their shape."""

from __future__ import annotations

import re
import time
import uuid

ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
MAX_REVISION_NUMBER = 1_000_000_000


def new_id() -> str:
    return uuid.uuid4().hex


def is_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value))


def now_ms() -> int:
    return time.time_ns() // 1_000_000
