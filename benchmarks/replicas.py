"""The replica method's training on the real WS2 spectra: ml4em's ensemble against one replica at a time.

Usage::

    ML4EM_DATA_DIR=../shared/data/real/eelsfitter .venv/bin/python benchmarks/replicas.py
    ML4EM_QUICK=1 ... benchmarks/replicas.py          # 20 replicas, short sequential runs
    ... taskset -c 0,1 .venv/bin/python benchmarks/replicas.py --no-keras   # (a), (b), (d) on two cores

Training data: the six WS2 sample spectra of :func:`ml4em.datasets.load_ws2_lowloss`,
dE1 = 1.8 eV, dE2 = 12 eV (the values of Roest et al. 2021): the mean spectrum
below dE1 with the spread of the six as sigma, plus 32 pseudo-data points
above dE2. Model: 10-15-5 tanh hidden units, one per replica.

Measured in one run:

(a) ``ensemble_s``: ml4em's default training of ``n_replicas`` replicas
    (:class:`ml4em.eels.ZLPEnsemble`: one vectorised Levenberg-Marquardt run
    with a replica axis, early stopping at the minimum validation chi2,
    restarts of replicas stuck in poor minima), to its own stopping rule;
    wall time of ``fit`` (data preparation included). ``val_chi2_median``:
    median over the replicas of the validation chi2 per point at the kept
    weights. ``epochs``: batched iterations (full-batch steps of every
    replica still training, restarts included).
(b) ``reference_val_chi2_median``: the first 3 replicas trained again from the
    same starts, splits and data with 20 times the iterations and 20 times
    the patience. ``val_chi2_median <= 1.1 * reference`` says the ensemble
    is converged, not just fast.
(c) ``sequential_s_per_replica``: the same model in Keras (Adam, learning
    rate 1e-3, full batch, the same scaled inputs, targets and chi2
    weights, a compiled TensorFlow training loop), trained one replica
    after another as the papers' code does,
    until its validation chi2 comes within 10% of what the ensemble reached
    for that replica (the convergence criterion of (b)), or at most
    ``--keras-epochs`` epochs. At least 3 replicas are timed (in a separate
    process, so that TensorFlow's memory is not counted in ``peak_mb``); the
    mean time per replica is scaled to ``n_replicas``. When a replica hits
    the epoch cap its time is a lower bound, and so is the speedup (the
    output says how many did). ``speedup = n_replicas *
    sequential_s_per_replica / ensemble_s``.
(d) Vectorisation alone: ``sequential_lm_s_per_replica`` is ml4em's same
    Levenberg-Marquardt code run on one replica at a time
    (``--n-sequential-lm`` replicas, one thread, their own starts, splits
    and data). ``vectorisation_speedup`` = the sequential time per
    replica-iteration times the replica-iterations of (a), over (a)'s
    training time: the gain of the replica axis alone, same optimiser, same
    iterations, one thread each. Threads: ``ensemble_threads_s`` is (a)
    again with ``n_jobs`` = the available cores (``threads_speedup`` = (a)
    over it; below 1 where the per-replica calls are too short to gain over
    Python's lock, which is why one thread is the default).

``ensemble_cpu_s``: CPU seconds of (a) (all its threads), a measure less
sensitive than wall time to other work on a shared machine.

``peak_mb``: peak resident memory of the process that ran (a) and (b).
``load_avg``: 1-minute load averages at start and end (the CPU may be
shared: timings are then pessimistic). The last line is one JSON object.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from ml4em import by_mode
from ml4em._resources import available_cpus
from ml4em.datasets import DataUnavailableError, load_ws2_lowloss
from ml4em.eels import ZLPEnsemble
from ml4em.eels.lm import train_lm

DE1, DE2 = 1.8, 12.0
N_SEQUENTIAL = 3


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def keras_worker(arrays_path, out_path, max_epochs, check_every):
    """Train each replica in ``arrays_path`` alone with Keras/Adam; write timings to ``out_path`` (JSON).

    The training loop is a compiled ``tf.function`` that runs ``check_every``
    full-batch Adam steps per call (faster than ``model.fit``, whose
    per-epoch overhead dominates for a network this small), so the
    sequential baseline is the fastest reasonable way to train one replica
    at a time with Keras, not a slow one.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf
    from keras import layers

    data = np.load(arrays_path)
    hidden = [int(h) for h in data["hidden"]]
    results = []
    for k in range(data["x_train"].shape[0]):
        keras.utils.set_random_seed(k)
        x_tr = tf.constant(data["x_train"][k], tf.float32)
        y_tr = tf.constant(data["y_train"][k], tf.float32)
        w2_tr = tf.constant(data["w_train"][k] ** 2, tf.float32)
        x_va, y_va, w_va = data["x_val"][k], data["y_val"][k], data["w_val"][k]
        target = 1.1 * float(data["target_val"][k])
        model = keras.Sequential([keras.Input(shape=(x_tr.shape[1],))] +
                                 [layers.Dense(h, activation="tanh") for h in hidden] + [layers.Dense(1)])
        optimizer = keras.optimizers.Adam(1e-3)
        optimizer.build(model.trainable_variables)

        @tf.function
        def run(n_steps):
            for _ in tf.range(n_steps):
                with tf.GradientTape() as tape:
                    pred = model(x_tr, training=True)[:, 0]
                    loss = tf.reduce_mean(w2_tr * tf.square(pred - y_tr))  # chi2 per point
                grads = tape.gradient(loss, model.trainable_variables)
                optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        epochs, val = 0, float("nan")
        start = time.perf_counter()
        while epochs < max_epochs:
            n = min(check_every, max_epochs - epochs)
            run(tf.constant(n))
            epochs += n
            pred = model(x_va, training=False).numpy()[:, 0]
            val = float(np.mean(((pred - y_va) * w_va) ** 2))
            if val <= target:
                break
        seconds = time.perf_counter() - start
        results.append({"seconds": seconds, "epochs": epochs, "val_chi2": val, "target": target,
                        "reached": bool(val <= target)})
        print(f"  keras replica {k}: {epochs} epochs, {seconds:.1f} s, val chi2 {val:.3g} "
              f"(target {target:.3g}, {'reached' if val <= target else 'NOT reached: time is a lower bound'})",
              flush=True)
    with open(out_path, "w") as fh:
        json.dump(results, fh)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-replicas", type=int, default=by_mode(full=100, quick=20))
    parser.add_argument("--keras-epochs", type=int, default=by_mode(full=30000, quick=600),
                        help="epoch cap of each sequential Keras run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-sequential-lm", type=int, default=by_mode(full=10, quick=5),
                        help="replicas trained one at a time by ml4em's own optimiser in (d)")
    parser.add_argument("--no-keras", action="store_true", help="skip (c), the Keras baseline")
    parser.add_argument("--keras-worker", nargs=2, metavar=("ARRAYS", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--check-every", type=int, default=100, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.keras_worker:
        keras_worker(*args.keras_worker, args.keras_epochs, args.check_every)
        return 0

    load_start = os.getloadavg()[0]
    try:
        data = load_ws2_lowloss()
    except DataUnavailableError as err:
        print(f"benchmarks/replicas.py: the WS2 spectra are not available ({err}); set ML4EM_DATA_DIR to a "
              "mirror such as ../shared/data/real/eelsfitter.", file=sys.stderr)
        return 1
    e = data.energy_loss
    n_rep = args.n_replicas
    print(f"WS2 training data: {data.sample.shape[0]} sample spectra, dE1 = {DE1} eV, dE2 = {DE2} eV; "
          f"{n_rep} replicas of a 10-15-5 network; load average {load_start:.2f}")

    # (a) the ensemble, to its own stopping rule
    start, cpu_start = time.perf_counter(), time.process_time()
    zlp = ZLPEnsemble(n_rep, dE1=DE1, dE2=DE2, progress=False, seed=args.seed).fit(e, data.sample, data.vacuum)
    ensemble_s = time.perf_counter() - start
    ensemble_cpu_s = time.process_time() - cpu_start
    ts = zlp.training_set_
    n_train, n_val = zlp.arrays_["x_train"].shape[1], zlp.arrays_["x_val"].shape[1]
    print(f"(a) ensemble: {ensemble_s:.1f} s ({ensemble_cpu_s:.1f} CPU s), {zlp.iterations_} batched iterations "
          f"(median per replica {np.median(zlp.n_iter_):.0f}, {int(zlp.restarts_.sum())} restarts), median validation chi2 "
          f"{np.median(zlp.val_chi2_):.4g}, median training chi2 {np.median(zlp.train_chi2_):.4g}")

    # (b) converged reference: the first 3 replicas, 20 times longer
    rows = np.arange(min(N_SEQUENTIAL, n_rep))
    start = time.perf_counter()
    ref = zlp.retrain(rows, max_iter=20 * int(zlp.n_iter_[rows].max()), patience=20 * zlp.patience)
    reference_s = time.perf_counter() - start
    print(f"(b) reference (replicas {rows.tolist()}, 20x the iterations and patience, {reference_s:.1f} s): "
          f"validation chi2 {np.round(ref.val_chi2, 4).tolist()} against the ensemble's "
          f"{np.round(zlp.val_chi2_[rows], 4).tolist()}")
    peak_mb = _peak_mb()

    # (d) vectorisation alone: the same optimiser, one thread, batched against one replica at a time
    seq_rows = np.arange(min(args.n_sequential_lm, n_rep))
    seq_iter = 0
    start = time.perf_counter()
    for k in seq_rows:
        sub = {key: value[[k]] for key, value in zlp.arrays_.items()}
        one = train_lm(zlp.init_params_[[k]], zlp.shape_, sub["x_train"], sub["y_train"], sub["w_train"],
                       sub["x_val"], sub["y_val"], sub["w_val"], max_iter=zlp.max_iter, patience=zlp.patience,
                       restarts=zlp.restarts, n_jobs=1, seed=k)
        seq_iter += int(one.n_iter.sum())
    seq_s = time.perf_counter() - start
    lm_per_replica = seq_s / seq_rows.size
    vector_speedup = seq_s / seq_iter * int(zlp.n_iter_.sum()) / zlp.fit_seconds_
    # and threads sharing the replica axis
    n_threads = available_cpus()
    start = time.perf_counter()
    ZLPEnsemble(n_rep, dE1=DE1, dE2=DE2, n_jobs=n_threads, progress=False, seed=args.seed).fit(e, data.sample,
                                                                                             data.vacuum)
    ensemble_threads_s = time.perf_counter() - start
    print(f"(d) ml4em's Levenberg-Marquardt one replica at a time: {lm_per_replica:.3f} s per replica "
          f"({seq_s / seq_iter * 1e3:.2f} ms per iteration, {seq_rows.size} replicas); vectorisation alone gains "
          f"{vector_speedup:.1f}x ((a): {zlp.fit_seconds_:.1f} s training, {int(zlp.n_iter_.sum())} "
          f"replica-iterations); {n_threads} threads: {ensemble_threads_s:.1f} s, "
          f"{ensemble_s / ensemble_threads_s:.2f}x")

    # (c) the papers' way: Keras + Adam, one replica after another, in a separate process
    if args.no_keras:
        print("(c) Keras baseline skipped (--no-keras)")
        keras_runs = []
    else:
        with tempfile.TemporaryDirectory() as tmp:
            arrays = os.path.join(tmp, "arrays.npz")
            out = os.path.join(tmp, "keras.json")
            np.savez(arrays, **{key: value[rows] for key, value in zlp.arrays_.items()},
                     target_val=zlp.val_chi2_[rows], hidden=np.array(zlp.hidden))
            print(f"(c) Keras + Adam one replica at a time (until within 10% of the ensemble's validation chi2, "
                  f"at most {args.keras_epochs} epochs), {rows.size} replicas timed and scaled to {n_rep}:",
                  flush=True)
            cmd = [sys.executable, os.path.abspath(__file__), "--keras-worker", arrays, out,
                   "--keras-epochs", str(args.keras_epochs), "--check-every", str(args.check_every)]
            subprocess.run(cmd, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
            with open(out) as fh:
                keras_runs = json.load(fh)
    sequential_s = float(np.mean([r["seconds"] for r in keras_runs])) if keras_runs else float("nan")
    n_capped = sum(not r["reached"] for r in keras_runs)
    speedup = n_rep * sequential_s / ensemble_s
    if keras_runs:
        bound = " (a lower bound: some Keras runs hit the epoch cap)" if n_capped else ""
        print(f"    {sequential_s:.1f} s per replica, x {n_rep} = {n_rep * sequential_s:.0f} s; speedup of the "
              f"ensemble {speedup:.0f}x{bound}")

    load_end = os.getloadavg()[0]
    ratio = float(np.median(zlp.val_chi2_) / np.median(ref.val_chi2))
    result = {
        "n_replicas": n_rep,
        "n_points": int(ts.energy_loss.size),
        "n_train": int(n_train),
        "n_val": int(n_val),
        "epochs": int(zlp.iterations_),
        "epochs_median_per_replica": float(np.median(zlp.n_iter_)),
        "restarts": int(zlp.restarts_.sum()),
        "ensemble_s": round(ensemble_s, 2),
        "val_chi2_median": round(float(np.median(zlp.val_chi2_)), 5),
        "reference_val_chi2_median": round(float(np.median(ref.val_chi2)), 5),
        "val_ratio": round(ratio, 4),
        "reference_paired": [round(float(v), 5) for v in ref.val_chi2],
        "ensemble_paired": [round(float(v), 5) for v in zlp.val_chi2_[rows]],
        "sequential_s_per_replica": round(sequential_s, 3) if keras_runs else None,
        "sequential_replicas_timed": len(keras_runs),
        "sequential_epochs": [r["epochs"] for r in keras_runs],
        "sequential_capped": n_capped,
        "sequential_lm_s_per_replica": round(lm_per_replica, 3),
        "sequential_lm_replicas_timed": int(seq_rows.size),
        "ensemble_threads_s": round(ensemble_threads_s, 2),
        "n_threads": int(n_threads),
        "threads_speedup": round(ensemble_s / ensemble_threads_s, 2),
        "vectorisation_speedup": round(vector_speedup, 2),
        "ensemble_cpu_s": round(ensemble_cpu_s, 2),
        "speedup": round(speedup, 1) if keras_runs else None,
        "speedup_is_lower_bound": bool(n_capped),
        "peak_mb": round(peak_mb, 1),
        "load_avg": [round(load_start, 2), round(load_end, 2)],
        "targets": {"ensemble_s": 5, "val_ratio": 1.1, "speedup": 20, "peak_mb": 1500},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
