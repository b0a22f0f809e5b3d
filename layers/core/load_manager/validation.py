"""Static validation of Locust scripts. The control plane never imports or runs a script.

Decoding rules (base64, UTF-8, size) reject bad input outright. The Locust checks follow one
principle: reject only what clearly cannot run (a syntax error, no possible user class); when a
user class could come from somewhere we cannot see (a helper module, a star import), accept with a
warning.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field

from load_manager.bundle.locustfiles import analyse_locustfiles
from load_manager.errors import DuplicateUserClassError, InvalidScriptEncodingError, NoUserClassError, ScriptSyntaxError, ScriptTooLargeError


@dataclass
class ScriptAnalysis:
    text: str
    size_bytes: int
    sha256: str
    user_classes: list[str] = field(default_factory=list)
    task_sets: list[str] = field(default_factory=list)
    shapes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # syntax errors of the bundle's .py files: file, line, column, message
    entry_path: str = "locustfile.py"
    notes: list[str] = field(default_factory=list)


def decode_script(encoded: str, max_bytes: int) -> tuple[str, bytes]:
    """base64 -> (text, raw bytes); raises a 413 or 422 domain error on bad input."""
    # A base64 string is 4/3 of its payload: refuse before decoding something huge.
    if len(encoded) > (max_bytes * 4) // 3 + 8:
        raise ScriptTooLargeError(f"scriptContent exceeds the {max_bytes}-byte limit", details={"limitBytes": max_bytes})
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidScriptEncodingError("scriptContent is not valid base64") from None
    if len(raw) > max_bytes:
        raise ScriptTooLargeError(
            f"script is {len(raw)} bytes; the limit is {max_bytes}",
            details={"sizeBytes": len(raw), "limitBytes": max_bytes},
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidScriptEncodingError(f"script is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InvalidScriptEncodingError("script is empty")
    if "\x00" in text:
        raise InvalidScriptEncodingError("script contains a NUL byte")
    return text, raw


def encode_script(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def analyse_script(text: str) -> ScriptAnalysis:
    """Classify the classes of a single locustfile. Raises ScriptSyntaxError / NoUserClassError."""
    analysis = ScriptAnalysis(text=text, size_bytes=len(text.encode("utf-8")), sha256=sha256_of(text))
    return analyse_files(analysis, {"locustfile.py": text}, "locustfile.py")


def analyse_files(
    analysis: ScriptAnalysis, sources: dict[str, bytes | str], entry_path: str,
    locustfiles: tuple[str, ...] = (), installed: frozenset[str] = frozenset(),
) -> ScriptAnalysis:  # fmt: skip
    """Fill `analysis` from the bundle's sources (every .py file is parsed, none executed), for
    the locustfiles Locust loads (default: the entry alone); `installed`: requirements.txt's names.

    Raises ScriptSyntaxError for the first syntax error (all of them are in `details["errors"]`),
    NoUserClassError when no locustfile clearly exposes a Locust user class, and
    DuplicateUserClassError for a name Locust would refuse (one name, two classes, two files)."""
    found = analyse_locustfiles(sources, locustfiles or (entry_path,), installed)
    analysis.entry_path = entry_path
    analysis.errors = [vars(error) for error in found.errors]
    if found.errors:
        first = found.errors[0]
        where = f"{first.file}: " if first.file != entry_path or len(sources) > 1 else ""
        raise ScriptSyntaxError(
            f"{where}syntax error at line {first.line}, column {first.column}: {first.message}",
            details={"file": first.file, "line": first.line, "column": first.column, "message": first.message, "errors": analysis.errors},
        )
    analysis.user_classes, analysis.task_sets, analysis.shapes = found.user_classes, found.task_sets, found.shapes
    if found.duplicates:
        twice = found.duplicates[0]
        raise DuplicateUserClassError(
            f"{twice['kind']} {twice['name']} is defined in both {' and '.join(twice['files'])}: Locust refuses one name for two "
            "classes across locustfiles; rename one (importing the class into another locustfile is fine)",
            details={"duplicates": found.duplicates},
        )
    analysis.notes += [
        f"{name} derives from a class of package {package} (requirements.txt): taken as a Locust user class"
        for name, package in found.installed_bases.items()
    ]
    if analysis.user_classes:
        return analysis
    if found.unknown:
        analysis.warnings.append(_unknown_warning(found.unknown))
        return analysis
    hint = " (only abstract ones: " + ", ".join(found.abstract_users) + ")" if found.abstract_users else ""
    where = ", ".join(locustfiles) if len(locustfiles) > 1 else entry_path
    raise NoUserClassError(
        f"{where} exposes no Locust user class{hint}: define a class deriving from HttpUser, FastHttpUser or User, "
        "or import one from a module of the bundle",
        details={"taskSets": analysis.task_sets, "shapes": analysis.shapes, "abstractUsers": found.abstract_users},
    )


def _unknown_warning(unknown: dict[str, str]) -> str:
    by_module: dict[str, list[str]] = {}
    for name, module in unknown.items():
        by_module.setdefault(module, []).append(name)
    parts = [f"{', '.join(names)} (module {module})" for module, names in by_module.items()]
    return (
        "no class visibly derives from a Locust User; assuming one of "
        + "; ".join(parts)
        + " is one: the bundle does not contain those modules, so they must be installed (requirements.txt or the image)"
    )
