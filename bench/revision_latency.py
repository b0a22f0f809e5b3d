"""Script-revision read latency at 10,000 revisions on one test vs. 10 revisions, on SQLite.

The real handlers are driven in process through `InProcessApi().request(...)` (API Gateway v2
event -> Powertools resolver -> service -> store -> response), against two SQLite databases that
differ only in how many revisions their single load test has. Each database holds one load test
created through the API (revision 1); the remaining revisions are appended through the store port
(`stores.revisions.append`), which is the same code path the API's PUT uses minus validation.

Calls alternate between the two datasets (order swapped every iteration) after a warm-up, and
medians are compared. Store-level medians (no HTTP layer) are reported alongside, to tell a
query-plan problem from a handler problem when the target is missed.
"""

from __future__ import annotations

import base64
import gc
import os
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from benchlib import ROOT, alternate, figure, log, median, paired_ratio, spread, use_project_tree

TARGET_MAX_RATIO = 2.0
LARGE, SMALL = 10_000, 10
PAGE = 20


@dataclass
class Dataset:
    revisions: int
    stores: Any
    test_id: str
    account_id: str
    populate_s: float


def _script(n: int) -> str:
    base = (ROOT / "examples" / "locustfile.py").read_text()
    return f"{base}\n# revision {n}\n"


def populate(api, path: str, revisions: int) -> Dataset:
    from load_manager.store import set_stores
    from load_manager.store.sqlite import build_sqlite_stores
    from load_manager.validation import sha256_of

    stores = build_sqlite_stores(path)
    set_stores(stores)
    started = time.perf_counter()
    created = api.request(
        "POST",
        "/v1/load-tests",
        body={"name": f"bench-{revisions}", "scriptContent": base64.b64encode(_script(1).encode()).decode()},
    )
    if created.status != 201:
        raise RuntimeError(f"creating the load test failed: {created.status} {created.body[:500]!r}")
    test = created.json()
    test_id, account_id = test["id"], test["accountId"]
    first = stores.revisions.latest(account_id, test_id)
    last = first
    for n in range(2, revisions + 1):
        text = _script(n)
        draft = first.model_copy(
            update={
                "id": os.urandom(16).hex(),
                "revision_number": 0,  # assigned by the store
                "description": f"bench revision {n}",
                "sha256": sha256_of(text),
                "size_bytes": len(text.encode()),
                "created_at": first.created_at + n,
                "content": text,
            }
        )
        last, was_created = stores.revisions.append(draft, skip_if_same_as_latest=True)
        if not was_created:
            raise RuntimeError(f"revision {n} was not created")
    stores.load_tests.advance_latest_revision(account_id, test_id, last)
    return Dataset(revisions, stores, test_id, account_id, time.perf_counter() - started)


def _check(name: str, ds: Dataset, body: Any) -> None:
    """The figure only means something if the big dataset really answers from 10,000 revisions."""
    if name == "get_latest_script":
        ok = body.get("revisionNumber") == ds.revisions and body.get("scriptContent")
    else:
        items = body.get("items") or []
        ok = len(items) == min(PAGE, ds.revisions) and items[0]["revisionNumber"] == ds.revisions
        ok = ok and (body.get("nextCursor") is not None) == (ds.revisions > PAGE)
    if not ok:
        raise RuntimeError(f"{name} on {ds.revisions} revisions answered unexpectedly: {str(body)[:500]}")


def run(quick: bool) -> list[dict]:
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "load-manager-bench")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ["STORE_BACKEND"] = "sqlite"
    os.environ.pop("MONGODB_URI", None)
    use_project_tree()
    from load_manager.store import set_stores
    from load_manager_local.api import InProcessApi

    calls, warmup = (50, 10) if quick else (200, 30)
    api = InProcessApi()
    endpoints = {
        "get_latest_script": ("/v1/load-tests/{id}/script", ""),
        "list_revisions_first_page": ("/v1/load-tests/{id}/script/revisions", f"limit={PAGE}"),
    }
    figures = []
    with tempfile.TemporaryDirectory(prefix="lm-bench-revisions-") as tmp:
        try:
            large = populate(api, os.path.join(tmp, "large.db"), LARGE)
            small = populate(api, os.path.join(tmp, "small.db"), SMALL)
            log(f"revision_latency: populated {LARGE} revisions in {large.populate_s:.1f}s; {calls} calls per endpoint and dataset")
            datasets = [small, large]

            for name, (template, query) in endpoints.items():
                checked: dict[int, bool] = {}  # each dataset's answer is sanity-checked once

                def through_api(ds: Dataset, template=template, query=query, name=name, checked=checked) -> None:
                    response = api.request("GET", template.format(id=ds.test_id), query=query)
                    if response.status != 200:
                        raise RuntimeError(f"{name}: HTTP {response.status} {response.body[:300]!r}")
                    if not checked.get(ds.revisions):
                        _check(name, ds, response.json())
                        checked[ds.revisions] = True

                if name == "get_latest_script":
                    def store_only(ds: Dataset) -> None:
                        ds.stores.revisions.latest(ds.account_id, ds.test_id)
                else:
                    def store_only(ds: Dataset) -> None:
                        ds.stores.load_tests.get(ds.account_id, ds.test_id)
                        ds.stores.revisions.list(ds.account_id, ds.test_id, limit=PAGE + 1, before_number=None)

                gc.collect()
                api_ms = alternate(datasets, through_api, warmup, calls, lambda ds: ds.revisions)
                store_ms = alternate(datasets, store_only, warmup, calls, lambda ds: ds.revisions)
                extra: dict[str, Any] = {}
                if name == "list_revisions_first_page":
                    # The 10-revision test can only return 10 items against 20: compare equal pages too,
                    # to separate "more items serialised" from "more revisions stored".
                    def equal_page(ds: Dataset, template=template) -> None:
                        api.request("GET", template.format(id=ds.test_id), query=f"limit={SMALL}")

                    eq_ms = alternate(datasets, equal_page, warmup, calls, lambda ds: ds.revisions)
                    extra["equal_page_size"] = {
                        "note": f"context, no target: limit={SMALL} on both, so both pages hold {SMALL} items",
                        "median_ms": {str(LARGE): round(median(eq_ms[LARGE]), 3), str(SMALL): round(median(eq_ms[SMALL]), 3)},
                        "ratio": round(paired_ratio(eq_ms[LARGE], eq_ms[SMALL]), 3),
                    }
                large_ms, small_ms = median(api_ms[LARGE]), median(api_ms[SMALL])
                store_large, store_small = median(store_ms[LARGE]), median(store_ms[SMALL])
                figures.append(
                    figure(
                        f"revision_latency.{name}",
                        measured=f"median latency of GET {template}{'?' + query if query else ''} through the real handler "
                        f"(InProcessApi), SQLite, one load test with {LARGE:,} revisions",
                        anchor=f"the same call on a load test with {SMALL} revisions, alternated in the same run",
                        value=large_ms,
                        anchor_value=small_ms,
                        unit="ms",
                        max_ratio=TARGET_MAX_RATIO,
                        samples=calls,
                        ratio=paired_ratio(api_ms[LARGE], api_ms[SMALL]),
                        ratio_method=f"median over iterations of the {LARGE:,}-revision call / the {SMALL}-revision call beside it",
                        details={
                            "median_ms": {str(LARGE): round(large_ms, 3), str(SMALL): round(small_ms, 3)},
                            "quartiles_ms": {
                                str(LARGE): {k: round(v, 3) for k, v in spread(api_ms[LARGE]).items()},
                                str(SMALL): {k: round(v, 3) for k, v in spread(api_ms[SMALL]).items()},
                            },
                            "store_only_median_ms": {str(LARGE): round(store_large, 3), str(SMALL): round(store_small, 3)},
                            "store_only_ratio": round(paired_ratio(store_ms[LARGE], store_ms[SMALL]), 3),
                            "populate_seconds": {str(LARGE): round(large.populate_s, 2), str(SMALL): round(small.populate_s, 3)},
                            **extra,
                        },
                    )
                )
        finally:
            set_stores(None)
    return figures
