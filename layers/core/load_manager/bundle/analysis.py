"""Static analysis of a whole bundle: which Locust user classes the entry locustfile exposes.

Nothing is imported or executed. Every `.py` file is parsed (a syntax error anywhere is reported
with its file, line and column); then, starting from the entry, names are resolved through the
imports the way Python would, following bundle modules transitively:

- a base imported from `locust` or any `locust.*` module is classified by name (`LOCUST_USERS`:
  every user class Locust 2.47 ships, `locust.contrib.*` included; TaskSets; LoadTestShape);
- a base from a bundle module is classified by what that module binds to the name (its own class,
  or whatever it imported in turn);
- a base from a module the bundle does not contain (and that is not the standard library) may be
  anything: such a class is accepted with a warning that names the module (requirements.txt or the
  image may provide it);
- unless that module is a package named in requirements.txt (`installed`: its top-level name is the
  requirement's name, as `locust_plugins` is `locust-plugins`'s) and the base is named like a user
  class (`...User...`, `...Locust...`) or the package like a Locust one (`locust-*`): a class of the
  bundle deriving from it is a user class, with a note naming the package.

Locust picks up every non-abstract User subclass bound in a locustfile's namespace, defined there
or imported into it; so do we, for each locustfile (Locust's -f may name several: `entries`).
Modules resolve against the bundle root and each locustfile's own folder (Locust puts the
locustfile's folder on sys.path; the working directory is the root). Each class found remembers
where it is defined (`origin`): one name defined in two files is what Locust refuses.
"""

from __future__ import annotations

import ast
import re
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

LOCUST_USERS = frozenset({
    "User", "HttpUser", "FastHttpUser", "PytestUser",  # locust, locust.user.users, locust.contrib.fasthttp
    "DNSUser", "MilvusUser", "MongoDBUser", "MqttUser", "OpenAIUser", "PostgresUser", "QdrantUser", "SocketIOUser",  # locust.contrib.*
    "HttpLocust", "Locust",  # deprecated aliases, still exported
})  # fmt: skip
LOCUST_TASKSETS = frozenset({"TaskSet", "SequentialTaskSet", "MarkovTaskSet"})
LOCUST_SHAPES = frozenset({"LoadTestShape"})
USER, TASKSET, SHAPE, OTHER = "user", "taskset", "shape", "other"
_RANK = {USER: 0, TASKSET: 1, SHAPE: 2}  # unknown ranks 3, other 4
_STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}
# CPython 3.11's compiler is not safe for concurrent ast.parse calls (gh-106905).
_parse_lock = threading.Lock()


@dataclass(frozen=True)
class Kind:
    """What a name is: user / taskset / shape / other, or unknown (from `module`, not in the bundle)."""

    kind: str
    module: str | None = None
    abstract: bool = False
    origin: str | None = None  # "<path>::<class name>" of the class statement
    package: str | None = None  # the requirement whose installed base made this a user class

    @property
    def unknown(self) -> bool:
        return self.kind == "unknown"

    def rank(self) -> int:
        return _RANK.get(self.kind, 3 if self.unknown else 4)


@dataclass
class SourceError:
    file: str
    line: int | None
    column: int | None
    message: str


@dataclass
class BundleAnalysis:
    user_classes: list[str] = field(default_factory=list)
    task_sets: list[str] = field(default_factory=list)
    shapes: list[str] = field(default_factory=list)
    unknown: dict[str, str] = field(default_factory=dict)  # class or name -> module it comes from
    errors: list[SourceError] = field(default_factory=list)
    abstract_users: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # user class or shape -> "<path>::<class name>"
    installed_bases: dict[str, str] = field(default_factory=dict)  # user class -> the requirement its base comes from
    duplicates: list[dict[str, Any]] = field(default_factory=list)  # {kind, name, files}: what Locust refuses at start


def parse_source(source: bytes | str, path: str) -> ast.Module | SourceError:
    try:
        with _parse_lock:
            return ast.parse(source, filename=path)
    except SyntaxError as exc:
        return SourceError(path, exc.lineno, exc.offset, exc.msg)
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, too deeply nested
        return SourceError(path, None, None, str(exc) or "expression too large or too deeply nested")


def module_names(path: str, entry_path: str | Sequence[str]) -> list[str]:
    """The module names a .py file of the bundle can be imported as (from the root, or from the
    folder of a locustfile)."""
    names = [_dotted(path)]
    for entry in [entry_path] if isinstance(entry_path, str) else entry_path:
        entry_dir = entry.rsplit("/", 1)[0] + "/" if "/" in entry else ""
        if entry_dir and path.startswith(entry_dir):
            names.append(_dotted(path[len(entry_dir):]))
    return [name for name in dict.fromkeys(names) if name]


def _dotted(path: str) -> str:
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if all(part.isidentifier() for part in parts) else ""


class Analyser:
    def __init__(self, sources: dict[str, bytes | str], entry_path: str | Sequence[str], installed: frozenset[str] = frozenset()):
        self.entry_path = entry_path
        self.locustfiles = [entry_path] if isinstance(entry_path, str) else list(entry_path)
        self.installed = installed  # canonical names of requirements.txt's packages
        self.trees: dict[str, ast.Module] = {}
        self.errors: list[SourceError] = []
        for path, source in sources.items():
            if path.endswith(".py"):
                parsed = parse_source(source, path)
                if isinstance(parsed, SourceError):
                    self.errors.append(parsed)
                else:
                    self.trees[path] = parsed
        self.modules: dict[str, str] = {}  # module name -> path
        for path in sorted(self.trees, key=lambda p: p not in self.locustfiles):
            for name in module_names(path, entry_path):
                self.modules.setdefault(name, path)
        self._scopes: dict[str, _Scope] = {}
        self._resolving: set[tuple[str, str]] = set()

    def scope(self, path: str) -> _Scope:
        if path not in self._scopes:
            self._scopes[path] = _Scope(path, self.trees[path])
        return self._scopes[path]

    # ---- resolution ----------------------------------------------------------------------------

    def name_in_module(self, module: str, name: str) -> Kind:
        """What `from module import name` gives."""
        if module == "locust" or module.startswith("locust."):
            return _locust_kind(name)
        path = self.modules.get(module)
        if path is not None and path in self.trees:
            return self.binding(path, name)
        if f"{module}.{name}" in self.modules:
            return Kind(OTHER)  # a submodule, not a class
        root = module.split(".")[0]
        if root in _STDLIB or not module:
            return Kind(OTHER)
        return Kind("unknown", module)

    def binding(self, path: str, name: str) -> Kind:
        """The best kind among everything module `path` binds to `name` (classes, imports, star imports)."""
        key = (path, name)
        if key in self._resolving:  # an import cycle: Python would fail on it too
            return Kind(OTHER)
        self._resolving.add(key)
        try:
            scope = self.scope(path)
            kinds = [self.class_kind(path, node) for node in scope.classes.get(name, [])]
            kinds += [self.name_in_module(self._absolute(path, module, level), original) for module, original, level in scope.imports.get(name, [])]
            kinds += [self.name_in_module(self._absolute(path, module, level), name) for module, level in scope.stars]
            return min(kinds, key=Kind.rank) if kinds else Kind(OTHER)
        finally:
            self._resolving.discard(key)

    def class_kind(self, path: str, node: ast.ClassDef) -> Kind:
        verdicts = [self.base_kind(path, base) for base in node.bases]
        best = min(verdicts, key=Kind.rank) if verdicts else Kind(OTHER)
        return Kind(best.kind, best.module, abstract=_is_abstract(node), origin=f"{path}::{node.name}", package=best.package)

    def base_kind(self, path: str, base: ast.expr) -> Kind:
        if isinstance(base, ast.Subscript):  # Generic[T] and friends
            base = base.value
        kind, name = Kind(OTHER), ""
        if isinstance(base, ast.Name):
            kind, name = self.binding(path, base.id), base.id
        elif isinstance(base, ast.Attribute) and (chain := _attribute_chain(base)):
            module = self._module_of_chain(path, chain[:-1])
            if module is not None:
                kind, name = self.name_in_module(module, chain[-1]), chain[-1]
        package = self._installed_user_base(kind, name)
        if package:
            return Kind(USER, kind.module, package=package)
        return Kind(kind.kind, kind.module, package=kind.package)  # the base's abstractness is not the subclass's

    def _installed_user_base(self, kind: Kind, name: str) -> str | None:
        """The requirement providing this unknown base, when it is one a user class derives from."""
        if not kind.unknown or not kind.module:
            return None
        package = canonical_name(kind.module.split(".")[0])
        if package in self.installed and (_looks_like_user(name, anywhere=True) or package.startswith("locust")):
            return package
        return None

    def _module_of_chain(self, path: str, chain: list[str]) -> str | None:
        """`a.b` in `a.b.C`: the module it names, through `import a.b` / `import x as a` / `from p import a`."""
        scope = self.scope(path)
        head, rest = chain[0], chain[1:]
        if head in scope.module_aliases:
            return ".".join([scope.module_aliases[head], *rest])
        for module, original, level in scope.imports.get(head, []):
            return ".".join([self._absolute(path, module, level), original, *rest]).strip(".")
        return None

    def _absolute(self, path: str, module: str, level: int) -> str:
        if not level:
            return module
        package = self._module_name(path).split(".")
        if not path.endswith("__init__.py"):
            package = package[:-1]
        base = package[: len(package) - (level - 1)] if level > 1 else package
        return ".".join([*base, module] if module else base)

    def _module_name(self, path: str) -> str:
        names = module_names(path, self.locustfiles)
        return names[0] if names else ""


class _Scope:
    """What one module binds: its classes, `from X import Y [as Z]`, `import X [as Y]`, star imports."""

    def __init__(self, path: str, tree: ast.Module):
        self.classes: dict[str, list[ast.ClassDef]] = {}
        self.order: list[str] = []
        self.imports: dict[str, list[tuple[str, str, int]]] = {}  # bound name -> (module, name, level)
        self.module_aliases: dict[str, str] = {}  # bound name -> module
        self.stars: list[tuple[str, int]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                self.classes.setdefault(node.name, []).append(node)
                self.order.append(node.name)
            elif isinstance(node, ast.ImportFrom):
                self._from_import(node)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.module_aliases[alias.asname] = alias.name
                    else:
                        root = alias.name.split(".")[0]
                        self.module_aliases.setdefault(root, root)

    def _from_import(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.stars.append((node.module or "", node.level))
            else:
                self.imports.setdefault(alias.asname or alias.name, []).append((node.module or "", alias.name, node.level))


def analyse_sources(sources: dict[str, bytes | str], entry_path: str, installed: frozenset[str] = frozenset()) -> BundleAnalysis:
    """What the one locustfile `entry_path` exposes (see `analyse_locustfiles` for several)."""
    analyser = Analyser(sources, entry_path, installed)
    return analyse_locustfile(analyser, entry_path, BundleAnalysis(errors=list(analyser.errors)))


def analyse_locustfile(analyser: Analyser, entry_path: str, result: BundleAnalysis) -> BundleAnalysis:
    if entry_path not in analyser.trees:
        return result
    scope = analyser.scope(entry_path)
    seen: set[str] = set()
    for name in [*scope.order, *scope.imports]:  # defined here first, then imported into the namespace
        if name in seen:
            continue
        seen.add(name)
        _classify_name(analyser, entry_path, name, result)
    for module, level in scope.stars:
        _classify_star(analyser, analyser._absolute(entry_path, module, level), result, seen)
    return result


def _classify_name(analyser: Analyser, path: str, name: str, result: BundleAnalysis) -> None:
    scope = analyser.scope(path)
    defined = scope.classes.get(name)
    if not defined and _imports_from_locust(scope, name):
        return  # `from locust import HttpUser, LoadTestShape`: Locust's own bases, never run themselves
    kind = min((analyser.class_kind(path, node) for node in defined), key=Kind.rank) if defined else analyser.binding(path, name)
    _record(name, kind, result, imported=not defined)


def _classify_star(analyser: Analyser, module: str, result: BundleAnalysis, seen: set[str]) -> None:
    path = analyser.modules.get(module)
    if path is None or path not in analyser.trees:
        if module and not module.startswith("locust") and module.split(".")[0] not in _STDLIB:
            result.unknown.setdefault(f"* from {module}", module)
        return
    for name in analyser.scope(path).order:
        if name not in seen and not name.startswith("_"):
            seen.add(name)
            _classify_name(analyser, path, name, result)


def _record(name: str, kind: Kind, result: BundleAnalysis, *, imported: bool) -> None:
    if kind.kind in (USER, SHAPE) and kind.origin and not kind.abstract:
        result.origins[name] = kind.origin
    if kind.kind == USER:
        (result.abstract_users if kind.abstract else result.user_classes).append(name)
        if kind.package and not kind.abstract:
            result.installed_bases[name] = kind.package
    elif kind.kind == TASKSET and not imported:
        result.task_sets.append(name)
    elif kind.kind == SHAPE:
        result.shapes.append(name)
    elif kind.unknown and kind.module and (not imported or _looks_like_user(name)):
        result.unknown[name] = kind.module


def _looks_like_user(name: str, *, anywhere: bool = False) -> bool:
    """An imported name we cannot see: only a class named like a user is worth assuming one
    (`anywhere`: the words may be inside the name, as in HttpUserWithResources)."""
    if anywhere:
        return name[:1].isupper() and ("User" in name or "Locust" in name)
    return name[:1].isupper() and name.endswith(("User", "Locust"))


def canonical_name(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503); an import name maps onto it too."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _imports_from_locust(scope: _Scope, name: str) -> bool:
    return any(module == "locust" or module.startswith("locust.") for module, _, _ in scope.imports.get(name, []))


def _locust_kind(name: str) -> Kind:
    if name in LOCUST_USERS:
        return Kind(USER, abstract=True)
    if name in LOCUST_TASKSETS:
        return Kind(TASKSET)
    if name in LOCUST_SHAPES:
        return Kind(SHAPE)
    return Kind(OTHER)


def _attribute_chain(node: ast.expr) -> list[str]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return []
    return [node.id, *reversed(parts)]


def _is_abstract(node: ast.ClassDef) -> bool:
    for stmt in node.body:
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else getattr(stmt, "target", None)
        value = getattr(stmt, "value", None)
        if isinstance(target, ast.Name) and target.id == "abstract" and isinstance(value, ast.Constant) and value.value is True:
            return True
    return False
