"""`load-manager migrate`: legacy tests (a `locustfile` path, no revisions) become tests with
revision 1, from a folder or from S3 (moto), in MongoDB (mongomock). Resumable, idempotent, per
test; broken files and paths that leave the root are reported and their tests left untouched."""

from __future__ import annotations

import copy
import json
import os
import uuid

import boto3
import pytest
from moto import mock_aws
from support.scripts import SIMPLE, simple_variant

from load_manager.store import set_stores
from load_manager.store.mongo import build_mongo_stores, get_database
from load_manager_local.api import InProcessApi
from load_manager_local.cli import main

AUTHORS = ["ana@example.com", "bo@example.com", "chen@example.com"]


def legacy(n: int, path: str) -> dict:
    return {
        "id": uuid.UUID(int=n + 1).hex, "accountId": f"acct-{n % 3}", "name": f"legacy {n}", "targetUrl": "https://shop.example.com",
        "projectId": "shop" if n % 2 else None, "createdAt": 1_600_000_000_000 + n * 1000, "createdBy": AUTHORS[n % 3], "locustfile": path,
    }  # fmt: skip


@pytest.fixture
def db():
    uri = f"mongomock://migrate-{uuid.uuid4().hex}"
    return uri, get_database(uri, "legacy")


def migrate(capsys, uri: str, root: str, *extra: str) -> tuple[int, dict]:
    code = main(["migrate", "--mongodb-uri", uri, "--database", "legacy", "--path-root", root, "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def snapshot(database) -> dict:
    return {name: sorted((d for d in database[name].find({}, {"_id": False})), key=lambda d: (d.get("id"), d.get("revisionNumber", 0))) for name in ("load_tests", "script_revisions")}


def test_fifty_legacy_tests_three_broken_forty_seven_migrated_and_a_second_run_changes_nothing(tmp_path, db, capsys):
    uri, database = db
    root = tmp_path / "scripts"
    (root / "teams").mkdir(parents=True)
    docs = []
    for n in range(50):
        path = f"teams/test_{n}.py"
        docs.append(legacy(n, path))
        if n == 7:
            continue  # missing
        content = simple_variant(n).encode()
        if n == 21:
            content = b"from locust import HttpUser, task\nclass Broken(HttpUser)\n    pass\n"  # syntax error
        if n == 33:
            content = b"\xff\xfe not text"  # unreadable as UTF-8
        (root / path).write_bytes(content)
    database.load_tests.insert_many(copy.deepcopy(docs))

    code, report = migrate(capsys, uri, str(root))
    assert code == 3 and report["summary"] == {"migrated": 47, "needs attention": 3}
    attention = {t["id"]: t["reason"] for t in report["tests"] if t["status"] == "needs attention"}
    assert set(attention) == {docs[7]["id"], docs[21]["id"], docs[33]["id"]}
    assert attention[docs[7]["id"]].startswith("missing") and "syntax error at line 2" in attention[docs[21]["id"]]
    assert "not UTF-8" in attention[docs[33]["id"]]
    for n in (7, 21, 33):  # untouched
        assert database.load_tests.find_one({"id": docs[n]["id"]}, {"_id": False}) == docs[n]
        assert database.script_revisions.count_documents({"loadTestId": docs[n]["id"]}) == 0

    migrated = database.load_tests.find_one({"id": docs[12]["id"]}, {"_id": False})
    assert "locustfile" not in migrated and migrated["latestRevisionNumber"] == 1 and migrated["migratedFrom"] == "teams/test_12.py"
    (revision,) = database.script_revisions.find({"loadTestId": docs[12]["id"]}, {"_id": False})
    assert revision["id"] == migrated["latestRevisionId"] and revision["description"] == "Migrated from teams/test_12.py"
    assert (revision["createdBy"], revision["createdAt"]) == (docs[12]["createdBy"], docs[12]["createdAt"])

    # What the API then serves, to the test's own tenant (and to nobody else).
    set_stores(build_mongo_stores(database))
    try:
        api = InProcessApi()
        claims = {"sub": "u", "email": "x@example.com", "custom:accountId": docs[12]["accountId"]}
        test = api.request("GET", f"/v1/load-tests/{docs[12]['id']}", claims=claims)
        assert test.status == 200 and test.json()["latestRevisionNumber"] == 1 and test.json()["createdBy"] == docs[12]["createdBy"]
        script = api.request("GET", f"/v1/load-tests/{docs[12]['id']}/script", claims=claims).json()
        import base64

        assert base64.b64decode(script["scriptContent"]).decode() == simple_variant(12)
        assert api.request("GET", f"/v1/load-tests/{docs[12]['id']}", claims={**claims, "custom:accountId": "acct-x"}).status == 404
    finally:
        set_stores(None)

    before = snapshot(database)
    code, again = migrate(capsys, uri, str(root))
    assert code == 3 and again["summary"] == {"already migrated": 47, "needs attention": 3}
    assert snapshot(database) == before


def test_a_migration_that_died_between_its_two_writes_resumes_without_a_second_revision(tmp_path, db, capsys):
    uri, database = db
    (tmp_path / "a.py").write_text(SIMPLE)
    doc = legacy(1, "a.py")
    database.load_tests.insert_one(dict(doc))
    from load_manager.models.records import StoredRevision

    stores = build_mongo_stores(database)
    stores.revisions.append(StoredRevision(  # the first run got this far
        id=uuid.uuid4().hex, load_test_id=doc["id"], account_id=doc["accountId"], revision_number=0, description="Migrated from a.py",
        sha256="0" * 64, size_bytes=len(SIMPLE), created_at=doc["createdAt"], created_by=doc["createdBy"], content=SIMPLE,
    ), skip_if_same_as_latest=False)  # fmt: skip
    code, report = migrate(capsys, uri, str(tmp_path))
    assert code == 0 and report["summary"] == {"migrated": 1}
    assert database.script_revisions.count_documents({"loadTestId": doc["id"]}) == 1


def test_paths_that_leave_the_root_are_refused(tmp_path, db, capsys):
    uri, database = db
    root, outside = tmp_path / "root", tmp_path / "outside.py"
    (root / "sub").mkdir(parents=True)
    outside.write_text(SIMPLE)
    (root / "ok.py").write_text(SIMPLE)
    os.symlink(outside, root / "link.py")
    os.symlink(tmp_path, root / "sub" / "up")
    paths = ["ok.py", str(outside), "../outside.py", "sub/../../outside.py", "link.py", "sub/up/outside.py", "C:\\scripts\\x.py", ""]
    database.load_tests.insert_many([legacy(n, p) for n, p in enumerate(paths)])
    code, report = migrate(capsys, uri, str(root))
    by_path = {t["path"]: t for t in report["tests"]}
    assert code == 3 and by_path["ok.py"]["status"] == "migrated"
    for path in paths[1:]:
        assert by_path[path]["status"] == "needs attention", path
    assert "absolute" in by_path[str(outside)]["reason"] and "'..'" in by_path["../outside.py"]["reason"]
    assert "symbolic link" in by_path["link.py"]["reason"] and "symbolic link" in by_path["sub/up/outside.py"]["reason"]
    assert database.load_tests.count_documents({"locustfile": {"$exists": True}}) == len(paths) - 1


def test_from_s3_and_a_dry_run_writes_nothing(db, capsys, monkeypatch):
    uri, database = db
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="legacy-scripts")
        s3.put_object(Bucket="legacy-scripts", Key="locust/checkout/locustfile.py", Body=SIMPLE.encode())
        database.load_tests.insert_many([legacy(0, "checkout/locustfile.py"), legacy(1, "search/locustfile.py"), legacy(2, "../locust/checkout/locustfile.py")])
        before = snapshot(database)
        code, dry = migrate(capsys, uri, "s3://legacy-scripts/locust/", "--dry-run")
        assert code == 3 and dry["dryRun"] is True and dry["summary"] == {"would migrate": 1, "needs attention": 2}
        assert snapshot(database) == before
        code, done = migrate(capsys, uri, "s3://legacy-scripts/locust")
        reasons = sorted(t["reason"] or "" for t in done["tests"])
        assert done["summary"] == {"migrated": 1, "needs attention": 2}
        assert reasons[1].startswith("missing: s3://legacy-scripts/locust/search/locustfile.py") and "'..'" in reasons[2]
