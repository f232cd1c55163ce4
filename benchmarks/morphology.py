"""Nanoparticle morphology on simulated TEM images: GA-tuned segmentation against defaults, BIC, GMM against K-means.

Usage::

    .venv/bin/python benchmarks/morphology.py            # full size: the images of tutorial 12
    ML4EM_QUICK=1 .venv/bin/python benchmarks/morphology.py

The images are those of tutorials/12_nanoparticle_morphology (``ml4em.morphology.simulate_particles``, 40
particles of four shapes in 256 x 256 pixels, a third in contact, blur 1 pixel, 200 electrons per pixel): training
images with seeds 100, 101, ..., test images with seeds 200, 201, ..., survey images with seeds 300, 301, ...

Figures printed (the last line is one JSON object; everything is measured):

- ``f1_default``, ``f1_tuned``: mean segmentation F1 (particles matched with IoU >= 0.5) on the test images with
  :data:`ml4em.morphology.DEFAULT_PARAMS` and with the parameters a genetic algorithm (``ml4em.ga``) found on the
  training images; ``tuned_beats_default``.
- ``bic_k``: the number of components with the lowest BIC (K = 1..7) for the isolated particles of the test images
  segmented with the tuned parameters; ``true_k`` = 4; ``bic_picks_true_k``.
- ``ari_gmm``, ``ari_kmeans``: adjusted Rand index against the true classes of the Gaussian mixture with ``bic_k``
  components and of K-means with as many clusters (the baseline); ``ari_gmm_at_least_0.9``.
- ``n_particles_survey``, ``n_until_stable``: particles classified in the survey, and the smallest n from which on
  the class fractions stay within 2 percentage points of their final values (Lee et al., ACS Nano 14, 17125
  (2020), doi:10.1021/acsnano.0c06809, asked this question).
- ``seconds``: wall time of the whole benchmark.

Quick mode (``ML4EM_QUICK=1``) is a smoke run of the same code: 40 evaluations on 2 training images are too few
for the genetic algorithm to beat the defaults, and its figures do not meet the targets; the targets are for the
full size.
"""

import json
import time

import numpy as np

from ml4em import by_mode
from ml4em import morphology as mo


def main():
    t0 = time.perf_counter()
    n_train, n_test, n_survey = by_mode(full=4, quick=2), 6, by_mode(full=24, quick=6)
    budget, population = by_mode(full=100, quick=40), by_mode(full=12, quick=10)
    train = [mo.simulate_particles(40, seed=100 + i) for i in range(n_train)]
    test = [mo.simulate_particles(40, seed=200 + i) for i in range(n_test)]

    result = mo.tune_segmentation(train, n_evaluations=budget, population_size=population, seed=0)
    on_test = mo.SegmentationFitness(test)
    f1_default, f1_tuned = on_test(mo.DEFAULT_PARAMS), on_test(result.best_genome)
    print(f"segmentation F1 on {n_test} test images: default {f1_default:.4f}, GA-tuned {f1_tuned:.4f} "
          f"(tuned on {n_train} training images, {budget} evaluations)")
    print("tuned parameters:", {k: round(v, 3) if isinstance(v, float) else v for k, v in result.best_genome.items()})

    table, truth = mo.measure_particles(test, result.best_genome)
    keep = truth >= 0
    X, y = mo.feature_matrix(table[keep]), truth[keep]
    k_values = list(range(1, 8))
    bic_k, bic, gmm = mo.select_n_classes(X, k_values, seed=0)
    ari_gmm = mo.adjusted_rand(y, gmm.predict(X))
    ari_km = mo.adjusted_rand(y, mo.kmeans_classes(X, bic_k, seed=0))
    print(f"{keep.sum()} isolated particles matched of {len(truth)} regions; BIC per K {np.round(bic, 1).tolist()}")
    print(f"BIC picks K = {bic_k} (true {len(mo.SHAPES)}); ARI: Gaussian mixture {ari_gmm:.4f}, K-means {ari_km:.4f}")

    survey = [mo.simulate_particles(40, seed=300 + i) for i in range(n_survey)]
    survey_table, _ = mo.measure_particles(survey, result.best_genome)
    Z = mo.feature_matrix(np.r_[table[keep], survey_table])
    classes = mo.select_n_classes(Z, [bic_k], seed=0)[2].predict(Z)
    n_stable = mo.n_until_stable(classes, bic_k, tolerance=0.02)
    print(f"survey: {len(classes)} particles, fractions {np.round(np.bincount(classes) / len(classes), 3).tolist()}, "
          f"within 2 percentage points from n = {n_stable}")

    out = {"f1_default": round(f1_default, 4), "f1_tuned": round(f1_tuned, 4),
           "tuned_beats_default": bool(f1_tuned > f1_default), "bic_k": int(bic_k), "true_k": len(mo.SHAPES),
           "bic_picks_true_k": bool(bic_k == len(mo.SHAPES)), "ari_gmm": round(ari_gmm, 4),
           "ari_kmeans": round(ari_km, 4), "ari_gmm_at_least_0.9": bool(ari_gmm >= 0.9),
           "n_particles_survey": int(len(classes)), "n_until_stable": int(n_stable),
           "seconds": round(time.perf_counter() - t0, 1)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
