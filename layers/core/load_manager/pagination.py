"""Opaque cursors: keyset pagination (never offsets: page N costs the same as page 1), and the
`since` cursor of a metrics series (`nextSince`).

A cursor is a JSON array, base64url-encoded without padding. Reading one is the reverse, step by
step: base64 -> bytes, json.loads -> a value, then each field checked against what it must be. Any
cursor a client made up is a 400 InvalidCursor, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from load_manager.errors import InvalidCursorError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MALFORMED = "cursor is malformed; pass back the nextCursor of a previous page"
SINCE_MISMATCH = "`since` is a nextSince of an earlier answer; it fixes the step, so omit `step` or pass the same"


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *types: type) -> tuple | None:
    """Decode a cursor made by `encode_cursor` whose parts have the given types; bad ones are a 400."""
    if not cursor:
        return None
    return _fields(_json(_base64(cursor)), types)


def _base64(cursor: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):  # not base64url (or non-ASCII text)
        raise InvalidCursorError(MALFORMED) from None


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:  # not JSON, or not UTF-8
        raise InvalidCursorError(MALFORMED) from None


def _fields(key: Any, types: tuple[type, ...]) -> tuple:
    """The key's parts, each of its type (a bool is not an int) and no int negative."""
    if not isinstance(key, list) or len(key) != len(types):
        raise InvalidCursorError(MALFORMED)
    for value, kind in zip(key, types, strict=True):
        if not isinstance(value, kind) or isinstance(value, bool) or (isinstance(value, int) and value < 0):
            raise InvalidCursorError(MALFORMED)
    return tuple(key)


# ---- the `since` cursor of a metrics series: [step ms, start of the last bucket sent] ------------


@dataclass(frozen=True)
class SeriesCursor:
    step: int  # the series' bucket width: a `since` cursor fixes it
    bucket: int  # the start of the last bucket the answer held (epoch ms)


def series_cursor(step: int, last_bucket: int) -> str:
    return encode_cursor([step, max(last_bucket, 0)])


def decode_series_cursor(since: str | None) -> SeriesCursor | None:
    """A `nextSince` of an earlier answer; its step is 1 ms at least (a 400 otherwise)."""
    key = decode_cursor(since, int, int)
    if key is None:
        return None
    cursor = SeriesCursor(*key)
    if cursor.step < 1:
        raise InvalidCursorError(SINCE_MISMATCH)
    return cursor


def series_cursor_after(encoded_columns: str, step: int, empty_bucket: int) -> str:
    """The `since` cursor after a series kept encoded (columns JSON, as `SeriesColumns` dumps them):
    after its last point, or at `empty_bucket` when it has none."""
    times = json.loads(encoded_columns).get("time")
    if not isinstance(times, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in times[-1:]):
        raise ValueError("encoded series columns without a `time` column of epoch ms")
    return series_cursor(step, times[-1] if times else empty_bucket)
