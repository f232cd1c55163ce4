"""The ZLP model of the replica method: an ensemble of neural networks, one per Monte Carlo replica.

:class:`ZLPEnsemble` follows the scikit-learn pattern: parameters in
``__init__``, ``fit`` validates, trains and sets attributes ending in ``_``,
``predict`` and ``band`` evaluate. Training data, replicas and the split
come from :mod:`ml4em.eels.replicas`, the vectorised networks and their
Levenberg-Marquardt training from :mod:`ml4em.eels.lm`.

Method: Roest et al., "Charting the low-loss region in electron energy loss
spectroscopy with machine learning", Ultramicroscopy 222 (2021) 113202,
doi:10.1016/j.ultramic.2021.113202, arXiv:2009.05050.

Used in: tutorials/07_eels_replicas, tutorials/08_band_gap,
tutorials/09_spectral_image and ``ml4em zlp``.
"""

import time

import numpy as np

from .axis import check_spectra, fwhm, validated_input, zlp_centre
from .lm import train_lm
from .model import MLPShape, forward, init_params
from .predict import band, select_replicas
from .regions import choose_regions, noise_level
from .replicas import UNCERTAINTIES, _as_groups, _training_set, chi2_per_point, make_replicas, split_replicas

__all__ = ["ZLPEnsemble"]


class ZLPEnsemble:
    """Zero-loss-peak model with uncertainties: ``n_replicas`` networks trained on Monte Carlo replicas.

    Each network maps energy loss (and optional conditions such as exposure
    time) to the logarithm of the ZLP intensity. The networks are trained
    all at once (a replica axis on every array) by Levenberg-Marquardt on
    their replica's chi2, with a random training/validation split per
    replica and early stopping at the minimum validation chi2.

    Parameters
    ----------
    n_replicas : int, default 100
    hidden : tuple of int, default (10, 15, 5)
        Hidden layers (tanh), as in Roest et al. (2021).
    dE1, dE2 : float, eV, optional
        Training region (below dE1) and pseudo-data region (above dE2);
        chosen automatically when None (:func:`ml4em.eels.choose_regions`).
        The names keep the papers' spelling on purpose.
    uncertainty : {"spread", "mean"}
        Meaning of the per-channel sigma (:mod:`ml4em.eels.replicas`).
    validation_fraction : float, default 0.25
    n_pseudo : int, default 32
        Pseudo-data points per group above dE2.
    pseudo_sigma : float, default 1
        Their uncertainty in log intensity.
    max_iter, patience : int
        Iteration cap and patience (iterations without a 0.1% gain in
        validation chi2) of the stopping rule.
    restarts : int, default 2
        New random starts for replicas stuck in a poor minimum.
    decay : float, default 0
        Weight decay (L2 penalty), in units of chi2.
    vacuum_tail : bool, default False
        Also train on the vacuum spectra between dE1 and dE2, scaled to the
        sample (``vacuum`` of :func:`ml4em.eels.make_training_set`), so that
        the model is measured, not bridged, where the band gap rises. It
        assumes that the vacuum ZLP has the sample's shape; the mismatch on
        the shoulder below dE1 is carried as a correlated systematic (on
        real WS2 the vacuum peak is narrower than the sample's, and the
        option shifts E_BG by about -0.3 eV: check the assumption first).
        benchmarks/classical.py measures what it gains and costs. Needs
        ``vacuum`` in :meth:`fit`.
    n_jobs : int, optional
        Threads for training; default one (:func:`ml4em.eels.lm.train_lm`).
    progress : bool, default True
        Show a progress bar.
    seed : int, numpy.random.Generator or None

    Attributes
    ----------
    dE1_, dE2_ : float, eV
    training_set_ : ml4em.eels.TrainingSet
    replicas_ : ndarray of shape (n_replicas, n_data), counts
        The replica intensities of the measured points.
    params_ : ndarray of shape (n_replicas, n_params)
    train_chi2_, val_chi2_ : ndarray of shape (n_replicas,)
        chi2 per point of each network on its own replica's training and
        validation points.
    chi2_ : ndarray of shape (n_replicas,)
        chi2 per point of each network against the central data (all
        measured points): what a chi2 cut uses.
    n_iter_ : ndarray of int, shape (n_replicas,)
    restarts_ : ndarray of int, shape (n_replicas,)
    history_ : dict of str to list of float
        Median training and validation chi2 per point, per iteration.
    iterations_ : int
    fit_seconds_ : float
        Wall time of the training.

    Examples
    --------
    >>> from ml4em.datasets import make_lowloss_spectrum
    >>> s = make_lowloss_spectrum(n_spectra=4, seed=0)
    >>> zlp = ZLPEnsemble(8, dE1=1.5, dE2=15.0, progress=False, seed=0).fit(s.energy_loss, s.counts)
    >>> zlp.predict(s.energy_loss).shape
    (8, 1981)
    """

    def __init__(self, n_replicas=100, *, hidden=(10, 15, 5), dE1=None, dE2=None, uncertainty="spread",
                 validation_fraction=0.25, n_pseudo=32, pseudo_sigma=1.0, max_iter=500, patience=30, restarts=2,
                 decay=0.0, vacuum_tail=False, n_jobs=None, progress=True, seed=None):
        self.n_replicas = n_replicas
        self.hidden = hidden
        self.dE1 = dE1
        self.dE2 = dE2
        self.uncertainty = uncertainty
        self.validation_fraction = validation_fraction
        self.n_pseudo = n_pseudo
        self.pseudo_sigma = pseudo_sigma
        self.max_iter = max_iter
        self.patience = patience
        self.restarts = restarts
        self.decay = decay
        self.vacuum_tail = vacuum_tail
        self.n_jobs = n_jobs
        self.progress = progress
        self.seed = seed

    # ------------------------------------------------------------------ fitting
    def _validate(self):
        if int(self.n_replicas) != self.n_replicas or self.n_replicas < 2:
            raise ValueError(f"n_replicas={self.n_replicas!r} should be an integer >= 2 (a band needs replicas).")
        if self.uncertainty not in UNCERTAINTIES:
            raise ValueError(f"uncertainty={self.uncertainty!r} is not known; choose one of {UNCERTAINTIES}.")
        if not self.decay >= 0:
            raise ValueError(f"decay={self.decay!r} should be >= 0.")
        return MLPShape(1, self.hidden)  # validates hidden

    def fit(self, energy_loss, sample, vacuum=None, *, conditions=None):
        """Train the ensemble.

        Parameters
        ----------
        energy_loss : ndarray of shape (n_channels,), eV
            Common axis, ZLP maximum at 0 eV (use :func:`ml4em.eels.align_zlp`).
        sample : ndarray of shape (n_spectra, n_channels), or list of them
            At least 2 spectra per group of conditions.
        vacuum : ndarray of shape (n_vacuum, n_channels), optional
            Vacuum spectra: used to choose dE2 and the pseudo-data level.
        conditions : array-like of shape (n_groups,) or (n_groups, n_conditions), optional
            One row per group of ``sample`` (then ``sample`` is a list).

        Returns
        -------
        self
        """
        self._validate()
        # validated once here (spectra, groups, conditions); the steps below trust their input
        e, groups, cond = _as_groups(energy_loss, sample, conditions, label="sample")
        if vacuum is not None:
            _, vacuum = check_spectra(e, vacuum, name="vacuum")
            vacuum = vacuum.reshape(-1, e.size)
        if self.vacuum_tail and (vacuum is None or vacuum.shape[0] < 2):
            raise ValueError("vacuum_tail=True trains on the vacuum spectra between dE1 and dE2; pass at least 2 "
                             "vacuum spectra (fit(energy_loss, sample, vacuum)) or set vacuum_tail=False.")
        with validated_input():
            return self._fit(e, groups, cond, vacuum)

    def _fit(self, e, groups, cond, vacuum):
        """:meth:`fit` on checked input."""
        all_spectra = np.concatenate(groups)
        width = float(fwhm(e, all_spectra.mean(axis=0)))
        centre = float(zlp_centre(e, all_spectra.mean(axis=0)))
        if abs(centre) > width / 2:
            raise ValueError(f"the zero-loss peak of sample is at {centre:.4g} eV, not at 0 eV; align the spectra "
                             "first with ml4em.eels.align_zlp(energy_loss, spectra).")
        self.dE1_, self.dE2_ = choose_regions(e, all_spectra, vacuum, dE1=self.dE1, dE2=self.dE2)
        self.fwhm_ = width
        level = None
        if vacuum is not None:
            level = float(np.interp(self.dE2_, e, noise_level(e, vacuum)))
            level = level if level > 0 else None
        ts = _training_set(e, groups, cond, dE1=self.dE1_, dE2=self.dE2_, uncertainty=self.uncertainty,
                           n_pseudo=self.n_pseudo, pseudo_sigma=self.pseudo_sigma, pseudo_level=level, min_snr=3.0,
                           vacuum=vacuum if self.vacuum_tail else None)
        self.training_set_ = ts
        self.n_conditions_ = ts.conditions.shape[1]
        self.shape_ = MLPShape(1 + self.n_conditions_, self.hidden)
        self._set_scaling(ts)
        rng = np.random.default_rng(self.seed)
        n_rep, n_data = int(self.n_replicas), ts.n_data
        systematics = None if ts.systematics is None else ts.systematics[:, :n_data]
        self.replicas_ = make_replicas(ts.intensity[:n_data], ts.sigma[:n_data], n_rep, systematics=systematics,
                                       seed=rng)
        train_idx, val_idx = split_replicas(n_rep, n_data, self.validation_fraction, seed=rng)
        self.train_idx_, self.val_idx_ = train_idx, val_idx
        x_all = self._scale_inputs(ts.energy_loss, ts.conditions)
        y_data = (np.log(self.replicas_) - self.y_mean_) / self.y_scale_
        y_pseudo = (ts.log_intensity[n_data:] - self.y_mean_) / self.y_scale_
        w_all = self.y_scale_ / ts.log_sigma
        pseudo_idx = np.broadcast_to(np.arange(n_data, ts.energy_loss.size), (n_rep, ts.energy_loss.size - n_data))
        tr = np.concatenate([train_idx, pseudo_idx], axis=1)
        y_full = np.concatenate([y_data, np.broadcast_to(y_pseudo, (n_rep, y_pseudo.size))], axis=1)
        self.arrays_ = {
            "x_train": x_all[tr], "y_train": np.take_along_axis(y_full, tr, 1), "w_train": w_all[tr],
            "x_val": x_all[val_idx], "y_val": np.take_along_axis(y_data, val_idx, 1), "w_val": w_all[val_idx],
        }
        self.init_params_ = init_params(self.shape_, n_rep, seed=rng)
        self._restart_rng = rng
        start = time.perf_counter()
        result = self._train(np.arange(n_rep), max_iter=self.max_iter, patience=self.patience,
                             restarts=self.restarts, progress=self.progress)
        self.fit_seconds_ = time.perf_counter() - start
        self.params_ = result.params
        self.train_chi2_, self.val_chi2_ = result.train_chi2, result.val_chi2
        self.n_iter_, self.restarts_ = result.n_iter, result.restarts
        self.history_, self.iterations_ = result.history, result.iterations
        self.lm_result_ = result
        self.chi2_ = self._central_chi2(self.params_)
        return self

    def _set_scaling(self, ts):
        data = ~ts.pseudo
        self.e_low_ = float(ts.energy_loss[data].min())
        self.e_high_ = float(ts.dE1)
        cond = ts.conditions[data]
        self.c_mid_ = (cond.max(axis=0) + cond.min(axis=0)) / 2 if cond.size else np.zeros(0)
        half = (cond.max(axis=0) - cond.min(axis=0)) / 2 if cond.size else np.zeros(0)
        self.c_half_ = np.where(half > 0, half, 1.0)
        y = ts.log_intensity[data]
        self.y_mean_, self.y_scale_ = float(y.mean()), float(y.std())

    def _scale_inputs(self, energy_loss, conditions):
        """Scaled network inputs, (n_points, 1 + n_conditions): the training energies map to [-1, 1]."""
        e = np.asarray(energy_loss, dtype=float)
        x = 2.0 * (e - self.e_low_) / (self.e_high_ - self.e_low_) - 1.0
        cols = [x[:, None]]
        if self.n_conditions_:
            c = np.asarray(conditions, dtype=float).reshape(e.size, self.n_conditions_)
            cols.append((c - self.c_mid_) / self.c_half_)
        return np.concatenate(cols, axis=1)

    def _train(self, rows, *, max_iter, patience, restarts, progress=False, init=None):
        """Levenberg-Marquardt training of the replicas ``rows`` (see :func:`ml4em.eels.lm.train_lm`)."""
        a = {k: v[rows] for k, v in self.arrays_.items()}
        theta0 = self.init_params_[rows] if init is None else init
        bar = None
        callback = None
        if progress:
            from ..training import progress as progress_bar

            bar = progress_bar(total=int(max_iter), desc=f"training {len(rows)} replicas")

            def callback(iteration, n_active, train, val):
                bar.update(1)
                bar.set_postfix({"training": n_active, "val chi2": f"{val:.3g}"})
        try:
            return train_lm(theta0, self.shape_, a["x_train"], a["y_train"], a["w_train"], a["x_val"], a["y_val"],
                            a["w_val"], max_iter=max_iter, patience=patience, restarts=restarts, decay=self.decay,
                            n_jobs=self.n_jobs, callback=callback, seed=self._restart_rng)
        finally:
            if bar is not None:
                bar.close()

    def retrain(self, rows, *, max_iter, patience, restarts=None):
        """Train the replicas ``rows`` again from their initial weights with other stopping settings.

        Used by ``benchmarks/replicas.py`` for the converged reference
        (the same replicas, splits and starts, trained much longer).

        Returns
        -------
        ml4em.eels.lm.LMResult
        """
        self._check_fitted()
        rows = np.asarray(rows, dtype=int)
        return self._train(rows, max_iter=max_iter, patience=patience,
                           restarts=self.restarts if restarts is None else restarts)

    def _central_chi2(self, params):
        ts = self.training_set_
        n = ts.n_data
        x = self._scale_inputs(ts.energy_loss[:n], ts.conditions[:n])
        pred = forward(params, x, self.shape_) * self.y_scale_ + self.y_mean_
        return chi2_per_point(pred, ts.log_intensity[:n], ts.log_sigma[:n])

    # --------------------------------------------------------------- prediction
    def _check_fitted(self):
        if not hasattr(self, "params_"):
            raise RuntimeError("this ZLPEnsemble is not fitted yet; call fit(energy_loss, sample) first.")

    def _conditions_for(self, energy_loss, conditions):
        n = np.size(energy_loss)
        if self.n_conditions_ == 0:
            if conditions is not None:
                raise ValueError("this ensemble was trained without conditions; call predict without conditions=.")
            return None
        if conditions is None:
            raise ValueError(f"this ensemble was trained with {self.n_conditions_} condition(s); pass "
                             "conditions= (one value, or one row per energy).")
        c = np.asarray(conditions, dtype=float)
        if c.size == self.n_conditions_:
            return np.broadcast_to(c.reshape(1, -1), (n, self.n_conditions_))
        if c.shape[0] == n and c.size == n * self.n_conditions_:
            return c.reshape(n, self.n_conditions_)
        raise ValueError(f"conditions should hold {self.n_conditions_} value(s), or one row per energy; got shape "
                         f"{c.shape}.")

    def predict_log(self, energy_loss, conditions=None, *, replicas=None):
        """Log ZLP intensity of every replica, ndarray of shape (n_replicas, n_energies).

        ``replicas`` (bool mask or indices) selects replicas.
        """
        self._check_fitted()
        e = np.atleast_1d(np.asarray(energy_loss, dtype=float))
        if e.ndim != 1 or not np.all(np.isfinite(e)):
            raise ValueError(f"energy_loss should be a 1-D array of finite energies in eV; got shape {e.shape}.")
        x = self._scale_inputs(e, self._conditions_for(e, conditions))
        params = self.params_ if replicas is None else self.params_[replicas]
        return forward(params, x, self.shape_) * self.y_scale_ + self.y_mean_

    def predict(self, energy_loss, conditions=None, *, replicas=None):
        """ZLP intensity of every replica, counts, ndarray of shape (n_replicas, n_energies).

        Parameters
        ----------
        energy_loss : ndarray of shape (n_energies,), eV
        conditions : float or array-like, optional
            Required when the ensemble was trained with conditions: one row
            for all energies or one row per energy.
        replicas : ndarray of bool or int, optional
            Replicas to use (e.g. ``select_replicas(zlp.chi2_, 3)``).
        """
        return np.exp(self.predict_log(energy_loss, conditions, replicas=replicas))

    def selected(self, max_chi2=None):
        """Boolean mask of the replicas with ``chi2_ <= max_chi2`` (all when None)."""
        self._check_fitted()
        return select_replicas(self.chi2_, max_chi2)

    def band(self, energy_loss, conditions=None, *, max_chi2=None, cl=0.68):
        """Median and ``cl`` band of the ZLP intensity over the (selected) replicas.

        Returns
        -------
        ml4em.eels.Band
            Arrays of shape (n_energies,), counts.
        """
        keep = self.selected(max_chi2)
        return band(self.predict(energy_loss, conditions, replicas=keep), cl=cl)

    def plot_history(self, ax=None):
        """Median training and validation chi2 per point against iteration; returns the Axes."""
        from ..plotting import plot_loss_curves

        self._check_fitted()
        history = {"training chi2": self.history_["train_chi2"], "validation chi2": self.history_["val_chi2"]}
        ax = plot_loss_curves(history, ax=ax, ylabel="median chi2 per point (dimensionless)",
                              title=f"{len(self.params_)} replicas, Levenberg-Marquardt")
        ax.set_xlabel("iteration (one full-batch step of every replica)")
        return ax
