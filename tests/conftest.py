"""Shared fixtures. The suite runs in quick mode with static widgets and the real data from the local mirror."""

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # no display in tests

ROOT = Path(__file__).resolve().parents[1]
MIRROR = ROOT.parent / "shared" / "data" / "real" / "eelsfitter"

os.environ.setdefault("ML4EM_QUICK", "1")
os.environ.setdefault("ML4EM_STATIC_WIDGETS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if MIRROR.is_dir():
    os.environ.setdefault("ML4EM_DATA_DIR", str(MIRROR))


@pytest.fixture(scope="session")
def repo_root():
    """The repository root (holds tutorials/ and nbgrader_config.py)."""
    return ROOT


@pytest.fixture(scope="session")
def real_data_dir():
    """The folder with the real WS2 spectra (ML4EM_DATA_DIR); skips with the reason when absent."""
    folder = os.environ.get("ML4EM_DATA_DIR", "")
    if not folder or not (Path(folder) / "Specimen_4").is_dir():
        if os.environ.get("CI"):  # CI always has the mirror beside the clone: its absence is a failure
            pytest.fail(f"CI run without the real-data mirror: ML4EM_DATA_DIR={folder!r}")
        pytest.skip(f"the real WS2 spectra are not available: ML4EM_DATA_DIR={folder!r} holds no Specimen_4/; "
                    "set it to a mirror (CI uses ../shared/data/real/eelsfitter) or run `ml4em data download`.")
    return Path(folder)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


# --- shared by tests/test_checks_*.py: the hint a check gives, and that each hint names its own mistake only
def hint_of(check, *args, **kwargs):
    """The hint line of the failure of ``check(*args, **kwargs)`` ('' when the failure gives none)."""
    from ml4em.checks import CheckFailure

    with pytest.raises(CheckFailure) as failure:
        check(*args, **kwargs)
    lines = [line for line in str(failure.value).splitlines() if line.startswith("Hint:")]
    return lines[0] if lines else ""


def assert_hints(cases, keys):
    """Each case gets the hint with its key and none of the other keys (None: a mistake without its own hint)."""
    for label, (call, key) in cases.items():
        hint = call()
        for other in keys:
            if other == key:
                assert other in hint, f"{label}: expected the hint {other!r}, got {hint!r}"
            else:
                assert other not in hint, f"{label}: got the hint {other!r}, which names another mistake: {hint!r}"
