"""Training data of the ZLP model and its Monte Carlo replicas.

The training data are the mean spectrum below ``dE1`` (one curve per group
of spectra taken under the same conditions), each channel with an
uncertainty sigma_i from the spread of the spectra of its group, plus
pseudo-data above ``dE2`` that pin the ZLP to the noise level there. A
replica is a new sample of the data drawn from that uncertainty,
``I^(k)_i = I_i + r^(k)_i sigma_i`` with standard normal r (plus, when
given, systematic shifts that move all channels together). Fitting one
network per replica carries the uncertainty of the data into the ZLP
model (Roest et al., Ultramicroscopy 222 (2021) 113202,
doi:10.1016/j.ultramic.2021.113202, arXiv:2009.05050).

Two meanings of sigma_i are offered. ``uncertainty="spread"`` (default, as
in the papers) uses the standard deviation of the spectra: the band then
describes the ZLP of any one spectrum of the set, spectrum-to-spectrum
variations included. ``uncertainty="mean"`` uses the standard error of
the mean (the spread over sqrt(n)): the band then describes how well the
set determines its common mean ZLP, and it is what covers a known true ZLP
68% of the time (tests/test_eels_coverage.py).

Used in: tutorials/07_eels_replicas.
"""

from dataclasses import dataclass

import numpy as np

from .axis import check_spectra
from .regions import noise_level

__all__ = ["TrainingSet", "make_training_set", "make_replicas", "split_replicas", "chi2_per_point",
           "UNCERTAINTIES"]

#: Allowed values of ``uncertainty``.
UNCERTAINTIES = ("spread", "mean")


@dataclass
class TrainingSet:
    """Training points of the ZLP model: measured channels below dE1, then pseudo-data above dE2.

    Attributes
    ----------
    energy_loss : ndarray of shape (n_points,), eV
    conditions : ndarray of shape (n_points, n_conditions)
        Extra inputs per point (exposure time, beam energy, ...); zero columns when none.
    intensity : ndarray of shape (n_points,), counts
        Mean spectrum of the group (pseudo-data: the noise level at dE2).
    sigma : ndarray of shape (n_points,), counts
        Uncertainty of ``intensity`` (see ``uncertainty`` in :func:`make_training_set`).
    log_sigma : ndarray of shape (n_points,)
        Uncertainty of ``log(intensity)``: ``sigma / intensity``, and ``pseudo_sigma`` for pseudo-data.
    pseudo : ndarray of bool, shape (n_points,)
        True for pseudo-data.
    group : ndarray of int, shape (n_points,)
        Index of the group (conditions) of each point.
    dE1, dE2 : float, eV
    tail : ndarray of bool, shape (n_points,)
        True for points taken from the vacuum spectra between dE1 and dE2
        (``vacuum`` of :func:`make_training_set`); all False without them.
    systematics : ndarray of shape (n_groups, n_points), counts, or None
        With vacuum spectra: per group, the 1-sigma correlated shift of its
        tail points (``tail_mismatch`` times their intensity), for
        :func:`make_replicas`.
    tail_scale, tail_mismatch : ndarray of shape (n_groups,), or None
        With vacuum spectra: the factor that scales the vacuum to each group
        and the standard deviation of the log ratio sample / scaled vacuum
        over the shoulder below dE1.
    """

    energy_loss: np.ndarray
    conditions: np.ndarray
    intensity: np.ndarray
    sigma: np.ndarray
    log_sigma: np.ndarray
    pseudo: np.ndarray
    group: np.ndarray
    dE1: float
    dE2: float
    tail: np.ndarray = None
    systematics: np.ndarray = None
    tail_scale: np.ndarray = None
    tail_mismatch: np.ndarray = None

    @property
    def n_data(self):
        """Number of measured (not pseudo) points; they come first."""
        return int(np.sum(~self.pseudo))

    @property
    def log_intensity(self):
        """``log(intensity)``, ndarray of shape (n_points,)."""
        return np.log(self.intensity)


def _as_groups(energy_loss, spectra, conditions, *, label="spectra"):
    """Spectra as a list of (n_spectra, n_channels) arrays and conditions as (n_groups, n_conditions).

    ``label`` names the spectra in error messages. The validation of :func:`make_training_set` and of
    :meth:`ml4em.eels.ZLPEnsemble.fit`, done once; :func:`_training_set` then trusts its input.
    """
    groups = list(spectra) if isinstance(spectra, (list, tuple)) else [spectra]
    checked = []
    for g, block in enumerate(groups):
        name = label if len(groups) == 1 else f"{label}[{g}]"
        e, block = check_spectra(energy_loss, block, name=name)
        if block.ndim != 2:
            raise ValueError(f"{name} should have shape (n_spectra, n_channels); got {block.shape}.")
        if block.shape[0] < 2:
            raise ValueError(f"{name} holds {block.shape[0]} spectrum; at least 2 spectra taken under the same "
                             "conditions are needed to estimate the uncertainty sigma from their spread.")
        checked.append(block)
    if conditions is None:
        if len(checked) > 1:
            raise ValueError(f"spectra has {len(checked)} groups but conditions is None; give one row of "
                             "conditions (exposure time, beam energy, ...) per group.")
        cond = np.zeros((1, 0))
    else:
        cond = np.asarray(conditions, dtype=float)
        cond = cond.reshape(-1, 1) if cond.ndim == 1 else cond
        if cond.ndim != 2 or cond.shape[0] != len(checked):
            raise ValueError(f"conditions should have one row per group of spectra ({len(checked)}); got shape "
                             f"{np.shape(conditions)}.")
        if not np.all(np.isfinite(cond)):
            raise ValueError("conditions has NaN or infinite values.")
    return e, checked, cond


def make_training_set(energy_loss, spectra, *, dE1, dE2, conditions=None, uncertainty="spread", n_pseudo=32,
                      pseudo_sigma=1.0, pseudo_level=None, min_snr=3.0, vacuum=None):
    """Collect the training points of the ZLP model.

    Parameters
    ----------
    energy_loss : ndarray of shape (n_channels,), eV
        ZLP maximum at 0 eV (see :func:`ml4em.eels.align_zlp`).
    spectra : ndarray of shape (n_spectra, n_channels), or list of them
        Spectra taken under the same conditions (at least 2, to estimate
        sigma); a list holds one such array per group of conditions.
    dE1, dE2 : float, eV
        Train below dE1; pseudo-data from dE2 on.
    conditions : array-like of shape (n_groups,) or (n_groups, n_conditions), optional
        Extra model inputs, one row per group (e.g. exposure time in ms).
    uncertainty : {"spread", "mean"}
        sigma_i is the standard deviation of the spectra ("spread") or the
        standard error of their mean ("mean").
    n_pseudo : int, default 32
        Pseudo-data points per group, evenly spaced from dE2 to
        ``min(1.5 dE2, end of axis)``.
    pseudo_sigma : float, default 1
        Uncertainty of the pseudo-data in log intensity (1 = a factor e).
    pseudo_level : float or sequence of float, counts, optional
        Value of the pseudo-data per group; default the noise of one
        spectrum at dE2 (:func:`ml4em.eels.noise_level`).
    min_snr : float, default 3
        Channels below dE1 whose mean is less than ``min_snr`` spreads are
        left out (too noisy for a logarithm).
    vacuum : ndarray of shape (n_vacuum, n_channels), counts, optional
        Vacuum spectra (at least 2) on the same axis. When given, their mean
        between dE1 and dE2 (channels above ``min_snr`` spreads) is added to
        every group as measured points, scaled to the group on the shoulder
        below dE1 (``tail_scale``); the shape mismatch there
        (``tail_mismatch``) becomes a correlated systematic of those points.
        This assumes that the vacuum ZLP has the sample's shape.

    Returns
    -------
    TrainingSet

    Examples
    --------
    >>> from ml4em.datasets import make_lowloss_spectrum
    >>> s = make_lowloss_spectrum(n_spectra=4, seed=0)
    >>> ts = make_training_set(s.energy_loss, s.counts, dE1=1.5, dE2=15.0)
    >>> bool(ts.energy_loss[~ts.pseudo].max() < 1.5), int(ts.pseudo.sum())
    (True, 32)
    """
    e, groups, cond = _as_groups(energy_loss, spectra, conditions)
    if vacuum is not None:
        (vacuum,) = _as_groups(e, vacuum, None, label="vacuum")[1]
    return _training_set(e, groups, cond, dE1=dE1, dE2=dE2, uncertainty=uncertainty, n_pseudo=n_pseudo,
                         pseudo_sigma=pseudo_sigma, pseudo_level=pseudo_level, min_snr=min_snr, vacuum=vacuum)


def _training_set(e, groups, cond, *, dE1, dE2, uncertainty, n_pseudo, pseudo_sigma, pseudo_level, min_snr,
                  vacuum=None):
    """:func:`make_training_set` on spectra and conditions already checked by :func:`_as_groups`."""
    if uncertainty not in UNCERTAINTIES:
        raise ValueError(f"uncertainty={uncertainty!r} is not known; choose 'spread' (sigma = spread of the "
                         "spectra, the papers' choice) or 'mean' (standard error of their mean).")
    if int(n_pseudo) != n_pseudo or n_pseudo < 1:
        raise ValueError(f"n_pseudo={n_pseudo!r} should be a positive integer (pseudo-data points per group).")
    if not pseudo_sigma > 0:
        raise ValueError(f"pseudo_sigma={pseudo_sigma!r} should be > 0 (uncertainty in log intensity).")
    if not (e[0] < dE1 < dE2 < e[-1]):
        raise ValueError(f"need {e[0]:.4g} < dE1 < dE2 < {e[-1]:.4g} eV (inside the axis); got dE1={dE1!r}, "
                         f"dE2={dE2!r}.")
    levels = np.broadcast_to(np.asarray(pseudo_level if pseudo_level is not None else np.nan, dtype=float),
                             (len(groups),))
    e_pseudo = np.linspace(dE2, min(1.5 * dE2, e[-1]), int(n_pseudo))
    parts, scales, mismatches = [], [], []
    for g, block in enumerate(groups):
        mean = block.mean(axis=0)
        spread = block.std(axis=0, ddof=1)
        keep = (e < dE1) & (mean > 0) & (mean > min_snr * spread)
        if keep.sum() < 3:
            raise ValueError(f"group {g}: only {int(keep.sum())} channels below dE1={dE1} eV have a mean above "
                             f"{min_snr} times their spread; check dE1 and the spectra.")
        sigma = spread if uncertainty == "spread" else spread / np.sqrt(block.shape[0])
        sigma = np.maximum(sigma, 1e-6 * mean)  # identical spectra would give sigma = 0
        level = levels[g] if np.isfinite(levels[g]) else float(np.interp(dE2, e, noise_level(e, block)))
        if not level > 0:
            raise ValueError(f"pseudo_level={float(level)!r} for group {g} should be > 0 counts.")
        i_data, s_data = mean[keep], sigma[keep]
        n_tail, mismatch = 0, 0.0
        if vacuum is not None:
            tail, v_i, v_s, scale, mismatch = _vacuum_tail(e, mean, spread, block.shape[0], keep, vacuum, dE1=dE1, dE2=dE2,
                                                           uncertainty=uncertainty, min_snr=min_snr)
            i_data, s_data, n_tail = np.r_[i_data, v_i], np.r_[s_data, v_s], int(tail.sum())
            keep_e = np.r_[e[keep], e[tail]]
            scales.append(scale)
        else:
            keep_e = e[keep]
        mismatches.append(mismatch)
        n_d = keep_e.size
        parts.append(dict(
            energy_loss=np.r_[keep_e, e_pseudo],
            conditions=np.repeat(cond[g][None, :], n_d + e_pseudo.size, axis=0),
            intensity=np.r_[i_data, np.full(e_pseudo.size, level)],
            sigma=np.r_[s_data, np.full(e_pseudo.size, level * pseudo_sigma)],
            log_sigma=np.r_[s_data / i_data, np.full(e_pseudo.size, float(pseudo_sigma))],
            pseudo=np.r_[np.zeros(n_d, bool), np.ones(e_pseudo.size, bool)],
            tail=np.r_[np.zeros(n_d - n_tail, bool), np.ones(n_tail, bool), np.zeros(e_pseudo.size, bool)],
            group=np.full(n_d + e_pseudo.size, g)))
    # measured points of all groups first, then all pseudo-data
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.argsort(merged["pseudo"], kind="stable")
    ts = {k: v[order] for k, v in merged.items()}
    # one correlated source per group: its vacuum tail moves up or down by the shape mismatch, all channels at once
    systematics = np.array([np.where(ts["tail"] & (ts["group"] == g), m * ts["intensity"], 0.0)
                            for g, m in enumerate(mismatches)]) if vacuum is not None else None
    return TrainingSet(**ts, dE1=float(dE1), dE2=float(dE2), systematics=systematics,
                       tail_scale=np.array(scales) if vacuum is not None else None,
                       tail_mismatch=np.array(mismatches) if vacuum is not None else None)


def _vacuum_tail(e, mean, spread, n_spectra, keep, vacuum, *, dE1, dE2, uncertainty, min_snr):
    """Training points from the vacuum spectra between dE1 and dE2, scaled to a group's mean spectrum.

    The scale is the geometric mean of the ratio sample / vacuum over the group's measured channels from dE1 / 2
    to dE1 (the shoulder next to where the tail takes over; all its channels above 0 eV when that has fewer
    than 3). The mismatch is the scatter of the log of that ratio there beyond what the noise of the two means
    explains: how far the two peak shapes differ, carried into the replicas as a correlated systematic of the
    tail.

    Returns
    -------
    tail : ndarray of bool, shape (n_channels,)
        Channels from dE1 to dE2 where the vacuum mean is above ``min_snr`` spreads.
    intensity, sigma : ndarray of shape (n_tail,), counts
        The scaled vacuum mean and its uncertainty (``uncertainty`` rule) on those channels.
    scale, mismatch : float
    """
    v_mean = vacuum.mean(axis=0)
    v_spread = vacuum.std(axis=0, ddof=1)
    v_sigma = v_spread if uncertainty == "spread" else v_spread / np.sqrt(vacuum.shape[0])
    shoulder = keep & (e >= dE1 / 2.0) & (v_mean > 0)
    if shoulder.sum() < 3:
        shoulder = keep & (e > 0) & (v_mean > 0)
    if shoulder.sum() < 3:
        raise ValueError(f"the vacuum spectra have fewer than 3 positive channels where the sample is measured "
                         f"below dE1={dE1} eV; they cannot be scaled to the sample (vacuum_tail needs vacuum "
                         "spectra on the sample's axis, taken with the same beam).")
    ratio = np.log(mean[shoulder] / v_mean[shoulder])
    noise = np.mean((spread[shoulder] / mean[shoulder]) ** 2 / n_spectra
                    + (v_spread[shoulder] / v_mean[shoulder]) ** 2 / vacuum.shape[0])
    scale, mismatch = float(np.exp(ratio.mean())), float(np.sqrt(max(ratio.var() - noise, 0.0)))
    tail = (e >= dE1) & (e < dE2) & (v_mean > 0) & (v_mean > min_snr * v_spread)
    return tail, scale * v_mean[tail], scale * np.maximum(v_sigma[tail], 1e-6 * v_mean[tail]), scale, mismatch



def make_replicas(intensity, sigma, n_replicas, *, systematics=None, floor=0.05, seed=None):
    """Monte Carlo replicas ``I^(k)_i = I_i + r^(k)_i sigma_i (+ sum_s r^(k)_s S_si)``.

    Parameters
    ----------
    intensity : ndarray of shape (n_points,), counts
        Central values.
    sigma : ndarray of shape (n_points,), counts
        Uncorrelated 1-sigma uncertainties.
    n_replicas : int
    systematics : ndarray of shape (n_sources, n_points), optional
        1-sigma shifts of correlated systematic effects: each replica adds
        every source scaled by one standard normal number, the same for all
        points.
    floor : float, default 0.05
        Replica values are kept above ``floor * intensity`` so that their
        logarithm exists (only matters where sigma is comparable to I).
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of shape (n_replicas, n_points), counts

    Examples
    --------
    >>> reps = make_replicas(np.full(4, 100.0), np.full(4, 10.0), 20000, seed=0)
    >>> reps.shape, bool(abs(reps.std() - 10) < 0.2)
    ((20000, 4), True)
    """
    rng = np.random.default_rng(seed)
    intensity = np.asarray(intensity, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    if intensity.ndim != 1 or sigma.shape != intensity.shape:
        raise ValueError(f"intensity and sigma should be 1-D arrays of the same length; got shapes "
                         f"{intensity.shape} and {sigma.shape}.")
    if np.any(sigma < 0) or not np.all(np.isfinite(sigma)):
        raise ValueError("sigma should hold finite standard deviations >= 0.")
    if int(n_replicas) != n_replicas or n_replicas < 1:
        raise ValueError(f"n_replicas={n_replicas!r} should be a positive integer.")
    reps = intensity + rng.standard_normal((int(n_replicas), intensity.size)) * sigma
    if systematics is not None:
        shifts = np.atleast_2d(np.asarray(systematics, dtype=float))
        if shifts.shape[1] != intensity.size:
            raise ValueError(f"systematics should have shape (n_sources, {intensity.size}); got {shifts.shape}.")
        reps += rng.standard_normal((int(n_replicas), shifts.shape[0])) @ shifts
    return np.maximum(reps, floor * intensity)


def split_replicas(n_replicas, n_points, validation_fraction=0.25, *, seed=None):
    """A random training/validation split of ``n_points`` for every replica.

    Parameters
    ----------
    n_replicas, n_points : int
    validation_fraction : float, default 0.25
        Share of the points held out for validation (at least one point each way).
    seed : int, numpy.random.Generator or None

    Returns
    -------
    train : ndarray of int, shape (n_replicas, n_train)
    val : ndarray of int, shape (n_replicas, n_val)
        Point indices, each row sorted.

    Examples
    --------
    >>> tr, va = split_replicas(3, 8, 0.25, seed=0)
    >>> tr.shape, va.shape
    ((3, 6), (3, 2))
    >>> sorted(np.r_[tr[0], va[0]].tolist()) == list(range(8))
    True
    """
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction={validation_fraction!r} should be between 0 and 1.")
    if int(n_points) != n_points or n_points < 2:
        raise ValueError(f"n_points={n_points!r} should be an integer >= 2 to split.")
    rng = np.random.default_rng(seed)
    n_val = min(max(int(round(validation_fraction * n_points)), 1), int(n_points) - 1)
    order = np.argsort(rng.random((int(n_replicas), int(n_points))), axis=1)
    return np.sort(order[:, n_val:], axis=1), np.sort(order[:, :n_val], axis=1)


def chi2_per_point(prediction, data, sigma):
    """chi2 per point, ``mean(((prediction - data) / sigma)^2)`` over the last axis.

    Parameters
    ----------
    prediction : ndarray of shape (..., n_points)
    data, sigma : ndarray broadcastable to ``prediction``

    Returns
    -------
    ndarray of shape (...)

    Examples
    --------
    >>> chi2_per_point(np.array([1.0, 2.0]), np.array([0.0, 0.0]), 1.0)
    2.5
    """
    prediction = np.asarray(prediction, dtype=float)
    sigma = np.asarray(sigma, dtype=float)
    if np.any(sigma <= 0):
        raise ValueError("sigma should be > 0 everywhere (a standard deviation).")
    value = np.mean(((prediction - np.asarray(data, dtype=float)) / sigma) ** 2, axis=-1)
    return float(value) if np.ndim(value) == 0 else value
