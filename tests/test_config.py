"""ml4em._config: the environment helpers that grade-check, student-version and the site builder share."""

import os
import sys
from pathlib import Path

import pytest

from ml4em._config import restored_environ, scripts_on_path


def test_restored_environ_gives_back_values_and_absence_even_after_an_error(monkeypatch):
    monkeypatch.setenv("ML4EM_TEST_SET", "before")
    monkeypatch.delenv("ML4EM_TEST_UNSET", raising=False)
    with pytest.raises(RuntimeError, match="inside"):
        with restored_environ("ML4EM_TEST_SET", "ML4EM_TEST_UNSET"):
            os.environ["ML4EM_TEST_SET"] = "during"
            os.environ["ML4EM_TEST_UNSET"] = "during"
            raise RuntimeError("inside")
    assert os.environ["ML4EM_TEST_SET"] == "before"
    assert "ML4EM_TEST_UNSET" not in os.environ


def test_scripts_on_path_puts_this_pythons_folder_first(monkeypatch):
    monkeypatch.setenv("PATH", "/nowhere")
    with restored_environ("PATH"):
        scripts_on_path()
        first, rest = os.environ["PATH"].split(os.pathsep, 1)
        assert Path(first) == Path(sys.executable).parent
        assert rest == "/nowhere"
    assert os.environ["PATH"] == "/nowhere"
