"""SAM's translation of the template, kept on disk between `serve` starts and shared by every data
directory: a start with a kept translation does not translate again."""

from __future__ import annotations

import os

import pytest

from load_manager_local import stack as stack_module
from load_manager_local import stack_translate
from load_manager_local.functions import project_root
from load_manager_local.local_stack import LOCAL_PARAMETERS
from load_manager_local.runtime import CACHE_DIR, translation_cache_dir
from load_manager_local.stack import Stack
from load_manager_local.stack_translate import KEEP_TRANSLATIONS, CachedStack, write_cached

TEMPLATE = project_root() / "template.yaml"


def test_the_cache_is_the_users_shared_by_data_directories_else_the_data_directorys(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert translation_cache_dir(tmp_path / "a") == translation_cache_dir(tmp_path / "b") == tmp_path / "xdg" / "load-manager"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert translation_cache_dir(tmp_path / "a") == tmp_path / "home" / ".cache" / "load-manager"
    monkeypatch.delenv("HOME")
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # no home at all
    assert translation_cache_dir(tmp_path / "a") == tmp_path / "a" / CACHE_DIR


def test_a_kept_translation_is_read_back_instead_of_translated(tmp_path, monkeypatch):
    first = Stack(TEMPLATE, LOCAL_PARAMETERS, name="shop", cache_dir=tmp_path)
    assert len(list(tmp_path.glob("template-*.json"))) == 1

    def refuse(*_args, **_kwargs):
        raise AssertionError("translated again although the translation was kept")

    monkeypatch.setattr(stack_module, "translated", refuse)
    again = Stack(TEMPLATE, LOCAL_PARAMETERS, name="shop", cache_dir=tmp_path)
    assert again.template == first.template and again.parameters == first.parameters
    with pytest.raises(AssertionError):
        Stack(TEMPLATE, LOCAL_PARAMETERS, name="another-stack", cache_dir=tmp_path)  # another key: translated


def test_the_newest_translations_are_kept_and_an_unwritable_cache_only_costs_a_translation(tmp_path):
    kept = CachedStack({}, "{}", "{}", {})
    for number in range(KEEP_TRANSLATIONS + 3):
        write_cached(tmp_path, f"key{number}", kept)
        os.utime(tmp_path / f"template-key{number}.json", (number, number))
    names = sorted(path.name for path in tmp_path.glob("template-*.json"))
    assert len(names) == KEEP_TRANSLATIONS and "template-key0.json" not in names

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert Stack(TEMPLATE, LOCAL_PARAMETERS, name="shop", cache_dir=blocked).template["Resources"]


def test_the_key_changes_with_the_templates_bytes(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE.read_text())
    identity = {"name": "shop"}
    before = stack_translate.cache_key(template, {}, identity)
    template.write_text(TEMPLATE.read_text() + "\n# an edit\n")
    assert stack_translate.cache_key(template, {}, identity) != before
