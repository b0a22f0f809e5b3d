"""The secret store ("vault"): where a secret's value lives, and the only place it is ever written.

A value is kept per (tenant, secret id, version); the variables store (store/ports/variables.py) holds
the secret's name, scope and current version, and a run records the version it used, so every step
of the run reads the very value its Locust got, even after the secret was written again.

- In AWS (`SECRETS_PREFIX` set): Secrets Manager, one secret per secret id named
  `<prefix><account>/<secret id>`, one Secrets Manager version per version (adapters/vault_aws.py).
  The template lets the functions that need it write (clusters) or read (run_workflow) under the
  prefix only.
- Locally: `<data dir>/secrets/<account>/<secret id>.json`, created 0600 in 0700 folders, written
  atomically (a new file renamed over the old) under a per-tenant lock, so `serve` processes sharing a
  data directory never lose a write. Only the user running `serve` can read it.

`put` of a version that holds another value raises `SecretVersionTakenError`: two writers racing for
one version never overwrite each other (the use case moves to the next version).

Secrets nothing pins a version of (a notification channel's credentials, adapters/channel_credentials.py)
use `replace`/`current` instead: the latest write wins and no earlier value is kept. Each kind has its
own folder (`directory`) and Secrets Manager prefix, so the template grants each function only its own.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from load_manager.errors import SecretUnreadableError

DIRECTORY = "secrets"
KEEP_VERSIONS = 20  # a run rewritten under its feet more often than this loses the oldest for redaction
_SAFE_ACCOUNT = re.compile(r"^(?!x-)[A-Za-z0-9_+=.@-]{1,128}$")


class SecretVersionTakenError(Exception):
    """This version of the secret already holds another value."""


def account_part(account_id: str) -> str:
    """The tenant as a Secrets Manager name (or folder) part, one-to-one: an id of safe characters
    as it is, any other as `x-<hex>` (a safe id never starts with `x-`)."""
    return account_id if _SAFE_ACCOUNT.match(account_id) else "x-" + account_id.encode().hex()


class SecretVault(Protocol):
    def put(self, account_id: str, secret_id: str, version: int, value: str) -> None:
        """Write `value` as this version (the same value again changes nothing)."""
        ...

    def get(self, account_id: str, secret_id: str, version: int) -> str | None:
        """The value of that version; None when it is gone (deleted, or pruned)."""
        ...

    def delete(self, account_id: str, secret_id: str) -> None:
        """Every version; a missing secret is not an error."""
        ...

    def replace(self, account_id: str, secret_id: str, value: str) -> None:
        """Write `value` as the secret's current value (the latest write wins), for secrets no run pins."""
        ...

    def current(self, account_id: str, secret_id: str) -> str | None:
        """The value `replace` wrote last, read afresh every time; None when there is none."""
        ...

    def read_reference(self, arn: str) -> list[str]:
        """A referenced secret's current value, then its previous one if it has one (a rotation
        during a run: both are redacted). SecretUnreadableError when it cannot be read."""
        ...


class FileVault:
    def __init__(self, data_dir: str | os.PathLike[str], directory: str = DIRECTORY):
        self.root = Path(data_dir) / directory

    def put(self, account_id: str, secret_id: str, version: int, value: str) -> None:
        with self._locked(account_id) as folder:
            path = folder / f"{_checked(secret_id)}.json"
            versions = _read(path)
            if versions.get(str(version), value) != value:
                raise SecretVersionTakenError(f"version {version} of secret {secret_id} holds another value")
            versions[str(version)] = value
            kept = sorted(versions, key=int)[-KEEP_VERSIONS:]
            _write(path, {number: versions[number] for number in kept})

    def get(self, account_id: str, secret_id: str, version: int) -> str | None:
        return _read(self.root / account_part(account_id) / f"{_checked(secret_id)}.json").get(str(version))

    def replace(self, account_id: str, secret_id: str, value: str) -> None:
        with self._locked(account_id) as folder:
            path = folder / f"{_checked(secret_id)}.json"
            latest = max(map(int, _read(path)), default=0)
            _write(path, {str(latest + 1): value})  # the earlier value is not kept

    def current(self, account_id: str, secret_id: str) -> str | None:
        versions = _read(self.root / account_part(account_id) / f"{_checked(secret_id)}.json")
        return versions[max(versions, key=int)] if versions else None

    def delete(self, account_id: str, secret_id: str) -> None:
        with self._locked(account_id) as folder:
            (folder / f"{_checked(secret_id)}.json").unlink(missing_ok=True)

    def read_reference(self, arn: str) -> list[str]:
        raise SecretUnreadableError("secret references name Secrets Manager secrets: this deployment keeps its secrets in a file")

    @contextmanager
    def _locked(self, account_id: str) -> Iterator[Path]:
        folder = self.root / account_part(account_id)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel if this process dies
            yield folder
        finally:
            os.close(fd)


def _checked(secret_id: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}", secret_id):
        raise ValueError(f"not a secret id: {secret_id!r}")
    return secret_id


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {str(k): str(v) for k, v in dict(data.get("versions") or {}).items()}


def _write(path: Path, versions: dict[str, str]) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump({"versions": versions}, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)  # a reader sees the old file or the new one, never half of one
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
