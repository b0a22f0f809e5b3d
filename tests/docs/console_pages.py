"""Read the tutorial's pages as a test runs them, and check what commands print against the page.

The page format (docs/tutorial/index.md says it to readers too):

- A ```console block holds commands, each on a line starting with `$ ` (a line ending with `\\` goes
  on to the next), each followed by the output the page expects. In expected output `<name>` is a
  value (an id, a digest, a count) that is the same wherever that name appears on the pages: its
  first appearance takes what the command printed, later ones must print that again. `…` is
  anything on a line; a line that is only `…` is any number of lines. Runs of spaces count as one,
  and so do runs of a table's rule characters (`━`, `─`), so tables of any column width match.
- An HTML comment right above a block says how the test treats it:
  `<!-- docs-test: skip -->` (never run, e.g. `make setup`, `sam deploy`);
  `<!-- docs-test: background port=8080 -->` (a long-running command, as in a terminal of its own:
  started, its output waited for, stopped at the end; `--port 8080` is run as `--port 0` and the
  port it prints replaces 8080 in every later block);
  `<!-- docs-test: file -->` on a block with `title="name"` (saved as that file, as the reader
  would, for later commands to run).
- Every ```console or ```python block of a tutorial page is one of those or run: none is left
  out silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<lang>[\w-]*)(?P<attrs>[^`]*)$")
DIRECTIVE = re.compile(r"^\s*<!-- docs-test: (?P<mode>skip|background|file)(?P<args>[^>]*?)\s*-->\s*$")
TITLE = re.compile(r'title="(?P<title>[^"]+)"')
PLACEHOLDER = re.compile(r"<(?P<name>[a-z][a-z0-9-]*)>")
ELLIPSIS = "…"
RULES = re.compile(r"([━─═])\1+")
SPACES = re.compile(r"[ \t]+")
CHECKED_LANGS = {"console", "python"}


@dataclass
class Command:
    text: str
    expected: list[str]
    line: int  # on the page, 1-based


@dataclass
class Block:
    page: str
    line: int
    lang: str
    mode: str  # run, skip, background, file
    title: str | None
    body: str
    port: str | None = None
    commands: list[Command] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def parse_page(path: Path, name: str) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    directive: re.Match | None = None
    i = 0
    while i < len(lines):
        opened = FENCE.match(lines[i])
        if not opened:
            directive = DIRECTIVE.match(lines[i]) or (directive if not lines[i].strip() else None)
            i += 1
            continue
        indent, fence = opened["indent"], opened["fence"]
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence), None)
        if end is None:
            raise ValueError(f"{name}:{i + 1}: unclosed code block")
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip() for line in lines[i + 1 : end]]
        blocks.append(_block(name, i + 1, opened, directive, body))
        directive = None
        i = end + 1
    return blocks


def _block(page: str, line: int, opened: re.Match, directive: re.Match | None, body: list[str]) -> Block:
    lang = opened["lang"]
    title = TITLE.search(opened["attrs"])
    mode = directive["mode"] if directive else "run"
    block = Block(page, line, lang, mode, title["title"] if title else None, "\n".join(body) + "\n")
    if directive and mode == "background":
        port = re.search(r"port=(\d+)", directive["args"])
        block.port = port.group(1) if port else None
    if mode == "file" and not block.title:
        raise ValueError(f"{block.where}: a docs-test file block needs title=\"<file name>\"")
    if lang == "console" and mode != "skip":
        block.commands = _commands(block, body)
    if lang in CHECKED_LANGS and mode == "run" and lang != "console":
        raise ValueError(f"{block.where}: a ```{lang} block must be a docs-test file (saved, then run by a command) or skipped")
    return block


def _commands(block: Block, body: list[str]) -> list[Command]:
    commands: list[Command] = []
    continued = False
    for offset, text in enumerate(body):
        if continued:
            commands[-1].text += "\n" + text
            continued = text.endswith("\\")
        elif text.startswith("$ "):
            commands.append(Command(text[2:], [], block.line + 1 + offset))
            continued = text.endswith("\\")
        elif commands:
            commands[-1].expected.append(text)
        elif text.strip():
            raise ValueError(f"{block.where}: output before the first `$ ` command: {text!r}")
    return commands


# ---- matching ------------------------------------------------------------------------------------


def normalise(line: str) -> str:
    return SPACES.sub(" ", RULES.sub(r"\1", line.rstrip()))


@dataclass
class Bindings:
    """Placeholder values seen so far (`<run-id>` -> what the first command printed there), and the
    literal values the page wrote that the test replaced (8080 -> the port serve listens on)."""

    values: dict[str, str] = field(default_factory=dict)
    replacements: dict[str, str] = field(default_factory=dict)

    def substitute(self, text: str) -> str:
        for literal, actual in self.replacements.items():
            text = re.sub(rf"(?<![\d]){re.escape(literal)}(?![\d])", actual, text)
        return text


def expected_pattern(expected: list[str], bindings: Bindings, capture: str | None = None) -> tuple[str, dict[str, str]]:
    """A regex for the whole output (lines joined by \\n, each ending with one) and the group of
    each placeholder it binds. `capture`: a literal to take as a group too (the port)."""
    groups: dict[str, str] = {}
    parts = []
    for line in expected:
        line = normalise(bindings.substitute(line))
        if line == ELLIPSIS:
            parts.append(r"(?:[^\n]*\n)*?")
            continue
        parts.append(_line_pattern(line, bindings, groups, capture) + r"\n")
    return "".join(parts), groups


def _line_pattern(line: str, bindings: Bindings, groups: dict[str, str], capture: str | None) -> str:
    tokens = [PLACEHOLDER.pattern, re.escape(ELLIPSIS)] + ([rf"(?<!\d){re.escape(capture)}(?!\d)"] if capture else [])
    out = []
    position = 0
    for found in re.finditer("|".join(f"(?:{t})" for t in tokens), line):
        out.append(re.escape(line[position : found.start()]))
        position = found.end()
        token = found.group(0)
        if token == ELLIPSIS:
            out.append(r"[^\n]*?")
            continue
        name = found.group("name") if token.startswith("<") else f"literal {token}"
        if name in bindings.values:
            out.append(re.escape(bindings.values[name]))
        elif name in groups:
            out.append(f"(?P={groups[name]})")
        else:
            groups[name] = f"g{len(groups)}"
            out.append(rf"(?P<{groups[name]}>\d+)" if capture and token == capture else rf"(?P<{groups[name]}>[^\n]+?)")
    out.append(re.escape(line[position:]))
    return "".join(out)


def output_text(output: str) -> str:
    return "".join(normalise(line) + "\n" for line in output.rstrip("\n").splitlines()) if output.strip() else ""


def match_output(expected: list[str], output: str, bindings: Bindings) -> bool:
    """Does `output` match the expected lines? Binds the placeholders it saw first when it does."""
    pattern, groups = expected_pattern(expected, bindings)
    found = re.fullmatch(pattern, output_text(output))
    if not found:
        return False
    for name, group in groups.items():
        bindings.values[name] = found.group(group)
    return True
