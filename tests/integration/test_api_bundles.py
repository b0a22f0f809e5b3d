"""Bundles through the real handlers (API Gateway v2 events): save, read, diff, roll back, zip in
and out, templates, and every bad input a 4xx that leaves the store byte-identical."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
from support.scripts import AUTH_A, AUTH_B, SIMPLE, b64

from load_manager.bundle.core import MAX_BYTES
from load_manager.bundle.templates import TEMPLATES

ENTRY = "from common.users import CheckoutUser  # noqa: F401\n"
USERS = 'from locust import HttpUser, task\n\n\nclass CheckoutUser(HttpUser):\n    @task\n    def buy(self):\n        self.client.get("/")\n'
CSV = "name\nann\nbob\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def dump(stores) -> str:
    """Every table, row by row, as SQL text: byte-identical or not."""
    return "\n".join(stores.load_tests.db.connection().iterdump())


BUNDLE = [
    {"path": "common/__init__.py", "content": ""},
    {"path": "common/users.py", "content": b64(USERS)},
    {"path": "data/users.csv", "content": b64(CSV)},
]


def create_bundle(api, claims=AUTH_A, extra=()):
    body = {"name": "bundle", "scriptContent": b64(ENTRY), "files": [*BUNDLE, *extra]}
    response = api.request("POST", "/v1/load-tests", body=body, claims=claims)
    assert response.status == 201, response.json()
    return response.json()


def zip_bytes(entries: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_bundle_is_saved_listed_read_file_by_file_and_downloaded(api):
    test = create_bundle(api, extra=[{"path": "data/logo.png", "content": base64.b64encode(PNG).decode()}])
    tid = test["id"]
    latest = api.request("GET", f"/v1/load-tests/{tid}/script", claims=AUTH_A).json()
    assert latest["entryPath"] == "locustfile.py" and base64.b64decode(latest["scriptContent"]).decode() == ENTRY
    listed = {f["path"]: f for f in latest["files"]}
    assert sorted(listed) == ["common/__init__.py", "common/users.py", "data/logo.png", "data/users.csv", "locustfile.py"]
    assert listed["data/logo.png"]["binary"] and listed["data/users.csv"]["sizeBytes"] == len(CSV)
    summary = api.request("GET", f"/v1/load-tests/{tid}/script/revisions", claims=AUTH_A).json()["items"][0]
    assert summary["files"] == latest["files"] and "scriptContent" not in summary

    one = api.request("GET", f"/v1/load-tests/{tid}/script/revisions/1/files/common/users.py", claims=AUTH_A).json()
    assert base64.b64decode(one["content"]).decode() == USERS and one["sha256"] == listed["common/users.py"]["sha256"]
    logo = api.request("GET", f"/v1/load-tests/{tid}/script/revisions/1/files/data%2Flogo.png", claims=AUTH_A).json()
    assert base64.b64decode(logo["content"]) == PNG

    archive = api.request("GET", f"/v1/load-tests/{tid}/script/revisions/1/archive", claims=AUTH_A)
    assert archive.status == 200 and archive.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.body)).namelist()
    assert names == sorted(listed)
    # The same archive back is the same snapshot: no new revision.
    again = api.request("PUT", f"/v1/load-tests/{tid}/script/archive", body=archive.body, headers={"content-type": "application/zip"}, claims=AUTH_A)
    assert again.status == 200 and again.json()["revisionNumber"] == 1


def test_identical_snapshots_create_nothing_and_any_file_change_creates_a_revision(api):
    tid = create_bundle(api)["id"]
    same = api.request("PUT", f"/v1/load-tests/{tid}/script", body={"scriptContent": b64(ENTRY), "files": list(reversed(BUNDLE))}, claims=AUTH_A)
    assert same.status == 200 and same.json()["revisionNumber"] == 1
    changed = [*BUNDLE[:2], {"path": "data/users.csv", "content": b64(CSV + "cy\n")}]
    second = api.request("PUT", f"/v1/load-tests/{tid}/script", body={"scriptContent": b64(ENTRY), "files": changed}, claims=AUTH_A)
    assert second.status == 201 and second.json()["revisionNumber"] == 2 and second.json()["sha256"] != same.json()["sha256"]


def test_diff_covers_every_file_and_rollback_restores_the_whole_snapshot(api):
    tid = create_bundle(api, extra=[{"path": "data/logo.png", "content": base64.b64encode(PNG).decode()}])["id"]
    v2_files = [
        {"path": "common/__init__.py", "content": ""},
        {"path": "common/users.py", "content": b64(USERS.replace('"/"', '"/items"'))},
        {"path": "data/logo.png", "content": base64.b64encode(PNG + b"\x00").decode()},
        {"path": "data/products.csv", "content": b64("id\n1\n")},
    ]
    r = api.request("PUT", f"/v1/load-tests/{tid}/script", body={"scriptContent": b64(ENTRY), "files": v2_files}, claims=AUTH_A)
    assert r.status == 201
    diff = api.request("GET", f"/v1/load-tests/{tid}/script/diff", query="from=1&to=2", claims=AUTH_A).json()
    changes = {f["path"]: f for f in diff["files"]}
    assert {p: f["change"] for p, f in changes.items()} == {
        "common/users.py": "modified", "data/logo.png": "modified", "data/products.csv": "added", "data/users.csv": "removed",
    }  # fmt: skip
    assert changes["data/logo.png"]["binary"] and changes["data/logo.png"]["unifiedDiff"] == ""
    assert '+        self.client.get("/items")' in changes["common/users.py"]["unifiedDiff"]
    assert "--- revision 1/data/users.csv" in changes["data/users.csv"]["unifiedDiff"] and changes["data/users.csv"]["removedLines"] == 3
    assert diff["addedLines"] == sum(f["addedLines"] for f in diff["files"])
    # Each diff is sent once: the entry's (unchanged here) would be the top-level one, the others are in their items.
    assert diff["unifiedDiff"] == "" and sum(f["unifiedDiff"].count("+++ ") for f in diff["files"]) == 3 and not diff["truncated"]

    rolled = api.request("POST", f"/v1/load-tests/{tid}/script/rollback", body={"revision": 1}, claims=AUTH_A).json()
    first = api.request("GET", f"/v1/load-tests/{tid}/script/revisions/1", claims=AUTH_A).json()
    assert rolled["revisionNumber"] == 3 and rolled["sha256"] == first["sha256"] and rolled["files"] == first["files"]
    csv = api.request("GET", f"/v1/load-tests/{tid}/script/revisions/3/files/data/users.csv", claims=AUTH_A).json()
    assert base64.b64decode(csv["content"]).decode() == CSV


def test_a_zip_with_a_top_folder_and_another_entry_path(api):
    tid = create_bundle(api)["id"]
    data = zip_bytes({"shop/tests/main.py": ENTRY, "shop/tests/common/__init__.py": "", "shop/tests/common/users.py": USERS})
    r = api.request("PUT", f"/v1/load-tests/{tid}/script/archive", query="entryPath=tests/main.py&description=from%20zip",
                    body=data, headers={"content-type": "application/zip"}, claims=AUTH_A)  # fmt: skip
    assert r.status == 201, r.json()
    assert r.json()["entryPath"] == "tests/main.py" and r.json()["description"] == "from zip"
    assert [f["path"] for f in r.json()["files"]] == ["tests/common/__init__.py", "tests/common/users.py", "tests/main.py"]


def test_templates_are_listed_and_a_test_starts_from_one(api):
    items = api.request("GET", "/v1/script-templates", claims=AUTH_A).json()["items"]
    assert [t["id"] for t in items] == list(TEMPLATES)
    csv = next(t for t in items if t["id"] == "csv-data")
    assert [f["path"] for f in csv["files"]] == ["data/products.csv", "locustfile.py"]
    test = api.request("POST", "/v1/load-tests", body={"name": "from template", "templateId": "csv-data"}, claims=AUTH_A).json()
    revision = api.request("GET", f"/v1/load-tests/{test['id']}/script", claims=AUTH_A).json()
    assert revision["description"] == "From template CSV-driven user"
    assert [f["path"] for f in revision["files"]] == ["data/products.csv", "locustfile.py"]


def test_validate_reports_across_the_bundle(api):
    body = {"scriptContent": b64(ENTRY), "files": [*BUNDLE, {"path": "tools/broken.py", "content": b64("def f(:\n")}]}
    report = api.request("POST", "/v1/scripts/validate", body=body, claims=AUTH_A).json()
    assert report["valid"] is False and report["errors"][0]["file"] == "tools/broken.py" and report["errors"][0]["line"] == 1
    report = api.request("POST", "/v1/scripts/validate", body={"scriptContent": b64(ENTRY), "files": BUNDLE}, claims=AUTH_A).json()
    assert report["valid"] and report["userClasses"] == ["CheckoutUser"] and len(report["files"]) == 4
    lonely = api.request("POST", "/v1/scripts/validate", body={"scriptContent": b64(ENTRY)}, claims=AUTH_A).json()
    assert lonely["valid"] and "common.users" in lonely["warnings"][0]


def _bomb(size: int = 64 * 1024 * 1024) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("locustfile.py", SIMPLE)
        with archive.open("zeros.bin", "w", force_zip64=True) as stream:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(size // len(chunk)):
                stream.write(chunk)
    return buffer.getvalue()


def _link_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("locustfile.py", SIMPLE)
        info = zipfile.ZipInfo("data/passwd")
        info.external_attr = 0o120777 << 16
        archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _put(extra: list[dict], entry: str = SIMPLE, **fields) -> dict:
    return {"scriptContent": b64(entry), "files": extra, **fields}


ZIP = {"content-type": "application/zip"}
BAD_BUNDLES = [
    # (name, method, path, body, headers, query, status, code)
    ("absolute path", "PUT", "script", _put([{"path": "/etc/x.py", "content": ""}]), None, "", 422, "InvalidBundlePath"),
    ("dot-dot", "PUT", "script", _put([{"path": "data/../../x.csv", "content": ""}]), None, "", 422, "InvalidBundlePath"),
    ("empty path", "PUT", "script", _put([{"path": "", "content": ""}]), None, "", 422, "InvalidBundlePath"),
    ("folder path", "PUT", "script", _put([{"path": "data/", "content": ""}]), None, "", 422, "InvalidBundlePath"),
    ("duplicate path", "PUT", "script", _put([{"path": "a.csv", "content": ""}, {"path": "a.csv", "content": ""}]), None, "", 422, "DuplicateBundlePath"),
    ("entry given twice", "PUT", "script", _put([{"path": "locustfile.py", "content": b64(SIMPLE)}]), None, "", 422, "DuplicateBundlePath"),
    ("collision once normalised", "PUT", "script", _put([{"path": "a.csv", "content": ""}, {"path": "./a.csv", "content": ""}]), None, "", 422, "BundlePathCollision"),
    ("collision by case", "PUT", "script", _put([{"path": "Data.csv", "content": ""}, {"path": "data.csv", "content": ""}]), None, "", 422, "BundlePathCollision"),
    ("file and folder", "PUT", "script", _put([{"path": "common", "content": ""}, {"path": "common/x.py", "content": ""}]), None, "", 422, "BundlePathCollision"),
    ("bad file base64", "PUT", "script", _put([{"path": "a.csv", "content": "%%%"}]), None, "", 422, "InvalidScriptEncoding"),
    ("too many files", "PUT", "script", _put([{"path": f"f{i}.txt", "content": ""} for i in range(200)]), None, "", 413, "TooManyBundleFiles"),
    ("over 4 MiB", "PUT", "script", _put([{"path": "big.bin", "content": base64.b64encode(b"\0" * MAX_BYTES).decode()}]), None, "", 413, "BundleTooLarge"),
    ("entry path not python", "PUT", "script", _put([], entryPath="main.txt"), None, "", 422, "InvalidBundlePath"),
    ("entry path escaping", "PUT", "script", _put([], entryPath="../main.py"), None, "", 422, "InvalidBundlePath"),
    ("syntax error in a module", "PUT", "script", _put([{"path": "helpers.py", "content": b64("def f(:\n")}]), None, "", 422, "ScriptSyntaxError"),
    ("requirements with -e", "PUT", "script", _put([{"path": "requirements.txt", "content": b64("requests\n-e .\n")}]), None, "", 422, "InvalidRequirements"),
    ("requirements with a URL", "PUT", "script", _put([{"path": "requirements.txt", "content": b64("pkg @ https://example.com/p.whl\n")}]), None, "", 422, "InvalidRequirements"),
    ("requirements nonsense", "PUT", "script", _put([{"path": "requirements.txt", "content": b64("pkg==\n")}]), None, "", 422, "InvalidRequirements"),
    ("template and script", "POST", "create", {"name": "x", "templateId": "http-user", "scriptContent": b64(SIMPLE)}, None, "", 422, "ValidationError"),
    ("unknown template", "POST", "create", {"name": "x", "templateId": "nope"}, None, "", 404, "ScriptTemplateNotFound"),
    ("zip: not a zip", "PUT", "archive", b"definitely not a zip", ZIP, "", 422, "InvalidArchive"),
    ("zip: as JSON", "PUT", "archive", b"{}", {"content-type": "application/json"}, "", 415, "UnsupportedMediaType"),
    ("zip: dot-dot entry", "PUT", "archive", zip_bytes({"locustfile.py": SIMPLE, "../evil.py": "x"}), ZIP, "", 422, "UnsafeArchiveEntry"),
    ("zip: absolute entry", "PUT", "archive", zip_bytes({"locustfile.py": SIMPLE, "/etc/x": "x"}), ZIP, "", 422, "UnsafeArchiveEntry"),
    ("zip: symlink", "PUT", "archive", _link_zip(), ZIP, "", 422, "UnsafeArchiveEntry"),
    ("zip: duplicate entry", "PUT", "archive", None, ZIP, "", 422, "DuplicateBundlePath"),
    ("zip: bomb", "PUT", "archive", _bomb(), ZIP, "", 413, "BundleTooLarge"),
    ("zip: no entry", "PUT", "archive", zip_bytes({"main.py": SIMPLE}), ZIP, "", 422, "InvalidBundlePath"),
    ("zip: bad requirements", "PUT", "archive", zip_bytes({"locustfile.py": SIMPLE, "requirements.txt": "--index-url http://x\n"}), ZIP, "", 422, "InvalidRequirements"),
    ("file of unknown path", "GET", "files/nope.csv", None, None, "", 404, "BundleFileNotFound"),
    ("file path escaping", "GET", "files/..%2F..%2Fetc%2Fpasswd", None, None, "", 422, "InvalidBundlePath"),
    ("archive of another tenant", "GET", "other-archive", None, None, "", 404, "LoadTestNotFound"),
]


def _duplicate_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("locustfile.py", SIMPLE)
        archive.writestr("data.csv", "1")
        archive.writestr("data.csv", "2")  # zipfile warns, and writes a second entry of the same name
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("case", BAD_BUNDLES, ids=[c[0] for c in BAD_BUNDLES])
def test_bad_bundle_input_is_a_clear_4xx_and_leaves_the_store_byte_identical(api, stores, case):
    name, method, where, body, headers, query, status, code = case
    tid = create_bundle(api)["id"]
    other = create_bundle(api, claims=AUTH_B)["id"]
    path = {
        "script": f"/v1/load-tests/{tid}/script", "archive": f"/v1/load-tests/{tid}/script/archive", "create": "/v1/load-tests",
        "other-archive": f"/v1/load-tests/{other}/script/revisions/1/archive",
    }.get(where, f"/v1/load-tests/{tid}/script/revisions/1/{where}")  # fmt: skip
    if name == "zip: duplicate entry":
        body = _duplicate_zip()
    before = dump(stores)
    response = api.request(method, path, body=body, query=query, headers=headers, claims=AUTH_A)
    assert response.status == status, response.json()
    assert response.json()["code"] == code and response.json()["message"]
    assert dump(stores) == before
