"""Shared fixtures: where the real public data live, and scratch output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]

# The suite runs on shared 2-core CI machines: a wall-clock deadline per
# example measures the machine's load, not the code, so none is set.
settings.register_profile("localitygeo", deadline=None)
settings.load_profile("localitygeo")


def _data_dir() -> Path:
    env = os.environ.get("LOCALITYGEO_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the real public data (``../shared/data`` or ``$LOCALITYGEO_DATA``).

    Missing data fail the test (never skip silently): the real-data tests are
    part of the suite in CI and on every developer's machine.
    """
    path = _data_dir()
    if not (path / "councils" / "plymouth" / "lsoa_2011.geojson").exists():
        pytest.fail(
            f"real data not found at {path}; set LOCALITYGEO_DATA to the folder holding "
            "councils/, england/ and imd2019/ (see ../shared/data/README.md)"
        )
    return path


@pytest.fixture(scope="session")
def plymouth(shared_data: Path) -> Path:
    """Folder of Plymouth's real boundary layers."""
    return shared_data / "councils" / "plymouth"


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """A scratch folder for files a test writes."""
    d = tmp_path / "out"
    d.mkdir()
    return d


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for a module's tests that read pages back (tests/hostile/browser.py).

    Per module, not per session: Playwright's sync API runs an event loop while
    a browser is open, and other modules open their own (inside their fixtures).
    """
    from tests.hostile.browser import launch

    with launch() as b:
        yield b
