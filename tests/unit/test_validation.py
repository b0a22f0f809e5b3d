"""Static validation: reject only what clearly cannot run; real-world locustfiles pass."""

from __future__ import annotations

import base64
import textwrap

import pytest

from load_manager.errors import InvalidScriptEncodingError, NoUserClassError, ScriptSyntaxError, ScriptTooLargeError
from load_manager.validation import analyse_script, decode_script


def analyse(src: str):
    return analyse_script(textwrap.dedent(src))


REAL_WORLD = {
    "http_user": """
        from locust import HttpUser, task, between
        class WebsiteUser(HttpUser):
            wait_time = between(1, 5)
            @task
            def index(self):
                self.client.get("/")
    """,
    "fast_http_user": """
        from locust.contrib.fasthttp import FastHttpUser
        from locust import task
        class Api(FastHttpUser):
            @task
            def ping(self):
                self.client.get("/ping")
    """,
    "module_import": """
        import locust
        class Api(locust.FastHttpUser):
            @locust.task
            def ping(self):
                self.client.get("/ping")
    """,
    "plain_user_with_custom_client": """
        from locust import User, task, events
        class GrpcUser(User):
            @task
            def call(self):
                pass
    """,
    "abstract_intermediate": """
        from locust import HttpUser, task
        class AuthenticatedUser(HttpUser):
            abstract = True
            def on_start(self):
                self.client.post("/login", json={"u": "x"})
        class Shopper(AuthenticatedUser):
            @task
            def browse(self):
                self.client.get("/items")
    """,
    "tasksets": """
        from locust import HttpUser, TaskSet, SequentialTaskSet, task
        class Checkout(SequentialTaskSet):
            @task
            def cart(self):
                self.client.get("/cart")
        class Browse(TaskSet):
            tasks = {Checkout: 1}
        class Visitor(HttpUser):
            tasks = [Browse]
    """,
    "shape_and_events": """
        from locust import HttpUser, LoadTestShape, events, task
        @events.test_start.add_listener
        def on_start(environment, **kwargs):
            print("starting")
        class U(HttpUser):
            @task
            def t(self):
                self.client.get("/")
        class StagesShape(LoadTestShape):
            stages = [{"duration": 10, "users": 10, "spawn_rate": 10}]
            def tick(self):
                return None
    """,
    "star_import": """
        from locust import *
        class U(HttpUser):
            @task
            def t(self):
                self.client.get("/")
    """,
    "aliased": """
        from locust import HttpUser as Base, task
        class U(Base):
            @task
            def t(self):
                self.client.get("/")
    """,
}


@pytest.mark.parametrize("name", sorted(REAL_WORLD))
def test_real_world_locustfiles_pass_without_warnings(name):
    analysis = analyse(REAL_WORLD[name])
    assert analysis.user_classes and not analysis.warnings


def test_classification_is_reported():
    analysis = analyse(REAL_WORLD["tasksets"])
    assert analysis.user_classes == ["Visitor"]
    assert analysis.task_sets == ["Checkout", "Browse"]
    assert analyse(REAL_WORLD["shape_and_events"]).shapes == ["StagesShape"]
    assert analyse(REAL_WORLD["abstract_intermediate"]).user_classes == ["Shopper"]


def test_user_base_from_a_helper_module_passes_with_a_warning():
    analysis = analyse(
        """
        from common.users import BaseApiUser
        from locust import task
        class Orders(BaseApiUser):
            @task
            def list_orders(self):
                self.client.get("/orders")
        """
    )
    assert analysis.user_classes == []
    assert analysis.warnings and "Orders" in analysis.warnings[0]


def test_star_import_from_a_helper_passes_with_a_warning():
    assert analyse("from helpers import *\nclass U(BaseUser):\n    pass\n").warnings


@pytest.mark.parametrize(
    "src",
    [
        "print('hello')\n",
        "from locust import TaskSet, task\nclass T(TaskSet):\n    @task\n    def t(self):\n        pass\n",
        "from locust import LoadTestShape\nclass S(LoadTestShape):\n    def tick(self):\n        return None\n",
        "from locust import HttpUser\nclass Base(HttpUser):\n    abstract = True\n",
        "class Config:\n    host = 'x'\n",
        "import json\nclass Payload(dict):\n    pass\n",
    ],
)
def test_scripts_with_clearly_no_user_class_are_rejected(src):
    with pytest.raises(NoUserClassError):
        analyse_script(src)


def test_syntax_error_reports_line_and_column():
    with pytest.raises(ScriptSyntaxError) as err:
        analyse_script("from locust import HttpUser\n\nclass U(HttpUser:\n    pass\n")
    assert err.value.details["line"] == 3
    assert err.value.details["column"] >= 1
    assert err.value.status == 422


def test_the_script_is_never_executed(tmp_path):
    marker = tmp_path / "ran"
    analyse_script(f"open({str(marker)!r}, 'w').write('x')\nfrom locust import HttpUser\nclass U(HttpUser):\n    pass\n")
    assert not marker.exists()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_decode_rejects_bad_base64_non_utf8_empty_and_oversize():
    with pytest.raises(InvalidScriptEncodingError):
        decode_script("not base64!!", 1024)
    with pytest.raises(InvalidScriptEncodingError):
        decode_script(b64(b"\xff\xfe\x00bad"), 1024)
    with pytest.raises(InvalidScriptEncodingError):
        decode_script(b64(b"   \n"), 1024)
    with pytest.raises(ScriptTooLargeError) as err:
        decode_script(b64(b"#" * 1025), 1024)
    assert err.value.status == 413
    with pytest.raises(ScriptTooLargeError):
        decode_script("A" * 10_000, 1024)  # refused before decoding
    assert decode_script(b64("# é\n".encode()), 1024)[0] == "# é\n"
