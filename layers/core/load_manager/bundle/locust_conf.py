"""Locust's own configuration in a bundle: `locust.conf` and `pyproject.toml`'s `[tool.locust]`.

Locust reads both from its working directory, which is the bundle's root on every process of a run
(after `~/.locust.conf`; a later file wins). What they set is honoured, except the options the
control plane owns (`OWNED`): where the load goes and how much (host, users, spawn rate, run time:
the run's settings), how Locust runs (headless, autostart, master, workers, processes: the
backend's cluster), its web UI (the backend drives Locust through it) and what would make Locust
print something and exit. Locust gives its command line precedence over these files, but not every
owned option is on it (`--run-time`, `--headless` or `--worker` cannot be unset from there), so:

- `locust.conf` reaches Locust without those lines (`runtime_text`: each becomes a comment saying
  so, at the same line number), and validation warns about each, naming the option;
- `pyproject.toml` cannot be rewritten line by line (TOML), so one whose `[tool.locust]` sets an
  owned option is refused at save time, as is a file Locust cannot parse (it would exit at start).

The file is read as configargparse's DefaultConfigFileParser reads it (one `key value`, `key =
value` or `key: value` per line; `#`, `;`, `[section]` and `---` lines ignored) and a key is an
option's long name with or without its dashes. A key that names no option of Locust's is passed on
by configargparse as `--key`, which argparse takes for any option it abbreviates: such a key that
abbreviates an owned option (`web-p`, `-u`) is owned too. The option names are Locust 2.47's
(`LOCUST_OPTIONS`; a unit test holds them to the installed Locust's parser).
"""

from __future__ import annotations

import re

from load_manager.errors import InvalidLocustConfError

CONF = "locust.conf"
PYPROJECT = "pyproject.toml"

_RUN = "each run sets it"
_CLUSTER = "the backend runs Locust's master and workers"
_WEB = "the backend drives Locust through its web UI"
_EXITS = "Locust would print it and exit instead of running the test"
OWNED: dict[str, str] = {
    "host": "the run's targetUrl is used", "users": "the run's targetUsers is used", "spawn-rate": "the run's spawnRate is used",
    "run-time": "the run's durationSeconds is used (the run stops the load)", "locustfile": "the test's entryPath is used",
    "config": "only the bundle's own locust.conf is read", "logfile": "Locust's log must reach the run's log",
    **dict.fromkeys(("headless", "autostart", "autoquit", "headful", "class-picker", "legacy-ui"), _WEB),
    **dict.fromkeys(("web-host", "web-host-display-name", "web-port", "web-auth", "web-login", "tls-cert", "tls-key", "build-path",
                     "web-base-path"), _WEB),
    **dict.fromkeys(("master", "master-bind-host", "master-bind-port", "expect-workers", "expect-workers-max-wait", "enable-rebalancing",
                     "expect-slaves", "worker", "processes", "slave", "master-host", "master-port"), _CLUSTER),
    **dict.fromkeys(("help", "list", "show-task-ratio", "show-task-ratio-json", "version"), _EXITS),
}  # fmt: skip
# Every long option of Locust 2.47's parser: a key naming one exactly is that option, not an abbreviation.
LOCUST_OPTIONS = frozenset(OWNED) | {
    "config-users", "tags", "exclude-tags", "csv", "csv-full-history", "print-stats", "only-summary", "reset-stats", "html", "json",
    "json-file", "skip-log-setup", "loglevel", "exit-code-on-error", "stop-timeout", "equal-weights", "profile", "otel",
}  # fmt: skip
# configargparse's DefaultConfigFileParser line: key, then an optional separator and value, then a comment.
_LINE = re.compile(r"^(?P<key>[^:=;#\s]+)\s*(?:(?P<equal>[:=\s])\s*([\'\"]?)(?P<value>.+?)?\3)?\s*(?:\s[;#]\s*(?P<comment>.*?)\s*)?$")


def owned_option(key: str) -> str | None:
    """The owned option a config key sets, or None when Locust gives it to the test."""
    name = key.lstrip("-")
    if name in LOCUST_OPTIONS:
        return name if name in OWNED else None
    matches = sorted(option for option in OWNED if name and option.startswith(name))
    return matches[0] if matches else None


def conf_lines(data: bytes) -> list[tuple[int, str, str]]:
    """(line number, key, text) of every setting of a locust.conf; raises InvalidLocustConfError
    where Locust would refuse the file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidLocustConfError(f"{CONF} is not UTF-8 text (byte {exc.start})", details={"file": CONF}) from None
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;[" or line.startswith("---"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise InvalidLocustConfError(
                f"{CONF} line {number}: Locust cannot read {line[:80]!r} (write `option = value`) and would not start",
                details={"file": CONF, "line": number},
            )
        found.append((number, match.group("key"), raw))
    return found


def conf_warnings(data: bytes) -> list[str]:
    """One warning per line of locust.conf that the run's settings override, naming the option."""
    warnings = []
    for number, key, _ in conf_lines(data):
        option = owned_option(key)
        if option is not None:
            shown = key if key.lstrip("-") == option else f"{key} ({option})"
            warnings.append(f"{CONF} line {number} sets {shown}, which Load Manager sets for every run: ignored ({OWNED[option]})")
    return warnings


def runtime_text(data: bytes) -> bytes:
    """locust.conf as Locust gets it: every owned setting turned into a comment on its own line."""
    owned = {number for number, key, _ in conf_lines(data) if owned_option(key) is not None}
    if not owned:
        return data
    lines = data.decode("utf-8-sig").splitlines(keepends=True)
    for number in owned:
        body = lines[number - 1].rstrip("\r\n")
        lines[number - 1] = f"# load-manager: set by the run, not here: {body}" + lines[number - 1][len(body) :]
    return "".join(lines).encode("utf-8")


def check_pyproject(data: bytes) -> None:
    """A pyproject.toml Locust can read, whose [tool.locust] sets no owned option."""
    import tomllib  # lazy: tomllib costs 8 ms at import (bench/cold_import.py --lazy), only for a bundle with a pyproject.toml

    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors; nesting too deep
        message = f"Locust reads {PYPROJECT} from its working directory and cannot parse this one ({exc}): it would not start"
        raise InvalidLocustConfError(message, details={"file": PYPROJECT}) from None
    tool = document.get("tool")
    section = tool.get("locust") if isinstance(tool, dict) else None
    owned = sorted({option for key in (section if isinstance(section, dict) else {}) if (option := owned_option(str(key))) is not None})
    if owned:
        raise InvalidLocustConfError(
            f"{PYPROJECT} [tool.locust] sets {', '.join(owned)}, which Load Manager sets for every run: remove them "
            f"(or move the rest to {CONF}, whose such lines are ignored with a warning)",
            details={"file": PYPROJECT, "options": owned},
        )
