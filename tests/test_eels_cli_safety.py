"""``ml4em zlp`` never destroys or misleads: output folders, implausible spectra, memory, degenerate fits, SIGTERM.

Refusals that must come before the work are shown so: the analysis (``run_zlp``) or the training
(``ZLPEnsemble.fit``) is replaced by a function that fails the test if it is called. Every run that does
train uses 4 replicas.
"""

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from ml4em.datasets import make_lowloss_spectrum, read_spectrum
from ml4em.eels import BandGapFit, MLPShape, ZLPEnsemble
from ml4em.eels import cli as zlp_cli
from ml4em.eels import cli_checks, cli_output, memory, pipeline
from ml4em.eels.cli_output import MARKER

from test_eels_cli import AXIS, files, run  # noqa: F401  (files: the spectra fixture, shared)

FAST = ["--n-replicas", "4", "--dE1", "1.0", "--dE2", "4.0", "--window", "0.8", "2.5", "--quiet"]


@pytest.fixture
def data(files, tmp_path):
    """A fresh copy of the spectra in ``tmp_path/data``: (folder, sample paths, vacuum paths)."""
    folder = tmp_path / "data"
    shutil.copytree(files[0], folder)
    return folder, [str(folder / f"s{i}.txt") for i in range(3)], [str(folder / f"v{i}.txt") for i in range(2)]


@pytest.fixture
def no_analysis(monkeypatch):
    def analysis(*args, **kwargs):
        raise AssertionError("the analysis started although the run should have been refused before it")

    monkeypatch.setattr(zlp_cli, "run_zlp", analysis)


@pytest.fixture
def no_training(monkeypatch):
    def fit(self, *args, **kwargs):
        raise AssertionError("the training started although the run should have been refused before it")

    monkeypatch.setattr(ZLPEnsemble, "fit", fit)


def _refused(argv, capsys, *patterns):
    assert run(argv) == 2, argv
    err = capsys.readouterr().err
    assert err.startswith("ml4em zlp: error:") and err.count("\n") == 1 and "Traceback" not in err, err
    for pattern in patterns:
        assert re.search(pattern, err), (pattern, err)
    return err


def _contents(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------ output folder
@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_out_dot_in_the_data_folder_never_deletes_inputs(data, overwrite, monkeypatch, capsys, no_analysis):
    folder, sample, vacuum = data
    before = _contents(folder)
    monkeypatch.chdir(folder)
    names = [os.path.basename(p) for p in sample]
    _refused([*names, "--vacuum", "v0.txt", "--out", ".", *overwrite, *FAST], capsys,
             r"--out \. is the current folder", "never replaces", "Choose another --out")
    assert _contents(folder) == before  # every input byte for byte, and nothing added


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_out_holding_the_inputs_never_deletes_them(data, tmp_path, overwrite, monkeypatch, capsys, no_analysis):
    folder, sample, vacuum = data
    monkeypatch.chdir(tmp_path)
    before = _contents(tmp_path)
    _refused([*sample, "--vacuum", *vacuum, "--out", "data", *overwrite, *FAST], capsys,
             r"holds 5 input file\(s\) \(sample file .*s0\.txt, sample file .*s1\.txt", "would delete them",
             "Choose another --out")
    (folder / MARKER).write_text(json.dumps({"written_by": "ml4em zlp", "files": os.listdir(folder)}))
    _refused([*sample, "--out", "data", "--overwrite", *FAST], capsys, r"holds 3 input file\(s\)")  # a marker too
    (folder / MARKER).unlink()
    # an ancestor of the inputs, not the current folder
    deep = tmp_path / "deep"
    deep.mkdir()
    shutil.move(folder, deep / "data")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    moved = [str(deep / "data" / os.path.basename(p)) for p in sample]
    _refused([*moved, "--out", str(deep), "--overwrite", *FAST], capsys, r"holds 3 input file\(s\)")
    assert {p.name: b for p, b in _contents(tmp_path).items()} == {p.name: b for p, b in before.items()}


@pytest.mark.parametrize("out, what", [("HOME", "your home folder"), ("..", "a folder that holds the current folder"),
                                       ("/", "the file-system root"), ("~", "your home folder")])
def test_out_is_never_home_root_or_above_the_current_folder(files, tmp_path, out, what, monkeypatch, capsys,
                                                            no_analysis):
    folder, sample, vacuum = files
    home = tmp_path / "home"
    (home / "work" / "here").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home / "work" / "here")
    _refused([*sample, "--out", str(home) if out == "HOME" else out, "--overwrite", *FAST], capsys,
             f"is {what} ", "never replaces this one")
    assert [p.name for p in tmp_path.rglob("*")] == ["home", "work", "here"]


def test_folder_without_marker_is_never_replaced(files, tmp_path, capsys, no_analysis):
    folder, sample, vacuum = files
    out = tmp_path / "result"
    out.mkdir()
    (out / "mine.txt").write_text("do not delete")
    _refused([*sample, "--out", str(out), "--overwrite", *FAST], capsys, "was not written by ml4em zlp",
             re.escape(MARKER), r"delete 1 item\(s\): mine\.txt", "Choose another --out")
    assert (out / "mine.txt").read_text() == "do not delete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]
    (out / "mine.txt").unlink()  # an empty folder loses nothing, but is still replaced only with --overwrite
    _refused([*sample, "--out", str(out), *FAST], capsys, r"exists \(empty\); choose another --out or pass --overwrite")


def test_folder_ml4em_wrote_is_replaced_only_when_nothing_else_is_in_it(files, tmp_path, capsys):
    folder, sample, vacuum = files
    out = tmp_path / "result"
    assert run([*sample, "--out", str(out), *FAST]) == 0
    capsys.readouterr()  # the first run's report (4 replicas may warn about the fit); the refusals follow
    marker = json.loads((out / MARKER).read_text())
    assert marker["written_by"] == "ml4em zlp" and marker["files"] == list(zlp_cli.OUTPUT_FILES)
    (out / "notes.txt").write_text("mine")
    _refused([*sample, "--out", str(out), "--overwrite", *FAST], capsys,
             r"earlier ml4em zlp result and 1 item\(s\) that ml4em zlp did not write \(notes\.txt\)")
    (out / "notes.txt").unlink()
    (out / "zlp.png").unlink()
    (out / "zlp.png").mkdir()  # a folder of that name is not what ml4em wrote
    _refused([*sample, "--out", str(out), "--overwrite", *FAST], capsys, r"did not write \(zlp\.png\)")
    (out / "zlp.png").rmdir()
    (out / MARKER).unlink()  # deleting the marker protects the folder
    _refused([*sample, "--out", str(out), "--overwrite", *FAST], capsys, "was not written by ml4em zlp")
    (out / MARKER).write_text(json.dumps(marker))
    assert run([*sample, "--out", str(out), "--overwrite", "--seed", "3", *FAST]) == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]


def test_unwritable_out_is_refused_before_the_analysis(files, tmp_path, monkeypatch, capsys, no_analysis):
    # Permissions do not stop root (as whom the tests may run), so: the parent of --out is a regular file, and
    # then mkdtemp fails as it does in a folder without write permission (EACCES).
    folder, sample, vacuum = files
    (tmp_path / "afile.txt").write_text("a file")
    _refused([*sample, "--out", str(tmp_path / "afile.txt" / "result"), *FAST], capsys,
             r"afile\.txt is a file, not a folder", "choose an --out in a folder you can write to")

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(cli_output.tempfile, "mkdtemp", read_only)
    _refused([*sample, "--out", str(tmp_path / "new" / "deeper" / "result"), *FAST], capsys,
             r"cannot create a folder in .*deeper \(Permission denied\)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile.txt"]  # the parents it made are gone again


# ------------------------------------------------------------------------------------------ memory
def test_estimate_memory_bytes_by_hand():
    shape = MLPShape(1, (3,))  # 10 parameters, 5 units
    # training 24*5*10 + 8*5^2 = 1400 B < prediction 8*100*5 = 4000 B; results 48*100 = 4800 B
    assert memory.estimate_memory_bytes(2, n_channels=100, n_train=5, shape=shape) == 2 * 8800 + 64 * 2**20
    big = memory.estimate_memory_bytes(2, n_channels=100, n_train=500, shape=shape)
    assert big == 2 * (24 * 500 * 10 + 8 * 10**2 + 4800) + 64 * 2**20  # dual system: min(n_train, n_params)^2


def test_available_memory_is_known_on_linux():
    free, where = memory.available_memory_bytes()
    if free is None:
        pytest.skip("neither a memory limit nor /proc/meminfo on this machine")
    assert free > 0 and where


def test_huge_n_replicas_is_refused_with_the_estimate(files, tmp_path, monkeypatch, capsys, no_training):
    folder, sample, vacuum = files
    if memory.available_memory_bytes()[0] is None:
        pytest.skip("neither a memory limit nor /proc/meminfo on this machine")
    out = tmp_path / "r"
    argv = [*sample, "--vacuum", *vacuum, "--dE1", "1.0", "--dE2", "4.0", "--out", str(out), "--quiet"]
    _refused([*argv, "--n-replicas", str(10**9)], capsys,
             r"--n-replicas 1000000000: the analysis would need about [\d.]+ (PiB|TiB) of memory",
             r"but [\d.]+ [KMGT]iB is available", r"use at most --n-replicas \d+ here")
    seen, check = {}, memory.check_memory

    def spy(n_replicas, **sizes):
        seen.update(sizes)
        return check(n_replicas, **sizes)

    monkeypatch.setattr(pipeline, "check_memory", spy)
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: (2 * 2**30, "in this test"))
    with pytest.raises(AssertionError, match="the training started"):
        run([*argv, "--n-replicas", "4"])
    assert seen["n_channels"] == AXIS.size and seen["shape"] == MLPShape(1, (10, 15, 5))
    per = memory.estimate_memory_bytes(1, **seen) - memory.estimate_memory_bytes(0, **seen)
    most = (2 * 2**30 - 64 * 2**20) // per
    _refused([*argv, "--n-replicas", str(most + 1)], capsys, f"is available in this test; use at most "
             f"--n-replicas {most} here")
    with pytest.raises(AssertionError, match="the training started"):  # within the estimate: it goes on
        run([*argv, "--n-replicas", str(most)])
    assert list(tmp_path.iterdir()) == []


def test_analyse_spectra_names_its_own_argument_when_memory_is_short(monkeypatch, no_training):
    # the library's error names n_replicas= (the command line's names --n-replicas, above); its numbers agree
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: (2 * 2**30, "in this test"))
    rng = np.random.default_rng(0)
    e = np.round(np.arange(-2.0, 8.0, 0.02), 10)
    sample = 1e4 * np.exp(-0.5 * (e / 0.1) ** 2) + 50.0 + rng.normal(0.0, 1.0, (3, e.size))
    with pytest.raises(memory.NotEnoughMemory, match=r"^n_replicas=1000000: .* is available in this test; use at "
                       r"most n_replicas=\d+ here") as info:
        pipeline.analyse_spectra(e, sample, n_replicas=10**6, dE1=1.0, dE2=4.0, window=(1.5, 3.0))
    err = info.value
    assert err.need > err.free == 2 * 2**30 and (err.most + 1) * err.per_replica + memory.BASE_BYTES > err.free
    assert err.most * err.per_replica + memory.BASE_BYTES <= err.free
    assert err.message("--n-replicas").startswith("--n-replicas 1000000: ") and isinstance(err, ValueError)


# ------------------------------------------------------------------------------------------ inputs
def _spike():
    rng = np.random.default_rng(0)
    counts = 5.0 * rng.standard_normal(AXIS.size)
    counts[200] = 1e5
    return counts


BAD = {  # name: (counts from a good sample spectrum, or a file's text; the message)
    "negative": (lambda c: c - 0.2 * c.max(), r"negative counts beyond its noise: \d+ of its 641 channels"),
    "zeros": (lambda c: np.zeros_like(c), "holds only zeros"),
    "constant": (lambda c: np.full_like(c, 100.0), r"is constant \(100 counts in every channel\)"),
    "no_peak": (lambda c: 1000 * np.exp(-(AXIS + 2)), r"no zero-loss peak: its highest channel \(1000 counts at -2 eV"),
    "spike": (lambda c: _spike(), r"wide at half maximum, less than 2 channels .*a spike"),
    "nan": (lambda c: np.where(AXIS > 3, np.nan, c), r"has \d+ NaN or infinite count\(s\)"),
    "single_channel": ("0.0 5.0\n", r"has 1 channel\(s\); ml4em zlp needs at least 64"),
    "missing_channels": (lambda c: c, r"energy axis is not uniform \(steps from 0\.025 to 0\.275 eV"),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("role", ["sample", "vacuum"])
def test_implausible_spectrum_is_refused_naming_the_file(files, tmp_path, case, role, capsys, no_training):
    folder, sample, vacuum = files
    make, message = BAD[case]
    path = tmp_path / f"bad_{case}.txt"
    if isinstance(make, str):
        path.write_text(make)
    else:
        keep = np.ones(AXIS.size, dtype=bool)
        if case == "missing_channels":
            keep[300:310] = False
        np.savetxt(path, np.c_[AXIS, make(np.loadtxt(sample[0])[:, 1])][keep])
    argv = [str(path), *sample[1:], "--vacuum", *vacuum] if role == "sample" else [*sample, "--vacuum", str(path)]
    err = _refused([*argv, "--out", str(tmp_path / "r"), *FAST], capsys, message)
    assert f"{role} file {path}" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_repeated_sample_spectrum_is_refused(files, tmp_path, capsys, no_training):
    folder, sample, vacuum = files
    _refused([sample[0], sample[1], sample[0], "--out", str(tmp_path / "r"), *FAST], capsys,
             r"sample file .*s0\.txt and sample file .*s0\.txt hold identical spectra", "pass each spectrum once")


@pytest.mark.parametrize("axis, message", [
    (np.zeros(AXIS.size), r"energy axis is constant \(every channel at 0 eV\)"),
    (AXIS[::-1], "energy axis does not increase .*flip the spectrum"),
    (np.r_[AXIS[:300], AXIS[300:] - 1.0], "energy axis does not increase .*sort it"),
])
def test_implausible_energy_axis(files, axis, message):
    counts = np.loadtxt(files[1][0])[:, 1]
    with pytest.raises(cli_checks.CLIError, match=message):
        cli_checks.check_spectrum(axis, counts, path="x.dm4", role="sample")


def test_negative_rule_passes_noise_and_refuses_an_offset():
    # vacuum spectra with read noise sigma = 5 counts: negatives from noise, or from a background 0.5 sigma low,
    # pass; a background 10 sigma below zero does not
    v = make_lowloss_spectrum(AXIS, n_spectra=4, zlp_fwhm=0.2, zlp_tail=0.005, t_over_lambda=1e-6, read_noise=5.0,
                              seed=1).counts
    assert np.mean(v < 0) > 0.1  # they do have negative channels
    for row in v:
        cli_checks.check_spectrum(AXIS, row, path="v.txt", role="vacuum")
        cli_checks.check_spectrum(AXIS, row - 2.5, path="v.txt", role="vacuum")
        with pytest.raises(cli_checks.CLIError, match="negative counts beyond its noise"):
            cli_checks.check_spectrum(AXIS, row - 50.0, path="v.txt", role="vacuum")
    # noise-free data with rounding-level negatives pass
    smooth = np.exp(-0.5 * (AXIS / 0.1) ** 2) - 1e-9
    cli_checks.check_spectrum(AXIS, smooth, path="s.txt", role="sample")


def test_real_spectra_pass_every_check(real_data_dir):
    # the WS2 spectra: no false alarm (their vacuum spectra have 9-17% negative channels, all from noise)
    for path in sorted((real_data_dir / "Specimen_4").glob("*.txt")):
        s = read_spectrum(path)
        cli_checks.check_spectrum(s.energy_loss, s.counts, path=str(path), role="sample")


# ------------------------------------------------------------------------------------------ the result
def _fit(gap, b, window=(1.0, 3.0)):
    n = np.size(gap)
    return BandGapFit(band_gap=np.asarray(gap, dtype=float), exponent=np.broadcast_to(b, n).astype(float),
                      amplitude=np.ones(n), chi2=np.ones(n), window=window)


def test_band_gap_warnings():
    rng = np.random.default_rng(0)
    kw = {"window": (1.0, 3.0), "scale": 0.025, "exponent_range": (0.2, 4.0)}
    assert pipeline.band_gap_warnings(_fit(1.6 + 0.02 * rng.standard_normal(20), 1.5), **kw) == []
    (w,) = pipeline.band_gap_warnings(_fit(np.full(20, 1.6), 1.5), **kw)
    assert "68% band of E_BG is 0 eV wide (E_BG = 1.6 eV), less than 0.1 channel" in w and "of the 20 replicas" in w
    (w,) = pipeline.band_gap_warnings(_fit(1.6 + 0.0005 * rng.standard_normal(20), 1.5), **kw)  # prints +-0.000
    assert re.match(r"the 68% band of E_BG is 0\.000\d+ eV wide .*less than 0\.1 channel \(0\.025 eV/channel\)", w)
    # the measured spectrum's noise widens the band; the models alone tell whether the ZLP replicas vary the fit
    noisy = _fit(1.6 + 0.02 * np.random.default_rng(1).standard_normal(20), 1.5)
    whole = float(noisy.summary()["band_gap"].high - noisy.summary()["band_gap"].low)
    (w,) = pipeline.band_gap_warnings(noisy, model_fit=_fit(np.full(20, 1.61), 1.5), **kw)
    assert "the ZLP replicas alone give a 68% band of E_BG 0 eV wide, 0.0% of the band (E_BG = 1.6" in w, w
    unit = np.random.default_rng(2).standard_normal(20)
    unit /= np.quantile(unit, 0.84) - np.quantile(unit, 0.16)  # a band 1 wide
    for share, warned in ((0.99, True), (1.01, False)):
        models = _fit(1.6 + share * pipeline.MODEL_BAND_SHARE * whole * unit, 1.5)
        assert bool(pipeline.band_gap_warnings(noisy, model_fit=models, **kw)) is warned, share
    assert pipeline.band_gap_warnings(noisy, model_fit=noisy, **kw) == []
    (w,) = pipeline.band_gap_warnings(_fit(2.99 + 0.001 * rng.standard_normal(20), 1.5), **kw)
    assert "lies at or beyond an end of the fit window 1-3 eV" in w
    (w,) = pipeline.band_gap_warnings(_fit(0.5 + 0.02 * rng.standard_normal(20), 1.5), **kw)
    assert "lies at or beyond an end" in w
    (w,) = pipeline.band_gap_warnings(_fit(1.6 + 0.02 * rng.standard_normal(20), 4.0), **kw)
    assert "b = 4 sits at a limit of its allowed range 0.2-4" in w
    (w,) = pipeline.band_gap_warnings(_fit(np.full(20, np.nan), 1.5), **kw)
    assert "the band-gap fit failed" in w


def test_degenerate_band_gap_is_reported(files, tmp_path, capsys):
    # the synthetic gap is at 1.6 eV, below this window: the fit can only extrapolate
    folder, sample, vacuum = files
    out = tmp_path / "r"
    assert run([*sample, "--vacuum", *vacuum, "--n-replicas", "4", "--window", "2.4", "4.0", "--out", str(out),
                "--quiet"]) == 0
    captured = capsys.readouterr()
    assert re.search("ml4em zlp: warning: E_BG = .* lies at or beyond an end of the fit window", captured.err)
    assert "UNRELIABLE, see the 1 warning(s) above" in captured.out
    prefix = "ml4em zlp: warning: "
    assert json.loads((out / "summary.json").read_text())["warnings"] == [
        line.removeprefix(prefix) for line in captured.err.splitlines() if line.startswith(prefix)]


# ------------------------------------------------------------------------------------------ SIGTERM
def test_sigterm_mid_run_leaves_nothing(files, tmp_path):
    folder, sample, vacuum = files
    out = tmp_path / "result"
    proc = subprocess.Popen([sys.executable, "-m", "ml4em", "zlp", *sample, "--vacuum", *vacuum, "--n-replicas",
                             "400", "--out", str(out), "--quiet"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".ml4em-zlp-result.partial-*")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the temporary folder never appeared"
            time.sleep(0.05)
        time.sleep(1.0)  # well into reading and training (400 replicas take minutes)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 143, (proc.returncode, stderr)
    assert "ml4em zlp: terminated (SIGTERM); no output written" in stderr and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []  # no .ml4em-* temporary folder, no output folder


def test_sigterm_mid_write_cleans_up_and_restores_the_handler(files, tmp_path, monkeypatch, capsys):
    folder, sample, vacuum = files

    def previous(signum, frame):  # what the test had before; it must be back afterwards and never called
        raise AssertionError("the handler of ml4em zlp was not active")

    def terminated_while_writing(folder_, res, args):
        (folder_ / "zlp_band.csv").write_text("half")
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(200):
            time.sleep(0.01)  # the handler raises here
        raise AssertionError("SIGTERM did not stop the run")

    monkeypatch.setattr(zlp_cli, "_write_outputs", terminated_while_writing)
    old = signal.signal(signal.SIGTERM, previous)
    try:
        assert run([*sample, "--out", str(tmp_path / "new" / "r"), *FAST]) == 143
        assert signal.getsignal(signal.SIGTERM) is previous
    finally:
        signal.signal(signal.SIGTERM, old)
    assert "terminated (SIGTERM)" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_termination_guard_defers_sigterm_over_a_rename():
    done = []
    with cli_output.TerminationGuard() as guard:
        with pytest.raises(cli_output.Terminated):
            with guard.deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                done.append("renamed")  # the block runs to its end first
        with guard.deferred(reraise=False):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
    assert done == ["renamed"]
