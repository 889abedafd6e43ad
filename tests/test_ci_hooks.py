"""The pre-commit hook and the GitHub Action, run the way those tools run them."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from .helpers import dissolve_by, grid_layer, write_manifest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _hook() -> dict:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(hooks, list) and len(hooks) == 1
    return hooks[0]


def _boundary_repo(root: Path, straddle: bool) -> Path:
    """A boundary repository as a council keeps one: a set folder plus unrelated files."""
    child = grid_layer(4, 1)
    parent = dissolve_by(child, ["A", "A", "B", "B"])
    if straddle:
        parent["geometry"] = parent.geometry.translate(30, 0)
    folder = root / "boundaries" / "city"
    folder.mkdir(parents=True)
    child.to_file(folder / "neighbourhoods.geojson")
    parent.to_file(folder / "wards.geojson")
    write_manifest(
        folder,
        '[layers.nbhd]\npath = "neighbourhoods.geojson"\ncode = "code"\n'
        '[layers.ward]\npath = "wards.geojson"\ncode = "code"\n'
        '[[nesting]]\nchild = "nbhd"\nparent = "ward"\ntolerance = 0.01\n',
    )
    (root / "README.md").write_text("not boundaries\n")
    (root / "notes.json").write_text("{}\n")  # a JSON file in no boundary set
    return root


def _run_like_pre_commit(root: Path, changed: list[str]) -> subprocess.CompletedProcess[str]:
    hook = _hook()
    pattern = re.compile(hook["files"])
    files = [f for f in changed if pattern.search(f)]
    assert files, "the hook's files pattern must select boundary files"
    cmd = shlex.split(hook["entry"]) + (files if hook.get("pass_filenames", True) else [])
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env, timeout=300)


def test_hook_definition():
    hook = _hook()
    assert hook["id"] == "localitygeo-validate"
    assert hook["language"] == "python"
    assert shlex.split(hook["entry"])[:2] == ["localitygeo", "validate"]
    pattern = re.compile(hook["files"])
    assert pattern.search("boundaries/city/boundaries.toml")
    assert pattern.search("boundaries/city/wards.geojson")
    assert not pattern.search("README.md")


def test_hook_fails_commit_with_straddling_units(tmp_path):
    root = _boundary_repo(tmp_path, straddle=True)
    res = _run_like_pre_commit(
        root, ["boundaries/city/wards.geojson", "boundaries/city/boundaries.toml", "README.md"]
    )
    assert res.returncode == 1, res.stderr
    assert "not-nested" in res.stdout
    assert res.stdout.count("FAILED") == 1  # two changed files, one set, validated once


def test_hook_passes_clean_set_and_ignores_loose_files(tmp_path):
    root = _boundary_repo(tmp_path, straddle=False)
    res = _run_like_pre_commit(root, ["boundaries/city/neighbourhoods.geojson", "notes.json"])
    assert res.returncode == 0, res.stdout + res.stderr
    assert "notes.json belongs to no boundary set" in res.stderr


def test_action_runs_validate_with_annotations_and_junit():
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    script = "\n".join(s.get("run", "") for s in action["runs"]["steps"])
    assert "localitygeo validate" in script
    assert "--format github" in script and "--junit" in script
    assert set(action["inputs"]) >= {"path", "junit"}


def test_action_command_writes_annotations_and_junit(tmp_path):
    root = _boundary_repo(tmp_path, straddle=True)
    junit = tmp_path / "junit.xml"
    res = subprocess.run(
        [
            str(BIN / "localitygeo"),
            "validate",
            "boundaries/city",
            "--format",
            "github",
            "--junit",
            str(junit),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 1
    assert res.stdout.startswith("::error file=")
    assert "<failure" in junit.read_text()
