"""Where a notification channel's credentials live: its endpoint URL, the webhook's signing secret
and an auth header's value. Never in the store (whose documents the API answers), never in an event.

They are a secret of the one secret store (adapters/vault.py), one per channel, JSON, written with
`replace` (the latest write wins) in a place of their own:

- In AWS (`NOTIFICATION_SECRET_PREFIX` set): Secrets Manager, `<prefix><account>/<channelId>`. The
  template lets the notifications function write under that prefix and the functions that publish
  notifications read it (they sign the webhook's body); neither reaches the tenants' secrets.
- Locally: `<data dir>/notification-channels/<account>/<channelId>.json`, 0600 in 0700 folders,
  written atomically under a per-tenant lock (the vault's file).

EventBridge keeps its own copies where it needs them: the URL is its API destination's endpoint, the
auth header its connection's (in the secret EventBridge manages for the connection).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

from load_manager.adapters.vault import FileVault, SecretVault
from load_manager.adapters.vault_aws import secrets_manager_vault
from load_manager.settings import get_settings

DIRECTORY = "notification-channels"


@dataclass(frozen=True)
class ChannelCredentials:
    url: str
    signing_secret: str | None = None
    auth_value: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ChannelCredentials:
        data = json.loads(text)
        return cls(url=str(data["url"]), signing_secret=data.get("signing_secret"), auth_value=data.get("auth_value"))


class CredentialStore:
    """Channel credentials as secrets of `vault`, keyed by (tenant, channel id)."""

    def __init__(self, vault: SecretVault):
        self.vault = vault

    def put(self, account_id: str, channel_id: str, credentials: ChannelCredentials) -> None:
        self.vault.replace(account_id, channel_id, credentials.to_json())

    def get(self, account_id: str, channel_id: str) -> ChannelCredentials | None:
        text = self.vault.current(account_id, channel_id)
        return None if text is None else ChannelCredentials.from_json(text)

    def delete(self, account_id: str, channel_id: str) -> None:
        """A missing one is not an error."""
        self.vault.delete(account_id, channel_id)


def file_credentials(data_dir: str | os.PathLike[str]) -> CredentialStore:
    """The local runtime's: files under `<data dir>/notification-channels`."""
    return CredentialStore(FileVault(data_dir, DIRECTORY))


_store: CredentialStore | None = None


def credential_store() -> CredentialStore:
    if _store is not None:
        return _store
    settings = get_settings()
    prefix = settings.automation.notification_secret_prefix
    if not prefix:
        return file_credentials(settings.data_dir)
    return CredentialStore(secrets_manager_vault(prefix, settings.ecs.region))  # the execution environment's one client (aws_clients)


def set_credential_store(store: CredentialStore | None) -> None:
    """Install a store explicitly (tests); None goes back to the settings'."""
    global _store
    _store = store
