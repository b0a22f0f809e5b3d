"""Stores built per aggregate on first use: a function's first request pays for the stores it
touches (on MongoDB, their collections' indexes: a round trip each), never for every store."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from load_manager.store.ports import Stores


class LazyStores(Stores):
    """`Stores` whose each field is built by its factory when first read, once (thread-safe); a
    store set on it (a test's fake) is kept as it is."""

    def __init__(self, factories: Mapping[str, Callable[[], Any]] | None = None, **stores: Any) -> None:
        # Not the dataclass __init__: nothing is built yet. Stores given by name (what
        # dataclasses.replace passes: every field, read from the original) are kept as they are.
        if factories is None:
            factories = {name: _given(store) for name, store in stores.items()}
        names = {f.name for f in fields(Stores)}
        if set(factories) != names:
            missing, unknown = sorted(names - set(factories)), sorted(set(factories) - names)
            raise ValueError(f"one factory per store: missing {missing}, unknown {unknown}")
        self.__dict__["_factories"] = dict(factories)
        self.__dict__["_build_lock"] = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        # Called only for what the instance does not hold yet: a store not built (or not a store).
        factories = self.__dict__.get("_factories", {})
        if name not in factories:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        with self.__dict__["_build_lock"]:
            if name not in self.__dict__:
                self.__dict__[name] = factories[name]()
        return self.__dict__[name]

    def built(self) -> list[str]:
        """The stores built so far, by field name."""
        return [f.name for f in fields(Stores) if f.name in self.__dict__]


def _given(store: Any) -> Callable[[], Any]:
    return lambda: store
