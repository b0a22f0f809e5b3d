"""Every answer fits in a Lambda response (6 MB), whatever the input: a script diff and a run
comparison of a bundle whose 3.9 MB CSV changed stay under it, each file's diff sent once and cut
at a line with its sizes and a link to that file's diff alone; and the one place responses are
built turns anything over the limit into a 422 instead of a Lambda failure (a bare 502)."""

from __future__ import annotations

import difflib
import json

import pytest
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from support.results import finished_run
from support.scripts import AUTH_A, SIMPLE, b64

from load_manager.http import LAMBDA_RESPONSE_LIMIT, api_function, response_bytes
from load_manager.usecases.scripts import ALONE_DIFF_BUDGET, FILE_DIFF_BUDGET, cut, wire_bytes
from load_manager_local.events import LambdaContext, http_event

ACCOUNT = AUTH_A["custom:accountId"]
MB = 1_000_000


def csv(seed: int, size: int) -> str:
    """A CSV of about `size` bytes; every row differs between seeds, with quotes (escaped twice on the wire)."""
    rows, total, i = ["id,name,email,token"], 0, 0
    while total < size:
        row = f'{i},user{i}_{seed},"user{i}.{seed}@example.com","{(i * 7919 + seed) % 10**9:09d}"'
        rows.append(row)
        total, i = total + len(row) + 1, i + 1
    return "\n".join(rows) + "\n"


def whole_diff(before: str, after: str, path: str) -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), f"revision 1/{path}", f"revision 2/{path}")
    return "".join(lines)


def bundle_test(api, data_v1: str, data_v2: str, helper_change: bool = True) -> str:
    """A test whose revision 2 changes the entry, a small helper and data/users.csv."""
    helper = "VALUE = 1\n"
    body = {"name": "big data", "scriptContent": b64(SIMPLE), "files": [{"path": "helper.py", "content": b64(helper)}, {"path": "data/users.csv", "content": b64(data_v1)}]}
    created = api.request("POST", "/v1/load-tests", body=body, claims=AUTH_A)
    assert created.status == 201, created.body[:300]
    test_id = created.json()["id"]
    files = [{"path": "helper.py", "content": b64(helper.replace("1", "2") if helper_change else helper)}, {"path": "data/users.csv", "content": b64(data_v2)}]
    saved = api.request("PUT", f"/v1/load-tests/{test_id}/script", body={"scriptContent": b64(SIMPLE.replace('"/"', '"/items"')), "files": files}, claims=AUTH_A)
    assert saved.status == 201, saved.body[:300]
    return test_id


def envelope_bytes(response) -> int:
    """What Lambda would return for this answer: the handler's dict, serialised."""
    return response_bytes({"statusCode": response.status, "headers": response.headers, "body": response.body.decode(), "isBase64Encoded": False})


def get(api, path: str, query: str = ""):
    response = api.request("GET", path, query=query, claims=AUTH_A)
    assert response.status == 200, response.body[:300]
    assert envelope_bytes(response) < LAMBDA_RESPONSE_LIMIT
    return response


def test_diff_and_compare_of_a_bundle_whose_big_csv_changed_stay_under_six_mb(api, stores):
    before, after = csv(1, 3_900_000), csv(2, 3_900_000)
    test_id = bundle_test(api, before, after)
    whole = whole_diff(before, after, "data/users.csv")
    assert len(whole.encode()) > 7 * MB  # what used to be sent twice

    diff = get(api, f"/v1/load-tests/{test_id}/script/diff", "from=1&to=2")
    revisions = [stores.revisions.get_by_number(ACCOUNT, test_id, n) for n in (1, 2)]
    runs = [finished_run(ACCOUNT, test_id, r.id, r.revision_number, 1_700_000_000_000 + i * 600_000, 60) for i, r in enumerate(revisions)]
    for run in runs:
        stores.runs.insert(run)
    compared = get(api, "/v1/runs/compare", f"base={runs[0].id}&target={runs[1].id}")
    alone = get(api, f"/v1/load-tests/{test_id}/script/diff", "from=1&to=2&path=data/users.csv")
    sizes = {name: (len(r.body), envelope_bytes(r)) for name, r in (("script/diff", diff), ("runs/compare", compared), ("script/diff?path=", alone))}
    print("\nJSON body bytes / Lambda response bytes (limit 6,291,456):", json.dumps(sizes))
    assert all(body < 6 * MB for body, _ in sizes.values())

    for answer in (diff.json(), compared.json()["scriptDiff"]):
        files = {f["path"]: f for f in answer["files"]}
        data = files["data/users.csv"]
        assert answer["truncated"] and data["truncated"] and data["diffBytes"] == len(whole.encode()) > data["sentBytes"] > 0
        assert whole.startswith(data["unifiedDiff"]) and data["unifiedDiff"].endswith("\n")  # its first lines, cut at a line
        assert wire_bytes(data["unifiedDiff"]) <= FILE_DIFF_BUDGET
        assert (data["addedLines"], data["removedLines"]) == (whole.count("\n+") - 1, whole.count("\n-"))  # of the whole diff ("+++" follows a newline, "---" starts it)
        assert data["fullDiffUrl"] == f"/v1/load-tests/{test_id}/script/diff?from=1&to=2&path=data%2Fusers.csv"
        # Each diff once: the entry's is the top-level one (its item carries null), the small helper's is whole.
        assert files["locustfile.py"]["unifiedDiff"] is None and '+        self.client.get("/items")' in answer["unifiedDiff"]
        assert files["helper.py"]["unifiedDiff"] == "--- revision 1/helper.py\n+++ revision 2/helper.py\n@@ -1 +1 @@\n-VALUE = 1\n+VALUE = 2\n"
        assert not files["helper.py"]["truncated"] and not files["locustfile.py"]["truncated"]
        assert answer["unifiedDiff"] not in json.dumps([f["unifiedDiff"] for f in answer["files"]])

    # The file's diff alone carries more of it, and says why it is still cut (the whole cannot fit in any answer).
    [data] = alone.json()["files"]
    assert alone.json()["unifiedDiff"] == "" and data["path"] == "data/users.csv" and data["truncated"] and data["fullDiffUrl"] is None
    assert whole.startswith(data["unifiedDiff"]) and FILE_DIFF_BUDGET < wire_bytes(data["unifiedDiff"]) <= ALONE_DIFF_BUDGET
    assert "diff them locally" in data["note"] and f"/v1/load-tests/{test_id}/script/revisions/2/files/data/users.csv" in data["note"]


def test_a_file_cut_in_the_bundle_diff_comes_whole_when_asked_for_alone(api):
    before = csv(1, 1_200_000)
    after = before.replace("_1,", "_2,")  # every row changed: a diff of ~2.6 MB, over a file's share, under the one-file budget
    test_id = bundle_test(api, before, after, helper_change=False)
    listed = get(api, f"/v1/load-tests/{test_id}/script/diff", "from=1&to=2").json()
    data = next(f for f in listed["files"] if f["path"] == "data/users.csv")
    assert data["truncated"] and [f["path"] for f in listed["files"]] == ["data/users.csv", "locustfile.py"]  # path order kept
    path, query = data["fullDiffUrl"].split("?")
    alone = get(api, path, query).json()
    [whole] = alone["files"]
    assert not whole["truncated"] and whole["note"] is None and not alone["truncated"]
    assert whole["unifiedDiff"] == whole_diff(before, after, "data/users.csv") and whole["diffBytes"] == whole["sentBytes"] == data["diffBytes"]
    # The entry alone: its diff is the top-level one, as in the whole answer.
    entry = get(api, f"/v1/load-tests/{test_id}/script/diff", "from=1&to=2&path=locustfile.py").json()
    assert [f["path"] for f in entry["files"]] == ["locustfile.py"] and entry["files"][0]["unifiedDiff"] is None
    assert entry["unifiedDiff"] == listed["unifiedDiff"] and '+        self.client.get("/items")' in entry["unifiedDiff"]


def test_one_file_diff_of_an_unchanged_missing_or_bad_path(api, stores):
    test_id = bundle_test(api, "a\n", "a\n", helper_change=False)
    unchanged = get(api, f"/v1/load-tests/{test_id}/script/diff", "from=1&to=2&path=helper.py").json()
    assert unchanged["files"] == [] and unchanged["unifiedDiff"] == "" and (unchanged["addedLines"], unchanged["removedLines"]) == (0, 0)
    before = stores.revisions.latest(ACCOUNT, test_id)
    for query, status, code in (("path=data/none.csv", 404, "BundleFileNotFound"), ("path=../x.py", 422, "InvalidBundlePath"), ("path=", 422, "ValidationError")):
        answer = api.request("GET", f"/v1/load-tests/{test_id}/script/diff", query=f"from=1&to=2&{query}", claims=AUTH_A)
        assert (answer.status, answer.json()["code"]) == (status, code), answer.body
    assert stores.revisions.latest(ACCOUNT, test_id) == before


# ---- the pieces ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ['plain\n', 'quotes " and \\ backslashes\n', "ünïcödé ✓ 😀\n", "tab\tand\x01control\n"])
def test_wire_bytes_is_the_size_the_text_takes_in_a_lambda_response(text):
    with_text, without = ({"body": json.dumps({"unifiedDiff": t})} for t in (text * 3, ""))
    assert wire_bytes(text * 3) - wire_bytes("") == len(json.dumps(with_text)) - len(json.dumps(without))


def test_cut_keeps_whole_first_lines_within_the_budget():
    lines = [f'{i},"value {i}"\n' * (1 + i % 7) for i in range(5000)]
    text = "".join(lines)
    for budget in (100, 1000, 50_000, wire_bytes(text) - 1):
        kept = cut(text, budget)
        assert text.startswith(kept) and kept.endswith("\n") and wire_bytes(kept) <= budget
        assert wire_bytes(kept) > budget * 0.8  # close to the budget, not far below it
    assert cut(text, wire_bytes(text)) == text
    one_line = "x" * 100_000
    assert cut(one_line, 1000) == one_line[: len(cut(one_line, 1000))] and 900 < wire_bytes(cut(one_line, 1000)) <= 1000  # inside the line


# ---- the net: the one place responses are built ---------------------------------------------------


def _handler_answering(size: int, text: str = "a"):
    router = APIGatewayHttpRouter()

    @router.get("/v1/health")  # a route of access.ROUTE_ROLES that needs no caller (any other is refused without one)
    def big() -> dict:
        return {"text": text * size}

    return api_function(router)[1]


def _invoke(handler) -> dict:
    event = http_event("GET", "/v1/health", route_key="GET /v1/health", path_parameters={}, query="", headers={}, body=None, claims=None)
    return handler(event, LambdaContext("BigFunction"))


def test_an_answer_over_lambdas_limit_becomes_a_422_not_a_lambda_failure():
    over = _invoke(_handler_answering(LAMBDA_RESPONSE_LIMIT))
    assert over["statusCode"] == 422 and response_bytes(over) < 1000
    error = json.loads(over["body"])
    assert error["code"] == "ResponseTooLarge" and error["details"]["limitBytes"] == LAMBDA_RESPONSE_LIMIT
    assert error["details"]["responseBytes"] > LAMBDA_RESPONSE_LIMIT and "ask for less" in error["message"]
    # Quotes are escaped in the body, and again in Lambda's response: 2.5 MB of them is over 6 MB on the wire.
    assert _invoke(_handler_answering(2_500_000, '"'))["statusCode"] == 422
    under = _invoke(_handler_answering(LAMBDA_RESPONSE_LIMIT - 10_000))
    assert under["statusCode"] == 200 and LAMBDA_RESPONSE_LIMIT - 10_000 < response_bytes(under) <= LAMBDA_RESPONSE_LIMIT
