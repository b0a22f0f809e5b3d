"""Locust scripts used across tests."""

from support.roles import with_role

SIMPLE = """from locust import HttpUser, task, between


class WebsiteUser(HttpUser):
    wait_time = between(0.1, 0.2)

    @task
    def index(self):
        self.client.get("/")
"""


# Raises at import: Locust exits at start, and its own words must reach the run's failure reason.
CRASHING_SCRIPT = """from locust import HttpUser, task
raise RuntimeError("boom at import")


class U(HttpUser):
    @task
    def t(self):
        self.client.get("/")
"""


def simple_variant(n: int) -> str:
    """A distinct valid script per n (a different request path)."""
    return SIMPLE.replace('self.client.get("/")', f'self.client.get("/items/{n}")')


# Editors of their tenants (they create and change tests; access.py): support/roles.py gives other roles.
AUTH_A = with_role({"sub": "user-a", "email": "alice@example.com", "email_verified": "true", "custom:accountId": "acct-a"}, "editor")
AUTH_B = with_role({"sub": "user-b", "email": "bob@example.com", "email_verified": "true", "custom:accountId": "acct-b"}, "editor")


def b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


# Run by Locust on every process (master and workers import it): a process that sees a control-plane
# credential or setting refuses to start, naming it, and the requests say the locustfile really ran.
ENV_PROBE = '''import os

from locust import HttpUser, constant, task

LEAKED = sorted(k for k in os.environ if k.startswith(("AWS_ACCESS_KEY", "AWS_SECRET", "AWS_SESSION", "MONGODB_", "SQLITE_", "STORE_")))
if LEAKED:
    raise SystemExit("control-plane variables reached Locust: " + ", ".join(LEAKED))


class Probe(HttpUser):
    wait_time = constant(0.2)

    @task
    def clean(self):
        self.client.get("/", name="environment-clean")
'''
