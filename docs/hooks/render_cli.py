"""The CLI reference, rendered from the `load-manager` command's own argparse parser.

The parser is the one `load_manager_local.cli.main` builds: main is called, and the moment it asks
the parser to parse, the parser is taken instead. So a subcommand registered anywhere shows up here
without this file knowing about it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator

from markdown_text import code, prose, table

PROG = "load-manager"
WIDTH = "88"  # argparse wraps usage lines at $COLUMNS: this fits a code block of the page


class _ParserCapturedError(Exception):
    """Not an error: how main's parser is handed back instead of parsing."""

    def __init__(self, parser: argparse.ArgumentParser):
        super().__init__("parser captured")
        self.parser = parser


def cli_parser() -> argparse.ArgumentParser:
    from load_manager_local import cli, commands

    def capture(self: argparse.ArgumentParser, *_args: object, **_kwargs: object) -> argparse.Namespace:
        raise _ParserCapturedError(self)

    original = commands.CliParser.parse_args
    commands.CliParser.parse_args = capture  # type: ignore[method-assign,assignment]
    try:
        cli.main([])
    except _ParserCapturedError as captured:
        return captured.parser
    finally:
        commands.CliParser.parse_args = original  # type: ignore[method-assign]
    raise RuntimeError("load_manager_local.cli.main no longer parses its arguments with commands.CliParser")


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(name, help, parser) of each subcommand, in the order they were registered."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str, argparse.ArgumentParser]]:
    for name, help_text, sub in _subcommands(parser):
        yield (*path, name), help_text, sub
        yield from walk(sub, (*path, name))


def _arguments(parser: argparse.ArgumentParser) -> list[list[str]]:
    formatter = parser._get_formatter()
    rows = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.option_strings:
            metavar = "" if action.nargs == 0 else " " + formatter._format_args(action, action.dest.upper())
            name = ", ".join(code(flag + metavar) for flag in action.option_strings)
        else:
            name = code(formatter._metavar_formatter(action, action.dest)(1)[0])
        default = "" if action.default in (None, False, argparse.SUPPRESS) or action.required else code(action.default)
        extra = ["required"] if action.required and action.option_strings else []
        help_text = prose(formatter._expand_help(action)) if action.help else ""
        rows.append([name, "; ".join([help_text, *extra]).strip("; "), default])
    return rows


def reference() -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        return _reference(cli_parser())
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous


def _reference(root: argparse.ArgumentParser) -> str:
    out = []
    for path, help_text, parser in walk(root):
        command = " ".join((PROG, *path))
        level = "#" * min(len(path) + 1, 4)
        out.append(f"{level} `{command}` {{#{'-'.join(path)}}}\n")
        description = parser.description or help_text
        if description:
            out.append(prose(description[0].upper() + description[1:]) + ".\n")
        out.append("```text\n" + parser.format_usage().rstrip() + "\n```\n")
        commands = [[f"[`{name}`](#{'-'.join((*path, name))})", prose(sub_help)] for name, sub_help, _ in _subcommands(parser)]
        if commands:
            out.append(table(["Command", "What it does"], commands) + "\n")
        rows = _arguments(parser)
        if rows:
            out.append(table(["Argument", "What it is", "Default"], rows) + "\n")
    return "\n".join(out)


# What each exit code of the API client commands means; every EXIT_* constant of commands.py must
# be here (and nothing else), so a new code cannot go undocumented.
EXIT_MEANINGS = {
    "EXIT_OK": "the run Finished, and Passed or NotEvaluated; any other command: it succeeded",
    "EXIT_GATES_FAILED": "the run Finished and Failed its gates (criteria, or auto-stop)",
    "EXIT_RUN_FAILED": "the run Failed or was Cancelled",
    "EXIT_USAGE": "a usage error, or an API error (the API's code and message on stderr)",
    "EXIT_GENERATOR_SATURATED": "the run Finished, and Passed or NotEvaluated, but a load generator was saturated "
    "(`generatorSaturated`): the load asked for may not have been applied; a run that Failed its gates with a saturated "
    "generator exits 1",
    "EXIT_AUTHENTICATION": "the API refused the credential (HTTP 401): no token, an invalid one, or an API token that expired or was "
    "revoked (`LOAD_MANAGER_TOKEN`, `--token`); fix the secret, not the build",
}


def exit_codes() -> str:
    from load_manager_local import commands

    constants = {name: getattr(commands, name) for name in dir(commands) if name.startswith("EXIT_")}
    if set(constants) != set(EXIT_MEANINGS):
        raise RuntimeError(f"exit codes of load_manager_local.commands changed: {sorted(constants)} vs documented {sorted(EXIT_MEANINGS)}")
    rows = [[code(value), code(name), EXIT_MEANINGS[name]] for name, value in sorted(constants.items(), key=lambda item: item[1])]
    return table(["Exit code", "Constant", "Meaning"], rows)
