"""Real Locust projects through the real handlers (API Gateway v2 events), validated statically:

- `entryPath` with Locust's -f meaning: a list (or a comma string), a folder (through a zip), both;
  a shape module importing its sibling's users validates; duplicate user class names across
  locustfiles are a 422 at save time that leaves the store byte-identical;
- a user class whose base comes from a package named in requirements.txt is accepted, with a note;
- locust.conf: each option the run sets is a warning naming it; pyproject.toml's [tool.locust]
  setting one, or a locust.conf Locust cannot read, is a 422;
- requirements.txt naming Locust (another version) is a warning naming the pin and the version that
  runs; a hash-pinned file of 1,500 lines is accepted, one over the byte limit is a clear 422.
"""

from __future__ import annotations

import io
import zipfile

from support.scripts import AUTH_A, SIMPLE, b64

from load_manager.bundle.requirements import MAX_BYTES

USERS = '''from locust import HttpUser, constant, task

from _paths import ITEM  # locustfiles/_paths.py: in the folder, not a locustfile (its name starts with "_")


class ShopUser(HttpUser):
    wait_time = constant(0.1)

    @task
    def item(self):
        self.client.get(ITEM)
'''
SHAPE = '''from locust import LoadTestShape

from users import ShopUser  # noqa: F401 - the sibling locustfile's users, imported: the same class for Locust


class Steady(LoadTestShape):
    def tick(self):
        return (2, 2)
'''
PLUGIN_USER = '''from lm_plugin_users import PluginHttpUser
from locust import constant, task


class CatalogueUser(PluginHttpUser):
    wait_time = constant(0.1)

    @task
    def items(self):
        self.client.get("/items")
'''


def files(mapping: dict[str, str]) -> list[dict]:
    return [{"path": path, "content": b64(text)} for path, text in mapping.items()]


FOLDER = {"locustfiles/shape.py": SHAPE, "locustfiles/_paths.py": 'ITEM = "/items/7"\n'}


def validate(api, entry: str, others: dict[str, str], entry_path) -> dict:
    response = api.request("POST", "/v1/scripts/validate", body={"scriptContent": b64(entry), "files": files(others), "entryPath": entry_path})
    assert response.status == 200, response.json()
    return response.json()


def create(api, entry: str, others: dict[str, str], entry_path=None):
    body = {"name": "project", "scriptContent": b64(entry), "files": files(others)}
    return api.request("POST", "/v1/load-tests", body={**body, **({"entryPath": entry_path} if entry_path else {})}, claims=AUTH_A)


def dump(stores) -> str:
    return "\n".join(stores.load_tests.db.connection().iterdump())


def test_a_list_of_locustfiles_validates_with_a_shape_importing_its_siblings_users(api):
    report = validate(api, USERS, FOLDER, ["locustfiles/users.py", "locustfiles/shape.py"])
    assert report["valid"] and report["userClasses"] == ["ShopUser"] and report["shapes"] == ["Steady"], report
    assert report["entries"] == report["locustfiles"] == ["locustfiles/users.py", "locustfiles/shape.py"]
    assert report["entryPath"] == "locustfiles/users.py" and report["warnings"] == []
    # Locust's own comma form is the same bundle; the shape file alone is another one, and still runs ShopUser.
    assert validate(api, USERS, FOLDER, "locustfiles/users.py,locustfiles/shape.py")["sha256"] == report["sha256"]
    alone = validate(api, SHAPE, {"locustfiles/users.py": USERS, "locustfiles/_paths.py": 'ITEM = "/x"\n'}, "locustfiles/shape.py")
    assert alone["valid"] and alone["userClasses"] == ["ShopUser"] and alone["sha256"] != report["sha256"]


def test_a_folder_of_locustfiles_through_json_and_through_a_zip(api):
    mixed = validate(api, USERS, FOLDER, ["locustfiles/users.py", "locustfiles/"])
    assert mixed["valid"] and mixed["entries"] == ["locustfiles/users.py", "locustfiles/"]
    assert mixed["locustfiles"] == ["locustfiles/users.py", "locustfiles/shape.py"]  # each file once; _paths.py is no locustfile

    tid = create(api, SIMPLE, {}).json()["id"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for path, text in {**FOLDER, "locustfiles/users.py": USERS, "data/items.csv": "id\n7\n"}.items():
            zipped.writestr(f"shop/{path}", text)  # `zip -r shop.zip shop/`: the top folder is stripped
    saved = api.request("PUT", f"/v1/load-tests/{tid}/script/archive", query="entryPath=locustfiles/", body=archive.getvalue(),
                        headers={"content-type": "application/zip"}, claims=AUTH_A)  # fmt: skip
    assert saved.status == 201, saved.json()
    revision = saved.json()
    assert revision["entries"] == ["locustfiles/"] and revision["entryPath"] == "locustfiles/shape.py"  # the folder's first locustfile
    latest = api.request("GET", f"/v1/load-tests/{tid}/script/revisions/2", claims=AUTH_A).json()
    assert latest["entries"] == ["locustfiles/"] and latest["sha256"] == revision["sha256"]
    rolled = api.request("POST", f"/v1/load-tests/{tid}/script/rollback", body={"revision": 1}, claims=AUTH_A).json()
    assert rolled["entries"] == ["locustfile.py"] and rolled["sha256"] != revision["sha256"]
    again = api.request("POST", f"/v1/load-tests/{tid}/script/rollback", body={"revision": 2}, claims=AUTH_A).json()
    assert again["entries"] == ["locustfiles/"] and again["sha256"] == revision["sha256"]  # the entries are part of the snapshot


def test_entries_naming_nothing_locust_can_load_are_refused(api, stores):
    before = dump(stores)
    for entry_path, why in [
        (["locustfiles/"], "first entry is scriptContent's file"),  # JSON: scriptContent has no path then
        (["locustfiles/users.py", "nothing/"], "no entry file or folder"),
        (["locustfiles/users.py", "data/"], "holds no locustfile"),
        ("locustfiles/users.py,,", "entryPath is empty"),
    ]:
        response = create(api, USERS, {**FOLDER, "data/x.csv": "a\n"}, entry_path)
        assert response.status == 422 and response.json()["code"] == "InvalidBundlePath", (entry_path, response.json())
        assert why in response.json()["message"], response.json()["message"]
    assert dump(stores) == before


def test_duplicate_user_class_names_across_locustfiles_are_refused_at_save_time(api, stores):
    other = USERS.replace("/items/7", "/other").replace("from _paths import ITEM  #", "ITEM = '/o'  #")
    before = dump(stores)
    response = create(api, USERS, {**FOLDER, "locustfiles/other.py": other}, ["locustfiles/users.py", "locustfiles/"])
    assert response.status == 422, response.json()
    body = response.json()
    assert body["code"] == "DuplicateUserClass"
    assert body["details"]["duplicates"] == [{"kind": "user class", "name": "ShopUser", "files": ["locustfiles/users.py", "locustfiles/other.py"]}]
    assert "ShopUser is defined in both locustfiles/users.py and locustfiles/other.py" in body["message"]
    assert dump(stores) == before
    report = validate(api, USERS, {**FOLDER, "locustfiles/other.py": other}, ["locustfiles/users.py", "locustfiles/"])
    assert not report["valid"] and "Locust refuses one name for two classes" in report["errors"][0]["message"]


def test_a_user_class_from_a_package_in_requirements_is_accepted_with_a_note(api):
    report = validate(api, PLUGIN_USER, {"requirements.txt": "lm-plugin-users==1.0\n"}, None)
    assert report["valid"] and report["userClasses"] == ["CatalogueUser"] and report["warnings"] == [], report
    assert report["notes"] == ["CatalogueUser derives from a class of package lm-plugin-users (requirements.txt): taken as a Locust user class"]
    unlisted = validate(api, PLUGIN_USER, {}, None)  # nothing says where the base comes from: accepted on a warning, as before
    assert unlisted["valid"] and unlisted["userClasses"] == [] and "lm_plugin_users" in unlisted["warnings"][0]
    saved = create(api, PLUGIN_USER, {"requirements.txt": "lm-plugin-users==1.0\n"})
    assert saved.status == 201 and saved.json()  # the note is kept with the revision
    revision = api.request("GET", f"/v1/load-tests/{saved.json()['id']}/script", claims=AUTH_A).json()
    assert revision["notes"] == report["notes"]


def test_locust_conf_options_the_run_sets_are_warnings_naming_each(api, stores):
    conf = "api-path = /items/7\nheadless = true\nusers = 50\nweb-port = 1\nloglevel = DEBUG\n"
    report = validate(api, SIMPLE, {"locust.conf": conf}, None)
    assert report["valid"] and len(report["warnings"]) == 3, report["warnings"]
    assert [w.split(" sets ")[1].split(",")[0] for w in report["warnings"]] == ["headless", "users", "web-port"]
    assert "the run's targetUsers is used" in report["warnings"][1]
    before = dump(stores)
    for name, text, why in [
        ("locust.conf", "users = 5\n= oops\n", "locust.conf line 2"),
        ("pyproject.toml", "[tool.locust]\nheadless = true\nrun-time = '10s'\n", "sets headless, run-time"),
        ("pyproject.toml", "[tool.locust\n", "cannot parse"),
    ]:
        response = create(api, SIMPLE, {name: text})
        assert response.status == 422 and response.json()["code"] == "InvalidLocustConf", response.json()
        assert why in response.json()["message"], response.json()["message"]
    assert dump(stores) == before
    assert validate(api, SIMPLE, {"pyproject.toml": "[tool.locust]\ntags = ['checkout']\n"}, None)["valid"]


def test_a_pin_of_another_locust_is_a_warning_naming_it_and_the_version_that_runs(api):
    report = validate(api, SIMPLE, {"requirements.txt": "locust==2.38.0\nrequests>=2\nlm-plugin-users==1.0\n"}, None)
    assert report["valid"]
    assert report["warnings"][0] == (
        "requirements.txt line 1 pins locust==2.38.0: Locust belongs to the platform, so Locust 2.47.0 runs instead (the line is left out)"
    )
    assert len(report["warnings"]) == 2 and "requests>=2" in report["warnings"][1]


def hash_pinned(lines: int) -> str:
    out = []
    number = 0
    while len(out) < lines:
        out += [f"lm-pkg-{number}==1.{number} \\"] + [f"    --hash=sha256:{number * 3 + k:064x} \\" for k in range(2)]
        out += [f"    --hash=sha256:{number * 3 + 2:064x}", f"    # via lm-root-{number}"]
        number += 1
    return "\n".join(out[:lines - (lines % 5)] + [f"# {i}" for i in range(lines % 5)]) + "\n"


def test_requirement_files_are_limited_by_size_not_lines(api):
    text = hash_pinned(1500)
    assert text.count("\n") == 1500
    assert create(api, SIMPLE, {"requirements.txt": text}).status == 201
    big = "requests\n" + "# padding to go past the byte limit\n" * (MAX_BYTES // 36 + 1)
    response = create(api, SIMPLE, {"requirements.txt": big})
    assert response.status == 422, response.json()
    assert response.json()["code"] == "InvalidRequirements" and response.json()["details"] == {"limitBytes": MAX_BYTES}
    assert f"at most {MAX_BYTES}" in response.json()["message"]
