"""The console's deploy-time custom resources (functions/console_publisher) against moto's S3,
CloudFront and Cognito, answering a local HTTP server that stands in for CloudFormation's ResponseURL."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from load_manager.deploy import custom_resource
from load_manager.deploy.console_files import published_files
from load_manager.deploy.console_publisher import ConsolePublisher
from load_manager.deploy.custom_resource import Outcome, handle
from load_manager_local.functions import load_function

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "console"
BUCKET = "console-bucket"
CONFIG = {
    "apiBase": "",
    "auth": {
        "mode": "cognito", "domain": "https://lm.auth.us-east-1.amazoncognito.com", "clientId": "abc123",
        "redirectUri": "https://d111.cloudfront.net/auth/callback", "logoutUri": "https://d111.cloudfront.net/",
        "scopes": ["openid", "email", "profile"],
    },
}  # fmt: skip


class CloudFormationEndpoint:
    """Records what is PUT to the presigned ResponseURL; `fail_first` answers the first PUT with 500."""

    def __init__(self, fail_first: int = 0):
        self.answers: list[dict] = []
        self.headers: list[dict] = []
        self.received = threading.Event()
        self.fail_first = fail_first
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if endpoint.fail_first:
                    endpoint.fail_first -= 1
                    self.send_response(500)
                else:
                    endpoint.answers.append(json.loads(body))
                    endpoint.headers.append(dict(self.headers.items()))
                    endpoint.received.set()
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cfn-response?X-Amz-Signature=abc"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def only_answer(self) -> dict:
        assert len(self.answers) == 1, self.answers
        return self.answers[0]


@pytest.fixture
def cfn():
    endpoint = CloudFormationEndpoint()
    endpoint.thread.start()
    try:
        yield endpoint
    finally:
        endpoint.server.shutdown()
        endpoint.server.server_close()


@pytest.fixture
def aws():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        cloudfront = boto3.client("cloudfront", region_name="us-east-1")
        distribution = cloudfront.create_distribution(DistributionConfig={
            "CallerReference": "test", "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": f"{BUCKET}.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https"},
        })["Distribution"]["Id"]  # fmt: skip
        yield s3, cloudfront, distribution


class Context:
    log_stream_name = "2026/01/01/[$LATEST]abc"

    def __init__(self, seconds: float = 300):
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def _event(cfn, request_type: str, properties: dict, resource_type: str = "Custom::ConsoleFiles", physical_id: str | None = None) -> dict:
    event = {
        "RequestType": request_type, "ResponseURL": cfn.url, "ResourceType": resource_type,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/lm/1", "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "ConsolePublisher", "ResourceProperties": {"ServiceToken": "arn:aws:lambda:fn", **properties},
    }  # fmt: skip
    if physical_id:
        event["PhysicalResourceId"] = physical_id
    return event


def _files_properties(distribution: str, config: dict | None = None) -> dict:
    return {"BucketName": BUCKET, "DistributionId": distribution, "Config": config or CONFIG, "FilesVersion": "arn:aws:lambda:layer:console:3"}


def _objects(s3) -> dict[str, dict]:
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key) for key in keys}


@pytest.fixture
def function(monkeypatch):
    """The deployed entry point, reading the console files where the layer would put them."""
    monkeypatch.setenv("CONSOLE_FILES_DIR", str(CONSOLE))
    return load_function("console_publisher")


def test_create_publishes_exactly_the_console_files_and_config_json(cfn, aws, function):
    s3, cloudfront, distribution = aws
    event = _event(cfn, "Create", _files_properties(distribution))
    function.lambda_handler(event, Context())

    answer = cfn.only_answer
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == f"console-files:{BUCKET}"
    assert (answer["RequestId"], answer["LogicalResourceId"], answer["StackId"]) == (event["RequestId"], "ConsolePublisher", event["StackId"])
    assert cfn.headers[0].get("Content-Type") == ""  # the presigned URL is signed without one
    expected = dict(published_files(CONSOLE))
    objects = _objects(s3)
    assert set(objects) == set(expected) | {"config.json"}
    assert not [key for key in objects if key.startswith(("vendor/test/", "vendor-src/", "tools/", "package"))]
    assert answer["Data"]["Files"] == str(len(expected) + 1)
    for key, path in expected.items():
        assert objects[key]["Body"].read() == path.read_bytes(), key
        assert objects[key]["CacheControl"] == "no-cache", key
    assert objects["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert objects["src/main.js"]["ContentType"] == "text/javascript; charset=utf-8"
    assert objects["app.css"]["ContentType"] == "text/css; charset=utf-8"
    assert objects["favicon.svg"]["ContentType"] == "image/svg+xml"
    assert json.loads(objects["config.json"]["Body"].read()) == CONFIG
    assert (objects["config.json"]["ContentType"], objects["config.json"]["CacheControl"]) == ("application/json", "no-store")

    invalidations = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]["Items"]
    assert [item["Id"] for item in invalidations] == [answer["Data"]["InvalidationId"]]
    batch = cloudfront.get_invalidation(DistributionId=distribution, Id=invalidations[0]["Id"])["Invalidation"]["InvalidationBatch"]
    assert batch["Paths"]["Items"] == ["/*"] and batch["CallerReference"] == event["RequestId"]


def test_update_removes_what_an_older_version_left_and_keeps_its_physical_id(cfn, aws, function):
    s3, _, distribution = aws
    for stale in ("src/pages/retired.js", "vendor/test/axe.min.js", "old-config.json"):
        s3.put_object(Bucket=BUCKET, Key=stale, Body=b"old")
    s3.put_object(Bucket=BUCKET, Key="index.html", Body=b"<p>old</p>")
    event = _event(cfn, "Update", _files_properties(distribution), physical_id=f"console-files:{BUCKET}")
    function.lambda_handler(event, Context())

    answer = cfn.only_answer
    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == f"console-files:{BUCKET}"
    assert answer["Data"]["Removed"] == "3"
    objects = _objects(s3)
    assert set(objects) == {name for name, _ in published_files(CONSOLE)} | {"config.json"}
    assert objects["index.html"]["Body"].read() == (CONSOLE / "index.html").read_bytes()


def test_delete_empties_the_bucket_and_a_missing_bucket_is_no_failure(cfn, aws, function):
    s3, _, distribution = aws
    for key in ("index.html", "src/main.js", "config.json"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    function.lambda_handler(_event(cfn, "Delete", _files_properties(distribution), physical_id=f"console-files:{BUCKET}"), Context())
    assert cfn.only_answer["Status"] == "SUCCESS" and cfn.only_answer["Data"]["Removed"] == "3"
    assert _objects(s3) == {}
    s3.delete_bucket(Bucket=BUCKET)

    cfn.answers.clear()
    function.lambda_handler(_event(cfn, "Delete", _files_properties(distribution), physical_id=f"console-files:{BUCKET}"), Context())
    assert cfn.only_answer["Status"] == "SUCCESS"


def test_a_bad_configuration_fails_the_resource_and_writes_nothing(cfn, aws, function):
    s3, cloudfront, distribution = aws
    bad = {"apiBase": "", "auth": {"mode": "password"}}
    function.lambda_handler(_event(cfn, "Create", _files_properties(distribution, bad)), Context())
    answer = cfn.only_answer
    assert answer["Status"] == "FAILED"
    assert "auth.mode must be one of none, cognito" in answer["Reason"] and Context.log_stream_name in answer["Reason"]
    assert answer["PhysicalResourceId"] == "ConsolePublisher-not-created"
    assert _objects(s3) == {}
    assert cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"].get("Items", []) == []


def test_no_console_files_fails_with_a_reason(cfn, aws, tmp_path):
    s3, cloudfront, distribution = aws
    publisher = ConsolePublisher(s3, cloudfront, tmp_path)
    handle(_event(cfn, "Create", _files_properties(distribution)), Context(), {"Custom::ConsoleFiles": publisher})
    assert cfn.only_answer["Status"] == "FAILED"
    assert "no console files" in cfn.only_answer["Reason"] and _objects(s3) == {}


def test_an_unknown_resource_type_fails_but_its_delete_succeeds(cfn, function):
    function.lambda_handler(_event(cfn, "Create", {}, resource_type="Custom::Other"), Context())
    assert cfn.only_answer["Status"] == "FAILED" and "Custom::Other" in cfn.only_answer["Reason"]
    cfn.answers.clear()
    function.lambda_handler(_event(cfn, "Delete", {}, resource_type="Custom::Other", physical_id="other-1"), Context())
    assert cfn.only_answer == {**cfn.only_answer, "Status": "SUCCESS", "PhysicalResourceId": "other-1"}


def test_a_handler_that_runs_out_of_time_is_answered_failed_before_lambda_kills_it(cfn, monkeypatch):
    monkeypatch.setattr(custom_resource, "TIMEOUT_MARGIN_SECONDS", 1.0)
    returned = threading.Event()

    def slow(request):
        assert cfn.received.wait(10), "the timer never answered"
        returned.set()
        return Outcome("too-late")

    handle(_event(cfn, "Create", {}, resource_type="Custom::Slow"), Context(seconds=1.2), {"Custom::Slow": slow})
    assert returned.is_set()
    answer = cfn.only_answer  # the handler's late success was dropped
    assert answer["Status"] == "FAILED" and answer["Reason"].startswith("timed out before finishing")


def test_a_failed_put_to_cloudformation_is_retried(monkeypatch):
    monkeypatch.setattr(custom_resource.time, "sleep", lambda seconds: None)
    endpoint = CloudFormationEndpoint(fail_first=1)
    endpoint.thread.start()
    try:
        handle(_event(endpoint, "Delete", {}, resource_type="Custom::Other", physical_id="x"), Context(), {})
    finally:
        endpoint.server.shutdown()
        endpoint.server.server_close()
    assert endpoint.only_answer["Status"] == "SUCCESS"


# ---- Custom::ConsoleAppClient ------------------------------------------------------------------


@pytest.fixture
def pool():
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool_id = cognito.create_user_pool(PoolName="lm-users")["UserPool"]["Id"]
        client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="lm-console", GenerateSecret=False)["UserPoolClient"]["ClientId"]
        yield cognito, pool_id, client_id


def _client_properties(pool_id: str, client_id: str) -> dict:
    return {
        "UserPoolId": pool_id, "ClientId": client_id,
        "CallbackUrls": ["https://d111.cloudfront.net/auth/callback"], "LogoutUrls": ["https://d111.cloudfront.net/"],
        "Scopes": ["openid", "email", "profile"], "ReadAttributes": ["email", "email_verified", "name", "custom:accountId"],
        "WriteAttributes": ["email", "name"], "IdTokenValidityMinutes": "60", "RefreshTokenValidityDays": "30",
    }  # fmt: skip


def test_the_app_client_gets_the_code_grant_on_cloudfront_and_keeps_its_name(cfn, pool, function):
    cognito, pool_id, client_id = pool
    function.lambda_handler(_event(cfn, "Create", _client_properties(pool_id, client_id), resource_type="Custom::ConsoleAppClient"), Context())
    answer = cfn.only_answer
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == f"app-client-settings:{client_id}"
    client = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    assert client["ClientName"] == "lm-console" and "ClientSecret" not in client
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert client["CallbackURLs"] == ["https://d111.cloudfront.net/auth/callback"]
    assert client["LogoutURLs"] == ["https://d111.cloudfront.net/"]
    assert "custom:accountId" in client["ReadAttributes"]  # the tenant reaches the ID token
    assert "custom:accountId" not in client["WriteAttributes"]  # and nobody changes their own
    assert client["IdTokenValidity"] == 60 and client["RefreshTokenValidity"] == 30
    assert client["TokenValidityUnits"] == {"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "days"}


def test_the_app_client_resource_rejects_missing_urls_and_deletes_without_touching_the_client(cfn, pool, function):
    cognito, pool_id, client_id = pool
    properties = {**_client_properties(pool_id, client_id), "CallbackUrls": []}
    function.lambda_handler(_event(cfn, "Create", properties, resource_type="Custom::ConsoleAppClient"), Context())
    assert cfn.only_answer["Status"] == "FAILED" and "CallbackUrls must be a non-empty list" in cfn.only_answer["Reason"]
    cfn.answers.clear()
    function.lambda_handler(_event(cfn, "Delete", properties, resource_type="Custom::ConsoleAppClient", physical_id="app-client-settings:x"), Context())
    assert cfn.only_answer["Status"] == "SUCCESS"
    assert cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]["ClientName"] == "lm-console"
