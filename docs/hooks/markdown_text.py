"""Markdown building blocks shared by the reference renderers."""

from __future__ import annotations

import re
from collections.abc import Sequence


def cell(text: object) -> str:
    """One table cell: no line breaks, pipes escaped (also inside code spans, which the tables
    extension honours)."""
    return str(text).replace("\r", "").replace("\n", " ").replace("|", "\\|")


def prose(text: object) -> str:
    """Text from the code (a description, a comment) as Markdown: `<stack id>` outside code spans
    is text, not an HTML tag."""
    parts = re.split(r"(`+[^`]*`+)", str(text))
    return "".join(part if part.startswith("`") else part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for part in parts)


def code(text: object) -> str:
    value = str(text)
    fence = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)
