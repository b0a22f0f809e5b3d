"""Which secret store this deployment uses (adapters/vault.py): Secrets Manager under SECRETS_PREFIX,
else the data directory's private files. Tests install their own with `set_vault`."""

from __future__ import annotations

from load_manager.adapters.vault import FileVault, SecretVault
from load_manager.adapters.vault_aws import secrets_manager_vault
from load_manager.errors import SecretUnreadableError
from load_manager.settings import get_settings

_vault: SecretVault | None = None


def get_vault() -> SecretVault:
    """The deployment's vault: Secrets Manager under SECRETS_PREFIX, else the data directory's file."""
    if _vault is not None:
        return _vault
    settings = get_settings()
    if not settings.secrets_prefix:
        if settings.in_lambda:
            raise SecretUnreadableError("this function has no SECRETS_PREFIX: secrets are not configured for it")
        return FileVault(settings.data_dir)
    return secrets_manager_vault(settings.secrets_prefix, settings.ecs.region)


def set_vault(vault: SecretVault | None) -> None:
    """Install a vault explicitly (tests); None goes back to the settings'."""
    global _vault
    _vault = vault
