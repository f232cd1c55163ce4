"""What the replica method gains: band-gap errors of classical ZLP subtractions and of the replicas, on a known truth.

Usage::

    .venv/bin/python benchmarks/classical.py                  # 32 replicas per case, about 4 min on 2 busy cores
    .venv/bin/python benchmarks/classical.py --n-replicas 16  # about 2 min

Synthetic spectra (:func:`ml4em.datasets.make_lowloss_spectrum`): the
specimen of ``tests/test_eels_known_truth.py`` (band gap 1.6 eV, exponent
1.5, strong onset, ZLP tail weight 0.005) on an axis from -2 to 20 eV, at
the dispersions 0.005, 0.01, 0.025 and 0.05 eV/channel and ZLP FWHMs of 0.1
and 0.45 eV; 5 sample spectra and 3 vacuum spectra per case (the vacuum
ZLP has the same shape as the specimen's, which favours the vacuum method:
real specimens broaden the peak).

Every method subtracts a ZLP from the mean sample spectrum and the band gap
is fitted by :func:`ml4em.eels.fit_band_gap` in the same window, the
default of the replica pipeline (:func:`ml4em.eels.default_window`:
``(FWHM + dE1) / 2`` to ``E_min + 1 eV``), with ``dE1, dE2`` from
:func:`ml4em.eels.choose_regions`:

- ``replicas``: :class:`ml4em.eels.ZLPEnsemble` with ``--n-replicas``
  (seeded) and :func:`ml4em.eels.subtract_zlp`, the chain of
  ``tests/test_eels_known_truth.py`` and ``ml4em zlp``; the median over
  replicas and its 68% interval;
- ``power_law``: :func:`ml4em.eels.classical.subtract_power_law`, least
  squares, window ``(1.5 FWHM, dE1)`` (beyond the Gaussian core, below where
  the inelastic signal starts by the replica method's own rule);
- ``power_law_2area``: the same, hyperspy's two-area estimate only;
- ``reflected``: :func:`ml4em.eels.classical.subtract_reflected_tail`;
- ``vacuum``: :func:`ml4em.eels.classical.subtract_scaled_vacuum` with the
  mean vacuum spectrum.

``truth_fit`` is the same fit to the true (noise-free) inelastic signal: the
bias of the window and of the model ``A (E - E_BG)^b`` alone. Errors are
fitted minus true band gap (1.6 eV), in meV. A method that fails (an error
raised) is reported as null. The last line is one JSON object.
"""

import argparse
import json
import os
import time

import numpy as np

from ml4em.datasets import energy_axis, make_lowloss_spectrum
from ml4em.eels import (ZLPEnsemble, choose_regions, default_window, first_local_minimum, fit_band_gap, fwhm,
                        subtract_zlp)
from ml4em.eels.classical import subtract_power_law, subtract_reflected_tail, subtract_scaled_vacuum

BAND_GAP = 1.6
SCALES = (0.005, 0.01, 0.025, 0.05)
FWHMS = (0.1, 0.45)
SPECIMEN = dict(zlp_tail=0.005, band_gap=BAND_GAP, gap_strength=1000.0)
METHODS = ("truth_fit", "replicas", "power_law", "power_law_2area", "reflected", "vacuum")


def run_case(scale, peak_fwhm, *, n_replicas, seed):
    """Band gaps (eV) of every method for one dispersion and ZLP width."""
    e = energy_axis(-2.0, scale, int(round(22.0 / scale)) + 1)
    sample = make_lowloss_spectrum(e, n_spectra=5, zlp_fwhm=peak_fwhm, seed=seed, **SPECIMEN)
    vacuum = make_lowloss_spectrum(e, n_spectra=3, zlp_fwhm=peak_fwhm, zlp_tail=SPECIMEN["zlp_tail"],
                                   t_over_lambda=1e-6, seed=seed + 1000)
    mean = sample.counts.mean(axis=0)
    dE1, dE2 = choose_regions(e, sample.counts, vacuum.counts)
    width = float(fwhm(e, mean))
    window = default_window(dE1, width, first_local_minimum(e, sample.counts))
    gaps, extra = {}, {"dE1": dE1, "dE2": dE2, "fwhm": width, "window": list(window)}

    def gap_of(inelastic):
        return float(np.median(fit_band_gap(e, inelastic, window=window).band_gap))

    gaps["truth_fit"] = gap_of(sample.inelastic)
    start = time.perf_counter()
    zlp = ZLPEnsemble(n_replicas, dE1=dE1, dE2=dE2, n_jobs=1, progress=False, seed=seed)
    zlp.fit(e, sample.counts, vacuum.counts)
    inelastic = subtract_zlp(e, mean, zlp.predict(e), dE1=zlp.dE1_, dE2=zlp.dE2_)
    band = fit_band_gap(e, inelastic, window=window).summary()["band_gap"]
    gaps["replicas"] = float(band.median)
    extra["replicas_68"] = [float(band.low), float(band.high)]
    extra["replicas_68_covers_truth"] = bool(band.low <= BAND_GAP <= band.high)
    extra["replicas_s"] = time.perf_counter() - start
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-replicas", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    load = [os.getloadavg()[0]]
    rows = []
    for scale in SCALES:
        for peak_fwhm in FWHMS:
            gaps, extra = run_case(scale, peak_fwhm, n_replicas=args.n_replicas, seed=args.seed)
            rows.append({"scale": scale, "zlp_fwhm": peak_fwhm, "band_gap": gaps,
                         "error_meV": {k: (None if v is None else round(1000 * (v - BAND_GAP), 1))
                                       for k, v in gaps.items()}, **extra})
    load.append(os.getloadavg()[0])
    header = f"{'eV/ch':>6} {'FWHM':>5} {'window (eV)':>13} " + " ".join(f"{m:>15}" for m in METHODS)
    print(f"band-gap error, meV (fitted - {BAND_GAP} eV); replicas: {args.n_replicas}, seed {args.seed}")
    print(header)
    for r in rows:
        cells = " ".join(f"{'failed' if r['error_meV'][m] is None else r['error_meV'][m]:>15}" for m in METHODS)
        covered = "yes" if r["replicas_68_covers_truth"] else "no"
        low, high = r["replicas_68"]
        print(f"{r['scale']:>6} {r['zlp_fwhm']:>5} {r['window'][0]:>6.2f}-{r['window'][1]:<6.2f} {cells}"
              f"   replicas 68%: {low:.3f}-{high:.3f} eV, covers 1.6: {covered}")
    mean_abs = {m: round(float(np.mean([abs(r["error_meV"][m]) for r in rows if r["error_meV"][m] is not None])), 1)
                for m in METHODS}
    print(f"{'mean |error|':>26} " + " ".join(f"{mean_abs[m]:>15}" for m in METHODS))
    for fw in FWHMS:
        sub = {m: round(float(np.mean([abs(r["error_meV"][m]) for r in rows
                                       if r["zlp_fwhm"] == fw and r["error_meV"][m] is not None])), 1)
               for m in METHODS}
        print(f"{'mean |error| FWHM ' + str(fw):>26} " + " ".join(f"{sub[m]:>15}" for m in METHODS))
    best = {f"{r['scale']}/{r['zlp_fwhm']}": min((m for m in METHODS[1:] if r["error_meV"][m] is not None),
                                                key=lambda m: abs(r["error_meV"][m])) for r in rows}
    print(f"closest to the truth per case (eV/ch / FWHM): {best}")
    print(json.dumps({"benchmark": "classical", "band_gap_true": BAND_GAP, "n_replicas": args.n_replicas,
                      "seed": args.seed, "mean_abs_error_meV": mean_abs, "best_per_case": best,
                      "replicas_68_coverage": sum(r["replicas_68_covers_truth"] for r in rows), "cases": rows,
                      "wall_s": round(time.perf_counter() - start, 1), "load_avg": load}))


if __name__ == "__main__":
    main()
