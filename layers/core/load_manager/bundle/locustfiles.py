"""Several locustfiles at once (Locust's `-f a.py,b.py` or a folder, see `entries`): what Locust
gets from loading each in turn (`main.merge_locustfiles_content`), statically.

The union of their user classes and shapes, and the names Locust refuses at start: a user class
name bound, in two locustfiles, to classes defined in two different files ("Duplicate user class
names"), or two shape classes of one name from two files. The same class imported by two
locustfiles (a shape module importing its sibling's users) is one class, as for Locust, which
compares the files the classes come from.
"""

from __future__ import annotations

from collections.abc import Sequence

from load_manager.bundle.analysis import Analyser, BundleAnalysis, analyse_locustfile

USER_CLASS, SHAPE_CLASS = "user class", "shape class"


def analyse_locustfiles(sources: dict[str, bytes | str], locustfiles: Sequence[str], installed: frozenset[str] = frozenset()) -> BundleAnalysis:
    analyser = Analyser(sources, locustfiles, installed)
    merged = BundleAnalysis(errors=list(analyser.errors))
    keys: dict[tuple[str, str], str] = {}  # (what, Locust's key) -> the name recorded
    for path in locustfiles:
        found = analyse_locustfile(analyser, path, BundleAnalysis())
        _merge(found, found.user_classes, merged.user_classes, USER_CLASS, merged, keys)
        _merge(found, found.shapes, merged.shapes, SHAPE_CLASS, merged, keys)
        merged.task_sets += [name for name in found.task_sets if name not in merged.task_sets]
        merged.abstract_users += [name for name in found.abstract_users if name not in merged.abstract_users]
        merged.unknown.update(found.unknown)
    return merged


def _merge(found: BundleAnalysis, names: list[str], into: list[str], what: str, merged: BundleAnalysis, keys: dict[tuple[str, str], str]) -> None:
    """Locust keys user classes by the name the locustfile binds, shapes by their class's own name."""
    for name in names:
        origin = found.origins.get(name, "")
        key = origin.rsplit("::", 1)[-1] if what == SHAPE_CLASS and origin else name
        known = keys.get((what, key))
        if known is None:
            keys[(what, key)] = name
            into.append(name)
            merged.origins[name] = origin
            if name in found.installed_bases:
                merged.installed_bases[name] = found.installed_bases[name]
        elif merged.origins.get(known) != origin:
            files = [merged.origins.get(known, "").split("::")[0], origin.split("::")[0]]
            merged.duplicates.append({"kind": what, "name": key, "files": files})
