"""Every notebook runs top to bottom, and is stored without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}: outputs must be stripped before commit"
            assert cell.execution_count is None


@pytest.mark.parametrize("where", ["root", "folder"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, where, shared_data, tmp_path, monkeypatch):
    # From the repository root (as CI and nbmake run them) and from notebooks/
    # (as someone who opens Jupyter there does): each notebook finds the root.
    cwd = REPO if where == "root" else REPO / "notebooks"
    if (
        where == "folder"
        and Path(shared_data).resolve() == (REPO.parent / "shared" / "data").resolve()
    ):
        monkeypatch.delenv("LOCALITYGEO_DATA", raising=False)  # the notebook's own default
    else:
        monkeypatch.setenv("LOCALITYGEO_DATA", str(shared_data))
    monkeypatch.setenv("LOCALITYGEO_OUT", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.get("output_type") == "error"
    ]
    assert not errors
