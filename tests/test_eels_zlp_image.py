"""ml4em zlp-image and ml4em.eels.lazy: a spectral image processed chunk by chunk with dask, resumable."""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

for _module in ("dask", "distributed", "zarr", "hyperspy"):  # the extra ml4em[image]; hyperspy writes the images
    pytest.importorskip(_module)

from ml4em.datasets import make_spectral_image  # noqa: E402
from ml4em.eels import ImageZLP  # noqa: E402
from ml4em.eels import cli_image, cli_output  # noqa: E402
from ml4em.eels.lazy import (ChunkStore, StoreMismatch, open_spectral_image,  # noqa: E402
                             process_spectral_image)

ROOT = Path(__file__).resolve().parents[1]
# tiny settings: the test is about the pipeline and its files, not about the quality of the maps
FAST = dict(n_clusters=3, n_replicas=4, max_spectra=16, seed=0, max_iter=40)
FAST_CLI = ["--clusters", "3", "--n-replicas", "4", "--max-spectra", "16", "--seed", "0", "--max-iter", "40",
            "--scheduler", "synchronous", "--quiet"]
MAP_KEYS = ("band_gap", "band_gap_low", "band_gap_high", "exponent", "fit_ok")


def write_hspy(path, im, *, data=None, units="eV"):
    """Write a synthetic spectral image (or other ``data``) as .hspy with an energy axis in eV and 5 nm pixels."""
    import hyperspy.api as hs

    s = hs.signals.Signal1D(im.counts if data is None else data)
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units, ax.name = float(im.energy_loss[0]), float(im.energy_loss[1] - im.energy_loss[0]), \
        units, "Energy loss"
    for nav in s.axes_manager.navigation_axes:
        nav.scale, nav.units = 5.0, "nm"
    s.save(str(path), overwrite=True)
    return Path(path)


@pytest.fixture(scope="module")
def image():
    return make_spectral_image((16, 16), gap_strength=100.0, seed=0)


@pytest.fixture(scope="module")
def image_file(image, tmp_path_factory):
    return write_hspy(tmp_path_factory.mktemp("img") / "flake.hspy", image)


@pytest.fixture(scope="module")
def reference(image_file):
    """An uninterrupted run, in memory, with 5 x 7-pixel chunks."""
    return process_spectral_image(open_spectral_image(image_file, chunks=(5, 7)), scheduler="synchronous",
                                  progress=False, **FAST)


def run_cli(argv):
    parser = argparse.ArgumentParser(prog="ml4em")
    cli_image.add_parser(parser.add_subparsers())
    args = parser.parse_args(["zlp-image", *argv])
    return args.func(args)


def test_lazy_read_keeps_float32_and_the_axes(image, image_file):
    lazy = open_spectral_image(image_file, chunks=(5, 7))
    assert lazy.counts.dtype == np.float32 and lazy.counts.shape == image.counts.shape
    assert lazy.counts.chunks[:2] == ((5, 5, 5, 1), (7, 7, 2)) and lazy.n_chunks == (4, 3)
    assert lazy.pixel_size == 5.0 and lazy.pixel_units == "nm"
    np.testing.assert_allclose(lazy.energy_loss, image.energy_loss, atol=1e-9)
    np.testing.assert_array_equal(np.asarray(lazy.counts[3:5, 6:9]), image.counts[3:5, 6:9])


def test_chunks_are_whole_chunks_of_the_file(image, tmp_path, reference):
    import h5py
    import hyperspy.api as hs

    s = hs.signals.Signal1D(image.counts)
    ax = s.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = float(image.energy_loss[0]), float(image.energy_loss[1] - image.energy_loss[0]), "eV"
    path = tmp_path / "chunked.hspy"
    s.save(str(path), chunks=(4, 4, image.energy_loss.size))
    with h5py.File(path) as f:
        stored = [d.chunks for d in (f[k] for k in _datasets(f)) if d.ndim == 3]
    assert stored == [(4, 4, image.energy_loss.size)]
    # 5 rounds to 4 (one stored chunk), 7 to 8 (two): no stored chunk is read by two tasks
    lazy = open_spectral_image(path, chunks=(5, 7))
    assert lazy.chunk_shape == (4, 8) and lazy.counts.chunks[:2] == ((4,) * 4, (8, 8))
    assert open_spectral_image(path, chunks=(2, 3)).chunk_shape == (2, 3)  # below the file's chunks: as asked
    got = process_spectral_image(lazy, scheduler="synchronous", progress=False, **FAST)
    for key in MAP_KEYS:  # the maps do not depend on the chunks
        np.testing.assert_allclose(getattr(got.maps, key), getattr(reference.maps, key), atol=1e-9, equal_nan=True)


@pytest.mark.filterwarnings("ignore:The NestedDirectoryStore is deprecated:FutureWarning")  # zarr 2, when hyperspy writes
def test_zspy_reads_as_the_hspy_and_gives_the_same_maps(image, tmp_path, reference, capsys):
    """The same image saved as .zspy (a zarr folder) reads lazily to the same counts and axes, and the CLI gives the
    same maps as from the .hspy."""
    path = write_hspy(tmp_path / "flake.zspy", image)
    assert path.is_dir()  # zspy is a zarr store, not an HDF5 file
    lazy = open_spectral_image(path, chunks=(5, 7))
    assert lazy.counts.dtype == np.float32 and lazy.counts.shape == image.counts.shape
    assert lazy.pixel_size == 5.0 and lazy.pixel_units == "nm"
    np.testing.assert_allclose(lazy.energy_loss, image.energy_loss, atol=1e-9)
    np.testing.assert_array_equal(np.asarray(lazy.counts), image.counts)
    out = tmp_path / "maps"
    assert run_cli([str(path), "--out", str(out), "--chunk", "5", "7", *FAST_CLI]) == 0
    with np.load(out / "maps.npz") as f:
        for key in MAP_KEYS:
            np.testing.assert_allclose(f[key], getattr(reference.maps, key), atol=1e-9, equal_nan=True)
    before = sorted(str(p.relative_to(path)) for p in path.rglob("*"))
    for inside in (path, path / "maps"):  # an --out in (or equal to) the input folder is refused: it would change it
        assert run_cli([str(path), "--out", str(inside), "--overwrite", *FAST_CLI]) == 2
        err = capsys.readouterr().err
        assert "lies inside the input image file" in err and str(path) in err
    assert sorted(str(p.relative_to(path)) for p in path.rglob("*")) == before  # the input is untouched
    assert not list(tmp_path.glob(".ml4em-zlp-*")) and not list(path.glob(".ml4em-zlp-*"))


def _datasets(group, prefix=""):
    import h5py

    for name, item in group.items():
        if isinstance(item, h5py.Dataset):
            yield prefix + name
        else:
            yield from _datasets(item, prefix + name + "/")


def test_band_gap_step_aligns_only_the_channels_it_fits(image_file, reference, monkeypatch):
    import ml4em.eels.lazy as lazy_module

    # the step aligns the channels up to the highest window (+ ALIGN_MARGIN); aligning all of them gives the same maps
    last = int(np.searchsorted(reference.energy_loss, max(w[1] for w in reference.windows.values()))) + 2
    assert last + lazy_module.ALIGN_MARGIN < reference.energy_loss.size  # so the reference took the short path
    monkeypatch.setattr(lazy_module, "ALIGN_MARGIN", 10**6)
    whole = process_spectral_image(open_spectral_image(image_file, chunks=(5, 7)), scheduler="synchronous",
                                   progress=False, **FAST)
    for key in MAP_KEYS:
        np.testing.assert_allclose(getattr(whole.maps, key), getattr(reference.maps, key), atol=1e-9, equal_nan=True)


def test_chunks_are_aligned_as_the_whole_image(image):
    from ml4em.eels import align_zlp
    from ml4em.eels.lazy import align_to_axis

    counts = image.counts.astype(float)
    for y in range(counts.shape[0]):  # ZLPs drifting by up to 5 channels across the image
        counts[y] = np.roll(counts[y], y // 3, axis=-1)
    axis, whole = align_zlp(image.energy_loss, counts)
    for rows in (1, 2, 5, 16):
        for y0 in range(0, 16, rows):
            part = align_to_axis(image.energy_loss, counts[y0:y0 + rows, 3:9], axis)
            np.testing.assert_allclose(part, whole[y0:y0 + rows, 3:9], rtol=0, atol=1e-9 * whole.max())


def test_chunked_maps_equal_the_in_memory_pipeline_and_do_not_depend_on_the_chunks(image_file, image, reference):
    lazy = open_spectral_image(image_file)
    z = ImageZLP(3, n_replicas=4, max_spectra=16, seed=0, max_iter=40, progress=False, n_jobs=1)
    z.fit(lazy.energy_loss, image.counts)
    maps = z.band_gap_maps(image.counts, chunk=1)  # one pixel per fit: the lazy pipeline's per-pixel sigma
    np.testing.assert_allclose(reference.thickness, z.thickness_, atol=1e-12)
    np.testing.assert_array_equal(reference.labels, z.labels_)
    assert reference.dE2 and all(v == z.dE2_ for v in reference.dE2.values())
    for key in MAP_KEYS:
        np.testing.assert_allclose(getattr(reference.maps, key), getattr(maps, key), atol=1e-6, equal_nan=True,
                                   err_msg=key)
    assert np.isfinite(reference.maps.band_gap).sum() > 20  # the specimen pixels have a band gap
    one = process_spectral_image(open_spectral_image(image_file, chunks=(16, 16)), scheduler="synchronous",
                                 progress=False, **FAST)
    for key in MAP_KEYS:
        np.testing.assert_allclose(getattr(one.maps, key), getattr(reference.maps, key), atol=1e-9,
                                   equal_nan=True, err_msg=key)


def test_a_stopped_run_resumes_to_the_same_maps(image_file, reference, tmp_path):
    lazy = open_spectral_image(image_file, chunks=(5, 7))
    store = tmp_path / "store"
    assert process_spectral_image(lazy, store=store, scheduler="synchronous", progress=False, max_chunks=5,
                                  **FAST) is None
    kept = ChunkStore(store, json.loads((store / "settings.json").read_text()), shape=(16, 16), chunks=(5, 7))
    assert kept.done().sum() == 5
    resumed = process_spectral_image(lazy, store=store, scheduler="synchronous", progress=False, **FAST)
    assert resumed.n_fits < reference.n_fits  # the 5 stored chunks were not fitted again
    for key in MAP_KEYS:
        np.testing.assert_array_equal(getattr(resumed.maps, key), getattr(reference.maps, key), err_msg=key)
    with pytest.raises(ValueError, match="needs an integer seed"):
        process_spectral_image(lazy, store=store, scheduler="synchronous", **{**FAST, "seed": None})
    with pytest.raises(StoreMismatch, match="n_replicas"):
        process_spectral_image(lazy, store=store, scheduler="synchronous", progress=False,
                               **{**FAST, "n_replicas": 5})


def test_cli_on_a_cluster_given_by_its_address(image_file, reference, tmp_path):
    from ml4em.eels.lazy import dask_runner

    with dask_runner(None, n_workers=1) as local:  # the default: a LocalCluster of single-threaded processes
        assert local.n_workers_running == 1
        info = local.client.scheduler_info()["workers"]
        assert all(w["nthreads"] == 1 for w in info.values())
        # glibc keeps its adaptive malloc thresholds in the workers (distributed's fixed trim threshold slowed the
        # chunk tasks); the BLAS thread limit stays
        env = local.client.run(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS")))
        assert list(env.values()) == [(None, "1")]
        out = tmp_path / "remote"
        argv = [str(image_file), "--out", str(out), "--chunk", "8", "8", *FAST_CLI]
        assert run_cli([*argv, "--scheduler", local.client.scheduler.address]) == 0  # the last --scheduler counts
    with np.load(out / "maps.npz") as f:
        for key in MAP_KEYS:
            np.testing.assert_allclose(f[key], getattr(reference.maps, key), atol=1e-9, equal_nan=True)
    assert json.loads((out / "summary.json").read_text())["scheduler"].startswith("tcp://")


def test_cli_writes_the_maps_figures_and_summary(image_file, reference, tmp_path, capsys):
    out = tmp_path / "maps"
    assert run_cli([str(image_file), "--out", str(out), "--chunk", "5", "7", *FAST_CLI]) == 0
    assert sorted(os.listdir(out)) == sorted([*cli_image.OUTPUT_FILES, cli_output.MARKER])
    with np.load(out / "maps.npz") as f:
        np.testing.assert_array_equal(f["band_gap"], reference.maps.band_gap)
        np.testing.assert_array_equal(f["cluster"], reference.labels)
        np.testing.assert_allclose(f["band_gap_uncertainty"], reference.maps.uncertainty, equal_nan=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["shape"] == [16, 16, 1981] and summary["pixels_with_band_gap"] > 20
    assert not list(tmp_path.glob(".ml4em-zlp-*"))  # no partial folder left
    assert "wrote" in capsys.readouterr().out
    # a second run refuses to replace it without --overwrite, and replaces it with
    assert run_cli([str(image_file), "--out", str(out), *FAST_CLI]) == 2
    assert "exists" in capsys.readouterr().err


def _done_flags(tmp_path):
    """Completion flags written so far: chunk files of the store's ``done`` array (zarr 2 or 3 layout)."""
    return sum(1 for folder in tmp_path.glob(".ml4em-zlp-*/chunks/maps.zarr/done") for _, _, files in os.walk(folder)
               for name in files if not name.startswith(".") and name != "zarr.json")


def test_cli_terminated_run_keeps_its_chunks_and_resumes(image_file, tmp_path, capsys):
    out = tmp_path / "res"
    argv = [str(image_file), "--out", str(out), "--chunk", "2", "2", *FAST_CLI]
    code = ("import argparse, sys; from ml4em.eels import cli_image; p = argparse.ArgumentParser(); "
            "cli_image.add_parser(p.add_subparsers()); a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")
    proc = subprocess.Popen([sys.executable, "-c", code, "zlp-image", *argv], cwd=ROOT, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 120
    while _done_flags(tmp_path) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 143, err
    assert "kept in" in err and not out.exists()
    partial = cli_image.find_partial(out)
    assert len(partial) == 1 and 3 <= _done_flags(tmp_path) < 64
    assert not (partial[0] / "maps.npz").exists()  # no final map before every chunk is done
    assert run_cli(argv) == 0
    assert "resuming" in capsys.readouterr().err
    assert not cli_image.find_partial(out)
    full = tmp_path / "full"
    assert run_cli([str(image_file), "--out", str(full), "--chunk", "2", "2", *FAST_CLI]) == 0
    with np.load(out / "maps.npz") as a, np.load(full / "maps.npz") as b:
        for key in ("thickness", "cluster", *MAP_KEYS):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


# ----------------------------------------------------------------------------- errors, before any work
def _refused(argv, capsys, pattern):
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert pattern in err, err
    return err


def test_missing_file(tmp_path, capsys):
    _refused([str(tmp_path / "nope.hspy"), "--out", str(tmp_path / "o"), *FAST_CLI], capsys,
             "image file " + str(tmp_path / "nope.hspy") + " does not exist")
    assert not (tmp_path / "o").exists()


def test_not_a_spectral_image(image, tmp_path, capsys):
    line = write_hspy(tmp_path / "line.hspy", image, data=image.counts[0])  # a line of spectra, not an image
    _refused([str(line), "--out", str(tmp_path / "o"), *FAST_CLI], capsys, "no 3-D data")
    text = tmp_path / "spectrum.txt"
    np.savetxt(text, np.c_[image.energy_loss, image.counts[0, 0]])
    _refused([str(text), "--out", str(tmp_path / "o"), *FAST_CLI], capsys, "has type '.txt'")
    lengths = write_hspy(tmp_path / "lengths.hspy", image, units="nm")
    _refused([str(lengths), "--out", str(tmp_path / "o"), *FAST_CLI], capsys, "not an energy loss in eV")
    flat = write_hspy(tmp_path / "flat.hspy", image, data=np.ones((8, 8, 200), dtype=np.float32))
    _refused([str(flat), "--out", str(tmp_path / "o"), *FAST_CLI], capsys, "is constant")
    assert not (tmp_path / "o").exists()


def test_unwritable_out(image_file, tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    _refused([str(image_file), "--out", str(blocker / "out"), *FAST_CLI], capsys, "is a file, not a folder")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli_output.tempfile, "mkdtemp", denied)
    _refused([str(image_file), "--out", str(tmp_path / "o"), *FAST_CLI], capsys, "Permission denied")
    assert not (tmp_path / "o").exists()


def test_out_holding_the_input_is_refused(image_file, tmp_path, capsys):
    err = _refused([str(image_file), "--out", str(image_file.parent), "--overwrite", *FAST_CLI], capsys,
                   "holds 1 input file")
    assert "--out" in err and image_file.exists()


def test_options_and_memory(image_file, tmp_path, capsys):
    out = ["--out", str(tmp_path / "o")]
    _refused([str(image_file), *out, *FAST_CLI, "--n-replicas", "1"], capsys, "--n-replicas 1: should be at least 2")
    _refused([str(image_file), *out, *FAST_CLI, "--clusters", "0"], capsys, "--clusters 0")
    _refused([str(image_file), *out, *FAST_CLI, "--clusters", "300"], capsys, "only 256 pixels")
    _refused([str(image_file), *out, *FAST_CLI, "--window", "3", "1"], capsys, "LOW should be below HIGH")
    err = _refused([str(image_file), *out, *FAST_CLI, "--n-replicas", "100000000"], capsys,
                   "--n-replicas 100000000: the analysis would need about")
    assert "at most --n-replicas" in err
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob(".ml4em-zlp-*"))
