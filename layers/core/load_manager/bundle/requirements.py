"""`requirements.txt` of a bundle: what is accepted, checked with `packaging`'s PEP 508 parser.

Accepted, one per line: `name[extras] <specifiers> ; <marker>`, optionally followed by pip's
`--hash=<algo>:<digest>` options (hash-checking mode), comments and blank lines, and lines
continued with a backslash. Refused, each with its line number:
- pip options (`-e`, `-r`, `-c`, `--index-url`, `--extra-index-url`, `-f`, ...): where packages come
  from is the deployment's choice (PIP_INDEX_URL and friends in the environment, the image's
  pip.conf), not the script's; `-r`/`-c` would name files outside what we check;
- direct references (`name @ https://...`, `name @ file:...`), URLs and local paths: the
  environment is cached by the file's digest, and what a URL or path serves can change under
  the same text; a URL can also point anywhere on the network the runner sits in.
"""

from __future__ import annotations

import re

from load_manager.errors import InvalidRequirementsError

MAX_LINES = 1000
_COMMENT = re.compile(r"(^|\s)#.*$")
_HASH_OPTION = re.compile(r"\s+--hash[= ](sha256|sha384|sha512):[0-9a-fA-F]+")


def check_requirements(data: bytes) -> list[str]:
    """The requirements, normalised (`str(Requirement)`); raises InvalidRequirementsError."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequirementsError(f"requirements.txt is not UTF-8 text (byte {exc.start})") from None
    accepted: list[str] = []
    for number, line in _logical_lines(text):
        if line.startswith("-"):
            option = line.split()[0]
            raise _invalid(number, line, f"pip option {option} is not accepted in a bundle's requirements.txt (use name and version specifiers)")
        spec = _HASH_OPTION.sub("", line).strip()
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as exc:
            raise _invalid(number, line, f"not a requirement: {exc}") from None
        if requirement.url:
            raise _invalid(number, line, "direct references (name @ URL or path) are not accepted: name the package and its version")
        accepted.append(str(requirement))
    return accepted


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, content) without comments, blanks and backslash continuations."""
    physical = text.splitlines()
    if len(physical) > MAX_LINES:
        raise InvalidRequirementsError(f"requirements.txt has {len(physical)} lines; at most {MAX_LINES}")
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(physical, start=1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        content = _COMMENT.sub("", pending + raw).strip()
        pending = ""
        if content:
            lines.append((start, content))
    if pending.strip():
        lines.append((start, _COMMENT.sub("", pending).strip()))
    return lines


def _invalid(number: int, line: str, why: str) -> InvalidRequirementsError:
    details = {"file": "requirements.txt", "line": number, "text": line[:200]}
    return InvalidRequirementsError(f"requirements.txt line {number}: {why}", details=details)
