"""moto's credentials for a test, whatever the developer's shell holds."""

from __future__ import annotations


def use_moto_credentials(monkeypatch) -> None:
    """Fake keys, and no profile, session token or endpoint of the shell that could reach real AWS."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
