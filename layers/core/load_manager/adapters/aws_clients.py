"""One boto3 client per service and configuration per execution environment, created on first use.

Creating a client is not free: botocore resolves the service's model, endpoint rules and handlers
every time (an EventBridge client: 60 ms of CPU for the first in a process, 3-5 ms for each after
it, here; a lookup here: 20 us), and AWS's advice is to create SDK clients once and reuse them
across invocations. Clients are thread-safe.

The key includes the AWS_* environment (region, credentials, endpoint overrides), so a process
whose environment changes (a test's moto region, the template harness's stand-in endpoints) gets a
client of its own instead of one configured for another place. At most MAX_CLIENTS are kept.
"""

from __future__ import annotations

import copy
import os
import threading
from typing import Any

MAX_CLIENTS = 32
_clients: dict[tuple[str, str | None, str, tuple[tuple[str, str], ...]], Any] = {}
_lock = threading.Lock()


def client(service: str, *, region: str | None = None, **config: Any) -> Any:
    """The client of `service` (in `region`, else the environment's), with botocore `Config(**config)`."""
    key = (service, region, repr(sorted(config.items())), _aws_environment())
    found = _clients.get(key)
    if found is not None:
        return found
    import boto3  # lazy: boto3 costs 157 ms at import (bench/cold_import.py --lazy)
    from botocore.config import Config  # lazy: boto3 costs 157 ms at import (bench/cold_import.py --lazy)

    # A copy: botocore rewrites the retries dict it is given (max_attempts -> total_max_attempts).
    made = boto3.client(service, region_name=region, config=Config(**copy.deepcopy(config)) if config else None)
    with _lock:
        if len(_clients) >= MAX_CLIENTS:
            _clients.pop(next(iter(_clients)))  # the oldest
        return _clients.setdefault(key, made)


def clear() -> None:
    """Forget every client (a test standing in for a new execution environment)."""
    with _lock:
        _clients.clear()


def _aws_environment() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((name, value) for name, value in os.environ.items() if name.startswith("AWS_")))
