"""One botocore model loader for the whole local process.

moto gives every mock a fresh boto3 default session, and builds more sessions of its own while it
loads its backends; each new session parses the same JSON models (endpoints, service shapes) again.
That is about 1.5 s of a `serve` start and a third of a handler test. The models cannot change
while the process runs, so every session shares one loader per data path.
"""

from __future__ import annotations

import botocore.loaders
import botocore.session

_create_loader = botocore.loaders.create_loader
_loaders: dict[str | None, botocore.loaders.Loader] = {}


def _shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    if search_path_string not in _loaders:
        _loaders[search_path_string] = _create_loader(search_path_string)
    return _loaders[search_path_string]


def share_botocore_models() -> None:
    """Make every botocore session created from now on use the shared loader (idempotent)."""
    botocore.session.create_loader = _shared_loader
