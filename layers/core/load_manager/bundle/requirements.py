"""`requirements.txt` of a bundle, read exactly as pip reads it, and what of it is accepted.

The file is split the way pip splits it, with `pip-requirements-parser` (a copy of pip's own
`req_file` code): lines joined on a trailing backslash except after a comment (pip does not
continue comments, so `# note \\` followed by `--index-url …` is an option line to pip, and
here), comments stripped, then each line cut into its requirement and its options and the options
parsed by pip's option parser (abbreviations such as `--ind=` included). What pip would read
differently from the text we check is refused: a PEP 263 `coding:` declaration that decodes the
bytes to another text, and `${VAR}`, which pip replaces from the run's environment.

Accepted, one per line: `name[extras] <specifiers> ; <marker>`, optionally followed by pip's
`--hash=<sha256|sha384|sha512>:<digest>` options (hash-checking mode); comments, blank lines,
continuations, CRLF and a UTF-8 BOM. Refused, each with its line number (the first physical line
of a continued line, as pip numbers it):
- every line pip reads as options (`-e`, `-r`, `-c`, `--index-url`, `--extra-index-url`, `-f`,
  `--trusted-host`, `--pre`, …), and any option but `--hash` after a requirement (pip ignores
  some of those there; they are refused all the same, as are stray words after the options):
  where packages come from is the deployment's choice (PIP_INDEX_URL and friends in the
  environment, the image's pip.conf), not the script's; `-r`/`-c` would name files we do not check;
- direct references (`name @ https://...`), URLs, archive file names (`pkg.whl`, `pkg.tar.gz`) and
  paths: the environment is cached by the file's digest, and what a URL or path serves can change
  under the same text; a URL can also point anywhere on the network the runner sits in.

Size is limited in bytes, not lines: hash-pinned files (`pip-compile --generate-hashes`) run to
thousands of lines.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

from load_manager.errors import InvalidRequirementsError

MAX_BYTES = 256 * 1024
STRONG_HASHES = ("sha256", "sha384", "sha512")  # what pip's --hash accepts
_ENV_VAR = re.compile(r"\$\{[A-Z0-9_]+\}")  # pip's req_file.ENV_VAR_RE: expanded from os.environ
_CODING = re.compile(rb"coding[:=]\s*([-\w.]+)")  # pip's PEP 263 declaration (utils.encoding)
_COMMENT = re.compile(r"(^|\s+)#.*$")  # pip's req_file.COMMENT_RE: a comment line ends a continuation


def check_requirements(data: bytes) -> list[str]:
    """The requirements pip would install, normalised (`name[extras]specifiers; marker`), in order;
    raises InvalidRequirementsError for anything else."""
    return [requirement for _, _, requirement in requirement_lines(data)]


def requirement_lines(data: bytes) -> list[tuple[int, int, str]]:
    """`check_requirements` with where each requirement is: (first line, last line, requirement),
    its lines being those pip joins on a trailing backslash."""
    import pip_requirements_parser as pip_format  # lazy: 21 ms at import (bench/cold_import.py --lazy), only to save a bundle

    if len(data) > MAX_BYTES:
        raise InvalidRequirementsError(
            f"requirements.txt is {len(data)} bytes; at most {MAX_BYTES} ({MAX_BYTES // 1024} KiB)", details={"limitBytes": MAX_BYTES}
        )
    parse_line = pip_format.get_line_parser()
    text = _text_as_pip_reads(data)
    ends = _continued(text)
    accepted = []
    for item in pip_format.preprocess(text):
        if not isinstance(item, pip_format.CommentLine):
            requirement = _requirement(pip_format, parse_line, item.line_number, item.line)
            accepted.append((item.line_number, ends.get(item.line_number, item.line_number), requirement))
    return accepted


def _continued(text: str) -> dict[int, int]:
    """First physical line -> last, for each line pip continues (req_file.join_lines)."""
    ends: dict[int, int] = {}
    start = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.endswith("\\") or _COMMENT.match(line):
            if start is not None:
                ends[start], start = number, None
        elif start is None:
            start = number
    if start is not None:
        ends[start] = len(text.splitlines())
    return ends


def text_of(data: bytes) -> str:
    """The file's text as pip reads it (a checked file)."""
    return _text_as_pip_reads(data)


def _text_as_pip_reads(data: bytes) -> str:
    """The text, if pip decodes these bytes to the same text (pip's auto_decode: a BOM first, then
    a `coding:` declaration in the first two lines, else the locale, which the bootstrap makes
    UTF-8 with PYTHONUTF8=1)."""
    body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequirementsError(f"requirements.txt is not UTF-8 text (byte {exc.start})") from None
    declared = next((match.group(1) for line in data.split(b"\n")[:2] if line[:1] == b"#" and (match := _CODING.search(line))), None)
    if body is data and declared is not None:
        encoding = declared.decode("ascii")
        try:
            same = data.decode(encoding) == text
        except (LookupError, UnicodeError, ValueError):
            same = False
        if not same:
            why = f"pip would read this file as {encoding}, not as the UTF-8 text checked here: remove the declaration"
            raise _invalid(1, text.split("\n", 1)[0], why)
    return text


def _requirement(pip_format: ModuleType, parse_line: Callable[[str], tuple[str, Any, list[str]]], number: int, line: str) -> str:
    if _ENV_VAR.search(line):
        raise _invalid(number, line, "pip replaces ${...} with the run's environment variable: write the value itself")
    try:
        requirement, options, stray = parse_line(line)
    except (pip_format.OptionParsingError, ValueError) as exc:  # optparse's error, or shlex's unbalanced quote
        raise _invalid(number, line, f"pip cannot read this line: {getattr(exc, 'msg', exc)}") from None
    given = {dest: value for dest, value in vars(options).items() if value}
    if not requirement:
        option = line.split()[0].split("=")[0]
        raise _invalid(number, line, f"pip option {option} is not accepted in a bundle's requirements.txt (name packages and versions)")
    if set(given) - {"hashes"} or stray:
        extra = " ".join(line[len(requirement) :].split())
        raise _invalid(number, line, f"only --hash options may follow a requirement, not {extra!r}")
    for value in given.get("hashes", []):
        if value.split(":", 1)[0] not in STRONG_HASHES or ":" not in value:
            raise _invalid(number, line, f"--hash={value}: pip takes <algorithm>:<digest> with one of {', '.join(STRONG_HASHES)}")
    return _named(pip_format, number, line, requirement)


def _named(pip_format: ModuleType, number: int, line: str, text: str) -> str:
    """The requirement as pip sees it (markers split at `;`, URLs, archives and paths told apart)."""
    link = "URLs, paths, archive files and direct references (name @ URL) are not accepted: name the package and its version"
    try:
        parts = pip_format.parse_reqparts_from_string(text)
    except pip_format.InvalidWheelFilename:  # pip read a wheel's URL or file name
        raise _invalid(number, line, link) from None
    except (pip_format.InstallationError, ValueError) as exc:  # ValueError: packaging's InvalidRequirement / InvalidMarker
        raise _invalid(number, line, f"not a requirement: {str(exc).splitlines()[0]}") from None
    if parts.link is not None or parts.requirement is None or parts.requirement.url:
        raise _invalid(number, line, link)
    return str(parts.requirement) + (f"; {parts.marker}" if parts.marker is not None else "")


def _invalid(number: int, line: str, why: str) -> InvalidRequirementsError:
    details = {"file": "requirements.txt", "line": number, "text": line[:200]}
    return InvalidRequirementsError(f"requirements.txt line {number}: {why}", details=details)
