"""Committed notebooks carry no outputs and no execution counts (they are sources, not results)."""

import subprocess

import nbformat
import pytest

from conftest import ROOT


def _tracked_notebooks():
    try:
        out = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True)
        names = [ROOT / line for line in out.stdout.splitlines() if line]
    except (OSError, subprocess.CalledProcessError):
        names = []
    return names or sorted(p for p in ROOT.glob("*/**/*.ipynb") if ".venv" not in p.parts)


NOTEBOOKS = _tracked_notebooks()


def test_notebooks_found():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert dirty == [], f"{path.name}: cells {dirty} have outputs or execution counts; clear them before committing"
