"""The contract of the secret store, on both adapters: the local file (0600 in 0700 folders, written
atomically) and Secrets Manager (moto): a value per (tenant, secret, version), the same value again
changes nothing, another value for a taken version is refused (never overwritten), delete takes
every version; a replaced (unversioned) secret reads its latest value; and the use case's racing
writes of one secret, each a version of its own whose value is the one stored."""

from __future__ import annotations

import os
import stat

import boto3
import pytest
from moto import mock_aws
from support.concurrency import race

from load_manager.adapters.vault import FileVault, SecretVersionTakenError, account_part
from load_manager.adapters.vault_aws import SecretsManagerVault
from load_manager.errors import SecretUnreadableError
from load_manager.identity import Caller
from load_manager.ids import new_id
from load_manager.models.variables import PutSecretRequest
from load_manager.usecases import variables

ADMIN = Caller(subject="admin", email="admin@example.com", account_id="acct", groups=frozenset({"load-manager-admins"}))


@pytest.fixture(params=["file", "secretsmanager"])
def vault(request, tmp_path):
    if request.param == "file":
        yield FileVault(tmp_path / "data")
        return
    with mock_aws():
        yield SecretsManagerVault("lm-stack/tenants/", boto3.client("secretsmanager", region_name="us-east-1"))


def test_a_value_per_version_never_overwritten(vault):
    secret = new_id()
    vault.put("acct", secret, 1, "first-value")
    vault.put("acct", secret, 1, "first-value")  # a retried write is the same write
    with pytest.raises(SecretVersionTakenError):
        vault.put("acct", secret, 1, "another-value")
    vault.put("acct", secret, 2, "second-value")
    assert (vault.get("acct", secret, 1), vault.get("acct", secret, 2)) == ("first-value", "second-value")
    assert vault.get("acct", secret, 3) is None
    assert vault.get("acct-b", secret, 1) is None  # another tenant's is a missing one
    vault.delete("acct", secret)
    assert vault.get("acct", secret, 1) is None and vault.get("acct", secret, 2) is None
    vault.delete("acct", secret)  # gone already: not an error
    assert vault.get("acct", new_id(), 1) is None


def test_a_replaced_secret_reads_its_latest_value(vault):
    channel = new_id()  # an unversioned secret, as a notification channel's credentials
    assert vault.current("acct", channel) is None
    vault.replace("acct", channel, '{"url": "https://one"}')
    vault.replace("acct", channel, '{"url": "https://two"}')
    assert vault.current("acct", channel) == '{"url": "https://two"}'
    assert vault.current("acct-b", channel) is None  # another tenant's is a missing one
    vault.delete("acct", channel)
    assert vault.current("acct", channel) is None

def test_racing_writes_of_one_secret_each_get_a_version_whose_value_is_theirs(any_stores, vault):
    def write(n: int):
        return variables.put_secret(any_stores, vault, ADMIN, PutSecretRequest(name="API_TOKEN", value=f"token-{n:02d}-value"))

    results = race(8, write)
    versions = sorted(r.version for r in results)
    assert len(set(versions)) == 8, versions  # nobody shares a version (some may skip one a loser took)
    (stored,) = any_stores.variables.list("acct", "secret")
    assert stored.version == versions[-1] and stored.value is None
    assert vault.get("acct", stored.id, stored.version) in {f"token-{n:02d}-value" for n in range(8)}
    for result in results:  # each write's answer names a version that holds a value
        assert vault.get("acct", stored.id, result.version) is not None


def test_the_local_file_is_its_owners_alone_and_holds_only_the_values(tmp_path):
    vault = FileVault(tmp_path)
    secret = new_id()
    vault.put("tenant with spaces/..", secret, 1, "s3cr3t-value")
    folder = tmp_path / "secrets" / account_part("tenant with spaces/..")
    assert folder.parent == tmp_path / "secrets"  # an account id never leaves the folder
    path = folder / f"{secret}.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700 and stat.S_IMODE(os.stat(tmp_path / "secrets").st_mode) == 0o700
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == [path.name]  # no temporary file left
    with pytest.raises(SecretUnreadableError):
        vault.read_reference("arn:aws:secretsmanager:us-east-1:123456789012:secret:shared/acct/x-AbCdEf")


def test_each_kind_of_secret_has_its_own_folder_and_a_replaced_value_is_not_kept(tmp_path):
    channels, channel = FileVault(tmp_path, "notification-channels"), new_id()
    channels.replace("tenant/..", channel, "old-credentials")
    channels.replace("tenant/..", channel, "new-credentials")
    path = tmp_path / "notification-channels" / account_part("tenant/..") / f"{channel}.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and "old-credentials" not in path.read_text()
    assert not (tmp_path / "secrets").exists() and FileVault(tmp_path).current("tenant/..", channel) is None

def test_account_parts_are_one_to_one():
    ids = ["acme", "x-61", "a", "tenant with spaces", "acme/..", "ACME", "x-"]
    assert len({account_part(i) for i in ids}) == len(ids)
    assert account_part("acme") == "acme" and account_part("x-61").startswith("x-") and account_part("x-61") != "x-61"


@mock_aws
def test_a_reference_reads_the_current_then_the_previous_value():
    client = boto3.client("secretsmanager", region_name="us-east-1")
    arn = client.create_secret(Name="shared/acct/db", SecretString="password-one")["ARN"]
    vault = SecretsManagerVault("lm-stack/tenants/", client)
    assert vault.read_reference(arn) == ["password-one"]
    client.put_secret_value(SecretId=arn, SecretString="password-two")  # a rotation
    assert vault.read_reference(arn) == ["password-two", "password-one"]
    with pytest.raises(SecretUnreadableError, match="cannot be read"):
        vault.read_reference(arn.replace("shared/acct/db", "shared/acct/nothing"))
