"""Script templates: good starting points a new test can be created from (`templateId`).

Each is a small bundle (an entry locustfile, sometimes a data file). They are written against the
example target (examples/target_service.py: `/`, `/items`, `/items/{id}`, `POST /items`,
`POST /login`), and a test runs every one of them against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from load_manager.bundle.core import DEFAULT_ENTRY


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    description: str
    files: dict[str, str] = field(default_factory=dict)
    entry_path: str = DEFAULT_ENTRY


HTTP_USER = '''"""A plain HTTP user: browses the home page and the item pages, with think time between steps."""

import random

from locust import HttpUser, between, task


class WebsiteUser(HttpUser):
    wait_time = between(0.5, 2)

    @task(3)
    def browse_items(self):
        self.client.get("/items")

    @task(2)
    def view_item(self):
        self.client.get(f"/items/{random.randint(1, 100)}", name="/items/[id]")

    @task(1)
    def home(self):
        self.client.get("/")
'''

REST_API_TOKEN = '''"""A REST API behind a login: each user logs in once (on_start), then sends its token on every call.

Credentials come from the environment (LOGIN_USERNAME / LOGIN_PASSWORD) so they stay out of the script.
"""

import os

from locust import HttpUser, between, task


class ApiUser(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        credentials = {"username": os.environ.get("LOGIN_USERNAME", "demo"), "password": os.environ.get("LOGIN_PASSWORD", "demo")}
        with self.client.post("/login", json=credentials, catch_response=True) as response:
            token = response.json().get("token") if response.ok else None
            if not token:
                response.failure(f"login failed: HTTP {response.status_code}")
                return
        self.client.headers["Authorization"] = f"Bearer {token}"

    @task(3)
    def list_items(self):
        with self.client.get("/items", catch_response=True) as response:
            if response.ok and "items" not in response.json():
                response.failure("the answer has no items")

    @task(1)
    def create_item(self):
        self.client.post("/items", json={"name": "widget", "price": 9.99})
'''

FAST_HTTP = '''"""High throughput: FastHttpUser (geventhttpclient) with no think time, for many requests per core.

Use it when the load generator, not the target, is the bottleneck with HttpUser.
"""

from locust import FastHttpUser, task


class ThroughputUser(FastHttpUser):
    # No wait_time: each user sends its next request as soon as the previous one is answered.

    @task(4)
    def list_items(self):
        with self.rest("GET", "/items") as response:
            if response.js is not None and "items" not in response.js:
                response.failure("the answer has no items")

    @task(1)
    def home(self):
        self.client.get("/")
'''

STEP_LOAD = '''"""Step load: a LoadTestShape adds STEP_USERS users every STEP_SECONDS, up to MAX_USERS, then stops
after TIME_LIMIT seconds. The run's users and spawn rate come from the shape, not the run settings.
"""

import os

from locust import HttpUser, LoadTestShape, between, task

STEP_USERS = int(os.environ.get("STEP_USERS", 10))
STEP_SECONDS = float(os.environ.get("STEP_SECONDS", 30))
MAX_USERS = int(os.environ.get("MAX_USERS", 100))
TIME_LIMIT = float(os.environ.get("TIME_LIMIT", 600))


class WebsiteUser(HttpUser):
    wait_time = between(0.5, 1.5)

    @task
    def browse(self):
        self.client.get("/items")


class StepLoadShape(LoadTestShape):
    def tick(self):
        run_time = self.get_run_time()
        if run_time > TIME_LIMIT:
            return None  # stops the test
        step = int(run_time // STEP_SECONDS) + 1
        return min(step * STEP_USERS, MAX_USERS), STEP_USERS
'''

CSV_DATA = '''"""Test data from a CSV file of the bundle (data/products.csv), opened next to this file the way
Locust's examples/testdata_from_csv.py does, so it works whatever the working directory.
Each user takes the next row, and the rows go round when they run out.
"""

import csv
import itertools
import os

from locust import HttpUser, between, task

with open(os.path.join(os.path.dirname(__file__), "data", "products.csv"), newline="") as file:
    PRODUCTS = list(csv.DictReader(file))
ROWS = itertools.cycle(PRODUCTS)


class CatalogueUser(HttpUser):
    wait_time = between(0.5, 1.5)

    @task
    def view_product(self):
        product = next(ROWS)
        with self.client.get(f"/items/{product['id']}", name="/items/[id]", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"product {product['sku']} answered {response.status_code}")
'''

PRODUCTS_CSV = """id,sku,name
1,SKU-0001,Espresso cup
7,SKU-0007,Milk jug
12,SKU-0012,Grinder
23,SKU-0023,Tamper
42,SKU-0042,Scale
"""

WEIGHTED = '''"""Weighted user classes: three browsers for every buyer. Locust spawns users in proportion to
`weight` (use `fixed_count` instead to pin an exact number of one kind).
"""

import random

from locust import HttpUser, between, task


class Browser(HttpUser):
    weight = 3
    wait_time = between(0.5, 2)

    @task
    def browse(self):
        self.client.get("/items")
        self.client.get(f"/items/{random.randint(1, 100)}", name="/items/[id]")


class Buyer(HttpUser):
    weight = 1
    wait_time = between(1, 3)

    @task
    def buy(self):
        self.client.get("/items")
        self.client.post("/items", json={"name": "order", "quantity": random.randint(1, 5)})
'''

TEMPLATES: dict[str, Template] = {
    t.id: t
    for t in (
        Template("http-user", "Plain HTTP user", "An HttpUser browsing pages with think time: the simplest useful test.", {DEFAULT_ENTRY: HTTP_USER}),
        Template(
            "rest-api-token", "REST API with a login token",
            "Logs in once per user (on_start), then calls a JSON API with the bearer token; checks answers with catch_response.",
            {DEFAULT_ENTRY: REST_API_TOKEN},
        ),
        Template(
            "fast-http", "High-throughput FastHttpUser",
            "FastHttpUser with no think time, for the most requests per load-generator core.", {DEFAULT_ENTRY: FAST_HTTP},
        ),
        Template(
            "step-load", "Step load (LoadTestShape)",
            "A LoadTestShape that adds users in steps up to a ceiling, then stops by itself.", {DEFAULT_ENTRY: STEP_LOAD},
        ),
        Template(
            "csv-data", "CSV-driven user",
            "Reads test data from data/products.csv in the bundle, opened next to the locustfile.",
            {DEFAULT_ENTRY: CSV_DATA, "data/products.csv": PRODUCTS_CSV},
        ),
        Template(
            "weighted-users", "Weighted user classes",
            "Two user classes in a 3:1 mix (weight): browsers and buyers.", {DEFAULT_ENTRY: WEIGHTED},
        ),
    )
}  # fmt: skip
