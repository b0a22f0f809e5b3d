"""Opaque cursors for keyset pagination (never offsets: page N costs the same as page 1)."""

from __future__ import annotations

import base64
import json
from typing import Any

from load_manager.errors import InvalidCursorError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *types: type) -> tuple | None:
    """Decode a cursor made by `encode_cursor` whose parts have the given types; bad ones are a 400."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise InvalidCursorError("cursor is malformed; pass back the nextCursor of a previous page") from None
    if not isinstance(key, list) or len(key) != len(types) or not all(
        isinstance(v, t) and not isinstance(v, bool) for v, t in zip(key, types, strict=True)
    ):
        raise InvalidCursorError("cursor is malformed; pass back the nextCursor of a previous page")
    if any(isinstance(v, int) and v < 0 for v in key):
        raise InvalidCursorError("cursor is malformed; pass back the nextCursor of a previous page")
    return tuple(key)
