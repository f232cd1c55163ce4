"""``ml4em zlp``: outputs, atomic writing, and the error messages for bad input."""

import json

import numpy as np
import pytest

from ml4em.cli import build_parser
from ml4em.datasets import energy_axis, make_lowloss_spectrum
from ml4em.eels import cli as zlp_cli
from ml4em.eels.cli_output import MARKER

AXIS = energy_axis(-2.0, 0.025, 641)


def _write(folder, name, e, counts):
    path = folder / name
    np.savetxt(path, np.c_[e, counts])
    return str(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spectra")
    s = make_lowloss_spectrum(AXIS, n_spectra=3, zlp_fwhm=0.2, zlp_tail=0.005, band_gap=1.6, gap_strength=1000.0,
                              seed=0)
    v = make_lowloss_spectrum(AXIS, n_spectra=2, zlp_fwhm=0.2, zlp_tail=0.005, t_over_lambda=1e-6, seed=1)
    sample = [_write(folder, f"s{i}.txt", AXIS, c) for i, c in enumerate(s.counts)]
    vacuum = [_write(folder, f"v{i}.txt", AXIS, c) for i, c in enumerate(v.counts)]
    return folder, sample, vacuum


def run(argv):
    args = build_parser().parse_args(["zlp", *argv])
    return args.func(args)


def test_zlp_writes_every_output(files, tmp_path, capsys):
    folder, sample, vacuum = files
    out = tmp_path / "result"
    assert run([*sample, "--vacuum", *vacuum, "--n-replicas", "6", "--out", str(out), "--quiet"]) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"zlp_band.csv", "subtracted.csv", "band_gap.csv", "results.npz", "zlp.png", "summary.json", MARKER}
    assert json.loads((out / MARKER).read_text())["files"] == sorted(names - {MARKER}, key=zlp_cli.OUTPUT_FILES.index)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_replicas"] == 6 and summary["dE1_eV"] < summary["dE2_eV"]
    assert summary["warnings"] == []  # a clean synthetic case: no warning about the band gap
    # the synthetic gap is 1.6 eV; with 6 replicas and 3 spectra the median is within 0.1 eV
    assert abs(summary["band_gap_eV"]["median"] - 1.6) < 0.1
    table = np.loadtxt(out / "zlp_band.csv", delimiter=",", skiprows=1)
    assert table.shape == (AXIS.size, 8)
    assert np.all(table[:, 3] <= table[:, 2] + 1e-9) and np.all(table[:, 2] <= table[:, 4] + 1e-9)
    with np.load(out / "results.npz") as r:
        assert r["zlp_replicas"].shape == (6, AXIS.size) and r["band_gap"].shape == (6,)
    assert "band gap E_BG" in capsys.readouterr().out
    assert not list(tmp_path.glob(".ml4em-*"))  # no temporary folder left behind


def test_existing_output_is_kept_unless_overwrite(files, tmp_path, capsys):
    folder, sample, vacuum = files
    out = tmp_path / "result"
    argv = [*sample, "--n-replicas", "4", "--dE1", "1.0", "--dE2", "4.0", "--out", str(out), "--quiet",
            "--window", "0.8", "2.5"]
    assert run(argv) == 0
    first = (out / MARKER).read_text()
    assert run(argv) == 2
    assert "exists (an earlier ml4em zlp result); choose another --out or pass --overwrite" in capsys.readouterr().err
    assert (out / MARKER).read_text() == first
    assert run([*argv, "--overwrite", "--seed", "1"]) == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 1 and (out / MARKER).exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_interrupted_run_leaves_no_output(files, tmp_path, monkeypatch, capsys):
    folder, sample, vacuum = files

    def interrupted(folder_, res, args):
        (folder_ / "zlp_band.csv").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(zlp_cli, "_write_outputs", interrupted)
    out = tmp_path / "new" / "r"  # its parent is made by the run, and removed again
    assert run([*sample, "--n-replicas", "4", "--dE1", "1.0", "--dE2", "4.0", "--out", str(out), "--quiet"]) == 130
    assert "ml4em zlp: interrupted; no output written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # neither the output folder nor the partial one


def test_error_messages(files, tmp_path, capsys):
    folder, sample, vacuum = files
    out = str(tmp_path / "r")
    other_axis = energy_axis(-2.0, 0.05, 300)
    other = _write(folder, "other.txt", other_axis, make_lowloss_spectrum(other_axis, zlp_fwhm=0.2, seed=2).counts[0])
    nan = _write(folder, "nan.txt", AXIS, np.where(AXIS > 3, np.nan, 1.0))
    cases = [
        ([sample[0], other], "other.txt has an energy axis of 300 channels"),
        ([sample[0]], "hold 1 spectrum; at least 2 spectra"),
        ([*sample, "--dE1", "50"], "--dE1 50.0 eV lies beyond the end of the energy axis"),
        ([*sample, "--dE1", "-1"], "--dE1 -1.0: should be a positive number"),
        ([*sample, "--dE1", "2", "--dE2", "1"], "--dE2 1.0 should be larger than --dE1 2.0"),
        ([sample[0], nan], "nan.txt.*NaN or infinite"),
        ([*sample, "--vacuum", other], "vacuum file .*other.txt has another energy axis"),
        ([*sample, "--n-replicas", "1"], "--n-replicas 1: at least 2 replicas"),
        ([*sample, "--window", "3", "1"], "--window 3.0 1.0: LOW should be below HIGH"),
        ([*sample, "--vacuum-tail"], "--vacuum-tail trains on the vacuum spectra .* pass them with --vacuum"),
        ([str(folder / "missing.txt"), *sample], "missing.txt.*does not exist"),
    ]
    for argv, message in cases:
        assert run([*argv, "--out", out, "--quiet"]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("ml4em zlp: error:")
        assert __import__("re").search(message, err), (message, err)
    assert not (tmp_path / "r").exists()


def test_vacuum_tail_option(files, tmp_path, capsys):
    folder, sample, vacuum = files
    out = tmp_path / "tail"
    assert run([*sample, "--vacuum", *vacuum, "--vacuum-tail", "--n-replicas", "6", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["vacuum_tail"] is True and abs(summary["band_gap_eV"]["median"] - 1.6) < 0.1
    plain = tmp_path / "plain"
    assert run([*sample, "--vacuum", *vacuum, "--n-replicas", "6", "--out", str(plain), "--quiet"]) == 0
    assert json.loads((plain / "summary.json").read_text())["vacuum_tail"] is False
    with np.load(out / "results.npz") as a, np.load(plain / "results.npz") as b:
        assert not np.allclose(a["zlp_replicas"], b["zlp_replicas"])  # the option reaches the model
