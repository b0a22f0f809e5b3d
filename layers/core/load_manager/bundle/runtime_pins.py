"""Locust belongs to the platform: requirements.txt never replaces Locust or what it runs on.

A project's requirements.txt often names `locust` (pinned to the version its authors used) or one
of Locust's dependencies (gevent, greenlet, requests...). Installed over the platform's copy, a
Locust of another version would answer the backend in another dialect (a 2.38 master refusing
2.47's POST /stop with 405). So, for every run:

- the lines naming a distribution of Locust's runtime (`RUNTIME_DISTRIBUTIONS`: Locust and every
  distribution it depends on, transitively, from `locust_runtime.py`) are left out of the file pip
  gets (`without_runtime_pins`: each becomes a comment, so pip's line numbers stay the file's);
- the bootstrap installs with a constraints file pinning each of those distributions to the
  version the platform has (bootstrap.runtime_constraints), so no dependency of the project can
  upgrade or downgrade one either: pip then fails, saying which requirement wants which version;
- a package of another name that would still install a module of the runtime is refused after
  installing, as before (bootstrap.replaced_runtime).

Validation says so for each such line (`pin_messages`): a warning naming the pin and the Locust
version that runs instead, or a note when the platform's copy meets the line anyway (`requests`
with no version, `locust>=2.40`). Each run records the Locust version that actually ran.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from load_manager.bundle.analysis import canonical_name
from load_manager.bundle.locust_runtime import LOCUST_VERSION, RUNTIME_MODULES
from load_manager.bundle.requirements import requirement_lines, text_of

RUNTIME_DISTRIBUTIONS = frozenset(dist for dists in RUNTIME_MODULES.values() for dist in dists)
REQUIREMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
_PARTS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;]*)")
LEFT_OUT = "# load-manager: left out, Locust's runtime comes with the platform: "


@dataclass(frozen=True)
class RuntimePin:
    first_line: int
    last_line: int
    name: str  # canonical distribution name
    requirement: str  # as pip reads it: name[extras]specifiers; marker

    @property
    def specifier(self) -> str:
        """The version specifiers (`==2.38.0`, `>=2.40,<3`), '' for none."""
        match = _PARTS.match(self.requirement)
        return match.group("spec").strip() if match else ""


def runtime_pins(data: bytes) -> list[RuntimePin]:
    """The requirements of a checked requirements.txt that name a distribution of Locust's runtime."""
    found = []
    for first, last, requirement in requirement_lines(data):
        match = REQUIREMENT_NAME.match(requirement)
        name = canonical_name(match.group(0)) if match else ""
        if name in RUNTIME_DISTRIBUTIONS:
            found.append(RuntimePin(first, last, name, requirement))
    return found


def pin_messages(pins: list[RuntimePin]) -> tuple[list[str], list[str]]:
    """(warnings, notes): a warning for each line the platform's copy may not meet."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet  # lazy: loaded with pip_requirements_parser (21 ms, bench/cold_import.py --lazy)

    warnings, notes = [], []
    for pin in pins:
        where = f"requirements.txt line {pin.first_line}"
        spec = pin.specifier
        if pin.name == "locust":
            try:
                met = not spec or SpecifierSet(spec).contains(LOCUST_VERSION, prereleases=True)
            except InvalidSpecifier:
                met = False
            if met:
                notes.append(f"{where}: {pin.requirement} is met by the platform's Locust {LOCUST_VERSION}, which runs (the line is left out)")
            else:
                warnings.append(
                    f"{where} pins {pin.requirement}: Locust belongs to the platform, so Locust {LOCUST_VERSION} runs instead (the line is left out)"
                )
        elif not spec:
            notes.append(f"{where}: {pin.name} is part of Locust's runtime; the copy that comes with Locust {LOCUST_VERSION} is used")
        else:
            warnings.append(
                f"{where} pins {pin.requirement}: {pin.name} is part of Locust's runtime, which belongs to the platform, so the copy that "
                f"comes with Locust {LOCUST_VERSION} runs instead (the line is left out)"
            )
    return warnings, notes


def without_runtime_pins(data: bytes) -> bytes:
    """requirements.txt as pip gets it for a run: each line of a runtime requirement commented out."""
    pins = runtime_pins(data)
    if not pins:
        return data
    lines = text_of(data).splitlines(keepends=True)
    for pin in pins:
        for number in range(pin.first_line, pin.last_line + 1):
            lines[number - 1] = LEFT_OUT + lines[number - 1]
    return "".join(lines).encode("utf-8")
