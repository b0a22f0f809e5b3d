"""mongomock, made safe for the threads of the concurrency tests.

MongoDB applies each single-document operation atomically; mongomock does not (a conditional
update_one evaluates its filter and applies its change in two steps, so two threads can both pass the
filter). The contract suite's 32-writer tests would then fail on mongomock's races, not ours. This
wrapper runs every collection operation, and the iteration of every cursor, under one lock: an
atomicity at least as strong as MongoDB's, with mongomock's semantics otherwise unchanged.
"""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.RLock()


class LockedCursor:
    def __init__(self, cursor: Any):
        self._cursor = cursor

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._cursor, name)
        if not callable(attribute):
            return attribute

        def chained(*args: Any, **kwargs: Any) -> Any:
            with _LOCK:
                result = attribute(*args, **kwargs)
            return LockedCursor(result) if result is self._cursor else result

        return chained

    def __iter__(self):
        with _LOCK:
            documents = list(self._cursor)
        return iter(documents)


class LockedCollection:
    def __init__(self, collection: Any):
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def locked(*args: Any, **kwargs: Any) -> Any:
            with _LOCK:
                result = attribute(*args, **kwargs)
            return LockedCursor(result) if type(result).__name__ == "Cursor" else result

        return locked


class LockedDatabase:
    def __init__(self, database: Any):
        self._database = database

    def __getattr__(self, name: str) -> LockedCollection:
        return LockedCollection(getattr(self._database, name))

    def __getitem__(self, name: str) -> LockedCollection:
        return LockedCollection(self._database[name])


def _accept_pymongo_sort() -> None:
    """pymongo >= 4.10 hands bulk builders `sort=` (UpdateOne, ReplaceOne); mongomock 4.3 predates it.
    Without a sort the operation means what it always did, so the keyword is taken and dropped."""
    from mongomock.collection import BulkOperationBuilder

    for name in ("add_update", "add_replace"):
        original = getattr(BulkOperationBuilder, name)
        if getattr(original, "accepts_sort", False):
            continue

        def taking_sort(self, *args, _original=original, sort=None, **kwargs):
            if sort is not None:
                raise NotImplementedError("mongomock: a bulk update with `sort`")
            return _original(self, *args, **kwargs)

        taking_sort.accepts_sort = True  # type: ignore[attr-defined]
        setattr(BulkOperationBuilder, name, taking_sort)


def locked_database(name: str = "load_manager_test") -> LockedDatabase:
    import mongomock

    _accept_pymongo_sort()
    return LockedDatabase(mongomock.MongoClient()[name])
