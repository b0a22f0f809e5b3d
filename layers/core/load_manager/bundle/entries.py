"""A bundle's entries: what Locust's `-f` names, files and folders, and the locustfiles they load.

`entryPath` takes Locust's own meaning: one `.py` file (`locustfile.py`), several (a list, or one
string with commas, as `-f users.py,shape.py`), or a folder of the bundle (`locustfiles/`, or
`locustfiles` when no file has that name), whose every `.py` file is a locustfile except those
whose name starts with `_` (Locust's `get_abspaths_in`: `__init__.py`, `_helpers.py`), subfolders
included. Items may mix both.

The locustfiles are those files in order, each once: every item in turn, a folder's files sorted
by path. Locust itself walks a folder in the file system's order; the sorted order is one of its
orders, and the one every process of a run (and validation) sees alike. Processes are started
with that list (`-f a.py,b.py`), so Locust never walks a folder itself.

Entries are stored normalised: files as paths, folders with a trailing `/`. The first locustfile is
the revision's entry file (`entryPath` in answers, its text `scriptContent`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from load_manager.errors import InvalidBundlePathError

MAX_ENTRIES = 200  # as many as a bundle has files


def split_entries(raw: str | Sequence[str] | None, default: str) -> list[str]:
    """The raw items: a list as given, a string split at commas as Locust splits `-f`."""
    if raw is None:
        return [default]
    items = [part.strip() for part in raw.split(",")] if isinstance(raw, str) else list(raw)
    if not items or len(items) > MAX_ENTRIES:
        raise InvalidBundlePathError(f"entryPath names 1 to {MAX_ENTRIES} locustfiles or folders", details={"limitEntries": MAX_ENTRIES})
    for item in items:
        if not isinstance(item, str) or "," in item:
            raise InvalidBundlePathError(
                f"entryPath item {item!r} contains a comma: Locust's -f splits at commas, so it cannot name that path", details={"path": item}
            )
    return items


def is_folder(entry: str) -> bool:
    return entry.endswith("/")


def folder_files(folder: str, paths: Iterable[str]) -> list[str]:
    """The locustfiles Locust finds in `folder` (with its trailing `/`), sorted by path."""
    found = [path for path in paths if path.startswith(folder) and path.endswith(".py") and not path.rsplit("/", 1)[-1].startswith("_")]
    return sorted(found, key=lambda path: path.encode("utf-8"))


def resolve(entries: Sequence[str], paths: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(entries, locustfiles): each normalised item (a folder gets its `/`) and the files they load.
    Raises InvalidBundlePathError for an item that names nothing Locust can load."""
    files = set(paths)
    normalised: list[str] = []
    locustfiles: list[str] = []
    for item in entries:
        entry = item if item in files else item + "/" if not is_folder(item) and any(p.startswith(item + "/") for p in files) else item
        if is_folder(entry) and not any(path.startswith(entry) for path in files):
            raise InvalidBundlePathError(f"the bundle has no entry file or folder {entry!r}", details={"path": entry})
        if is_folder(entry):
            loaded = folder_files(entry, files)
            if not loaded:
                raise InvalidBundlePathError(
                    f"entryPath folder {entry!r} holds no locustfile: Locust loads its .py files whose names do not start with '_'",
                    details={"path": entry},
                )
        elif entry not in files:
            raise InvalidBundlePathError(f"the bundle has no entry file or folder {entry!r}", details={"path": entry})
        elif not entry.endswith(".py"):
            raise InvalidBundlePathError(f"entryPath {entry!r} must be a Python file (.py) or a folder", details={"path": entry})
        else:
            loaded = [entry]
        if entry not in normalised:
            normalised.append(entry)
        locustfiles += [path for path in loaded if path not in locustfiles]
    return tuple(normalised), tuple(locustfiles)
