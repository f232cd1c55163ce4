"""The lecture notebooks: where they are, their titles, and their execution (once, for site and slides)."""

import os
from contextlib import contextmanager
from pathlib import Path

from .._config import restored_environ

__all__ = ["lecture_paths", "execute_lecture"]


def lecture_paths(course_root="."):
    """The lecture notebooks, ``lectures/*.ipynb``, sorted by name."""
    folder = Path(course_root) / "lectures"
    paths = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if not paths:
        raise FileNotFoundError(f"no lecture notebooks in {str(folder)!r}.")
    return paths


@contextmanager
def _environment(quick):
    with restored_environ("ML4EM_QUICK", "ML4EM_STATIC_WIDGETS", "TF_CPP_MIN_LOG_LEVEL"):
        if quick is not None:
            os.environ["ML4EM_QUICK"] = "1" if quick else "0"
        os.environ["ML4EM_STATIC_WIDGETS"] = "1"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        yield


def execute_lecture(path, *, quick=None, timeout=600):
    """Run a lecture notebook top to bottom and return it with its outputs.

    The kernel runs in the lecture's folder with static widgets; messages that
    the libraries write to stderr (TensorFlow's start-up chatter) are dropped
    from the outputs.

    Parameters
    ----------
    path : path-like
    quick : bool, optional
        Force quick mode on (True) or off (False); default: as the environment says.
    timeout : int, seconds per cell

    Returns
    -------
    nbformat.NotebookNode

    Raises
    ------
    RuntimeError
        When a cell raises; the message names the cell and the error.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    with _environment(quick):
        client = NotebookClient(nb, timeout=int(timeout), kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        except CellExecutionError as err:
            raise RuntimeError(f"lecture {path.name} failed: {str(err)[-1500:]}") from err
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    return nb


def _title(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""

