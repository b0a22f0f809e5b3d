"""Racing one operation from many threads (the contract suites' "even when writers race")."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def race(count: int, attempt: Callable[[int], Any], *, collect_errors: bool = False) -> list:
    """`attempt(n)` from `count` threads released at once; their results in order. An attempt's
    exception is re-raised after every thread is done, or with `collect_errors` put in its place."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = attempt(n)
        except Exception as exc:  # noqa: BLE001 - handed to the test below
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    errors = [r for r in results if isinstance(r, Exception)]
    if errors and not collect_errors:
        raise errors[0]
    return results
