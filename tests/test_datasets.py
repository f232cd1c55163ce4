"""Data registry, fetching (offline mirror, local HTTP server, failures), the WS2 loader and the readers."""

import functools
import http.server
import shutil
import threading

import numpy as np
import pytest

from ml4em import datasets
from ml4em.datasets import (
    REGISTRY,
    DataUnavailableError,
    file_sha256,
    load_ws2_lowloss,
    parse_energy_range,
    read_spectrum,
)


# ----------------------------------------------------------------------------- registry and mirror
def test_registry_matches_the_mirror(real_data_dir):
    assert len(REGISTRY) == 9
    for name, digest in REGISTRY.items():
        assert file_sha256(real_data_dir / name) == digest, name


def test_registry_urls_are_pinned():
    assert datasets.BASE_URL.startswith("https://raw.githubusercontent.com/LHCfitNikhef/EELSfitter/")
    assert "a757c6aa16a16c41f1aa4a9f9693715658cc5f5e" in datasets.BASE_URL


def test_load_ws2_lowloss_shapes(real_data_dir):
    d = load_ws2_lowloss()
    assert d.energy_loss.shape == (1981,)
    assert d.sample.shape == (6, 1981) and d.vacuum.shape == (3, 1981)
    assert len(d.sample_files) == 6 and len(d.vacuum_files) == 3
    assert all("Vacuum" in f for f in d.vacuum_files) and not any("Vacuum" in f for f in d.sample_files)
    # the ZLP maximum sits at 0 eV exactly (the axis is shifted to that channel)
    assert d.energy_loss[np.argmax(d.sample.mean(axis=0))] == 0.0
    assert np.all(np.argmax(d.sample, axis=1) == np.argmax(d.vacuum[0]))
    np.testing.assert_allclose(d.scale, (45.471 + 4.054) / 1981, rtol=1e-9)  # 0.025 eV/channel
    # counts as published: maxima of the first sample and vacuum spectra (SOURCES.md)
    np.testing.assert_allclose(d.sample[0].max(), 2.3772e6, rtol=1e-4)
    np.testing.assert_allclose(d.vacuum[0].max(), 3.17058e6, rtol=1e-4)


def test_parse_energy_range():
    assert parse_energy_range("Specimen_4/(14)_m4d054eV_45d471eV.txt") == (-4.054, 45.471)
    assert parse_energy_range("(3)_m0d93eV-to-9d07eV.txt") == (-0.93, 9.07)
    with pytest.raises(ValueError, match="does not encode an energy range"):
        parse_energy_range("spectrum.txt")


# ----------------------------------------------------------------------------- fetching
NAME = "Specimen_4/(14)_m4d054eV_45d471eV.txt"


@pytest.fixture
def http_mirror(real_data_dir, tmp_path):
    """A local HTTP server on 127.0.0.1 that serves a copy of the mirror, as the public origin would."""
    root = tmp_path / "served"
    shutil.copytree(real_data_dir / "Specimen_4", root / "Specimen_4")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_offline_without_mirror_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("ML4EM_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("ML4EM_DATA_URL", "http://127.0.0.1:9/")  # nothing listens there: no network
    with pytest.raises(DataUnavailableError, match=r"ML4EM_DATA_DIR.*ml4em data download|ml4em data download"):
        load_ws2_lowloss()
    with pytest.raises(DataUnavailableError) as info:
        datasets.fetch(NAME)
    assert "ML4EM_DATA_DIR" in str(info.value) and "ml4em data download" in str(info.value)
    assert "is missing" in str(info.value)


def test_download_into_empty_cache(tmp_path, monkeypatch, http_mirror):
    monkeypatch.setenv("ML4EM_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ML4EM_DATA_URL", http_mirror)
    paths = datasets.download_all(progressbar=False)
    assert len(paths) == 9
    assert all(file_sha256(p) == REGISTRY[name] for p, name in zip(paths, REGISTRY))
    assert load_ws2_lowloss().sample.shape == (6, 1981)


def test_corrupt_file_is_fetched_again(tmp_path, monkeypatch, http_mirror):
    cache = tmp_path / "cache"
    (cache / "Specimen_4").mkdir(parents=True)
    (cache / NAME).write_text("0 1 2\n")  # wrong content
    monkeypatch.setenv("ML4EM_DATA_DIR", str(cache))
    monkeypatch.setenv("ML4EM_DATA_URL", http_mirror)
    path = datasets.fetch(NAME)
    assert file_sha256(path) == REGISTRY[NAME]


def test_corrupt_file_is_never_used(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "Specimen_4").mkdir(parents=True)
    (cache / NAME).write_text("0 1 2\n")
    monkeypatch.setenv("ML4EM_DATA_DIR", str(cache))
    monkeypatch.setenv("ML4EM_DATA_URL", "http://127.0.0.1:9/")
    with pytest.raises(DataUnavailableError, match="sha256 is .* not the registered .* not used"):
        datasets.fetch(NAME)


def test_fetch_unknown_name():
    with pytest.raises(ValueError, match="not a registered ml4em data file"):
        datasets.fetch("Specimen_4/nothing.txt")


def test_data_dir_default_and_override(monkeypatch, tmp_path):
    monkeypatch.setenv("ML4EM_DATA_DIR", str(tmp_path))
    assert datasets.data_dir() == tmp_path
    monkeypatch.delenv("ML4EM_DATA_DIR")
    assert "ml4em" in str(datasets.data_dir())


# ----------------------------------------------------------------------------- readers
def test_read_two_column_text(tmp_path):
    path = tmp_path / "s.txt"
    energy = np.arange(10) * 0.05 - 0.1
    np.savetxt(path, np.c_[energy, np.arange(10.0)], header="energy_loss counts")
    s = read_spectrum(path)
    np.testing.assert_allclose(s.energy_loss, energy)
    np.testing.assert_allclose(s.counts, np.arange(10.0))
    np.testing.assert_allclose(s.scale, 0.05)


def test_read_csv(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("0.0,5\n0.1,7\n0.2,6\n")
    s = read_spectrum(path)
    np.testing.assert_allclose(s.counts, [5, 7, 6])


def test_read_counts_with_axis_options(tmp_path):
    path = tmp_path / "counts.dat"
    np.savetxt(path, np.arange(5.0)[None])
    s = read_spectrum(path, offset=-1.0, scale=0.5)
    np.testing.assert_allclose(s.energy_loss, [-1.0, -0.5, 0.0, 0.5, 1.0])


def test_read_eelsfitter_file(real_data_dir):
    s = read_spectrum(real_data_dir / NAME)
    assert s.counts.shape == (1981,)
    np.testing.assert_allclose(s.energy_loss[[0, -1]], [-4.054 + 0.0125, 45.471 - 0.0125], atol=1e-9)


def test_read_msa_and_hspy_roundtrip(tmp_path):
    from rsciio import hspy, msa

    counts = np.array([1.0, 4.0, 9.0, 4.0, 1.0])
    axis = {"name": "Energy loss", "units": "eV", "size": 5, "offset": -0.2, "scale": 0.1, "navigate": False}
    signal = {"data": counts, "axes": [axis],
              "metadata": {"General": {"title": "test spectrum"}, "Signal": {"signal_type": "EELS"}},
              "original_metadata": {}, "tmp_parameters": {}, "attributes": {"_lazy": False},
              "package_info": {"name": "ml4em", "version": "test"}, "learning_results": {}, "models": {}}
    msa.file_writer(str(tmp_path / "s.msa"), signal)
    s = read_spectrum(tmp_path / "s.msa")
    np.testing.assert_allclose(s.counts, counts)
    np.testing.assert_allclose(s.energy_loss, [-0.2, -0.1, 0.0, 0.1, 0.2], atol=1e-9)

    image = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5)
    axes = [{"name": "y", "units": "nm", "size": 2, "offset": 0, "scale": 1, "navigate": True},
            {"name": "x", "units": "nm", "size": 3, "offset": 0, "scale": 1, "navigate": True}, axis]
    hspy.file_writer(str(tmp_path / "si.hspy"), {**signal, "data": image, "axes": axes}, show_progressbar=False)
    si = read_spectrum(tmp_path / "si.hspy")
    assert si.counts.shape == (2, 3, 5)
    np.testing.assert_allclose(si.counts, image)


@pytest.mark.parametrize("content, suffix, match", [
    (None, ".txt", "does not exist"),
    (b"", ".txt", "is empty"),
    (b"1 2 3", ".xyz", "does not support"),
    (b"\x00\x01garbage" * 50, ".dm3", "could not read .* as a digitalmicrograph file"),
    (b"\x00\x01garbage" * 50, ".dm4", "could not read"),
    (b"not numbers here\n", ".txt", "not a table of numbers"),
    (b"0 1\n0.1 nan\n0.2 3\n", ".txt", "NaN or infinite"),
    (b"0.2 1\n0.1 2\n0.0 3\n", ".txt", "does not increase"),
    (b"1 2 3\n4 5 6\n7 8 9\n", ".txt", "3 x 3 table"),
    (b"1 2 3 4\n", ".txt", "pass offset= and scale="),
])
def test_read_spectrum_errors(tmp_path, content, suffix, match):
    path = tmp_path / f"bad{suffix}"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises((ValueError, FileNotFoundError), match=match) as info:
        read_spectrum(path)
    assert "bad" in str(info.value)  # the message names the file


def test_read_spectrum_bad_axis_options(tmp_path):
    path = tmp_path / "c.txt"
    np.savetxt(path, np.arange(4.0))
    with pytest.raises(ValueError, match="positive scale"):
        read_spectrum(path, offset=0.0, scale=-1.0)


def test_read_folder(tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        read_spectrum(tmp_path)
