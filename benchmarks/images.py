"""The image targets of tutorials 04 to 06 at full size: defect finding, partial-scan completion, network search.

Usage::

    .venv/bin/python benchmarks/images.py              # full size (a few minutes on 2 cores)
    ML4EM_QUICK=1 .venv/bin/python benchmarks/images.py
    .venv/bin/python benchmarks/images.py --only cnn   # one part: cnn, gan or ga

All data come from the seeded simulator :func:`ml4em.stem.simulate_stem`
(defaults: WS2-like honeycomb, 64 x 64 pixels of 0.04 nm, 3 % defects,
2e4 e/A^2); training and test images are simulated from different seeds.

Figures printed (the last line is one JSON object):

- CNN (tutorials/04_cnn): ``cnn_f1`` (with ``cnn_precision``, ``cnn_recall``):
  defect detection on 200 held-out images, a found defect within 2 pixels
  (0.08 nm) of a true one counting as a true positive; ``cnn_train_s``: wall
  time of ``DefectFinder.fit`` (2000 images, 10 epochs); ``cnn_f1_by_dose``:
  F1 on fresh images at 2e3 to 1e5 e/A^2. Target: F1 >= 0.9 in < 180 s.
- GAN (tutorials/05_gan): ``gan_psnr_db``, ``interp_psnr_db``, ``gan_ssim``,
  ``interp_ssim`` on 100 held-out images at 10 % coverage along spirals
  (each image scaled so that its scanned pixels span 0 to 1; data range 1);
  ``gan_train_s``: wall time of ``ScanCompleter.fit`` (1000 images, 8 epochs);
  ``mean_psnr_db``, ``mean_ssim``: filling every unscanned pixel with the mean
  of the scanned ones, for scale (at 10 % coverage along spirals, linear
  interpolation is no better than this in PSNR, only in SSIM).
  Target: PSNR >= interpolation + 2 dB, training < 180 s.
- GA (tutorials/06_genetic_algorithms): a genetic algorithm and random
  search spend the same ``evaluations`` on :class:`ml4em.ga.PatchNetFitness`
  (validation accuracy of a small CNN telling defect columns from intact ones
  at 5e3 e/A^2, from its architecture and training settings), two processes,
  for ``--repeats`` seeds: ``ga_best_score`` and ``random_best_score`` are the
  mean best validation accuracies over the seeds (per seed in ``ga_best_by_seed``
  and ``random_best_by_seed``), ``ga_best_genome`` the best network found;
  ``rastrigin_ga_best`` and ``rastrigin_random_best``: the same comparison on
  the 5-D Rastrigin function (-f, 1500 evaluations).
- ``load_avg``: the 1-minute load average at the start and the end (timings
  on a shared machine are pessimistic).
"""

import argparse
import json
import os
import time

import numpy as np

from ml4em import by_mode, is_quick


def bench_cnn():
    from ml4em.cnn import DefectFinder, f1_against_dose
    from ml4em.stem import simulate_stem

    n_train, epochs, batch = by_mode(full=2000, quick=400), by_mode(full=10, quick=4), by_mode(full=32, quick=16)
    train, test = simulate_stem(n_train, seed=100), simulate_stem(by_mode(full=200, quick=50), seed=101)
    finder = DefectFinder(epochs=epochs, batch_size=batch, seed=0).fit(train.images, train.defect_mask,
                                                                       monitor=False)
    scores = finder.score(test.images, test.defect_positions, tolerance=2.0)
    doses = [2e3, 5e3, 1e4, 2e4, 5e4, 1e5]
    f1_dose = f1_against_dose(finder, doses, n_images=by_mode(full=100, quick=20), seed=102)
    print(f"CNN: F1 {scores['f1']:.3f} (precision {scores['precision']:.3f}, recall {scores['recall']:.3f}), "
          f"trained in {finder.train_seconds_:.0f} s on {n_train} images x {epochs} epochs")
    print("     F1 by dose: " + ", ".join(f"{d:.0e} e/A^2: {f:.3f}" for d, f in zip(doses, f1_dose)))
    return {"cnn_f1": scores["f1"], "cnn_precision": scores["precision"], "cnn_recall": scores["recall"],
            "cnn_train_s": finder.train_seconds_, "cnn_train_images": n_train, "cnn_epochs": epochs,
            "cnn_f1_by_dose": dict(zip([f"{d:.0e}" for d in doses], f1_dose.tolist()))}


def bench_gan():
    from ml4em.gan import ScanCompleter, scan_masks
    from ml4em.stem import simulate_stem

    n_train, epochs, batch = by_mode(full=1000, quick=300), by_mode(full=8, quick=6), by_mode(full=16, quick=8)
    n_test = by_mode(full=100, quick=40)
    train, test = simulate_stem(n_train, seed=200), simulate_stem(n_test, seed=201)
    m_train, m_test = scan_masks(n_train, 64, 0.1, seed=202), scan_masks(n_test, 64, 0.1, seed=203)
    completer = ScanCompleter(epochs=epochs, batch_size=batch, seed=0).fit(train.images, m_train, monitor=False)
    s = completer.evaluate(test.images, m_test)
    print(f"GAN: PSNR {s['gan_psnr_db']:.2f} dB vs interpolation {s['interp_psnr_db']:.2f} dB "
          f"(SSIM {s['gan_ssim']:.3f} vs {s['interp_ssim']:.3f}; mean fill {s['mean_psnr_db']:.2f} dB, SSIM "
          f"{s['mean_ssim']:.3f}) at {m_test.mean():.1%} coverage; "
          f"trained in {completer.train_seconds_:.0f} s on {n_train} images x {epochs} epochs")
    return {**s, "gan_train_s": completer.train_seconds_, "gan_train_images": n_train, "gan_epochs": epochs,
            "coverage": float(m_test.mean())}


def bench_ga(repeats):
    from ml4em.ga import GeneticAlgorithm, PatchNetFitness, random_search, rastrigin_fitness, rastrigin_space

    fitness = PatchNetFitness(n_train=by_mode(full=1000, quick=300), n_val=by_mode(full=500, quick=200),
                              epochs=by_mode(full=3, quick=2))
    budget, population = by_mode(full=32, quick=8), by_mode(full=8, quick=4)
    ga_best, rs_best, ga_s, rs_s, genomes = [], [], [], [], []
    for seed in range(repeats):
        t0 = time.perf_counter()
        ga = GeneticAlgorithm(fitness.space(), population_size=population, n_elite=2, n_jobs=2, seed=seed).run(
            fitness, n_evaluations=budget)
        t1 = time.perf_counter()
        rs = random_search(fitness, fitness.space(), n_evaluations=budget, n_jobs=2, seed=seed)
        t2 = time.perf_counter()
        ga_best.append(ga.best_fitness)
        rs_best.append(rs.best_fitness)
        ga_s.append(t1 - t0)
        rs_s.append(t2 - t1)
        genomes.append(ga.best_genome)
        print(f"GA seed {seed}: best validation accuracy {ga.best_fitness:.3f} (GA, {t1 - t0:.0f} s) vs "
              f"{rs.best_fitness:.3f} (random search, {t2 - t1:.0f} s), {budget} evaluations each")
    best = genomes[int(np.argmax(ga_best))]
    print(f"     best network: {best}")
    space = rastrigin_space(5)
    r_ga = [GeneticAlgorithm(space, population_size=30, seed=s).run(rastrigin_fitness, n_evaluations=1500)
            .best_fitness for s in range(repeats)]
    r_rs = [random_search(rastrigin_fitness, space, n_evaluations=1500, seed=s).best_fitness for s in range(repeats)]
    print(f"     5-D Rastrigin, 1500 evaluations: best -f {np.mean(r_ga):.2f} (GA) vs {np.mean(r_rs):.2f} (random)")
    return {"ga_best_score": float(np.mean(ga_best)), "random_best_score": float(np.mean(rs_best)),
            "evaluations": budget, "ga_best_by_seed": ga_best, "random_best_by_seed": rs_best,
            "ga_s": float(np.mean(ga_s)), "random_s": float(np.mean(rs_s)), "ga_best_genome": best,
            "rastrigin_ga_best": float(np.mean(r_ga)), "rastrigin_random_best": float(np.mean(r_rs))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["cnn", "gan", "ga"], action="append",
                        help="run only this part (repeatable); default all three")
    parser.add_argument("--repeats", type=int, default=by_mode(full=3, quick=1),
                        help="seeds of the GA-versus-random-search comparison")
    args = parser.parse_args()
    parts = args.only or ["cnn", "gan", "ga"]
    result = {"quick": is_quick(), "load_avg_start": os.getloadavg()[0], "cpus": os.cpu_count()}
    if "cnn" in parts:
        result.update(bench_cnn())
    if "gan" in parts:
        result.update(bench_gan())
    if "ga" in parts:
        result.update(bench_ga(args.repeats))
    result["load_avg_end"] = os.getloadavg()[0]
    print(json.dumps(result))


if __name__ == "__main__":  # the GA's worker processes import this file: run only when executed
    main()
