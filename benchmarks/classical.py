"""What the replica method gains, across instruments: band-gap errors of the replica analysis and of classical ZLP
subtractions on a known truth, for a sweep of dispersions and ZLP widths.

Usage::

    .venv/bin/python benchmarks/classical.py                  # 3 seeds x 16 cases, 32 replicas: about 8 min on 2 cores
    .venv/bin/python benchmarks/classical.py --seeds 1 --n-replicas 16

Synthetic spectra (:func:`ml4em.datasets.make_lowloss_spectrum`): the specimen of
``tests/test_eels_known_truth.py`` (band gap 1.6 eV, exponent 1.5, strong onset, ZLP tail weight 0.005) on an
axis from -2 to 20 eV, at the dispersions 0.005, 0.01, 0.025 and 0.05 eV/channel and ZLP FWHMs of 0.05, 0.1,
0.25 and 0.5 eV; 5 sample spectra and 3 vacuum spectra per case and seed (the vacuum ZLP has the same shape as
the specimen's, which favours the vacuum method: real specimens broaden the peak).

``replicas`` is :func:`ml4em.eels.analyse_spectra` with every choice automatic (dE1, dE2, the window), as
``ml4em zlp`` runs it: the median over replicas, its 68% interval, and its warnings (flag R: the ZLP spans too
few channels; Z: the ZLP makes up more than ``MAX_ZLP_SHARE`` of the counts where the onset rises, column
``share``; B: a band narrower than a tenth of a channel; W: another); each replica's ZLP is subtracted from its
own replica of the mean spectrum, so the band carries that spectrum's noise. Every other method subtracts one ZLP
from the mean spectrum and is fitted by :func:`ml4em.eels.fit_band_gap` in the same window:

- ``replicas_vacuum_tail``: the same with ``vacuum_tail=True`` (:class:`ml4em.eels.ZLPEnsemble`): the model is
  also trained on the scaled vacuum spectra between dE1 and dE2. Its flags and coverage are summarised the same
  way. The synthetic vacuum has the specimen's ZLP shape, the assumption of this option, so this sweep shows its
  best case;
- ``power_law``: :func:`ml4em.eels.classical.subtract_power_law`, least squares, window ``(1.5 FWHM, dE1)``
  (beyond the Gaussian core, below where the inelastic signal starts by the replica method's own rule);
- ``power_law_2area``: the same, hyperspy's two-area estimate only;
- ``reflected``: :func:`ml4em.eels.classical.subtract_reflected_tail`;
- ``vacuum``: :func:`ml4em.eels.classical.subtract_scaled_vacuum` with the mean vacuum spectrum.

``truth_fit`` is the same fit to the true (noise-free) inelastic signal: the bias of the window and of the model
``A (E - E_BG)^b`` alone. Errors are fitted minus true band gap (1.6 eV), in meV. A method that fails (an error
raised) is reported as null. Summary: mean |error| per method and per ZLP width, how many replica analyses gave
no warning, how often their 68% band covers the truth (with its exact binomial 95% interval,
``replicas_unflagged_coverage_68_ci95``: a few tens of cases cannot pin it down to better than about +-0.2),
and every case off by more than 50 meV without a warning
(a confident wrong number; the goal is none). The last line is one JSON object.
"""

import argparse
import json
import os
import time

import numpy as np

from ml4em.datasets import energy_axis, make_lowloss_spectrum
from ml4em.eels import fit_band_gap
from ml4em.eels.classical import subtract_power_law, subtract_reflected_tail, subtract_scaled_vacuum
from ml4em.eels.pipeline import analyse_spectra

BAND_GAP = 1.6
SCALES = (0.005, 0.01, 0.025, 0.05)
FWHMS = (0.05, 0.1, 0.25, 0.5)
SPECIMEN = dict(zlp_tail=0.005, band_gap=BAND_GAP, gap_strength=1000.0)
METHODS = ("truth_fit", "replicas", "replicas_vacuum_tail", "power_law", "power_law_2area", "reflected", "vacuum")
REPLICA_METHODS = {"replicas": {}, "replicas_vacuum_tail": {"vacuum_tail": True}}  # analyse_spectra options


def run_case(scale, peak_fwhm, *, n_replicas, seed):
    """Band gaps (eV) of every method for one dispersion and ZLP width."""
    e = energy_axis(-2.0, scale, int(round(22.0 / scale)) + 1)
    sample = make_lowloss_spectrum(e, n_spectra=5, zlp_fwhm=peak_fwhm, seed=seed, **SPECIMEN)
    vacuum = make_lowloss_spectrum(e, n_spectra=3, zlp_fwhm=peak_fwhm, zlp_tail=SPECIMEN["zlp_tail"],
                                   t_over_lambda=1e-6, seed=seed + 1000)
    analyses, seconds = {}, {}
    for name, options in REPLICA_METHODS.items():
        start = time.perf_counter()
        try:
            analyses[name] = analyse_spectra(e, sample.counts, vacuum.counts, n_replicas=n_replicas, n_jobs=1,
                                             seed=seed, **options)
        except ValueError as err:  # the automatic choices refused the case
            return {m: None for m in METHODS}, {f"{name}_error": str(err),
                                                **{f"{n}_warnings": [str(err)] for n in REPLICA_METHODS}}
        seconds[name] = time.perf_counter() - start
    res = analyses["replicas"]
    mean = res.mean
    dE1, dE2, width, window = res.zlp.dE1_, res.zlp.dE2_, res.peak_fwhm, res.window
    gaps, extra = {}, {"dE1": dE1, "dE2": dE2, "fwhm": width, "window": list(window)}

    def gap_of(inelastic):
        return float(np.median(fit_band_gap(e, inelastic, window=window).band_gap))

    gaps["truth_fit"] = gap_of(sample.inelastic)
    for name, analysis in analyses.items():
        band = analysis.band_gap
        gaps[name] = float(band.median)
        extra[f"{name}_68"] = [float(band.low), float(band.high)]
        extra[f"{name}_68_covers_truth"] = bool(band.low <= BAND_GAP <= band.high)
        extra[f"{name}_warnings"] = analysis.warnings
        extra[f"{name}_s"] = seconds[name]
    extra["zlp_share"] = round(res.zlp_share, 3)
    classical = {
        "power_law": lambda: subtract_power_law(e, mean, window=(1.5 * width, dE1)),
        "power_law_2area": lambda: subtract_power_law(e, mean, window=(1.5 * width, dE1), fast=True),
        "reflected": lambda: subtract_reflected_tail(e, mean),
        "vacuum": lambda: subtract_scaled_vacuum(e, mean, vacuum.counts.mean(axis=0)),
    }
    for name, method in classical.items():
        try:
            gaps[name] = gap_of(method().inelastic)
        except ValueError as err:  # e.g. a power-law window with too few channels
            gaps[name] = None
            extra[f"{name}_error"] = str(err)
    return gaps, extra


def _unflagged(rows, name):
    """The analyses of replica method ``name`` that gave no warning: how many, how often their 68% band covers the
    truth (with its exact binomial 95% interval) and which are off by more than 50 meV."""
    clean = [r for r in rows if not r[f"{name}_warnings"]]
    covered = sum(bool(r[f"{name}_68_covers_truth"]) for r in clean)
    ci = None
    if clean:  # exact (Clopper-Pearson) interval: with a few tens of cases it is wide
        from scipy.stats import binomtest

        interval = binomtest(covered, len(clean)).proportion_ci(confidence_level=0.95, method="exact")
        ci = [round(float(interval.low), 3), round(float(interval.high), 3)]
    wrong = [f"seed {r['seed']}, {r['scale']} eV/ch, FWHM {r['zlp_fwhm']} eV: {r['error_meV'][name]} meV"
             for r in clean if abs(r["error_meV"][name]) > 50]
    return {"unflagged": len(clean), "unflagged_coverage_68": round(covered / len(clean), 3) if clean else None,
            "unflagged_coverage_68_ci95": ci, "confident_wrong": wrong}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-replicas", type=int, default=32)
    parser.add_argument("--seeds", type=int, default=3, help="independent data sets per case (default 3)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    load = [os.getloadavg()[0]]
    rows = []
    for seed in range(args.seeds):
        for scale in SCALES:
            for peak_fwhm in FWHMS:
                gaps, extra = run_case(scale, peak_fwhm, n_replicas=args.n_replicas, seed=seed)
                rows.append({"seed": seed, "scale": scale, "zlp_fwhm": peak_fwhm, "band_gap": gaps,
                             "error_meV": {k: (None if v is None else round(1000 * (v - BAND_GAP), 1))
                                           for k, v in gaps.items()}, **extra})
    load.append(os.getloadavg()[0])
    print(f"band-gap error, meV (fitted - {BAND_GAP} eV); replicas: {args.n_replicas}, seeds 0-{args.seeds - 1}; "
          "flag: the replica analysis warned (R resolution, Z ZLP share, B band, other W)")
    print(f"{'seed':>4} {'eV/ch':>6} {'FWHM':>5} {'share':>5} " + " ".join(f"{m:>15}" for m in METHODS)
          + "  flag  68% band (replicas)  flag  68% band (replicas_vacuum_tail)")
    for r in rows:
        cells = " ".join(f"{'failed' if r['error_meV'][m] is None else r['error_meV'][m]:>15}" for m in METHODS)
        bands = []
        for name in REPLICA_METHODS:
            flags = "".join(sorted({"R" if "zero-loss peak is" in w else "Z" if "subtracted ZLP is" in w else
                                    "B" if "68% band" in w else "W" for w in r[f"{name}_warnings"]})) or "-"
            low, high = r.get(f"{name}_68", (np.nan, np.nan))
            bands.append(f"{flags:>4}  {low:.3f}-{high:.3f} eV")
        print(f"{r['seed']:>4} {r['scale']:>6} {r['zlp_fwhm']:>5} {r.get('zlp_share', np.nan):>5.2f} {cells}  "
              + "  ".join(bands))
    ok = [r for r in rows if r["error_meV"]["replicas"] is not None]
    checks = {name: _unflagged(ok, name) for name in REPLICA_METHODS}
    mean_abs = {m: round(float(np.mean([abs(r["error_meV"][m]) for r in ok if r["error_meV"][m] is not None])), 1)
                for m in METHODS}
    print(f"{'mean |error|, all cases':>26} " + " ".join(f"{mean_abs[m]:>15}" for m in METHODS))
    by_fwhm = {}
    for fw in FWHMS:
        by_fwhm[fw] = {m: round(float(np.mean([abs(r["error_meV"][m]) for r in ok
                                               if r["zlp_fwhm"] == fw and r["error_meV"][m] is not None])), 1)
                       for m in METHODS}
        print(f"{'mean |error| FWHM ' + str(fw):>26} " + " ".join(f"{by_fwhm[fw][m]:>15}" for m in METHODS))
    for name, c in checks.items():
        print(f"{name}: analyses without a warning: {c['unflagged']} of {len(rows)}; their 68% bands cover the truth "
              f"in {c['unflagged_coverage_68']} (95% interval {c['unflagged_coverage_68_ci95']}); off by more than 50 meV without a "
              f"warning: {c['confident_wrong'] or 'none'}")
    print(json.dumps({"benchmark": "classical", "band_gap_true": BAND_GAP, "n_replicas": args.n_replicas,
                      "seeds": args.seeds, "mean_abs_error_meV": mean_abs,
                      "mean_abs_error_meV_by_fwhm": {str(k): v for k, v in by_fwhm.items()},
                      **{f"{name}_{key}": value for name, c in checks.items() for key, value in c.items()},
                      "cases": rows,
                      "wall_s": round(time.perf_counter() - start, 1), "load_avg": load}))


if __name__ == "__main__":
    main()
