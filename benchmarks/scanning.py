"""Adaptive partial STEM: the REINFORCE scan policy against raster and random scans at the same dose.

Usage::

    .venv/bin/python benchmarks/scanning.py            # full size: 60 training, 40 held-out images, 150 updates
    ML4EM_QUICK=1 .venv/bin/python benchmarks/scanning.py

The images are simulated ADF-STEM images of crystalline flakes (:func:`ml4em.rl.make_scan_images`, 48 x 48
pixels, 8 x 8 patches of 6 x 6 pixels). The linear softmax policy (:mod:`ml4em.rl.policy`) is trained with
REINFORCE and the group baseline (:func:`ml4em.rl.reinforce`, 8 episodes per update) on the training images at a
dose fraction of 0.25 (16 of 64 patches), and then plays each held-out image once, greedily (the best-scored patch).
The baselines play the same held-out images with the same number of patches: random patches, the sparse raster
(patches evenly spaced along the raster order) and the full raster stopped when the budget is spent (the top rows).
The error is the mean squared error of the fixed reconstructor (:func:`ml4em.rl.reconstruct`) against the
noise-free image, in squared units of the brightest column's intensity. The policy is also evaluated, without
retraining, at dose fractions 0.125 and 0.5.

Figures printed (the last line is one JSON object):

- ``learned``, ``random``, ``raster``, ``raster_full``: mean final error over the held-out images at each dose
  fraction (``dose_<f>`` keys);
- ``gain_vs_random``, ``gain_vs_raster``: 1 - learned / baseline at the training dose (positive: learned is better);
- ``wins_vs_random``: fraction of held-out images on which the learned scan has the lower error;
- ``se_*``: standard error of the mean of each error;
- ``train_s``: training time; ``beats_random``: learned < random at the training dose, by more than two standard
  errors of the paired difference.
"""

import argparse
import json
import time

import numpy as np

from ml4em import by_mode, is_quick, rl


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=by_mode(full=60, quick=15))
    parser.add_argument("--n-test", type=int, default=by_mode(full=40, quick=15))
    parser.add_argument("--n-updates", type=int, default=by_mode(full=150, quick=30))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    clean, noisy = rl.make_scan_images(args.n_train + args.n_test, seed=args.seed)
    train_env = rl.ScanEnv(clean[:args.n_train], noisy[:args.n_train], patch=6, dose_fraction=0.25)
    t0 = time.perf_counter()
    theta, returns = rl.reinforce(train_env, args.n_updates, group_size=8, learning_rate=5.0, seed=args.seed)
    train_s = time.perf_counter() - t0
    print(f"trained {args.n_updates} updates x 8 episodes in {train_s:.1f} s; mean return first/last tenth "
          f"{returns[:max(1, args.n_updates // 10)].mean():.3f} / {returns[-max(1, args.n_updates // 10):].mean():.3f}",
          flush=True)
    print("weights:", {name: round(float(w), 2) for name, w in zip(rl.FEATURE_NAMES, theta)}, flush=True)

    result = {"n_train": args.n_train, "n_test": args.n_test, "n_updates": args.n_updates, "quick": is_quick(),
              "train_s": round(train_s, 1)}
    held_out = range(args.n_test)
    for fraction in (0.25, 0.125, 0.5):
        env = rl.ScanEnv(clean[args.n_train:], noisy[args.n_train:], patch=6, dose_fraction=fraction)
        errors = {"learned": rl.evaluate_scans(env, rl.softmax_policy(theta, 6), held_out, seed=1),
                  "random": rl.evaluate_scans(env, rl.random_policy, held_out, seed=1),
                  "raster": rl.evaluate_scans(env, rl.raster_policy(env), held_out, seed=1),
                  "raster_full": rl.evaluate_scans(env, rl.raster_policy(env, sparse=False), held_out, seed=1)}
        key = f"dose_{fraction:g}"
        line = ", ".join(f"{k} {v.mean():.5f}" for k, v in errors.items())
        print(f"dose fraction {fraction:g} ({env.n_steps} of {env.n_patches} patches): {line}", flush=True)
        result[key] = {k: round(float(v.mean()), 6) for k, v in errors.items()}
        result[key].update({f"se_{k}": round(float(v.std(ddof=1) / np.sqrt(v.size)), 6) for k, v in errors.items()})
        if fraction == 0.25:
            diff = errors["random"] - errors["learned"]
            result["gain_vs_random"] = round(float(1 - errors["learned"].mean() / errors["random"].mean()), 4)
            result["gain_vs_raster"] = round(float(1 - errors["learned"].mean() / errors["raster"].mean()), 4)
            result["wins_vs_random"] = round(float(np.mean(diff > 0)), 3)
            result["beats_random"] = bool(diff.mean() > 2 * diff.std(ddof=1) / np.sqrt(diff.size))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
