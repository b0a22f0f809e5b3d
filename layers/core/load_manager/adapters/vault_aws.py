"""The secret store in AWS: Secrets Manager (see adapters/vault.py).

Each secret id is one Secrets Manager secret, `<prefix><account>/<secret id>`; each version of ours is
one of its versions, whose VersionId is derived from the name and the number (uuid5): a write is
PutSecretValue with that ClientRequestToken, so a retried write is the same write, and a racing
writer's different value for the same version is refused by Secrets Manager itself
(ResourceExistsException), never overwritten. Reads name the VersionId: a run reads the version it
recorded whatever happened to the secret since.
"""

from __future__ import annotations

import uuid
from typing import Any

from load_manager.adapters import aws_clients
from load_manager.adapters.vault import SecretVersionTakenError, account_part
from load_manager.errors import SecretStoreError, SecretUnreadableError

_NAMESPACE = uuid.UUID("6f1c9a52-3b8e-4d0f-9a57-2c1e8b4d7a30")
# Worth another attempt later (Secrets Manager's own trouble, throttling, the network).
_TRANSIENT = frozenset({"ThrottlingException", "InternalServiceError", "RequestTimeout", "ServiceUnavailable", "LimitExceededException"})
# A deleted secret (scheduled for deletion) answers InvalidRequestException; a missing one ResourceNotFoundException.
_GONE = frozenset({"ResourceNotFoundException", "InvalidRequestException"})
RECOVERY_WINDOW_DAYS = 7  # a deleted secret can be restored by an operator for a week


def version_token(name: str, version: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{name}#{version}"))


class SecretsManagerVault:
    def __init__(self, prefix: str, client: Any):
        self.prefix = prefix
        self.client = client

    def name(self, account_id: str, secret_id: str) -> str:
        return f"{self.prefix}{account_part(account_id)}/{secret_id}"

    def put(self, account_id: str, secret_id: str, version: int, value: str) -> None:
        name = self.name(account_id, secret_id)
        token = version_token(name, version)
        try:
            self.client.put_secret_value(SecretId=name, SecretString=value, ClientRequestToken=token)
        except Exception as exc:  # noqa: BLE001 - classified below; anything else is re-raised
            code = _code(exc)
            if code == "ResourceNotFoundException":
                self._create(name, value, token, account_id)
            elif code == "ResourceExistsException":
                raise SecretVersionTakenError(f"version {version} of {name} holds another value") from None
            else:
                raise _store_error(exc, "write") from exc

    def _create(self, name: str, value: str, token: str, account_id: str) -> None:
        try:
            self.client.create_secret(
                Name=name, SecretString=value, ClientRequestToken=token, Description=f"Load Manager secret of tenant {account_id}"
            )
        except Exception as exc:  # noqa: BLE001
            if _code(exc) == "ResourceExistsException":  # created meanwhile: this version is taken, or it is ours again
                raise SecretVersionTakenError(f"{name} was created by another write") from None
            raise _store_error(exc, "create") from exc

    def replace(self, account_id: str, secret_id: str, value: str) -> None:
        name = self.name(account_id, secret_id)
        try:
            self._create(name, value, str(uuid.uuid4()), account_id)
        except SecretVersionTakenError:  # it exists: a new version of it, which Secrets Manager makes AWSCURRENT
            try:
                self.client.put_secret_value(SecretId=name, SecretString=value)
            except Exception as exc:  # noqa: BLE001
                raise _store_error(exc, "write") from exc

    def get(self, account_id: str, secret_id: str, version: int) -> str | None:
        name = self.name(account_id, secret_id)
        return self._read(name, VersionId=version_token(name, version))

    def current(self, account_id: str, secret_id: str) -> str | None:
        return self._read(self.name(account_id, secret_id))  # AWSCURRENT, never cached: a rotated value is used at once

    def _read(self, name: str, **version: str) -> str | None:
        try:
            answer = self.client.get_secret_value(SecretId=name, **version)
        except Exception as exc:  # noqa: BLE001
            if _code(exc) in _GONE:
                return None
            raise _store_error(exc, "read") from exc
        return str(answer["SecretString"])

    def delete(self, account_id: str, secret_id: str) -> None:
        try:
            self.client.delete_secret(SecretId=self.name(account_id, secret_id), RecoveryWindowInDays=RECOVERY_WINDOW_DAYS)
        except Exception as exc:  # noqa: BLE001
            if _code(exc) not in _GONE:
                raise _store_error(exc, "delete") from exc

    def read_reference(self, arn: str) -> list[str]:
        values = []
        for stage in ("AWSCURRENT", "AWSPREVIOUS"):
            try:
                answer = self.client.get_secret_value(SecretId=arn, VersionStage=stage)
            except Exception as exc:  # noqa: BLE001
                code = _code(exc)
                if stage == "AWSPREVIOUS" and code in _GONE:
                    break  # never rotated
                if code in _TRANSIENT or not code:
                    raise _store_error(exc, "read") from exc
                raise SecretUnreadableError(f"the referenced secret {arn} cannot be read: {code}") from None
            if answer.get("SecretString") is None:
                raise SecretUnreadableError(f"the referenced secret {arn} holds binary data: only text can be an environment variable")
            values.append(str(answer["SecretString"]))
        return values


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str((response or {}).get("Error", {}).get("Code") or "") if isinstance(response, dict) else ""


def _store_error(exc: Exception, what: str) -> SecretStoreError:
    code = _code(exc) or type(exc).__name__
    return SecretStoreError(f"Secrets Manager could not {what} the secret: {code}", retryable=code in _TRANSIENT or not _code(exc))


def secrets_manager_vault(prefix: str, region: str | None) -> SecretsManagerVault:
    """The vault of `prefix`, on the execution environment's one Secrets Manager client (aws_clients)."""
    return SecretsManagerVault(prefix, aws_clients.client("secretsmanager", region=region, retries={"mode": "standard", "max_attempts": 4}))
