"""Phase retrieval on held-out simulated TEM images: a U-Net from one image against Gerchberg-Saxton from two.

Usage::

    .venv/bin/python benchmarks/phase_retrieval.py            # full size: the sizes of tutorial 11
    ML4EM_QUICK=1 .venv/bin/python benchmarks/phase_retrieval.py

The set-up is tutorial 11's: 300 kV, Cs = 10 µm, a 25 mrad aperture, 48 x 48 pixels of 0.25 Å, images at 100 Å and
300 Å underfocus with Poisson noise at 5e3 electrons per Å^2. The phase to recover is the true phase within the
aperture (what any method can recover), compared by :func:`ml4em.phase.phase_error` (RMS after removing the global
offset, rad). The methods:

- ``unet``: :class:`ml4em.phase.PhaseNet` trained on simulated graphene images at the first defocus (one image);
- ``gs``: :func:`ml4em.phase.gerchberg_saxton` on both images (two), at its best: the number of iterations and the
  pure-phase constraint are chosen on validation images (with noise its error rises after a few iterations);
- ``flat``: a flat phase, for scale.

Test sets: graphene (the training domain), graphene of 3 layers and WS2 (domain gap), disjoint seeds from training
and validation. Figures printed (the last line is one JSON object): mean phase error of each method on each test set
and its standard error, the ratio ``unet / gs`` in domain, ``unet_beats_gs`` (in domain), the chosen GS settings,
the training time and the time per image of each method.
"""

import argparse
import json
import time

import numpy as np

from ml4em import by_mode, is_quick, phase

BEAM_ENERGY, CS, APERTURE = 300.0, 1e5, 25.0
SHAPE, SAMPLING, DEFOCI, DOSE = (48, 48), 0.25, (100.0, 300.0), 5e3
DOMAINS = {"graphene": dict(material="graphene", n_layers=1),
           "graphene_3_layers": dict(material="graphene", n_layers=3),
           "WS2": dict(material="WS2", n_layers=1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=by_mode(full=800, quick=120))
    parser.add_argument("--epochs", type=int, default=by_mode(full=8, quick=2))
    parser.add_argument("--n-val", type=int, default=by_mode(full=12, quick=4))
    parser.add_argument("--n-test", type=int, default=by_mode(full=100, quick=10))
    args = parser.parse_args(argv)

    import keras

    keras.utils.set_random_seed(0)
    transfers = np.stack([phase.transfer_function(SHAPE, SAMPLING, beam_energy=BEAM_ENERGY, defocus=f, cs=CS,
                                                  aperture=APERTURE) for f in DEFOCI])
    passband = np.abs(transfers[0]) > 0

    def within_aperture(phi):
        return np.real(np.fft.ifft2(np.fft.fft2(phi) * passband))

    def focal_pair(phi, seed):
        return np.stack([phase.simulate_images(phi, H, dose=DOSE, sampling=SAMPLING, seed=seed + j)
                         for j, H in enumerate(transfers)], axis=1)

    def gs(pairs, n_iter, pure):
        return np.array([np.angle(phase.gerchberg_saxton(p, transfers, n_iter=n_iter, pure_phase=pure))
                         for p in pairs])

    # Gerchberg-Saxton at its best: settings chosen on validation images
    val = phase.make_phase_objects(args.n_val, shape=SHAPE, sampling=SAMPLING, seed=3)
    val_pairs = focal_pair(val, seed=30)
    scores = {(n, pure): float(np.mean(phase.phase_error(gs(val_pairs, n, pure), within_aperture(val))))
              for n in (1, 2, 3, 5, 10, 20, 40) for pure in (False, True)}
    n_iter, pure = min(scores, key=scores.get)
    print(f"Gerchberg-Saxton on validation images: best {n_iter} iterations, pure_phase={pure} "
          f"({scores[(n_iter, pure)]:.4f} rad)", flush=True)

    train = phase.make_phase_objects(args.n_train, shape=SHAPE, sampling=SAMPLING, seed=1)
    train_images = phase.simulate_images(train, transfers[0], dose=DOSE, sampling=SAMPLING, seed=10)
    net = phase.PhaseNet(filters=8, depth=2, epochs=args.epochs, batch_size=32, seed=0)
    net.fit(train_images, within_aperture(train), monitor=False)
    print(f"U-Net trained in {net.train_seconds_:.1f} s on {args.n_train} images, {args.epochs} epochs", flush=True)

    result = {"benchmark": "phase_retrieval", "quick": is_quick(), "dose_e_per_A2": DOSE, "n_test": args.n_test,
              "n_train": args.n_train, "epochs": args.epochs, "gs_n_iter": n_iter, "gs_pure_phase": pure,
              "train_s": round(net.train_seconds_, 2)}
    for name, spec in DOMAINS.items():
        truth = phase.make_phase_objects(args.n_test, shape=SHAPE, sampling=SAMPLING, seed=2, **spec)
        target = within_aperture(truth)
        pairs = focal_pair(truth, seed=20)
        t0 = time.perf_counter()
        unet_phase = net.predict(pairs[:, 0])
        unet_s = (time.perf_counter() - t0) / args.n_test
        t0 = time.perf_counter()
        gs_phase = gs(pairs, n_iter, pure)
        gs_s = (time.perf_counter() - t0) / args.n_test
        errors = {"unet": phase.phase_error(unet_phase, target), "gs": phase.phase_error(gs_phase, target),
                  "flat": phase.phase_error(np.zeros_like(target), target)}
        for method, e in errors.items():
            result[f"{name}_{method}_rad"] = round(float(e.mean()), 5)
            result[f"{name}_{method}_sem_rad"] = round(float(e.std(ddof=1) / np.sqrt(len(e))), 5)
        if name == "graphene":
            result["unet_ms_per_image"] = round(1e3 * unet_s, 3)
            result["gs_ms_per_image"] = round(1e3 * gs_s, 3)
        print(f"{name:>18}: U-Net {errors['unet'].mean():.4f} rad, Gerchberg-Saxton {errors['gs'].mean():.4f} rad, "
              f"flat {errors['flat'].mean():.4f} rad", flush=True)
    result["unet_over_gs_in_domain"] = round(result["graphene_unet_rad"] / result["graphene_gs_rad"], 3)
    result["unet_beats_gs"] = bool(result["graphene_unet_rad"] < result["graphene_gs_rad"])
    result["domain_gap_WS2_unet_over_gs"] = round(result["WS2_unet_rad"] / result["WS2_gs_rad"], 3)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
