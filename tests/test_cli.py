"""The ml4em command line: data cache management and argument errors."""

import subprocess
import sys

import pytest

from ml4em.cli import main


def test_data_path(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ML4EM_DATA_DIR", str(tmp_path))
    assert main(["data", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path)


def test_data_download_from_mirror(real_data_dir, capsys):
    assert main(["data", "download", "--quiet"]) == 0
    assert "9 file(s) ready" in capsys.readouterr().out


def test_data_download_offline_fails_clearly(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ML4EM_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("ML4EM_DATA_URL", "http://127.0.0.1:9/")
    assert main(["data", "download", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "ML4EM_DATA_DIR" in err and "ml4em data download" in err


def test_help_and_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "ml4em", "--help"], capture_output=True, text=True, check=True)
    assert "grade-check" in out.stdout and "data" in out.stdout
    assert main([]) == 2


def test_bad_subcommand_exits_with_usage():
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
