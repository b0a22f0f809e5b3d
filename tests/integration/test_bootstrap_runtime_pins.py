"""Locust belongs to the platform, transitively too: the bootstrap installs requirements.txt under
constraints pinning Locust's runtime to this Python's versions (bootstrap.runtime_constraints), so a
dependency that wants another Locust cannot bring one in. pip refuses, the environment is not kept,
and the bootstrap's last line quotes pip's own ERROR lines (what a run's failure reason shows on
every backend). Real pip, offline: the wheels are built here, among them a Locust 2.38.0 that
pip would otherwise be free to install."""

from __future__ import annotations

import pytest
from support.wheels import build_wheel

from load_manager.backends.bootstrap import REQUIREMENTS_FAILED, ensure_environment, runtime_constraints
from load_manager.bundle.locust_runtime import RUNTIME_MODULES
from load_manager.bundle.runtime_pins import RUNTIME_DISTRIBUTIONS, without_runtime_pins

pytestmark = pytest.mark.slow


def test_a_dependency_wanting_another_locust_fails_the_install_with_pips_words(tmp_path, monkeypatch, capfd):
    wheels = tmp_path / "wheels"
    build_wheel(wheels, "locust", "2.38.0", "raise SystemExit('an old Locust was imported')\n")
    build_wheel(wheels, "lm-old-plugin", "1.0", "X = 1\n", requires=("locust==2.38.0",))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    requirements = tmp_path / "requirements.txt"
    requirements.write_bytes(without_runtime_pins(b"locust==2.38.0\nlm-old-plugin==1.0\n"))  # as the run's archive carries it
    assert requirements.read_text().startswith("# load-manager: left out")

    with pytest.raises(SystemExit) as exited:
        ensure_environment(str(requirements), str(tmp_path / "envs"), frozenset(RUNTIME_MODULES), runtime_constraints(sorted(RUNTIME_DISTRIBUTIONS)))
    assert exited.value.code == REQUIREMENTS_FAILED
    out, err = capfd.readouterr()
    last = err.strip().splitlines()[-1]
    assert last.startswith("load-manager: installing requirements.txt failed (pip exit code 1): ERROR:"), last
    assert "conflicting dependencies" in last and "ResolutionImpossible" in last, last
    # Which requirement wanted what, in pip's words: in the last line, and in the log above it.
    assert "| lm-old-plugin 1.0 depends on locust==2.38.0 | The user requested (constraint) locust==2.47.0 |" in last, last
    assert "lm-old-plugin 1.0 depends on locust==2.38.0" in out
    assert not [path for path in (tmp_path / "envs").iterdir() if path.is_dir()]  # nothing half-built is kept
