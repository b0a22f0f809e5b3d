"""The MongoDB connection string, from Secrets Manager on the first database use.

In AWS the URI never sits in the function's environment (anyone allowed
lambda:GetFunctionConfiguration could read it there): the environment names the secret, IAM allows
reading exactly that one, and Powertools Parameters fetches and caches it. `MONGODB_URI` is for
development and tests only.
"""

from __future__ import annotations

from load_manager.settings import Settings, SettingsError

SECRET_CACHE_SECONDS = 3600  # a rotated password reaches new connections within the hour


def mongodb_uri(settings: Settings) -> str:
    if settings.mongodb_uri:
        return settings.mongodb_uri
    if not settings.mongodb_secret_id:
        raise SettingsError("the mongo store needs MONGODB_SECRET_ID (or MONGODB_URI outside AWS)")
    from aws_lambda_powertools.utilities import parameters  # lazy: with boto3, 165 ms at import (bench/cold_import.py --lazy)

    secret = parameters.get_secret(settings.mongodb_secret_id, transform="json", max_age=SECRET_CACHE_SECONDS)
    uri = secret.get("uri") if isinstance(secret, dict) else None
    if not isinstance(uri, str) or not uri:
        raise SettingsError(f"the secret {settings.mongodb_secret_id!r} must be JSON with a \"uri\" key")
    return uri
