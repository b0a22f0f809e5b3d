"""Static validation of Locust scripts. The control plane never imports or runs a script.

Decoding rules (base64, UTF-8, size) reject bad input outright. The Locust checks follow one
principle: reject only what clearly cannot run (a syntax error, no possible user class); when a
user class could come from somewhere we cannot see (a helper module, a star import), accept with a
warning.
"""

from __future__ import annotations

import ast
import base64
import binascii
import hashlib
import threading
from dataclasses import dataclass, field

from load_manager.errors import InvalidScriptEncodingError, NoUserClassError, ScriptSyntaxError, ScriptTooLargeError

USER_BASES = frozenset({"User", "HttpUser", "FastHttpUser", "HttpLocust", "Locust"})
TASKSET_BASES = frozenset({"TaskSet", "SequentialTaskSet"})
SHAPE_BASES = frozenset({"LoadTestShape"})
# Bases that can never make a class a Locust user.
NON_USER_BASES = TASKSET_BASES | SHAPE_BASES | frozenset(
    {"object", "Exception", "BaseException", "ValueError", "RuntimeError", "dict", "list", "str", "int",
     "Enum", "IntEnum", "NamedTuple", "TypedDict", "Protocol", "ABC", "BaseModel", "Generic"}
)
# CPython 3.11's compiler is not safe for concurrent ast.parse calls ("AST constructor recursion
# depth mismatch", gh-106905); Lambda is single-threaded, the local runtime is not.
_parse_lock = threading.Lock()


@dataclass
class ScriptAnalysis:
    text: str
    size_bytes: int
    sha256: str
    user_classes: list[str] = field(default_factory=list)
    task_sets: list[str] = field(default_factory=list)
    shapes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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


def parse_script(text: str) -> ast.Module:
    try:
        with _parse_lock:
            return ast.parse(text, filename="locustfile.py")
    except SyntaxError as exc:
        raise ScriptSyntaxError(
            f"syntax error at line {exc.lineno}, column {exc.offset}: {exc.msg}",
            details={"line": exc.lineno, "column": exc.offset, "message": exc.msg},
        ) from None
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. too deeply nested
        message = str(exc) or "expression too large or too deeply nested"
        raise ScriptSyntaxError(f"script cannot be parsed: {message}", details={"line": None, "column": None, "message": message}) from None


def analyse_script(text: str) -> ScriptAnalysis:
    """Classify the classes of a locustfile. Raises ScriptSyntaxError / NoUserClassError."""
    tree = parse_script(text)
    analysis = ScriptAnalysis(text=text, size_bytes=len(text.encode("utf-8")), sha256=sha256_of(text))
    locust_names, star_import, imported_names = _imports(tree)

    kinds: dict[str, str] = {}  # class name -> "user" | "taskset" | "shape" | "other" | "unknown"
    abstract: set[str] = set()
    order: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        order.append(node.name)
        if _is_abstract(node):
            abstract.add(node.name)
        kinds[node.name] = _classify(node, kinds, locust_names, star_import, imported_names)

    analysis.user_classes = [n for n in order if kinds[n] == "user" and n not in abstract]
    analysis.task_sets = [n for n in order if kinds[n] == "taskset"]
    analysis.shapes = [n for n in order if kinds[n] == "shape"]
    unknown = [n for n in order if kinds[n] == "unknown" and n not in abstract]

    if analysis.user_classes:
        return analysis
    if unknown:
        analysis.warnings.append(
            "no class visibly derives from a Locust User; assuming one of "
            f"{', '.join(unknown)} does (its base comes from an import that cannot be checked statically)"
        )
        return analysis
    found = [n for n in order if kinds[n] == "user"]
    hint = " (only abstract ones: " + ", ".join(found) + ")" if found else ""
    raise NoUserClassError(
        f"the script defines no Locust user class{hint}: define a class deriving from HttpUser, FastHttpUser or User",
        details={"taskSets": analysis.task_sets, "shapes": analysis.shapes, "abstractUsers": found},
    )


def _imports(tree: ast.Module) -> tuple[dict[str, str], bool, set[str]]:
    """Names bound to Locust classes (alias -> Locust name), whether `from locust import *` is used,
    and every other name imported from elsewhere (a possible user base defined in a helper)."""
    locust_names: dict[str, str] = {}
    imported: set[str] = set()
    star = False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            from_locust = (node.module or "").split(".")[0] == "locust"
            for alias in node.names:
                if alias.name == "*":
                    star = True  # a star import (from locust or a helper) may bring a user base
                    continue
                bound = alias.asname or alias.name
                if from_locust:
                    locust_names[bound] = alias.name
                else:
                    imported.add(bound)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                imported.add((alias.asname or alias.name).split(".")[0])
    return locust_names, star, imported


def _base_name(base: ast.expr) -> tuple[str, str | None]:
    """(last name, qualifying module name) of a base expression: `locust.HttpUser` -> (HttpUser, locust)."""
    if isinstance(base, ast.Subscript):  # Generic[T] and friends
        base = base.value
    if isinstance(base, ast.Name):
        return base.id, None
    if isinstance(base, ast.Attribute):
        root = base.value
        while isinstance(root, ast.Attribute):
            root = root.value
        return base.attr, root.id if isinstance(root, ast.Name) else None
    return "", None


def _classify(node: ast.ClassDef, known: dict[str, str], locust_names: dict[str, str], star: bool, imported: set[str]) -> str:
    verdicts = [_base_kind(base, known, locust_names, star, imported) for base in node.bases]
    for kind in ("user", "taskset", "shape", "unknown"):
        if kind in verdicts:
            return kind
    return "other"


def _base_kind(base: ast.expr, known: dict[str, str], locust_names: dict[str, str], star: bool, imported: set[str]) -> str:
    name, module = _base_name(base)
    if name in known:  # a class defined earlier in the same file
        return known[name]
    locust_name = locust_names.get(name) or (name if module == "locust" or (module is None and star) else None)
    if module and module != "locust" and module in imported and name in USER_BASES:
        locust_name = name  # e.g. `locust.contrib.fasthttp.FastHttpUser` via an import alias
    if locust_name in USER_BASES:
        return "user"
    if locust_name in TASKSET_BASES:
        return "taskset"
    if locust_name in SHAPE_BASES:
        return "shape"
    if name in NON_USER_BASES or name == "":
        return "other"
    if name in imported or module in imported or star:
        return "unknown"  # defined in a helper module we cannot see
    return "other"


def _is_abstract(node: ast.ClassDef) -> bool:
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) and stmt.value.value is True:
            if any(isinstance(t, ast.Name) and t.id == "abstract" for t in stmt.targets):
                return True
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == "abstract":
            if isinstance(stmt.value, ast.Constant) and stmt.value.value is True:
                return True
    return False
