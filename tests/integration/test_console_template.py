"""The web console's part of template.yaml: a private bucket behind CloudFront with the API on the same
origin, Cognito sign-in whose tokens the API's authorizer accepts, and a publisher whose config.json
and CSP agree with what `load-manager serve` and console/src/auth.js do. Deployed behaviour that
needs AWS is left to the moto tests (tests/unit/test_console_publisher.py) and the browser tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from load_manager.deploy.console_files import CONTENT_TYPES, check_config, content_security_policy, is_asset_path, published_files
from load_manager_local.console import ConsoleFiles

ROOT = Path(__file__).resolve().parents[2]
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# What CloudFormation would substitute, for each way of deploying.
VALUES = {
    "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
    "ConsoleUserPool": "eu-west-1_Pool", "ConsoleUserPoolClient": "stackclient", "ConsoleUserPoolDomain": "load-manager-abc",
    "HttpApi": "api123", "AWS::StackName": "lm", "ConsolePublisherFunction.Arn": "arn:aws:lambda:fn",
    "ConsoleDistribution": "E2DIST", "ConsoleDistribution.DomainName": "d111.cloudfront.net", "ConsoleAuthDomain": "https://login.example.com",
    "ConsoleClientId": "theirclient", "JwtIssuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Theirs",
    "JwtAudience": ["theirclient"],
}  # fmt: skip


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    decoded, problems = decode(str(ROOT / "template.yaml"))
    assert not problems, problems
    return decoded["Resources"]


def _resolve(value: Any, create_pool: bool) -> Any:
    """Evaluate the intrinsics this section uses, as CloudFormation would with VALUES."""
    if isinstance(value, list):
        return [_resolve(item, create_pool) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Fn::If"}:
        condition, then, otherwise = value["Fn::If"]
        assert condition == "CreateUserPool", condition
        return _resolve(then if create_pool else otherwise, create_pool)
    if set(value) == {"Ref"}:
        return VALUES[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:
        return VALUES[".".join(value["Fn::GetAtt"])]
    if set(value) == {"Fn::Join"}:
        separator, items = value["Fn::Join"]
        joined = _resolve(items, create_pool)
        return separator.join(joined if isinstance(joined, list) else [joined])
    if set(value) == {"Fn::Sub"}:
        text, names = value["Fn::Sub"] if isinstance(value["Fn::Sub"], list) else (value["Fn::Sub"], {})
        names = {**VALUES, **{k: _resolve(v, create_pool) for k, v in names.items()}}
        return re.sub(r"\$\{([^}]+)\}", lambda found: names[found.group(1)], text)
    return {key: _resolve(item, create_pool) for key, item in value.items()}


@pytest.mark.parametrize("create_pool", [True, False], ids=["stack-pool", "existing-issuer"])
def test_the_api_trusts_the_tokens_the_console_signs_in_with(resources, create_pool):
    # What the API's Lambda authorizer verifies JWTs against (load_manager/authn/jwts.py).
    verified = resources["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    issuer, audience = _resolve(verified["JWT_ISSUER"], create_pool), _resolve(verified["JWT_AUDIENCE"], create_pool).split(",")
    auth = _resolve(resources["ConsolePublisher"]["Properties"]["Config"], create_pool)["auth"]
    if create_pool:
        assert issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool"  # Cognito's iss claim
        assert auth["domain"] == "https://load-manager-abc.auth.eu-west-1.amazoncognito.com"
    else:
        assert issuer == VALUES["JwtIssuer"] and auth["domain"] == VALUES["ConsoleAuthDomain"]
    assert auth["clientId"] in audience  # the ID token's aud is the client the console signs in with


@pytest.mark.parametrize("create_pool", [True, False], ids=["stack-pool", "existing-issuer"])
def test_config_json_and_the_csp_agree_with_serve_and_auth_js(resources, create_pool):
    config = check_config(_resolve(resources["ConsolePublisher"]["Properties"]["Config"], create_pool))
    assert config["apiBase"] == ""  # /v1/* is on the console's own origin
    auth = config["auth"]
    assert auth["mode"] == "cognito" and "openid" in auth["scopes"]
    assert (auth["redirectUri"], auth["logoutUri"]) == ("https://d111.cloudfront.net/auth/callback", "https://d111.cloudfront.net/")
    auth_js = (ROOT / "console" / "src" / "auth.js").read_text()
    assert "export const CALLBACK_PATH = '/auth/callback';" in auth_js
    for key in ("domain", "clientId", "redirectUri", "logoutUri", "scopes"):
        assert f"auth.{key}" in auth_js, f"auth.js does not read config.auth.{key}"

    headers = resources["ConsoleSecurityHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    served = ConsoleFiles(ROOT / "console", config).respond("/tests", {}).headers
    assert _resolve(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"], create_pool) == content_security_policy(config)
    assert served["content-security-policy"] == content_security_policy(config)
    assert served["referrer-policy"] == headers["ReferrerPolicy"]["ReferrerPolicy"] == "same-origin"
    assert served["x-content-type-options"] == "nosniff" and headers["ContentTypeOptions"] == {"Override": True}


def test_the_console_app_client_matches_config_json_and_stays_bare(resources):
    # Its OAuth settings come from ConsoleAppClient (a custom resource): any property CloudFormation
    # set on the client itself would reset them on an update (see cognito_client.py).
    assert resources["ConsoleUserPoolClient"]["Properties"] == {
        "UserPoolId": {"Ref": "ConsoleUserPool"}, "ClientName": {"Fn::Sub": "${AWS::StackName}-console"}, "GenerateSecret": False,
    }  # fmt: skip
    settings = _resolve(resources["ConsoleAppClient"]["Properties"], True)
    auth = _resolve(resources["ConsolePublisher"]["Properties"]["Config"], True)["auth"]
    assert settings["ClientId"] == auth["clientId"] and settings["CallbackUrls"] == [auth["redirectUri"]]
    assert settings["LogoutUrls"] == [auth["logoutUri"]] and settings["Scopes"] == auth["scopes"]
    assert "custom:accountId" in settings["ReadAttributes"] and "custom:accountId" not in settings["WriteAttributes"]
    pool = resources["ConsoleUserPool"]["Properties"]
    assert {"Name": "accountId", "AttributeDataType": "String", "Mutable": True}.items() <= pool["Schema"][0].items()
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}  # admins set each user's tenant
    assert resources["ConsoleAdminGroup"]["Properties"]["GroupName"] == {"Ref": "AdminGroup"}


def test_the_bucket_is_private_and_only_this_distribution_reads_it(resources):
    bucket = resources["ConsoleBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    for statement in resources["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]:
        if statement["Effect"] == "Allow":
            assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
            assert statement["Action"] in ("s3:GetObject", "s3:ListBucket")
            arn = _resolve(statement["Condition"]["StringEquals"]["AWS:SourceArn"], True)
            assert arn == "arn:aws:cloudfront::123456789012:distribution/E2DIST"


def test_the_distribution_sends_v1_to_the_api_uncached_and_views_to_index_html(resources):
    config = resources["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    assert origins["console-files"]["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    assert _resolve(origins["http-api"]["DomainName"], True).endswith(".execute-api.eu-west-1.amazonaws.com")
    assert origins["http-api"]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"

    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "console-files" and default["CachePolicyId"] == CACHING_OPTIMIZED
    assert default["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["ConsoleViewsFunction", "FunctionMetadata.FunctionARN"]}}
    ]
    [api] = config["CacheBehaviors"]
    assert api["PathPattern"] == "/v1/*" and api["TargetOriginId"] == "http-api"
    assert set(api["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert (api["CachePolicyId"], api["OriginRequestPolicyId"]) == (CACHING_DISABLED, ALL_VIEWER_EXCEPT_HOST)
    assert "FunctionAssociations" not in api  # the API's own 404s reach the client
    assert "CustomErrorResponses" not in config  # they would turn the API's 403/404 into index.html too
    for behaviour in (default, api):
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "ConsoleSecurityHeadersPolicy"}


def test_the_views_function_knows_exactly_the_file_extensions_serve_knows():
    # Its behaviour is checked in a real JavaScript engine (tests/console/test_console_cognito.py).
    code = decode(str(ROOT / "template.yaml"))[0]["Resources"]["ConsoleViewsFunction"]["Properties"]["FunctionCode"]
    listed = re.search(r"var FILE_EXTENSIONS = \[([^\]]*)\]", code).group(1)
    assert re.findall(r"'([^']+)'", listed) == list(CONTENT_TYPES)
    # Every published file has one, or CloudFront would answer index.html for it.
    assert all(is_asset_path(name) for name, _ in published_files(ROOT / "console"))


def test_the_publisher_gets_the_files_layer_and_republishes_when_it_changes(resources):
    layer = resources["ConsoleFilesLayer"]
    assert layer["Properties"]["ContentUri"] == "console/"
    assert layer["Metadata"] == {"BuildMethod": "makefile", "ContextPath": "layers/console"}
    assert (ROOT / "layers" / "console" / "Makefile").read_text().count("build-ConsoleFilesLayer:") == 1
    function = resources["ConsolePublisherFunction"]["Properties"]
    assert function["Layers"] == [{"Ref": "ConsoleFilesLayer"}] and function["Environment"]["Variables"]["CONSOLE_FILES_DIR"] == "/opt/console"
    publisher = resources["ConsolePublisher"]
    assert publisher["Type"] == "Custom::ConsoleFiles" and publisher["Properties"]["FilesVersion"] == {"Ref": "ConsoleFilesLayer"}
    assert resources["ConsoleAppClient"]["Type"] == "Custom::ConsoleAppClient"
    handlers = (ROOT / "functions" / "console_publisher" / "app.py").read_text()
    assert '"Custom::ConsoleFiles"' in handlers and '"Custom::ConsoleAppClient"' in handlers
