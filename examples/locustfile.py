"""A shopper browsing the example target (examples/target_service.py).

Browsing dominates, as on a real catalogue; a few shoppers add items and some hit a slow page.
Item pages are grouped under one name, `/items/[id]`, so the report shows one row per endpoint
rather than one per item.

    locust -f examples/locustfile.py --host http://127.0.0.1:9000
"""

import random

from locust import HttpUser, between, task

ITEM_IDS = range(1, 101)  # the ids the target serves


class Shopper(HttpUser):
    wait_time = between(0.05, 0.2)

    def on_start(self):
        self.client.get("/", name="/")

    @task(10)
    def view_item(self):
        self.client.get(f"/items/{random.choice(ITEM_IDS)}", name="/items/[id]")

    @task(5)
    def browse_catalogue(self):
        self.client.get("/items", name="/items")

    @task(2)
    def add_item(self):
        with self.client.post(
            "/items", json={"name": "widget", "price": 9.99}, name="/items", catch_response=True
        ) as response:
            # Any non-2xx already fails on its own; a 201 must also carry the new id.
            if response.status_code == 201 and "id" not in response.json():
                response.failure("created item has no id")

    @task(1)
    def slow_report(self):
        self.client.get("/slow", name="/slow")
