"""What the platform keeps for itself in a bundle, said once at validation and applied at every run.

- `locust.conf` / `pyproject.toml`: the options each run sets (locust_conf);
- `requirements.txt`: Locust and its runtime (runtime_pins).

`review` is what validation reports (warnings, notes, and the names requirements.txt installs, for
the user classes whose base comes from one of them); `runtime_files` is the bundle as Locust's
processes get it, built into each run's archive (bundle_layout). The revision itself is never
changed: it stays the snapshot its author saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from load_manager.bundle.analysis import canonical_name
from load_manager.bundle.core import REQUIREMENTS
from load_manager.bundle.locust_conf import CONF, PYPROJECT, check_pyproject, conf_warnings, runtime_text
from load_manager.bundle.runtime_pins import REQUIREMENT_NAME, pin_messages, runtime_pins, without_runtime_pins
from load_manager.errors import LoadManagerError


@dataclass
class PlatformReview:
    installed: frozenset[str] = frozenset()  # canonical names requirements.txt installs
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def review(files: Mapping[str, bytes], requirements: list[str] | None) -> PlatformReview:
    """`requirements`: check_requirements' answer for the bundle's requirements.txt (None: no file).
    Raises InvalidLocustConfError for a configuration Locust cannot run with."""
    found = PlatformReview()
    if CONF in files:
        found.warnings += conf_warnings(files[CONF])
    if PYPROJECT in files:
        check_pyproject(files[PYPROJECT])
    if requirements is not None and REQUIREMENTS in files:
        found.installed = frozenset(canonical_name(match.group(0)) for text in requirements if (match := REQUIREMENT_NAME.match(text)))
        warnings, notes = pin_messages(runtime_pins(files[REQUIREMENTS]))
        found.warnings += warnings
        found.notes += notes
    return found


def runtime_files(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The files as a run lays them out: locust.conf without the options each run sets,
    requirements.txt without Locust's runtime. A file saved before these rules that they cannot
    read goes as it is (Locust or pip then says what is wrong with it, as before)."""
    out = dict(files)
    for name, rewrite in ((CONF, runtime_text), (REQUIREMENTS, without_runtime_pins)):
        if name in out:
            try:
                out[name] = rewrite(out[name])
            except LoadManagerError:
                pass
    return out
