"""The MongoDB URI comes from Secrets Manager on the first database use (moto), never from the
function's environment in AWS."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from load_manager.adapters.secrets import mongodb_uri
from load_manager.settings import Settings, SettingsError, set_settings
from load_manager.store import get_stores, reset_stores
from load_manager_local.functions import project_root
from load_manager_local.template import load_template, ref_target

SECRET = "load-manager/mongodb"


@pytest.fixture
def secrets(monkeypatch):
    from aws_lambda_powertools.utilities import parameters

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    parameters.clear_caches()  # each test is a fresh execution environment
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        yield client
    set_settings(None)
    reset_stores()


def test_the_stores_connect_with_the_uri_read_from_the_secret(secrets):
    secrets.create_secret(Name=SECRET, SecretString=json.dumps({"uri": "mongomock://from-the-secret"}))
    settings = Settings.from_env({"STORE_BACKEND": "mongo", "MONGODB_SECRET_ID": SECRET})
    assert settings.mongodb_uri == "" and settings.mongodb_secret_id == SECRET
    set_settings(settings)
    reset_stores()
    stores = get_stores()
    assert type(stores.load_tests).__name__ == "MongoLoadTestStore"
    assert stores.load_tests.list("acct", project_id=None, limit=5, after=None) == []


def test_the_secret_is_read_once_and_cached(secrets):
    secrets.create_secret(Name=SECRET, SecretString=json.dumps({"uri": "mongomock://first"}))
    settings = Settings(store_backend="mongo", mongodb_secret_id=SECRET)
    assert mongodb_uri(settings) == "mongomock://first"
    secrets.put_secret_value(SecretId=SECRET, SecretString=json.dumps({"uri": "mongomock://rotated"}))
    assert mongodb_uri(settings) == "mongomock://first"  # cached for the execution environment


def test_a_secret_without_a_uri_is_a_clear_configuration_error(secrets):
    secrets.create_secret(Name="lm/broken", SecretString=json.dumps({"url": "mongodb://x"}))
    with pytest.raises(SettingsError, match='"uri"'):
        mongodb_uri(Settings(store_backend="mongo", mongodb_secret_id="lm/broken"))
    with pytest.raises(SettingsError, match="MONGODB_SECRET_ID"):
        mongodb_uri(Settings(store_backend="mongo"))


def test_the_template_names_the_secret_and_allows_exactly_it():
    template = load_template(project_root() / "template.yaml")
    text = (project_root() / "template.yaml").read_text()
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert "MONGODB_URI" not in env and "{{resolve:" not in text, "no secret value in any environment"
    assert ref_target(env["MONGODB_SECRET_ID"]) == "MongoDbSecretName"
    statement = template["Resources"]["MongoDbSecretReadPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement == [{
        "Sid": "ReadTheMongoDbSecret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${MongoDbSecretName}-??????"},
    }]  # fmt: skip
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    # The console publisher (a deploy-time custom resource) never touches the database.
    functions = [f for f in functions if f["Properties"]["CodeUri"] != "functions/console_publisher/"]
    assert all("MongoDbSecretReadPolicy" in map(ref_target, f["Properties"].get("Policies") or []) for f in functions)
