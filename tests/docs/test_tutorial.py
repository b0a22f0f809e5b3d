"""The tutorial runs as written: every command of docs/tutorial/, in the order of the site's nav,
with the output each page shows checked (format: tests/docs/console_pages.py).

As a reader would on a fresh clone, with three terminals: the example target and `load-manager
serve` are started by the pages' own commands, each in a terminal (process group) of its own, and
the rest runs in one bash session, so variables (`TEST=$(...)`) and `$?` carry from block to block.
What differs from a reader's machine, and why:
- ports: the pages say 9000 (target) and 8080 (serve); the test runs them with `--port 0` and
  writes the ports they print wherever the pages say 9000 or 8080 afterwards, so the test never
  collides with a port in use;
- the working directory is a scratch directory standing in for the clone: `.venv` and `examples/`
  are links to this checkout's, and what the tutorial writes (`.data/`, `locustfile.py`,
  `report.html`, ...) lands there, never in the checkout;
- `make setup` is not run (the checkout running the test is set up); the terminal is COLUMNS=100
  wide, and the environment carries none of the test run's own LOAD_MANAGER_*/POWERTOOLS_* settings.
Every process the pages start is stopped at the end, whatever happened.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from console_pages import Bindings, Block, expected_pattern, match_output, normalise, output_text, parse_page
from terminals import Background, BashSession

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 300  # a generous bound against a hang, never a verdict on speed
START_TIMEOUT = 120


def tutorial_pages() -> list[str]:
    """The Tutorial section of mkdocs.yml's nav, in order."""
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    section = next(entry["Tutorial"] for entry in nav if isinstance(entry, dict) and "Tutorial" in entry)
    return [next(iter(item.values())) if isinstance(item, dict) else item for item in section]


def tutorial_blocks() -> list[Block]:
    return [block for page in tutorial_pages() for block in parse_page(ROOT / "docs" / page, page)]


def _environment() -> dict[str, str]:
    venv_bin = str(ROOT / ".venv" / "bin")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOAD_MANAGER_", "POWERTOOLS_")) and k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env | {"COLUMNS": "100", "PYTHONUNBUFFERED": "1"}


class Reader:
    """Plays the pages' blocks in order, the way a reader would."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.env = _environment()
        self.bindings = Bindings()
        self.background: list[Background] = []
        self.session = BashSession(workdir, self.env)

    def play(self, block: Block) -> None:
        if block.mode == "skip":
            return
        if block.mode == "file":
            (self.workdir / block.title).write_text(self.bindings.substitute(block.body))
        elif block.mode == "background":
            self._start(block)
        elif block.lang == "console":
            for command in block.commands:
                self._run(block, command)

    def _run(self, block: Block, command) -> None:
        text = self.bindings.substitute(command.text)
        output, status = self.session.run(text, COMMAND_TIMEOUT)
        where = f"{block.page}:{command.line}"
        if not match_output(command.expected, output, self.bindings):
            pytest.fail(_mismatch(where, text, command.expected, output, self.bindings), pytrace=False)
        # A failing command is part of the tutorial only where the page shows its status next.
        following = _next_command(block, command)
        if status != 0 and not (following and "$?" in following.text):
            pytest.fail(f"{where}: `{text}` exited with {status}, and the page does not show it (`echo $?` next)\n{output}", pytrace=False)

    def _start(self, block: Block) -> None:
        script = "\n".join(self.bindings.substitute(c.text) for c in block.commands)
        if block.port:
            script = script.replace(f"--port {block.port}", "--port 0")
        process = Background(script, self.workdir, self.env)
        self.background.append(process)
        expected = [line for c in block.commands for line in c.expected]
        pattern, groups = expected_pattern(expected, self.bindings, capture=block.port)
        try:
            found = process.wait_for(re.compile(pattern), normalise, START_TIMEOUT)
        except RuntimeError as exc:
            pytest.fail(f"{block.where}: `{script}`: {exc}", pytrace=False)
        for name, group in groups.items():
            if name == f"literal {block.port}":
                self.bindings.replacements[block.port] = found.group(group)
            else:
                self.bindings.values[name] = found.group(group)

    def close(self) -> None:
        self.session.close()
        for process in reversed(self.background):
            process.stop()


def _next_command(block: Block, command):
    index = block.commands.index(command)
    return block.commands[index + 1] if index + 1 < len(block.commands) else None


def _mismatch(where: str, command: str, expected: list[str], output: str, bindings: Bindings) -> str:
    known = ", ".join(f"<{k}>={v}" for k, v in bindings.values.items()) or "none yet"
    return (
        f"{where}: the output of\n  $ {command}\ndoes not match the page.\n"
        f"--- the page expects (placeholders known: {known}):\n" + "\n".join(expected) +
        "\n--- the command printed (normalised):\n" + output_text(output)
    )  # fmt: skip


@pytest.fixture
def workdir(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in (".venv", "examples"):
        (clone / name).symlink_to(ROOT / name)
    return clone


def test_every_tutorial_block_is_run_or_marked():
    blocks = tutorial_blocks()
    modes = {block.mode for block in blocks}
    assert {"run", "background", "file", "skip"} <= modes, modes
    commands = [c for b in blocks if b.mode == "run" for c in b.commands]
    assert len(commands) >= 20, "the tutorial should run its commands, not skip them"
    assert all(b.port for b in blocks if b.mode == "background"), "each background block names the port it listens on"


def test_the_tutorial_runs_as_written(workdir):
    reader = Reader(workdir)
    try:
        for block in tutorial_blocks():
            reader.play(block)
    finally:
        reader.close()
