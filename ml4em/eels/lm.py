"""Levenberg-Marquardt training of an ensemble of networks, all replicas at once, with early stopping.

Every replica is its own least-squares problem: its weights minimise the weighted chi2 of its own training
data. Each iteration evaluates the networks and the Jacobians of all replicas still training in batched
calls (:func:`ml4em.eels.model.layer_factors`, float32) and solves every replica's damped normal equations by a
Cholesky factorisation of its Gram matrix (:class:`_Systems`); each replica keeps its own damping and
stops on its own validation chi2. A network of a few hundred parameters reaches its minimum validation chi2 in
tens to hundreds of iterations, where first-order methods (Adam) need tens of thousands of epochs.

Used in: tutorials/07_eels_replicas (through :class:`ml4em.eels.ZLPEnsemble`).
"""

from dataclasses import dataclass, field

import numpy as np

from .model import forward, init_params, jacobian_columns, layer_factors

__all__ = ["LMResult", "train_lm"]


@dataclass
class LMResult:
    """What :func:`train_lm` returns.

    Attributes
    ----------
    params : ndarray of shape (n_replicas, n_params)
        Weights at the minimum validation chi2 of each replica.
    train_chi2, val_chi2 : ndarray of shape (n_replicas,)
        chi2 per point on the training and validation points at those weights.
    n_iter : ndarray of int, shape (n_replicas,)
        Iterations each replica ran (over all its starts) before its
        stopping rule fired.
    best_iter : ndarray of int, shape (n_replicas,)
        Iteration of the minimum validation chi2 within the last start
        (0 = the initial weights).
    restarts : ndarray of int, shape (n_replicas,)
        How many times each replica was started again from new random weights.
    history : dict of str to list of float
        ``train_chi2`` and ``val_chi2``: median chi2 per point of the
        replicas still training, one value per iteration of the first pass.
    iterations : int
        Batched iterations run in all passes together.
    """

    params: np.ndarray
    train_chi2: np.ndarray
    val_chi2: np.ndarray
    n_iter: np.ndarray
    best_iter: np.ndarray
    restarts: np.ndarray
    history: dict = field(default_factory=dict)
    iterations: int = 0


def _objective(pred, y, w, theta, decay):
    """Per replica, the chi2 of the outputs ``pred`` and the training objective (chi2 plus weight decay); and the
    weighted residuals ``(pred - y) w``."""
    r = (pred - y) * w
    chi2 = np.sum(r * r, axis=1)
    return chi2, chi2 + decay * np.sum(theta * theta, axis=1), r


def _factor_layer(fan_in, fan_out):
    """Whether the dual Gram matrix is cheaper from a layer's factors than from its Jacobian columns.

    Columns: a rank-k update of width ``(fan_in + 1) fan_out``. Factors: two
    of widths ``fan_in`` and ``fan_out`` and three elementwise passes over
    the (n_points, n_points) matrix, which cost about as much as 32 more
    columns each (measured with 207 points in float32).
    """
    return (fan_in + 1) * fan_out > 2 * (fan_in + fan_out) + 32


class _Systems:
    """Damped Gauss-Newton systems of all replicas, updated row by row.

    The step for damping ``lam`` minimises the linearised
    ``|r + J delta|^2 + decay |theta + delta|^2 + lam s |delta|^2``, that is
    ``delta = -(J^T J + mu I)^-1 (J^T r + decay theta)`` with
    ``mu = decay + lam s``, where ``s = trace(J^T J) / n_params`` makes the
    damping independent of the scale of the residuals. With fewer training points than parameters the
    smaller dual system is solved instead, using
    ``(J^T J + mu I)^-1 J^T = J^T (J J^T + mu I)^-1``.

    Cost. The weighted Jacobian is built in float32 (:func:`ml4em.eels.model.layer_factors`), its Gram matrix
    ``J J^T`` (or ``J^T J``) once per linearisation, and every step, a new damping on the same Gram matrix, is
    a Cholesky factorisation and solve (LAPACK ``spotrf``/``spotrs``, a third of the work of the LU solve of a
    general system). In the dual form the rows of a wide layer's block of ``J`` are outer products
    ``a_i g_i^T`` of its input activations and output sensitivities, so that block's share of ``J J^T`` is
    ``(A A^T + 1) * (G G^T)`` (elementwise): two narrow symmetric rank-k updates (BLAS ``ssyrk``) instead of
    one as wide as the block, and the block itself is never built (``factored``, chosen by
    :func:`_factor_layer`); the other columns go through one ``ssyrk`` of the explicit Jacobian. These run
    replica by replica on 2-D arrays: numpy's batched solvers copy and factorise generally, and cost about
    three times more. Float32 is safe here: a step is only a proposal, accepted or rejected on the float64
    objective. Where float32 rounding makes a damped system not positive definite (tiny damping, about one
    step in a thousand) that replica's step is solved by LU in float64.

    Parameters
    ----------
    n_rep, n_pts, n_par : int
        Replicas, training points per replica and parameters.
    decay : float
    factored : sequence of (layer, start, fan_in, fan_out)
        Layers whose parameter block (their weights, then their biases, from ``start``) is kept as factors;
        dual form only (:meth:`for_network` chooses them).
    """

    def __init__(self, n_rep, n_pts, n_par, decay, factored=()):
        self.decay = float(decay)
        self.dual = n_pts < n_par
        self.n_par = n_par
        self.factored = [tuple(int(v) for v in block) for block in factored]
        if self.factored and not self.dual:
            raise ValueError("factored blocks need the dual form (fewer training points than parameters).")
        explicit = np.ones(n_par, dtype=bool)
        for _, start, fan_in, fan_out in self.factored:
            explicit[start:start + (fan_in + 1) * fan_out] = False
        self.explicit = np.flatnonzero(explicit)  # parameters whose columns of J are stored
        self.jac = [None] * n_rep    # transposed weighted Jacobian J^T (n_explicit, n_pts), float32, per replica
        self.factors = [()] * n_rep  # per replica: (a, g) of each factored block, (fan_in | fan_out, n_pts)
        self.gram = [None] * n_rep   # upper triangle of J J^T (dual) or J^T J, float32, Fortran order
        self.r = np.zeros((n_rep, n_pts), dtype=np.float32)
        self.theta = np.zeros((n_rep, n_par), dtype=np.float32)
        self.grad = np.zeros((n_rep, n_par), dtype=np.float32)
        self.scale = np.ones(n_rep)

    @classmethod
    def for_network(cls, n_rep, n_pts, shape, decay):
        """The systems of ``n_rep`` networks of ``shape``, the wide layers factored where the dual form is used."""
        dual = n_pts < shape.n_params
        factored, start = [], 0
        for layer, (fan_in, fan_out) in enumerate(shape.layers):
            if dual and _factor_layer(fan_in, fan_out):
                factored.append((layer, start, fan_in, fan_out))
            start += (fan_in + 1) * fan_out
        return cls(n_rep, n_pts, shape.n_params, decay, factored)

    def update(self, rows, theta, x, y, w, shape, activations=None):
        """Linearise the replicas ``rows`` at ``theta`` (their rows); return their chi2 and objective.

        ``activations``: the layer inputs of the forward pass at ``theta``, if it has been run (:func:`forward`).
        """
        pred, factors = layer_factors(theta, x, shape, weights=w, dtype=np.float32, activations=activations)
        factored = [block[0] for block in self.factored]
        columns = [layer for layer in range(len(factors)) if layer not in factored]
        chi2, objective, r = _objective(pred, y, w, theta, self.decay)
        self.store(rows, jacobian_columns(factors, shape, columns), r, theta, [factors[i] for i in factored])
        return chi2, objective

    def store(self, rows, jw, r, theta, factors=()):
        """Keep the linearisation of ``rows``.

        ``jw`` (len(rows), n_pts, n_explicit): the weighted Jacobian's stored columns; ``factors``: per factored
        block, its (a, g), shapes (len(rows), fan_in, n_pts) and (len(rows), fan_out, n_pts).
        """
        from scipy.linalg.blas import ssyrk

        jt = np.ascontiguousarray(np.swapaxes(jw, 1, 2), dtype=np.float32)  # J^T per replica (no copy from jacobian)
        r32 = np.asarray(r, dtype=np.float32)
        self.r[rows], self.theta[rows] = r32, theta
        for j, k in enumerate(rows):
            self.jac[k] = jt[j]
            # jt[j].T is J as a Fortran-ordered (n_pts, n_explicit) array, passed without a copy:
            # trans=0 gives J J^T (dual), trans=1 gives J^T J
            # (the output layer, of width (fan_in + 1) * 1, is never factored: there are always columns)
            gram = ssyrk(1.0, jt[j].T, trans=0 if self.dual else 1)
            self.factors[k] = tuple((a[j], g[j]) for a, g in factors)
            for a, g in self.factors[k]:  # the upper triangles of (A A^T + 1) * (G G^T); lower ones stay 0
                block = ssyrk(1.0, a.T, trans=0)
                block += 1.0
                block *= ssyrk(1.0, g.T, trans=0)
                gram += block
            self.gram[k] = gram
            self.scale[k] = float(np.sum(np.diagonal(gram), dtype=float)) / self.n_par + 1e-30
            if not self.dual:
                self.grad[k] = jt[j] @ r32[j] + self.decay * self.theta[k]

    def _jt(self, k, v):
        """``J^T v`` of replica ``k`` for ``v`` of shape (n_pts,): shape (n_par,), float32."""
        out = np.empty(self.n_par, dtype=np.float32)
        out[self.explicit] = self.jac[k] @ v
        for (_, start, fan_in, fan_out), (a, g) in zip(self.factored, self.factors[k]):
            gv = g * v
            out[start:start + fan_in * fan_out] = (a @ gv.T).ravel()
            out[start + fan_in * fan_out:start + (fan_in + 1) * fan_out] = gv.sum(axis=1)
        return out

    def _j(self, k, vec):
        """``J vec`` of replica ``k`` for a parameter vector ``vec`` (n_par,): shape (n_pts,)."""
        out = vec[self.explicit] @ self.jac[k]
        for (_, start, fan_in, fan_out), (a, g) in zip(self.factored, self.factors[k]):
            w = vec[start:start + fan_in * fan_out].reshape(fan_in, fan_out)
            b = vec[start + fan_in * fan_out:start + (fan_in + 1) * fan_out]
            out += np.sum(g * (w.T @ a + b[:, None]), axis=0)
        return out

    def step(self, rows, lam):
        """Parameter steps, shape (len(rows), n_params), for dampings ``lam``."""
        mu = self.decay + np.asarray(lam, dtype=float) * self.scale[rows]
        out = np.empty((len(rows), self.n_par))
        for j, k in enumerate(rows):
            if not self.dual:
                out[j] = -self._solve(k, mu[j], self.grad[k])
                continue
            if self.decay == 0:
                out[j] = -self._jt(k, self._solve(k, mu[j], self.r[k]))
                continue
            sol = self._solve(k, mu[j], np.stack([self.r[k], self._j(k, self.theta[k])], axis=1))
            # (J^T J + mu I)^-1 theta = (theta - J^T (J J^T + mu I)^-1 J theta) / mu
            out[j] = -self._jt(k, sol[:, 0]) - (self.decay / mu[j]) * (self.theta[k] - self._jt(k, sol[:, 1]))
        return out

    def _solve(self, k, mu, rhs):
        """``(G_k + mu I)^-1 rhs`` for the stored Gram matrix ``G_k``: Cholesky in float32, else LU in float64."""
        from scipy.linalg.lapack import spotrf, spotrs

        a = self.gram[k].copy(order="F")
        a.flat[::a.shape[0] + 1] += np.float32(mu)
        chol, info = spotrf(a, lower=0, clean=0, overwrite_a=1)
        if info == 0:
            sol, info = spotrs(chol, rhs, lower=0)
            if info == 0 and np.all(np.isfinite(sol)):
                return sol
        g = np.triu(self.gram[k]).astype(float)
        full = g + np.triu(g, 1).T + mu * np.eye(g.shape[0])
        try:
            return np.linalg.solve(full, np.asarray(rhs, dtype=float))
        except np.linalg.LinAlgError:  # exactly singular: no step (the trial fails and the damping grows)
            return np.full(np.shape(rhs), np.nan)


class _Pool:
    """Runs a function on chunks of replica rows in threads (BLAS kept single-threaded meanwhile).

    Batched small matrix products parallelise badly inside BLAS (each
    product is too small to split); splitting the replica axis between
    threads keeps every core busy instead. numpy releases the GIL in these
    calls.
    """

    def __init__(self, n_jobs):
        self.n_jobs = max(int(n_jobs), 1)
        self._executor = None
        self._limits = None

    def __enter__(self):
        if self.n_jobs > 1:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(self.n_jobs)
        try:
            from threadpoolctl import threadpool_limits

            self._limits = threadpool_limits(1)
        except ImportError:  # without threadpoolctl BLAS keeps its own threads
            self._limits = None
        return self

    def __exit__(self, *exc):
        if self._limits is not None:
            self._limits.restore_original_limits()
        if self._executor is not None:
            self._executor.shutdown()

    def map(self, fn, rows):
        """``fn(chunk)`` for chunks of ``rows``; results (tuples of arrays or arrays) concatenated."""
        if self._executor is None or rows.size < 2 * self.n_jobs:
            return fn(rows)
        parts = [p for p in np.array_split(rows, self.n_jobs) if p.size]
        results = list(self._executor.map(fn, parts))
        if isinstance(results[0], tuple):
            return tuple(np.concatenate(items) for items in zip(*results))
        return np.concatenate(results)


def train_lm(theta0, shape, x_train, y_train, w_train, x_val, y_val, w_val, *, max_iter=500, patience=30,
             min_delta=1e-3, decay=0.0, restarts=2, restart_factor=3.0, lam0=1e-2, lam_max=1e8, n_jobs=None,
             callback=None, seed=None):
    """Fit every replica's network by Levenberg-Marquardt with early stopping, all at once.

    Each replica k minimises its training chi2
    ``sum_i w_ki^2 (f_k(x_ki) - y_ki)^2`` (plus ``decay |theta_k|^2``).
    One iteration solves the damped Gauss-Newton systems of all replicas
    still training in one batched call; a step that lowers the objective is
    kept and its damping shrinks, otherwise the damping grows. After each
    kept step the validation chi2 is evaluated and the weights at its
    minimum are kept.

    Stopping rule, per replica: stop when the validation chi2 has not
    improved by a relative ``min_delta`` for ``patience`` iterations, when
    the damping exceeds ``lam_max`` (no step lowers the objective: a
    minimum), or after ``max_iter`` iterations. A replica that ends with a
    training chi2 per point above ``restart_factor`` times the ensemble
    median (a poor local minimum) is started again from new random weights,
    at most ``restarts`` times; the better of its starts is kept.

    Parameters
    ----------
    theta0 : ndarray of shape (n_replicas, n_params)
        Initial weights (:func:`init_params`).
    shape : MLPShape
    x_train : ndarray of shape (n_replicas, n_train, n_inputs)
        Scaled training inputs per replica.
    y_train, w_train : ndarray of shape (n_replicas, n_train)
        Targets and weights 1/sigma (in the units of the targets).
    x_val, y_val, w_val : the same for the validation points, (n_replicas, n_val, ...)
    max_iter, patience : int
        Iteration cap and patience of the stopping rule.
    min_delta : float
        Relative decrease of the validation chi2 that counts as an improvement.
    decay : float
        Weight decay (L2 penalty on all parameters), default none.
    restarts : int
        New starts allowed for a replica stuck in a poor minimum.
    restart_factor : float
        A replica restarts when its training chi2 exceeds this multiple of the median.
    lam0, lam_max : float
        Initial and largest damping.
    n_jobs : int, optional
        Threads that share the replica axis; default one. Each replica's
        calls (a Cholesky factorisation of a few hundred unknowns) are too
        short for threads to gain over Python's lock at the sizes of the
        replica method: 100 WS2 replicas took 1.2-1.4 times longer with 2
        threads than with one on 2 cores (benchmarks/replicas.py).
    callback : callable, optional
        ``callback(iteration, n_active, median_train_chi2, median_val_chi2)``
        after every iteration (progress bars).
    seed : int, numpy.random.Generator or None
        For the new random weights of restarted replicas.

    Returns
    -------
    LMResult

    References
    ----------
    Marquardt, "An algorithm for least-squares estimation of nonlinear
    parameters", J. Soc. Ind. Appl. Math. 11 (1963) 431,
    doi:10.1137/0111030.
    """
    for name, value, low in (("max_iter", max_iter, 0), ("patience", patience, 1), ("restarts", restarts, 0)):
        if int(value) != value or value < low:
            raise ValueError(f"{name}={value!r} should be an integer >= {low}.")
    if not restart_factor > 1:
        raise ValueError(f"restart_factor={restart_factor!r} should be > 1 (a multiple of the median chi2).")
    rng = np.random.default_rng(seed)
    theta0 = np.array(theta0, dtype=float)
    n_rep = theta0.shape[0]
    n_train = max(int(np.sum(w_train[0] > 0)), 1)
    n_val = max(int(np.sum(w_val[0] > 0)), 1)
    data = (x_train, y_train, w_train, x_val, y_val, w_val)
    with _Pool(1 if n_jobs is None else n_jobs) as pool:
        rows = np.arange(n_rep)
        out = _lm_pass(theta0, rows, shape, data, pool, max_iter, patience, min_delta, decay, lam0, lam_max,
                       callback)
        history = out.pop("history")
        iterations = out.pop("iterations")
        result = out
        n_restarts = np.zeros(n_rep, dtype=int)
        for _ in range(int(restarts)):
            median = np.median(result["train"])
            redo = np.flatnonzero(result["train"] > restart_factor * median)
            if redo.size == 0:
                break
            theta_new = init_params(shape, redo.size, seed=rng)
            sub = tuple(a[redo] for a in data)
            again = _lm_pass(theta_new, np.arange(redo.size), shape, sub, pool, max_iter, patience, min_delta,
                             decay, lam0, lam_max, None)
            iterations += again["iterations"]
            n_restarts[redo] += 1
            result["n_iter"][redo] += again["n_iter"]
            better = again["val"] < result["val"][redo]
            for key in ("theta", "val", "train", "best_iter"):
                result[key][redo[better]] = again[key][better]
    return LMResult(params=result["theta"], train_chi2=result["train"] / n_train, val_chi2=result["val"] / n_val,
                    n_iter=result["n_iter"], best_iter=result["best_iter"], restarts=n_restarts, history=history,
                    iterations=iterations)


def _lm_pass(theta0, rows_all, shape, data, pool, max_iter, patience, min_delta, decay, lam0, lam_max, callback):
    """One Levenberg-Marquardt run of the replicas in ``data`` (see :func:`train_lm`)."""
    x_tr, y_tr, w_tr, x_va, y_va, w_va = data
    theta = theta0.copy()
    n_rep, n_par = theta.shape
    n_train = max(int(np.sum(w_tr[0] > 0)), 1)
    n_val = max(int(np.sum(w_va[0] > 0)), 1)
    systems = _Systems.for_network(n_rep, x_tr.shape[1], shape, decay)

    # the trial's forward pass, layer by layer, for every replica: a kept step is linearised from it
    trial_acts = [np.empty((n_rep, x_tr.shape[1], width)) for width in (*shape.hidden, 1)]

    def linearise(rows, reuse=False):
        acts = [x_tr[rows]] + [a[rows] for a in trial_acts] if reuse else None
        return systems.update(rows, theta[rows], x_tr[rows], y_tr[rows], w_tr[rows], shape, activations=acts)

    def validate(rows):
        return _objective(forward(theta[rows], x_va[rows], shape), y_va[rows], w_va[rows], theta[rows], 0.0)[0]

    chi2, obj = pool.map(linearise, rows_all)
    val = pool.map(validate, rows_all)
    best = {"theta": theta.copy(), "val": val.copy(), "train": chi2.copy(), "best_iter": np.zeros(n_rep, dtype=int)}
    ref_val = val.copy()  # the last value that counted as an improvement for the patience
    last_improved = np.zeros(n_rep, dtype=int)
    n_iter = np.zeros(n_rep, dtype=int)
    lam = np.full(n_rep, float(lam0))
    active = rows_all.copy()
    history = {"train_chi2": [], "val_chi2": []}
    iteration = 0
    while active.size and iteration < max_iter:
        iteration += 1

        def propose(rows):
            trial = theta[rows] + systems.step(rows, lam[rows])
            pred, acts = forward(trial, x_tr[rows], shape, return_activations=True)
            for store, a in zip(trial_acts, acts[1:]):
                store[rows] = a
            return trial, _objective(pred, y_tr[rows], w_tr[rows], trial, decay)[1]

        try:
            trial, trial_obj = pool.map(propose, active)
        except np.linalg.LinAlgError:  # an exactly singular system: damp harder and try again
            lam[active] *= 10.0
            n_iter[active] += 1
            continue
        ok = np.isfinite(trial_obj) & (trial_obj < obj[active])
        lam[active] = np.where(ok, np.maximum(lam[active] / 3.0, 1e-9), lam[active] * 4.0)
        n_iter[active] += 1
        kept = active[ok]
        if kept.size:
            theta[kept] = trial[ok]
            chi2[kept], obj[kept] = pool.map(lambda rows: linearise(rows, reuse=True), kept)
            v = pool.map(validate, kept)
            val[kept] = v
            better = v < best["val"][kept]
            improved = kept[better]
            best["val"][improved] = v[better]
            best["train"][improved] = chi2[improved]
            best["theta"][improved] = theta[improved]
            best["best_iter"][improved] = n_iter[improved]
            clear = v < ref_val[kept] * (1.0 - min_delta)
            ref_val[kept[clear]] = v[clear]
            last_improved[kept[clear]] = n_iter[kept[clear]]
        history["train_chi2"].append(float(np.median(chi2[active])) / n_train)
        history["val_chi2"].append(float(np.median(val[active])) / n_val)
        if callback is not None:
            callback(iteration, active.size, history["train_chi2"][-1], history["val_chi2"][-1])
        stale = (n_iter[active] - last_improved[active]) >= patience
        stuck = lam[active] > lam_max
        active = active[~(stale | stuck)]
    best["n_iter"] = n_iter
    best["history"] = history
    best["iterations"] = iteration
    return best
