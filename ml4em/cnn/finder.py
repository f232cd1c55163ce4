"""The defect finder: a U-Net trained on simulated STEM images, and its F1 against electron dose.

Training uses a weighted cross-entropy (defect pixels are rare); the dose explorer shows the finder at work
as the dose changes.
"""

import time

import numpy as np

from .detection import detection_scores, find_defects, plot_detections
from .unet import build_defect_unet, normalize_images

__all__ = ["shuffled_batches", "weighted_binary_crossentropy", "DefectFinder", "f1_against_dose", "dose_explorer"]


def shuffled_batches(x, y, batch_size, *, seed=None):
    """Endless (x, y) batches for ``model.fit``, reshuffled every epoch with their own generator.

    ``batches, steps = shuffled_batches(x, y, 32, seed=0)`` then
    ``model.fit(batches, steps_per_epoch=steps, epochs=...)`` gives a reproducible order of batches
    without touching global random state (one Python generator, read in order).

    Parameters
    ----------
    x, y : ndarray with the same first dimension
    batch_size : int
    seed : int, numpy.random.Generator or None

    Returns
    -------
    batches : generator of (ndarray, ndarray)
    steps_per_epoch : int

    Examples
    --------
    >>> batches, steps = shuffled_batches(np.arange(5.0), np.arange(5.0), 2, seed=0)
    >>> steps, [len(next(batches)[0]) for _ in range(3)]
    (3, [2, 2, 1])
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}; pass arrays of the same length.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} should be a positive integer.")
    rng = np.random.default_rng(seed)
    steps = int(np.ceil(len(x) / batch_size))

    def batches():
        while True:
            order = rng.permutation(len(x))
            for i in range(steps):
                idx = np.sort(order[i * batch_size: (i + 1) * batch_size])
                yield x[idx], y[idx]

    return batches(), steps


def weighted_binary_crossentropy(defect_weight=2.0):
    """A Keras loss: binary cross-entropy with the rare positive (defect) pixels weighted by ``defect_weight``.

    ``-mean(w y log p + (1 - y) log(1 - p))``. It is minimised by ``p = w q / (w q + 1 - q)`` for a true
    probability q, so a threshold of 0.5 on p means q = 1 / (1 + w): more defects found, more false alarms.

    Examples
    --------
    >>> loss = weighted_binary_crossentropy(3.0)
    >>> round(float(loss(np.array([1.0, 0.0]), np.array([0.5, 0.5]))), 4)  # (3 + 1) ln 2 / 2
    1.3863
    """
    from keras import ops

    if not defect_weight > 0:
        raise ValueError(f"defect_weight={defect_weight!r} should be > 0.")
    w = float(defect_weight)

    def loss(y_true, y_pred):
        p = ops.clip(y_pred, 1e-6, 1 - 1e-6)
        y = ops.cast(y_true, p.dtype)
        return -ops.mean(w * y * ops.log(p) + (1 - y) * ops.log(1 - p))

    return loss


class DefectFinder:
    """Find point defects in STEM images with a U-Net trained on simulated images.

    Parameters
    ----------
    filters, depth, kernel_size, dropout :
        Architecture, see :func:`build_defect_unet`.
    learning_rate : float, default 3e-3
        Adam's step size.
    epochs : int, default 10
    batch_size : int, default 32
    defect_weight : float, default 2
        Weight of defect pixels in the binary cross-entropy (they are about 1 % of all pixels);
        :meth:`predict_proba` undoes its effect on the output.
    threshold : float, default 0.5
        Probability above which a pixel counts as defect in :meth:`detect`.
    seed : int, numpy.random.Generator or None
        Seeds the weights and the order of the batches.

    Attributes
    ----------
    model_ : keras.Model
    history_ : dict of str to list of float
        Loss per epoch ("loss", and "val_loss" with validation data).
    train_seconds_ : float
        Wall-clock time of :meth:`fit`.

    Examples
    --------
    >>> from ml4em.stem import simulate_stem
    >>> train, test = simulate_stem(2000, seed=0), simulate_stem(100, seed=1)  # doctest: +SKIP
    >>> finder = DefectFinder(seed=0).fit(train.images, train.defect_mask)  # doctest: +SKIP
    >>> finder.score(test.images, test.defect_positions)["f1"]  # doctest: +SKIP
    """

    def __init__(self, *, filters=8, depth=2, kernel_size=3, dropout=0.0, learning_rate=3e-3, epochs=10,
                 batch_size=32, defect_weight=2.0, threshold=0.5, seed=None):
        self.filters, self.depth, self.kernel_size, self.dropout = filters, depth, kernel_size, dropout
        self.learning_rate, self.epochs, self.batch_size = learning_rate, epochs, batch_size
        self.defect_weight, self.threshold, self.seed = defect_weight, threshold, seed

    def fit(self, images, defect_masks, *, validation_data=None, monitor=True):
        """Train on ``images`` (n, rows, cols) counts and boolean ``defect_masks`` of the same shape.

        ``validation_data``: optional (images, defect_masks). ``monitor``: show a progress bar and the loss
        curves. Returns self.
        """
        import keras

        from ..training import TrainingMonitor, check_positive_ints

        x = normalize_images(images)
        y = np.asarray(defect_masks, dtype=np.float32)
        if y.shape != x.shape[:3]:
            raise ValueError(f"defect_masks should have the shape of images, {x.shape[:3]}; got {y.shape}.")
        check_positive_ints(epochs=self.epochs, batch_size=self.batch_size)
        if not self.defect_weight > 0:
            raise ValueError(f"defect_weight={self.defect_weight!r} should be > 0.")
        rng = np.random.default_rng(self.seed)
        self.model_ = build_defect_unet(filters=self.filters, depth=self.depth, kernel_size=self.kernel_size,
                                        dropout=self.dropout, seed=rng)
        self.model_.compile(optimizer=keras.optimizers.Adam(self.learning_rate),
                            loss=weighted_binary_crossentropy(self.defect_weight))
        val = None
        if validation_data is not None:
            val = (normalize_images(validation_data[0]), np.asarray(validation_data[1], np.float32)[..., None])
        callbacks = [TrainingMonitor("training the defect finder", plot=True)] if monitor else []
        start = time.perf_counter()
        batches, steps = shuffled_batches(x, y[..., None], self.batch_size, seed=rng)
        hist = self.model_.fit(batches, steps_per_epoch=steps, epochs=self.epochs, shuffle=False,
                               validation_data=val, verbose=0, callbacks=callbacks)
        self.train_seconds_ = time.perf_counter() - start
        self.history_ = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
        return self

    def _fitted(self):
        if not hasattr(self, "model_"):
            raise RuntimeError("This DefectFinder is not fitted yet; call fit(images, defect_masks) first.")

    def predict_proba(self, images, *, batch_size=64):
        """Defect probability per pixel, ndarray of shape (n_images, rows, cols).

        The network's output is corrected for ``defect_weight``, so that 0.5 means even odds.
        """
        self._fitted()
        p = self.model_.predict(normalize_images(images), batch_size=batch_size, verbose=0)[..., 0]
        # the weighted loss is minimised by p = w q / (w q + 1 - q) for a true probability q: undo that
        w = self.defect_weight
        return p / (w * (1 - p) + p)

    def detect(self, images):
        """Found defects: a list with one ndarray of shape (n_found, 2) (row, column) per image."""
        return find_defects(self.predict_proba(images), threshold=self.threshold)

    def score(self, images, defect_positions, *, tolerance=2.0):
        """:func:`detection_scores` of :meth:`detect` on ``images`` against the true ``defect_positions``."""
        return detection_scores(self.detect(images), list(defect_positions), tolerance=tolerance)


def f1_against_dose(finder, doses, *, n_images=100, tolerance=2.0, seed=None, **simulate_kwargs):
    """F1 of ``finder`` on fresh simulated images at each dose (electrons per square angstrom).

    Returns
    -------
    ndarray of shape (len(doses),)
    """
    from ..stem import simulate_stem

    doses = np.atleast_1d(np.asarray(doses, dtype=float))
    if doses.ndim != 1 or np.any(doses <= 0):
        raise ValueError(f"doses={doses!r} should be positive numbers (electrons per square angstrom).")
    rng = np.random.default_rng(seed)
    f1 = []
    for dose in doses:
        data = simulate_stem(n_images, dose=float(dose), seed=rng, **simulate_kwargs)
        f1.append(finder.score(data.images, data.defect_positions, tolerance=tolerance)["f1"])
    return np.array(f1)


def dose_explorer(finder, *, seed=0, **simulate_kwargs):
    """A ``plot(ax, dose)`` function for :func:`ml4em.widgets.explore`: a fresh image at that dose and
    the detections of ``finder`` on it (same specimen, same seed, at every dose)."""
    from ..stem import simulate_stem

    def plot(ax, dose):
        data = simulate_stem(1, dose=float(dose), seed=seed, **simulate_kwargs)
        scores = plot_detections(ax, data.images[0], finder.detect(data.images)[0], data.defect_positions[0],
                                 pixel_size=data.pixel_size)
        ax.text(0.02, 0.02, f"F1 = {scores['f1']:.2f}", transform=ax.transAxes, color="w", fontsize=9,
                bbox={"facecolor": "k", "alpha": 0.6})

    return plot
