"""Custom::ConsoleAppClient: the console's Cognito app client settings, applied once CloudFront exists.

Why not in the AWS::Cognito::UserPoolClient itself: the API's JWT authorizer needs the client's id
(its audience), the client's callback URL needs CloudFront's domain, and CloudFront needs the API's
domain: a cycle CloudFormation refuses. So template.yaml creates the client bare
(ConsoleUserPoolClient: pool, name, no secret) and this resource sets everything else with
UpdateUserPoolClient once the distribution exists. UpdateUserPoolClient resets whatever it is not
given, so every setting is sent each time; and a CloudFormation update of the bare client would
reset these, which is why a template test insists that it stays bare.

Properties (template.yaml, ConsoleAppClient): UserPoolId, ClientId, CallbackUrls, LogoutUrls,
Scopes, ReadAttributes, WriteAttributes, IdTokenValidityMinutes, RefreshTokenValidityDays.
Delete does nothing: CloudFormation deletes the client itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from load_manager.deploy.custom_resource import Outcome, Request
from load_manager.observability import logger


class AppClientSettingsError(Exception):
    """A property of Custom::ConsoleAppClient is missing or wrong."""


def app_client_settings(properties: Mapping[str, Any]) -> dict[str, Any]:
    """UpdateUserPoolClient's arguments: the authorization code grant with PKCE for a public client."""
    minutes = _int(properties, "IdTokenValidityMinutes", 60)
    return {
        "UserPoolId": _text(properties, "UserPoolId"),
        "ClientId": _text(properties, "ClientId"),
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthFlows": ["code"],  # no secret (a browser keeps none): the console proves itself with PKCE
        "AllowedOAuthScopes": _list(properties, "Scopes"),
        "CallbackURLs": _list(properties, "CallbackUrls"),
        "LogoutURLs": _list(properties, "LogoutUrls"),
        "SupportedIdentityProviders": ["COGNITO"],
        # The ID token carries the tenant (custom:accountId) only if the client may read it; the
        # console may not write it, so nobody moves themselves into another tenant.
        "ReadAttributes": _list(properties, "ReadAttributes"),
        "WriteAttributes": _list(properties, "WriteAttributes"),
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],  # the hosted UI signs in; the console only refreshes
        "IdTokenValidity": minutes,
        "AccessTokenValidity": minutes,
        "RefreshTokenValidity": _int(properties, "RefreshTokenValidityDays", 30),
        "TokenValidityUnits": {"IdToken": "minutes", "AccessToken": "minutes", "RefreshToken": "days"},
        "PreventUserExistenceErrors": "ENABLED",
        "EnableTokenRevocation": True,  # sign-out revokes the refresh token
    }


@dataclass
class AppClientConfigurer:
    cognito: Any

    def __call__(self, request: Request) -> Outcome:
        if request.request_type == "Delete":
            return Outcome(request.physical_id or request.logical_id)
        settings = app_client_settings(request.properties)
        physical_id = f"app-client-settings:{settings['ClientId']}"
        # Keep the name CloudFormation gave the client: UpdateUserPoolClient would reset it too.
        current = self.cognito.describe_user_pool_client(UserPoolId=settings["UserPoolId"], ClientId=settings["ClientId"])
        name = current["UserPoolClient"].get("ClientName")
        self.cognito.update_user_pool_client(**settings, **({"ClientName": name} if name else {}))
        logger.info("console app client configured", extra={"client_id": settings["ClientId"], "callbacks": settings["CallbackURLs"]})
        return Outcome(physical_id, {"ClientId": settings["ClientId"]})


def _text(properties: Mapping[str, Any], name: str) -> str:
    value = properties.get(name)
    if not isinstance(value, str) or not value:
        raise AppClientSettingsError(f"the resource property {name} is required")
    return value


def _list(properties: Mapping[str, Any], name: str) -> list[str]:
    value = properties.get(name)
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        raise AppClientSettingsError(f"the resource property {name} must be a non-empty list of strings")
    return list(value)


def _int(properties: Mapping[str, Any], name: str, default: int) -> int:
    # CloudFormation hands every scalar property over as a string.
    try:
        return int(properties.get(name, default))
    except (TypeError, ValueError) as error:
        raise AppClientSettingsError(f"the resource property {name} must be a whole number") from error


def handle(request: Request) -> Outcome:
    """The Lambda's entry for Custom::ConsoleAppClient: the AWS client made on first use."""
    import boto3  # lazy: boto3 costs 119 ms at import (bench/cold_import.py --lazy)

    return AppClientConfigurer(boto3.client("cognito-idp"))(request)
