"""Cursors are read as what they are: base64url -> bytes -> JSON -> fields checked one by one."""

from __future__ import annotations

import base64
import json

import pytest

from load_manager.errors import InvalidCursorError
from load_manager.models.results import SeriesColumns
from load_manager.pagination import (
    SeriesCursor,
    decode_cursor,
    decode_series_cursor,
    encode_cursor,
    series_cursor,
    series_cursor_after,
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_comes_back_as_it_was_made():
    cursor = encode_cursor([1_700_000_000_000, "f" * 32])
    assert "=" not in cursor and decode_cursor(cursor, int, str) == (1_700_000_000_000, "f" * 32)
    assert decode_cursor(None, int) is None and decode_cursor("", int) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",  # not base64url
        "é",  # not ASCII
        b64(b"\xff\xfe"),  # not UTF-8
        b64(b"[1,"),  # not JSON
        b64(b'{"a": 1}'),  # not a list
        b64(b"[1]"),  # too short
        b64(b'[1, "x", 2]'),  # too long
        b64(b'["1", "x"]'),  # a string for an int
        b64(b'[true, "x"]'),  # a bool is not an int
        b64(b'[-1, "x"]'),  # a negative key
        b64(b'[1.5, "x"]'),  # a float for an int
    ],
)
def test_a_made_up_cursor_is_a_400_not_a_500(cursor):
    with pytest.raises(InvalidCursorError) as caught:
        decode_cursor(cursor, int, str)
    assert (caught.value.status, caught.value.code) == (400, "InvalidCursor")


def test_a_series_cursor_fixes_a_step_of_one_ms_at_least():
    assert decode_series_cursor(series_cursor(2000, 1_700_000_004_000)) == SeriesCursor(step=2000, bucket=1_700_000_004_000)
    assert decode_series_cursor(series_cursor(2000, -5)) == SeriesCursor(step=2000, bucket=0)  # never a negative bucket
    assert decode_series_cursor(None) is None
    with pytest.raises(InvalidCursorError):
        decode_series_cursor(encode_cursor([0, 10]))


def test_the_cursor_after_a_kept_series_is_read_from_its_time_column():
    columns = SeriesColumns(time=[1_000, 3_000, 5_000], users=[1, 2, 3], rps=[1.0, None, 2.5])
    encoded = columns.model_dump_json(by_alias=True)
    assert decode_series_cursor(series_cursor_after(encoded, 2000, 0)) == SeriesCursor(2000, 5_000)
    empty = SeriesColumns().model_dump_json(by_alias=True)
    assert decode_series_cursor(series_cursor_after(empty, 2000, 7_000)) == SeriesCursor(2000, 7_000)
    # Parsed, not sliced: a `time` key inside another column's text changes nothing.
    tricky = json.dumps({"users": ['"time":[9]'], "time": [4_000]})
    assert decode_series_cursor(series_cursor_after(tricky, 1000, 0)) == SeriesCursor(1000, 4_000)
    with pytest.raises(ValueError):
        series_cursor_after(json.dumps({"rps": [1.0]}), 1000, 0)
