"""`load-manager events tail`: the events the local bus carried, from `<data-dir>/events.jsonl`.

`serve` appends every event put on any local bus to that file, one JSON object per line: the
event as EventBridge delivers it (version, id, detail-type, source, account, time, region,
resources, detail) plus `eventBusName` and `matchedRules`. That includes Load Manager's own
RunStarted / RunFinished and whatever was put through `/aws`.
"""

from __future__ import annotations

import argparse
import json
from collections import deque
from pathlib import Path

from load_manager_local.aws import EVENTS_FILE


def add_parser(sub: argparse._SubParsersAction) -> None:
    events = sub.add_parser("events", help="events of the local event bus")
    actions = events.add_subparsers(dest="events_command", required=True)
    parser = actions.add_parser("tail", help=f"print the events recorded in <data-dir>/{EVENTS_FILE}")
    parser.add_argument("--data-dir", default=".data")
    parser.add_argument("-n", "--lines", type=int, default=20, help="how many of the latest to print first (0: all)")
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new events as they come")
    parser.add_argument("--source", help="only this source (e.g. load-manager)")
    parser.add_argument("--detail-type", help="only this detail-type (e.g. RunFinished)")
    parser.add_argument("--json", action="store_true", help="print each event as one JSON line")
    parser.set_defaults(handler=main)


def matches(event: dict, source: str | None, detail_type: str | None) -> bool:
    return (source is None or event.get("source") == source) and (detail_type is None or event.get("detail-type") == detail_type)


def render(event: dict, as_json: bool) -> str:
    if as_json:
        return json.dumps(event, separators=(",", ":"))
    detail = json.dumps(event.get("detail"), separators=(",", ":"))
    if len(detail) > 160:
        detail = detail[:157] + "..."
    rules = ",".join(event.get("matchedRules") or []) or "-"
    where = f"{event.get('time')}  {event.get('eventBusName')}  {event.get('source')}  {event.get('detail-type')}"
    return f"{where}  {event.get('id')}  rules={rules}  {detail}"


def main(args: argparse.Namespace) -> int:
    path = Path(args.data_dir) / EVENTS_FILE
    if not path.exists() and not args.follow:
        print(f"no events recorded yet ({path} does not exist): start `load-manager serve --data-dir {args.data_dir}`")
        return 0
    offset, latest = 0, deque[dict](maxlen=args.lines or None)
    if path.exists():
        data = path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]  # a line still being written is for --follow
        offset = len(complete)
        recorded = (json.loads(line) for line in complete.splitlines() if line.strip())
        latest.extend(e for e in recorded if matches(e, args.source, args.detail_type))
    for event in latest:
        print(render(event, args.json), flush=True)
    if args.follow:
        for event in _after(path, offset):
            if matches(event, args.source, args.detail_type):
                print(render(event, args.json), flush=True)
    return 0


def _after(path: Path, offset: int):
    """New records appended after `offset` bytes, forever."""
    import time

    while True:
        if path.exists() and path.stat().st_size > offset:
            with open(path, "rb") as f:
                f.seek(offset)
                for line in f:
                    if not line.endswith(b"\n"):
                        break
                    offset += len(line)
                    if line.strip():
                        yield json.loads(line)
        time.sleep(0.5)
