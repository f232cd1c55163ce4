"""``ml4em zlp``: the replica method on a researcher's own spectra.

::

    ml4em zlp SAMPLE_FILE... --vacuum VACUUM_FILE... [--n-replicas N] [--dE1 X] [--dE2 Y] [--out DIR]

Reads the spectra (``.dm3``/``.dm4``/``.msa``/``.hspy`` through RosettaSciIO,
or text; see :func:`ml4em.datasets.read_spectrum`), aligns their zero-loss
peaks to 0 eV, trains the ZLP ensemble on the sample spectra, subtracts it
from their mean and fits the band gap per replica. Writes to ``--out``:

- ``zlp_band.csv``: energy, mean sample spectrum, ZLP model median and 68% band, matched ZLP median and band
- ``subtracted.csv``: energy, subtracted spectrum median and 68% band
- ``band_gap.csv``: E_BG and b, median and 68% interval, with the fit window
- ``results.npz``: all of it per replica (ZLPs, subtracted spectra, fits), the aligned spectra, dE1, dE2
- ``zlp.png``: data with ZLP band, subtracted band, band-gap fit
- ``summary.json``: settings, files, results, timings

The folder appears only when complete: everything is written into a hidden
temporary folder beside it (created first, which also proves that ``--out``
can be written), renamed at the end; a run that fails, is interrupted
(Ctrl-C) or terminated (SIGTERM) leaves neither. Every output folder holds
the marker ``.ml4em-zlp-output``; ``--overwrite`` replaces only a folder with
that marker, nothing in it but what ml4em zlp wrote, and none of the inputs.
Implausible spectra and an ``--n-replicas`` that would not fit in memory are
refused before the work, and a degenerate band-gap fit is reported as a
warning (on stderr and in ``summary.json``). The rules are those of
:mod:`ml4em.eels.cli_checks` and :mod:`ml4em.eels.cli_output`. Exit codes:
0 done (also with warnings), 2 a user error (one message on stderr), 130
interrupted, 143 terminated.

Used in: the README's EELS section and tutorials/08_band_gap.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from . import cli_checks as checks
from . import cli_output as output
from .cli_checks import CLIError

__all__ = ["OUTPUT_FILES", "add_parser", "main", "read_spectra", "run_zlp"]

#: The files of an output folder (besides the marker).
OUTPUT_FILES = ("zlp_band.csv", "subtracted.csv", "band_gap.csv", "results.npz", "zlp.png", "summary.json")
#: The allowed range of the band-gap exponent b.


def add_parser(subparsers):
    """Add the ``zlp`` subcommand to an argparse ``subparsers`` object (called by ``ml4em.cli``)."""
    p = subparsers.add_parser(
        "zlp", help="ZLP subtraction with uncertainties and band gap (the EELS replica method)",
        description="Train an ensemble of ZLP models on Monte Carlo replicas of the sample spectra, subtract the "
        "ZLP from their mean and fit the band gap, all with 68% confidence-level bands (Roest et al., "
        "Ultramicroscopy 222 (2021) 113202).")
    p.add_argument("samples", nargs="+", metavar="SAMPLE_FILE",
                   help="spectra taken in the specimen (at least 2 in all, to estimate their spread)")
    p.add_argument("--vacuum", nargs="+", metavar="VACUUM_FILE", default=None,
                   help="spectra taken in vacuum (used to choose dE2); recommended")
    p.add_argument("--n-replicas", type=int, default=100, help="Monte Carlo replicas (default 100)")
    p.add_argument("--dE1", type=float, default=None, help="end of the ZLP training region, eV (default: automatic)")
    p.add_argument("--dE2", type=float, default=None, help="start of the ZLP-free region, eV (default: automatic)")
    p.add_argument("--window", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                   help="band-gap fit window, eV (default: from (FWHM + dE1)/2 to 1 eV above the first minimum)")
    p.add_argument("--max-chi2", type=float, default=None,
                   help="keep only replicas with chi2 per point at most this (default: keep all)")
    p.add_argument("--uncertainty", choices=["spread", "mean"], default="spread",
                   help="sigma of each channel: spread of the spectra (default) or standard error of their mean")
    p.add_argument("--vacuum-tail", action="store_true",
                   help="also train the ZLP model on the vacuum spectra between dE1 and dE2, scaled to the sample "
                   "(assumes the vacuum ZLP has the sample's shape; needs --vacuum)")
    p.add_argument("--offset", type=float, default=None, help="first-channel energy (eV) for text files without axis")
    p.add_argument("--scale", type=float, default=None, help="dispersion (eV/channel) for text files without axis")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default="zlp-results", help="output folder (default: zlp-results)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output folder that ml4em zlp wrote (never one holding other files)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=main)
    return p


def read_spectra(paths, *, offset=None, scale=None, role="sample"):
    """Read spectra from files onto one energy axis.

    Parameters
    ----------
    paths : list of str
        Each file holds one spectrum or a stack (any number of leading axes).
    offset, scale : float, optional
        Energy axis of text files without one (eV, eV/channel).
    role : str
        ``"sample"`` or ``"vacuum"``, for messages.

    Returns
    -------
    energy_loss : ndarray of shape (n_channels,), eV
    spectra : ndarray of shape (n_spectra, n_channels), counts

    Raises
    ------
    CLIError
        When a file cannot be read, its spectra are implausible
        (:func:`ml4em.eels.cli_checks.check_spectrum`), the energy axes
        differ or two sample spectra are identical.
    """
    from ..datasets import read_spectrum

    axis, first, rows, labels = None, None, [], []
    for path in paths:
        try:
            s = read_spectrum(path, offset=offset, scale=scale)
        except (OSError, ValueError) as err:
            raise CLIError(f"{role} file {path}: {err}") from err
        e = np.asarray(s.energy_loss, dtype=float)
        counts = np.asarray(s.counts, dtype=float).reshape(-1, e.size)
        checks.check_spectrum(e, counts, path=path, role=role)
        if axis is None:
            axis, first = e, path
        elif e.size != axis.size or np.max(np.abs(e - axis)) > 0.01 * abs(axis[1] - axis[0]):
            raise CLIError(f"{role} file {path} has an energy axis of {e.size} channels from {e[0]:.4g} to "
                           f"{e[-1]:.4g} eV, but {first} has {axis.size} channels from {axis[0]:.4g} to "
                           f"{axis[-1]:.4g} eV; all spectra must share one energy axis (same offset, dispersion and "
                           "size). Resample or crop them first.")
        rows.append(counts)
        labels += [f"{role} file {path}" + (f" (spectrum {i})" if counts.shape[0] > 1 else "")
                   for i in range(counts.shape[0])]
    spectra = np.concatenate(rows)
    if role == "sample":
        checks.check_distinct(spectra, labels)
    return axis, spectra


def _check_options(args):
    if args.n_replicas < 2:
        raise CLIError(f"--n-replicas {args.n_replicas}: at least 2 replicas are needed for a band (100 is usual).")
    for name, value in (("--dE1", args.dE1), ("--dE2", args.dE2), ("--max-chi2", args.max_chi2)):
        if value is not None and not (np.isfinite(value) and value > 0):
            raise CLIError(f"{name} {value}: should be a positive number.")
    if args.dE1 is not None and args.dE2 is not None and not args.dE2 > args.dE1:
        raise CLIError(f"--dE2 {args.dE2} should be larger than --dE1 {args.dE1} (eV).")
    if args.window is not None and not args.window[0] < args.window[1]:
        raise CLIError(f"--window {args.window[0]} {args.window[1]}: LOW should be below HIGH (eV).")
    if args.vacuum_tail and not args.vacuum:
        raise CLIError("--vacuum-tail trains on the vacuum spectra between dE1 and dE2; pass them with --vacuum "
                       "VACUUM_FILE... (at least 2 spectra), or leave out --vacuum-tail.")


def run_zlp(sample_paths, vacuum_paths=None, *, n_replicas=100, dE1=None, dE2=None, window=None, max_chi2=None,
            uncertainty="spread", vacuum_tail=False, offset=None, scale=None, seed=0, progress=True):
    """The whole analysis of ``ml4em zlp``, without writing files: read the files, then
    :func:`ml4em.eels.pipeline.analyse_spectra`.

    Returns
    -------
    ml4em.eels.pipeline.SpectrumAnalysis
        Its ``warnings`` list what makes the band gap untrustworthy.

    Raises
    ------
    CLIError
        For implausible inputs and options, and an ``n_replicas`` whose
        memory (:func:`ml4em.eels.memory.check_memory`) is not available;
        all before the training.
    """
    from .memory import NotEnoughMemory
    from .pipeline import analyse_spectra

    e, sample = read_spectra(sample_paths, offset=offset, scale=scale, role="sample")
    if sample.shape[0] < 2:
        raise CLIError(f"the sample files hold {sample.shape[0]} spectrum; at least 2 spectra taken under the same "
                       "conditions are needed to estimate the uncertainty from their spread. Pass more SAMPLE_FILEs.")
    vacuum = None
    if vacuum_paths:
        ev, vacuum = read_spectra(vacuum_paths, offset=offset, scale=scale, role="vacuum")
        if ev.size != e.size or np.max(np.abs(ev - e)) > 0.01 * abs(e[1] - e[0]):
            raise CLIError(f"vacuum file {vacuum_paths[0]} has another energy axis ({ev.size} channels from "
                           f"{ev[0]:.4g} eV) than sample file {sample_paths[0]} ({e.size} channels from {e[0]:.4g} "
                           "eV); all spectra must share one energy axis.")
    try:
        return analyse_spectra(e, sample, vacuum, n_replicas=n_replicas, dE1=dE1, dE2=dE2, window=window,
                               max_chi2=max_chi2, uncertainty=uncertainty, progress=progress, seed=seed,
                               vacuum_tail=vacuum_tail)
    except CLIError:
        raise
    except NotEnoughMemory as err:
        raise CLIError(err.message("--n-replicas")) from err
    except ValueError as err:
        message = str(err).replace("dE1=", "--dE1 ").replace("dE2=", "--dE2 ").replace(
            "pass window=(low, high) in eV", "give --window LOW HIGH")
        if window is not None and "window" in message:
            message = f"--window {window[0]} {window[1]}: {message}"
        raise CLIError(message) from err


def _write_outputs(folder, res, args):
    from .plots import zlp_figure
    from .predict import band

    folder = Path(folder)
    e = res.energy_loss
    zb, mb, ib = band(res.models), band(res.matched), band(res.inelastic)
    np.savetxt(folder / "zlp_band.csv", np.c_[e, res.mean, zb.median, zb.low, zb.high, mb.median, mb.low, mb.high],
               delimiter=",", fmt="%.8g", header="energy_loss_eV,mean_sample_counts,zlp_model_median,zlp_model_low68,"
               "zlp_model_high68,zlp_matched_median,zlp_matched_low68,zlp_matched_high68", comments="")
    np.savetxt(folder / "subtracted.csv", np.c_[e, ib.median, ib.low, ib.high], delimiter=",", fmt="%.8g",
               header="energy_loss_eV,subtracted_median,subtracted_low68,subtracted_high68", comments="")
    fit = res.fit
    s = fit.summary()
    with open(folder / "band_gap.csv", "w") as fh:
        fh.write("quantity,median,low68,high68,units\n")
        fh.write(f"E_BG,{s['band_gap'].median:.6g},{s['band_gap'].low:.6g},{s['band_gap'].high:.6g},eV\n")
        fh.write(f"b,{s['exponent'].median:.6g},{s['exponent'].low:.6g},{s['exponent'].high:.6g},dimensionless\n")
        fh.write(f"window_low,{res.window[0]:.6g},,,eV\nwindow_high,{res.window[1]:.6g},,,eV\n")
    zlp = res.zlp
    np.savez_compressed(folder / "results.npz", energy_loss=e, sample=res.sample,
                        vacuum=np.zeros((0, e.size)) if res.vacuum is None else res.vacuum,
                        zlp_replicas=res.models, matched_zlp_replicas=res.matched,
                        subtracted_replicas=res.inelastic, band_gap=fit.band_gap, exponent=fit.exponent,
                        amplitude=fit.amplitude, fit_chi2=fit.chi2, window=np.array(res.window),
                        chi2=zlp.chi2_, val_chi2=zlp.val_chi2_, kept=res.kept, dE1=zlp.dE1_, dE2=zlp.dE2_)
    fig = zlp_figure(e, res.mean, zb, ib, fit, dE1=zlp.dE1_, dE2=zlp.dE2_,
                     title=f"ml4em zlp: {len(args.samples)} sample file(s), {int(res.kept.sum())} of "
                     f"{len(zlp.chi2_)} replicas")
    fig.savefig(folder / "zlp.png", dpi=120)
    import matplotlib.pyplot as plt

    plt.close(fig)
    summary = {
        "samples": [str(p) for p in args.samples], "vacuum": [str(p) for p in (args.vacuum or [])],
        "n_replicas": len(zlp.chi2_), "n_kept": int(res.kept.sum()), "max_chi2": args.max_chi2,
        "uncertainty": args.uncertainty, "vacuum_tail": bool(args.vacuum_tail), "seed": args.seed,
        "dE1_eV": zlp.dE1_, "dE2_eV": zlp.dE2_,
        "zlp_fwhm_eV": res.peak_fwhm, "window_eV": list(res.window),
        "band_gap_eV": {"median": float(s["band_gap"].median), "low68": float(s["band_gap"].low),
                        "high68": float(s["band_gap"].high)},
        "exponent_b": {"median": float(s["exponent"].median), "low68": float(s["exponent"].low),
                       "high68": float(s["exponent"].high)},
        "val_chi2_median": float(np.median(zlp.val_chi2_)), "training_seconds": zlp.fit_seconds_,
        "iterations": int(zlp.iterations_),
        "zlp_share_at_onset": res.zlp_share, "warnings": res.warnings, "files": list(OUTPUT_FILES),
    }
    with open(folder / "summary.json", "w") as fh:
        json.dump(summary, fh, indent=2)
    return summary


def main(args):
    """Handler of ``ml4em zlp``: check, run, write atomically, print a summary; returns the exit code."""
    out = Path(args.out).expanduser().resolve()
    tmp, created = None, []
    with output.TerminationGuard() as guard:
        try:
            _check_options(args)
            inputs = checks.check_inputs(args.samples, args.vacuum)
            output.check_output_folder(out, given=args.out, inputs=inputs, overwrite=args.overwrite)
            with guard.deferred():
                tmp, created = output.make_temporary_folder(out, given=args.out, files=OUTPUT_FILES)
            start = time.perf_counter()
            res = run_zlp(args.samples, args.vacuum, n_replicas=args.n_replicas, dE1=args.dE1, dE2=args.dE2,
                          window=args.window, max_chi2=args.max_chi2, uncertainty=args.uncertainty,
                          vacuum_tail=args.vacuum_tail, offset=args.offset, scale=args.scale, seed=args.seed, progress=not args.quiet)
            summary = _write_outputs(tmp, res, args)
            with guard.deferred():  # the folder may have changed during the run: check again, then rename
                output.check_output_folder(out, given=args.out, inputs=inputs, overwrite=args.overwrite)
                output.publish(tmp, out)
                tmp, created = None, []
        except CLIError as err:
            print(f"ml4em zlp: error: {err}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as err:
            what = "terminated (SIGTERM)" if isinstance(err, output.Terminated) else "interrupted"
            print(f"ml4em zlp: {what}; no output written.", file=sys.stderr)
            return 143 if isinstance(err, output.Terminated) else 130
        finally:  # failed, interrupted or terminated: leave nothing half-written
            with guard.deferred(reraise=False):
                output.remove_temporary(tmp, created)
    for warning in summary["warnings"]:
        print(f"ml4em zlp: warning: {warning}", file=sys.stderr)
    g, b = summary["band_gap_eV"], summary["exponent_b"]
    print(f"dE1 = {summary['dE1_eV']:.3g} eV, dE2 = {summary['dE2_eV']:.3g} eV; {summary['n_kept']} of "
          f"{summary['n_replicas']} replicas kept; median validation chi2 {summary['val_chi2_median']:.3g}")
    print(f"band gap E_BG = {g['median']:.3f} (+{g['high68'] - g['median']:.3f}, -{g['median'] - g['low68']:.3f}) eV, "
          f"b = {b['median']:.2f} (+{b['high68'] - b['median']:.2f}, -{b['median'] - b['low68']:.2f}) "
          f"[68% CL, window {summary['window_eV'][0]:.2f}-{summary['window_eV'][1]:.2f} eV]"
          + (f" -- UNRELIABLE, see the {len(summary['warnings'])} warning(s) above" if summary["warnings"] else ""))
    print(f"wrote {out} ({', '.join(summary['files'])}) in {time.perf_counter() - start:.0f} s")
    return 0
