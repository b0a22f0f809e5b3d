"""Subcommands besides `serve`: `invoke` (a function's handler once, like `sam local invoke`),
`events tail` (what the local bus carried) and `migrate` (legacy tests into revisions)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from load_manager_local import events_cli, invoke, migrate

    invoke.add_parser(sub)
    events_cli.add_parser(sub)
    migrate.add_parser(sub)


def run(args: argparse.Namespace) -> int:
    """Every subcommand but serve sets its `handler` (these and the API client's alike)."""
    return int(args.handler(args))
