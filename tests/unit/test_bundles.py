"""Bundles, statically: paths, limits, the digest, requirements.txt, archives, and validation that
follows imports across the bundle and knows every user class Locust 2.47 ships."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import textwrap
import zipfile
from pathlib import Path

import pytest

from load_manager.bundle.analysis import LOCUST_USERS
from load_manager.bundle.archive import read_archive, write_archive
from load_manager.bundle.core import MAX_BYTES, build_bundle, bundle_digest, normalise_path
from load_manager.bundle.requirements import check_requirements
from load_manager.bundle.templates import TEMPLATES
from load_manager.errors import (
    BundlePathCollisionError,
    BundleTooLargeError,
    DuplicateBundlePathError,
    InvalidBundlePathError,
    InvalidRequirementsError,
    NoUserClassError,
    ScriptSyntaxError,
    TooManyBundleFilesError,
    UnsafeArchiveEntryError,
)
from load_manager.usecases.bundles import check_bundle

LOCUST = Path(importlib.util.find_spec("locust").origin).parent  # read, never imported (it monkey-patches)


def bundle(files: dict[str, str | bytes], entry: str = "locustfile.py"):
    pairs = [(path, data.encode() if isinstance(data, str) else data) for path, data in files.items()]
    return build_bundle(entry, pairs)


def check(files: dict[str, str | bytes], entry: str = "locustfile.py"):
    return check_bundle(bundle({path: textwrap.dedent(t) if isinstance(t, str) else t for path, t in files.items()}, entry)).analysis


# ---- paths and the digest -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "error"),
    [("/etc/passwd", InvalidBundlePathError), ("../x.py", InvalidBundlePathError), ("a/../../x", InvalidBundlePathError),
     ("", InvalidBundlePathError), ("   ", InvalidBundlePathError), ("C:/x.py", InvalidBundlePathError), ("a\\b.py", InvalidBundlePathError),
     ("a/\x00.py", InvalidBundlePathError), ("data/", InvalidBundlePathError), ("./.", InvalidBundlePathError)],
)  # fmt: skip
def test_unsafe_paths_are_refused(raw, error):
    with pytest.raises(error):
        normalise_path(raw)


def test_paths_are_normalised():
    assert normalise_path("./common//users.py") == "common/users.py"
    assert normalise_path("cafe\u0301.csv") == "caf\u00e9.csv"  # NFC


@pytest.mark.parametrize(
    ("files", "error"),
    [
        ([("locustfile.py", b"x"), ("locustfile.py", b"y")], DuplicateBundlePathError),
        ([("locustfile.py", b"x"), ("a.csv", b"1"), ("./a.csv", b"2")], BundlePathCollisionError),
        ([("locustfile.py", b"x"), ("Data.csv", b"1"), ("data.csv", b"2")], BundlePathCollisionError),
        ([("locustfile.py", b"x"), ("common", b"1"), ("common/users.py", b"2")], BundlePathCollisionError),
        ([("locustfile.py", b"x")] + [(f"f{i}.txt", b"") for i in range(200)], TooManyBundleFilesError),
        ([("locustfile.py", b"x"), ("big.bin", b"\0" * MAX_BYTES)], BundleTooLargeError),
    ],
    ids=["duplicate", "same once normalised", "case only", "file and folder", "201 files", "over 4 MiB"],
)
def test_bundles_breaking_the_rules_are_refused(files, error):
    with pytest.raises(error):
        build_bundle("locustfile.py", files)


def test_a_lone_locustfile_keeps_the_digest_revisions_always_had():
    text = "from locust import HttpUser\nclass U(HttpUser):\n    pass\n"
    assert bundle({"locustfile.py": text}).digest == hashlib.sha256(text.encode()).hexdigest()


def test_the_bundle_digest_is_canonical_and_covers_every_file_and_the_entry():
    one = bundle({"locustfile.py": "a", "data/x.csv": "1", "common/u.py": "2"})
    same = bundle({"common/u.py": "2", "locustfile.py": "a", "data/x.csv": "1"})  # another order
    assert one.digest == same.digest
    manifest = "load-manager-bundle/1\nentry locustfile.py\n" + "".join(
        f"{hashlib.sha256(data.encode()).hexdigest()} {path}\n" for path, data in (("common/u.py", "2"), ("data/x.csv", "1"), ("locustfile.py", "a"))
    )
    assert one.digest == hashlib.sha256(manifest.encode()).hexdigest()
    assert bundle({"locustfile.py": "a", "data/x.csv": "1", "common/u.py": "3"}).digest != one.digest
    assert bundle({"main.py": "a", "data/x.csv": "1", "common/u.py": "2"}, entry="main.py").digest != one.digest
    assert bundle_digest("locustfile.py", {i.path: i.sha256 for i in one.manifest}) == one.digest


# ---- requirements.txt ---------------------------------------------------------------------------


def test_requirements_accept_pep508_lines_comments_and_hashes():
    text = b"requests>=2.31  # http\n\npaho-mqtt[proxy] ==2.1 ; python_version >= '3.9'\nkafka-python==2.0.2 \\\n  --hash=sha256:00ff\n"
    assert check_requirements(text) == ["requests>=2.31", 'paho-mqtt[proxy]==2.1; python_version >= "3.9"', "kafka-python==2.0.2"]


@pytest.mark.parametrize(
    "line", ["-e .", "-r other.txt", "--index-url https://x", "pkg @ https://example.com/pkg.whl", "./vendor/pkg", "https://x/y.whl", "pkg==", "pkg>=>1"]
)
def test_requirements_refuse_options_urls_paths_and_nonsense(line):
    with pytest.raises(InvalidRequirementsError) as err:
        check_requirements(f"requests\n{line}\n".encode())
    assert err.value.details["line"] == 2 and "line 2" in err.value.message


# ---- archives -----------------------------------------------------------------------------------


def zip_of(entries: list[tuple[str, bytes]], *, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def test_an_archive_round_trips_deterministically():
    original = bundle({"locustfile.py": "x", "data/a.bin": b"\x00\xff", "common/u.py": "y"})
    data = write_archive(original)
    assert data == write_archive(original)
    assert dict(read_archive(data)) == original.files


@pytest.mark.parametrize(
    ("archive", "error"),
    [
        (zip_of([("locustfile.py", b"x"), ("../evil.py", b"x")]), UnsafeArchiveEntryError),
        (zip_of([("locustfile.py", b"x"), ("/etc/cron.d/x", b"x")]), UnsafeArchiveEntryError),
        (zip_of([("locustfile.py", b"x")], link="data/link"), UnsafeArchiveEntryError),
        (zip_of([("locustfile.py", b"x"), ("zeros.bin", b"\0" * (MAX_BYTES + 1))]), BundleTooLargeError),
    ],
    ids=["dot-dot", "absolute", "symlink", "expands past the limit"],
)
def test_unsafe_archives_are_refused(archive, error):
    with pytest.raises(error):
        read_archive(archive)


def test_a_lying_header_does_not_get_past_the_running_count():
    data = bytearray(zip_of([("locustfile.py", b"x"), ("zeros.bin", b"\0" * (MAX_BYTES + 10))]))
    # Claim the big entry is tiny in its central directory record: decompression still counts bytes.
    index = data.rfind(b"PK\x01\x02")
    data[index + 24 : index + 28] = (10).to_bytes(4, "little")
    with pytest.raises((BundleTooLargeError, Exception)) as err:
        read_archive(bytes(data))
    assert getattr(err.value, "status", 0) in (413, 422)


# ---- validation across the bundle ---------------------------------------------------------------

CONTRIB_USERS = {
    "DNSUser": ("locust.contrib.dns", "self.client.query('example.com')"),
    "MilvusUser": ("locust.contrib.milvus", "self.search(data=[[0.1, 0.2]], anns_field='v')"),
    "MongoDBUser": ("locust.contrib.mongodb", "self.client.find_one({'_id': 1})"),
    "MqttUser": ("locust.contrib.mqtt", "self.client.publish('t', b'x')"),
    "OpenAIUser": ("locust.contrib.oai", "self.client.chat.completions.create(model='m', messages=[])"),
    "PostgresUser": ("locust.contrib.postgres", "self.client.execute_query('SELECT 1')"),
    "QdrantUser": ("locust.contrib.qdrant", "self.search(query=[0.1])"),
    "SocketIOUser": ("locust.contrib.socketio", "self.client.emit('ping', {})"),
    "FastHttpUser": ("locust.contrib.fasthttp", "self.client.get('/')"),
}


def test_our_list_is_every_user_class_the_installed_locust_ships():
    """Read Locust's own source (never imported): every `class X(User)` of locust.contrib and locust.user."""
    import re

    shipped = set()
    for source in [*(LOCUST / "contrib").glob("*.py"), LOCUST / "user" / "users.py"]:
        shipped |= set(re.findall(r"^class (\w+)\((?:User|HttpUser)[,)]", source.read_text(), re.M))
    assert re.search(r"^class User\(metaclass=UserMeta\)", (LOCUST / "user" / "users.py").read_text(), re.M)
    assert shipped | {"User"} == LOCUST_USERS - {"HttpLocust", "Locust"}
    assert set(CONTRIB_USERS) == {name for name in shipped if name not in ("User", "HttpUser", "PytestUser")}


@pytest.mark.parametrize("name", sorted(CONTRIB_USERS))
def test_a_locustfile_per_contrib_user_class_is_valid(name):
    module, call = CONTRIB_USERS[name]
    script = f"""
        from locust import task, between
        from {module} import {name}


        class Load({name}):
            wait_time = between(1, 2)
            host = "http://127.0.0.1"

            @task
            def work(self):
                {call}
    """
    analysis = check({"locustfile.py": script})
    assert analysis.user_classes == ["Load"] and not analysis.warnings


def test_contrib_user_through_a_module_attribute_is_valid():
    analysis = check({"locustfile.py": "import locust.contrib.mongodb as m\nclass Db(m.MongoDBUser):\n    pass\n"})
    assert analysis.user_classes == ["Db"]


CHECKOUT = {
    "locustfile.py": """
        from common.users import CheckoutUser  # noqa: F401 - Locust picks it up from this namespace
        from locust import events
    """,
    "common/__init__.py": "",
    "common/base.py": """
        from locust import HttpUser
        class ShopUser(HttpUser):
            abstract = True
    """,
    "common/users.py": """
        import csv, os
        from locust import task
        from .base import ShopUser
        class CheckoutUser(ShopUser):
            @task
            def buy(self):
                self.client.get("/")
        class NotExposed(ShopUser):
            pass
    """,
    "data/users.csv": "name\nann\n",
}


def test_user_classes_imported_from_a_bundle_module_are_valid_transitively():
    analysis = check(CHECKOUT)
    assert analysis.user_classes == ["CheckoutUser"] and not analysis.warnings  # NotExposed is not in the entry's namespace


def test_a_subclass_in_the_entry_of_a_bundle_base_is_a_user():
    files = {**CHECKOUT, "locustfile.py": "from common.base import ShopUser\nclass Mine(ShopUser):\n    pass\n"}
    assert check(files).user_classes == ["Mine"]


def test_star_import_of_a_bundle_module_exposes_its_users():
    assert check({**CHECKOUT, "locustfile.py": "from common.users import *\n"}).user_classes == ["CheckoutUser", "NotExposed"]


def test_a_user_from_a_module_the_bundle_lacks_is_accepted_with_a_warning_naming_it():
    analysis = check({"locustfile.py": "from company_testing.users import ApiUser\n"})
    assert analysis.user_classes == [] and "company_testing.users" in analysis.warnings[0] and "ApiUser" in analysis.warnings[0]


def test_a_bundle_module_leading_nowhere_is_no_user():
    files = {"locustfile.py": "from helpers import Config\n", "helpers.py": "class Config:\n    host = 'x'\n"}
    with pytest.raises(NoUserClassError):
        check(files)


def test_syntax_errors_anywhere_in_the_bundle_are_reported_with_file_line_and_column():
    files = {**CHECKOUT, "common/broken.py": "def f(:\n    pass\n", "tools/also.py": "x = (\n"}
    with pytest.raises(ScriptSyntaxError) as err:
        check(files)
    errors = err.value.details["errors"]
    assert [e["file"] for e in errors] == ["common/broken.py", "tools/also.py"]
    assert errors[0]["line"] == 1 and errors[0]["column"] >= 1 and "common/broken.py" in err.value.message


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_every_template_validates(template_id):
    template = TEMPLATES[template_id]
    analysis = check_bundle(build_bundle(template.entry_path, [(p, t.encode()) for p, t in template.files.items()])).analysis
    assert analysis.user_classes and not analysis.warnings
