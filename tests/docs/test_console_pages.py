"""The tutorial's page format and output matching (console_pages.py): what the tutorial test relies
on to fail when a page and the product disagree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from console_pages import Bindings, expected_pattern, match_output, normalise, parse_page

PAGE = '''# A page

<!-- docs-test: skip -->
```console
$ make setup
```

<!-- docs-test: background port=8080 -->
```console title="Terminal 2"
$ serve --port 8080
listening on http://127.0.0.1:8080
```

```console
$ TEST=$(create \\
    --name shop)
$ show $TEST
test <test-id> 'shop'
$ echo $?
0
```

<!-- docs-test: file -->
```python title="gate.py"
print("hello")
```

```yaml
not: checked
```
'''


def _parse(tmp_path: Path, text: str):
    page = tmp_path / "page.md"
    page.write_text(text)
    return parse_page(page, "page.md")


def test_blocks_modes_commands_and_continuations(tmp_path):
    blocks = _parse(tmp_path, PAGE)
    assert [(b.lang, b.mode) for b in blocks] == [
        ("console", "skip"), ("console", "background"), ("console", "run"), ("python", "file"), ("yaml", "run"),
    ]
    assert blocks[1].port == "8080" and blocks[1].title == "Terminal 2"
    run = blocks[2]
    assert [c.text for c in run.commands] == ["TEST=$(create \\\n    --name shop)", "show $TEST", "echo $?"]
    assert run.commands[1].expected == ["test <test-id> 'shop'"] and run.commands[0].expected == []
    assert blocks[3].title == "gate.py" and blocks[3].body == 'print("hello")\n'


def test_a_python_block_must_be_a_file_or_skipped(tmp_path):
    with pytest.raises(ValueError, match="must be a docs-test file"):
        _parse(tmp_path, "```python\nprint(1)\n```\n")


def test_a_directive_applies_only_to_the_next_block(tmp_path):
    blocks = _parse(tmp_path, "<!-- docs-test: skip -->\n\nSome words.\n\n```console\n$ true\n```\n")
    assert blocks[0].mode == "run"


def test_placeholders_bind_and_must_repeat():
    bindings = Bindings()
    assert match_output(["load test <test-id> 'shop': revision 1"], "load test abc123 'shop': revision 1\n", bindings)
    assert bindings.values == {"test-id": "abc123"}
    assert match_output(['    "loadTestId": "<test-id>",'], '        "loadTestId": "abc123",', bindings)
    assert not match_output(['    "loadTestId": "<test-id>",'], '        "loadTestId": "zzz999",', bindings)


def test_a_placeholder_repeated_in_one_output_must_be_the_same():
    assert match_output(["<n>", "<n>"], "93\n93\n", Bindings())
    assert not match_output(["<n>", "<n>"], "93\n94\n", Bindings())


def test_ellipsis_within_a_line_and_as_lines():
    assert match_output(["… run <run-id>: Finished"], "2026-01-01 10:00:00 run r1: Finished", Bindings())
    expected = ["first", "…", "last"]
    assert match_output(expected, "first\nlast\n", Bindings())
    assert match_output(expected, "first\na\nb\nlast\n", Bindings())
    assert not match_output(expected, "first\na\n", Bindings())
    assert not match_output(["exit code 1"], "exit code 1\nmore", Bindings())


def test_changed_output_fails():
    assert not match_output(["revision 2 (<sha>): slower shoppers"], "revision 1 (abc): slower shoppers", Bindings())
    assert not match_output(["0"], "1", Bindings())
    assert not match_output([], "Traceback (most recent call last):", Bindings())


def test_tables_match_whatever_the_column_widths():
    page = ["┏━━━━━━━━┳━━━━━━━┓", "┃ Name   ┃ Count ┃", "│ All requests │ <requests> │", "└────────┴───────┘"]
    printed = "┏━━━━━━━━━━━━━━┳━━━━━━━┓\n┃ Name         ┃ Count ┃\n│ All requests │    93 │\n└──────────────┴───────┘\n"
    bindings = Bindings()
    assert match_output(page, printed, bindings)
    assert bindings.values["requests"] == "93"
    assert normalise("┃ a    ┃   b ┃  ") == "┃ a ┃ b ┃"


def test_replacements_rewrite_later_commands_and_outputs():
    bindings = Bindings(replacements={"8080": "41234"})
    assert bindings.substitute("curl http://127.0.0.1:8080/v1/health --retry 18080") == "curl http://127.0.0.1:41234/v1/health --retry 18080"
    assert match_output(["Web console: http://127.0.0.1:8080/"], "Web console: http://127.0.0.1:41234/", bindings)


def test_background_output_captures_the_port_it_listens_on():
    pattern, groups = expected_pattern(["…", "listening on http://127.0.0.1:8080 (data in …)", "console: http://127.0.0.1:8080/"],
                                       Bindings(), capture="8080")
    found = re.match(pattern, "INFO noise\nlistening on http://127.0.0.1:40001 (data in /tmp/x)\nconsole: http://127.0.0.1:40001/\nmore\n")
    assert found and found.group(groups["literal 8080"]) == "40001"
    assert not re.match(pattern, "listening on http://127.0.0.1:40001 (data in /x)\nconsole: http://127.0.0.1:40002/\n")
