"""Convolutional networks that find point defects in atomic-resolution STEM images.

Convolution and max pooling by hand in numpy (:func:`conv2d`, :func:`max_pool2d`),
a small fully-convolutional U-Net (:func:`build_defect_unet`) that maps an image
to a per-pixel defect probability, the detector built on it
(:class:`DefectFinder`), and the scores of defect detection within a tolerance
radius (:func:`match_defects`, :func:`detection_scores`) with the map of true
positives, false negatives and false positives (:func:`plot_detections`).

The approach (train a fully-convolutional network on simulated images, read
defects off its output map) follows Madsen et al., Adv. Theory Simul. 1,
1800037 (2018), doi:10.1002/adts.201800037; Patton et al., SC'18,
doi:10.1109/SC.2018.00053, searched such networks' architectures at scale.

Used in: tutorials/04_cnn (and tutorials/06_genetic_algorithms for the data).
"""

import time

import numpy as np

__all__ = ["conv2d", "max_pool2d", "KERNELS", "plot_filtered", "normalize_images", "build_unet", "build_defect_unet", "find_defects", "match_defects",
           "detection_scores", "shuffled_batches", "weighted_binary_crossentropy", "DefectFinder", "f1_against_dose", "plot_detections", "dose_explorer"]


def _as_image(name, image):
    arr = np.asarray(image, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"{name} should be a 2-D array (rows, columns); got shape {arr.shape}.")
    return arr


def conv2d(image, kernel, *, mode="valid"):
    """2-D cross-correlation of ``image`` with ``kernel``, as in a convolutional layer.

    Parameters
    ----------
    image : ndarray of shape (rows, cols)
    kernel : ndarray of shape (k_rows, k_cols)
    mode : {"valid", "same"}
        "valid": only where the kernel fits, shape (rows - k_rows + 1, cols - k_cols + 1);
        "same": zero padding, output shape of ``image`` (as ``scipy.signal.correlate2d``).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> conv2d(np.arange(9.0).reshape(3, 3), np.ones((2, 2)))
    array([[ 8., 12.],
           [20., 24.]])
    """
    image, kernel = _as_image("image", image), _as_image("kernel", kernel)
    if mode not in ("valid", "same"):
        raise ValueError(f"mode={mode!r} is not known; use 'valid' or 'same'.")
    kr, kc = kernel.shape
    if mode == "same":
        top, left = (kr - 1) // 2, (kc - 1) // 2
        image = np.pad(image, ((top, kr - 1 - top), (left, kc - 1 - left)))
    if image.shape[0] < kr or image.shape[1] < kc:
        raise ValueError(f"kernel of shape {kernel.shape} is larger than image of shape {image.shape}; "
                         "use a smaller kernel or mode='same'.")
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijkl,kl->ij", windows, kernel)


def max_pool2d(image, pool=2):
    """Max pooling over non-overlapping ``pool x pool`` windows (rows and columns that do not fill one are dropped).

    Examples
    --------
    >>> max_pool2d(np.arange(16.0).reshape(4, 4))
    array([[ 5.,  7.],
           [13., 15.]])
    """
    image = _as_image("image", image)
    if isinstance(pool, bool) or not isinstance(pool, (int, np.integer)) or pool < 1:
        raise ValueError(f"pool={pool!r} should be a positive integer (window size in pixels).")
    r, c = image.shape[0] // pool, image.shape[1] // pool
    if r == 0 or c == 0:
        raise ValueError(f"pool={pool} is larger than image of shape {image.shape}; use a smaller pool.")
    return image[: r * pool, : c * pool].reshape(r, pool, c, pool).max(axis=(1, 3))


#: Small kernels to try by hand: what one convolution filter can pick out of an image.
KERNELS = {
    "identity": np.array([[0.0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "blur (3 x 3 mean)": np.full((3, 3), 1 / 9),
    "edge along x (Sobel)": np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "edge along y (Sobel)": np.array([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "Laplacian (spots)": np.array([[0.0, -1, 0], [-1, 4, -1], [0, -1, 0]]),
}


def plot_filtered(ax, kernel="Laplacian (spots)", *, dose=2e4, seed=0):
    """Draw a simulated STEM image after one 'valid' convolution with a kernel of :data:`KERNELS`.

    Used by the explorer of tutorials/04_cnn.
    """
    from .stem import simulate_stem

    if kernel not in KERNELS:
        raise ValueError(f"kernel={kernel!r} is not known; choose one of {sorted(KERNELS)}.")
    image = simulate_stem(1, dose=dose, seed=seed).images[0]
    out = conv2d(image, KERNELS[kernel])
    im = ax.imshow(out, cmap="gray")
    ax.figure.colorbar(im, ax=ax, label="filter output (counts)")
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    ax.grid(False)
    return out


def normalize_images(images):
    """Scale each image to zero mean and unit standard deviation, so that one network works at any dose.

    Parameters
    ----------
    images : ndarray of shape (n_images, rows, cols), counts

    Returns
    -------
    ndarray of shape (n_images, rows, cols, 1), float32
        With a channel axis, ready for Keras.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 3:
        raise ValueError(f"images should have shape (n_images, rows, cols); got {x.shape}. "
                         "For one image use image[None].")
    x = x - x.mean(axis=(1, 2), keepdims=True)
    x /= x.std(axis=(1, 2), keepdims=True) + 1e-6
    return x[..., None]


def _initializer(rng):
    import keras

    return keras.initializers.HeNormal(seed=None if rng is None else int(rng.integers(2**31)))


def build_unet(*, in_channels=1, out_channels=1, filters=8, depth=2, kernel_size=3, dropout=0.0, batch_norm=True,
               out_activation="sigmoid", out_bias=0.0, seed=None, name="unet"):
    """A small fully-convolutional U-Net: images in, maps of the same size out.

    Each level has two convolutions (batch normalisation and ReLU); the encoder
    halves the resolution with max pooling and doubles the filters, the decoder
    upsamples and concatenates the encoder's features of the same size (skip
    connections). Any image whose sides are multiples of ``2**depth`` fits.

    Parameters
    ----------
    in_channels, out_channels : int, default 1
    filters : int, default 8
        Filters of the first level.
    depth : int, default 2
        Number of poolings.
    kernel_size : int, default 3
    dropout : float, default 0
        Dropout rate at the bottleneck.
    batch_norm : bool, default True
    out_activation : str, default "sigmoid"
    out_bias : float, default 0
        Initial bias of the output layer.
    seed : int, numpy.random.Generator or None
        Seeds the weight initialisation and the dropout.

    Returns
    -------
    keras.Model
        Input shape (None, None, in_channels), output (None, None, out_channels).

    Examples
    --------
    >>> build_unet(filters=4, depth=1, seed=0).output_shape  # doctest: +SKIP
    (None, None, None, 1)
    """
    import keras
    from keras import layers

    for arg, value, low in (("in_channels", in_channels, 1), ("out_channels", out_channels, 1),
                            ("filters", filters, 1), ("depth", depth, 0), ("kernel_size", kernel_size, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{arg}={value!r} should be an integer >= {low}.")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout={dropout!r} should be in [0, 1).")
    rng = None if seed is None else np.random.default_rng(seed)

    def block(x, f):
        for _ in range(2):
            x = layers.Conv2D(f, kernel_size, padding="same", use_bias=not batch_norm,
                              kernel_initializer=_initializer(rng))(x)
            if batch_norm:
                x = layers.BatchNormalization(momentum=0.9)(x)  # statistics settle within a short training
            x = layers.Activation("relu")(x)
        return x

    inputs = keras.Input(shape=(None, None, in_channels))
    x, skips = inputs, []
    for level in range(depth):
        x = block(x, filters * 2**level)
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)
    x = block(x, filters * 2**depth)
    if dropout:
        x = layers.Dropout(dropout, seed=None if rng is None else int(rng.integers(2**31)))(x)
    for level in reversed(range(depth)):
        x = layers.UpSampling2D(2)(x)
        x = layers.Concatenate()([x, skips[level]])
        x = block(x, filters * 2**level)
    outputs = layers.Conv2D(out_channels, 1, activation=out_activation, kernel_initializer=_initializer(rng),
                            bias_initializer=keras.initializers.Constant(out_bias))(x)
    return keras.Model(inputs, outputs, name=name)


def build_defect_unet(*, filters=8, depth=2, kernel_size=3, dropout=0.0, batch_norm=True, seed=None):
    """The defect finder's network: :func:`build_unet` with one channel in and a sigmoid probability out.

    The output bias starts at -4 (a probability of about 2 %), since defects are rare: a stable first epoch.

    Examples
    --------
    >>> build_defect_unet(filters=4, depth=1, seed=0).output_shape  # doctest: +SKIP
    (None, None, None, 1)
    """
    return build_unet(filters=filters, depth=depth, kernel_size=kernel_size, dropout=dropout,
                      batch_norm=batch_norm, out_activation="sigmoid", out_bias=-4.0, seed=seed,
                      name="defect_unet")


def find_defects(probability, *, threshold=0.5, min_pixels=2):
    """Defect positions from a probability map: centroids of the connected regions above ``threshold``.

    Parameters
    ----------
    probability : ndarray of shape (rows, cols) or (n_images, rows, cols)
    threshold : float, default 0.5
    min_pixels : int, default 2
        Smaller regions are ignored as noise.

    Returns
    -------
    ndarray of shape (n_found, 2), pixels (row, column); a list of them for a stack.

    Examples
    --------
    >>> p = np.zeros((8, 8)); p[2:4, 5:7] = 0.9
    >>> find_defects(p)
    array([[2.5, 5.5]])
    """
    from scipy import ndimage

    p = np.asarray(probability, dtype=float)
    if p.ndim == 3:
        return [find_defects(q, threshold=threshold, min_pixels=min_pixels) for q in p]
    if p.ndim != 2:
        raise ValueError(f"probability should have shape (rows, cols) or (n_images, rows, cols); got {p.shape}.")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold={threshold!r} should be between 0 and 1 (a probability).")
    regions, n = ndimage.label(p > threshold)
    if n == 0:
        return np.zeros((0, 2))
    index = np.arange(1, n + 1)
    sizes = ndimage.sum_labels(np.ones_like(p), regions, index)
    centres = np.array(ndimage.center_of_mass(p, regions, index), dtype=float).reshape(-1, 2)
    return centres[sizes >= min_pixels]


def _positions(name, value):
    arr = np.asarray(value, dtype=float).reshape(-1, 2) if np.size(value) else np.zeros((0, 2))
    if np.ndim(value) != 2 and np.size(value):
        raise ValueError(f"{name} should have shape (n, 2) (row, column); got {np.shape(value)}.")
    return arr


def match_defects(found, true, *, tolerance=2.0):
    """Pair found and true defects one-to-one within ``tolerance`` pixels (minimum total distance).

    Parameters
    ----------
    found, true : ndarray of shape (n_found, 2) and (n_true, 2), pixels
    tolerance : float, pixels, default 2

    Returns
    -------
    pairs : ndarray of shape (n_tp, 2), int
        Index into ``found`` and into ``true`` of each true positive.
    false_positives : ndarray of int
        Indices into ``found`` without a partner.
    false_negatives : ndarray of int
        Indices into ``true`` without a partner.

    Examples
    --------
    >>> pairs, fp, fn = match_defects([[0, 0], [9, 9]], [[0.5, 0], [5, 5]], tolerance=1)
    >>> pairs.tolist(), fp.tolist(), fn.tolist()
    ([[0, 0]], [1], [1])
    """
    from scipy.optimize import linear_sum_assignment

    found, true = _positions("found", found), _positions("true", true)
    if not tolerance > 0:
        raise ValueError(f"tolerance={tolerance!r} should be > 0 pixels.")
    pairs = np.zeros((0, 2), dtype=int)
    if len(found) and len(true):
        d = np.hypot(*(found[:, None, :] - true[None, :, :]).transpose(2, 0, 1))
        cost = np.where(d <= tolerance, d, 1e6)  # far pairs are never chosen over leaving both unmatched
        rows, cols = linear_sum_assignment(cost)
        ok = d[rows, cols] <= tolerance
        pairs = np.stack([rows[ok], cols[ok]], axis=1).astype(int)
    fp = np.setdiff1d(np.arange(len(found)), pairs[:, 0])
    fn = np.setdiff1d(np.arange(len(true)), pairs[:, 1])
    return pairs, fp, fn


def detection_scores(found, true, *, tolerance=2.0):
    """Precision, recall and F1 of defect detection over one image or a list of images.

    A found defect within ``tolerance`` pixels of a true one (matched one-to-one)
    is a true positive; the counts are summed over images before the ratios.

    Returns
    -------
    dict with "precision", "recall", "f1" (0 to 1; 1 where nothing was to be found and nothing was) and
    "tp", "fp", "fn" (int).

    Examples
    --------
    >>> detection_scores([[0, 0], [9, 9]], [[0.5, 0], [5, 5]], tolerance=1)["f1"]
    0.5
    """
    if isinstance(found, list) and isinstance(true, list) and (not found or np.ndim(found[0]) == 2):
        if len(found) != len(true):
            raise ValueError(f"found has {len(found)} images but true has {len(true)}; pass one array per image.")
        images = list(zip(found, true))
    else:
        images = [(found, true)]
    tp = fp = fn = 0
    for f, t in images:
        pairs, a, b = match_defects(f, t, tolerance=tolerance)
        tp, fp, fn = tp + len(pairs), fp + len(a), fn + len(b)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


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

        from .training import TrainingMonitor

        x = normalize_images(images)
        y = np.asarray(defect_masks, dtype=np.float32)
        if y.shape != x.shape[:3]:
            raise ValueError(f"defect_masks should have the shape of images, {x.shape[:3]}; got {y.shape}.")
        for arg in ("epochs", "batch_size"):
            value = getattr(self, arg)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{arg}={value!r} should be a positive integer.")
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
    from .stem import simulate_stem

    doses = np.atleast_1d(np.asarray(doses, dtype=float))
    if doses.ndim != 1 or np.any(doses <= 0):
        raise ValueError(f"doses={doses!r} should be positive numbers (electrons per square angstrom).")
    rng = np.random.default_rng(seed)
    f1 = []
    for dose in doses:
        data = simulate_stem(n_images, dose=float(dose), seed=rng, **simulate_kwargs)
        f1.append(finder.score(data.images, data.defect_positions, tolerance=tolerance)["f1"])
    return np.array(f1)


def plot_detections(ax, image, found, true, *, tolerance=2.0, pixel_size=None):
    """Draw ``image`` with true positives, false negatives and false positives marked.

    Parameters
    ----------
    ax : matplotlib Axes
    image : ndarray of shape (rows, cols)
    found, true : ndarray of shape (n, 2), pixels (row, column)
    tolerance : float, pixels
    pixel_size : float, nm, optional
        Axes in nm when given, else in pixels.

    Returns
    -------
    dict
        The :func:`detection_scores` of this image.
    """
    image = _as_image("image", image)
    found, true = _positions("found", found), _positions("true", true)
    pairs, fp, fn = match_defects(found, true, tolerance=tolerance)
    scale, unit = (pixel_size, "nm") if pixel_size else (1.0, "pixels")
    rows, cols = image.shape
    ax.imshow(image, cmap="gray", extent=(-0.5 * scale, (cols - 0.5) * scale, (rows - 0.5) * scale, -0.5 * scale))
    marks = [(found[pairs[:, 0]], "true positive", "#009E73", "o"), (true[fn], "false negative", "#E69F00", "s"),
             (found[fp], "false positive", "#D55E00", "X")]
    for pts, label, colour, marker in marks:
        ax.scatter(pts[:, 1] * scale, pts[:, 0] * scale, s=110, marker=marker, facecolors="none",
                   edgecolors=colour, linewidths=2, label=f"{label} ({len(pts)})")
    ax.set_xlabel(f"x ({unit})")
    ax.set_ylabel(f"y ({unit})")
    ax.grid(False)
    ax.legend(loc="upper right", fontsize=7, framealpha=0.8, frameon=True)
    return detection_scores(found, true, tolerance=tolerance)


def dose_explorer(finder, *, seed=0, **simulate_kwargs):
    """A ``plot(ax, dose)`` function for :func:`ml4em.widgets.explore`: a fresh image at that dose and
    the detections of ``finder`` on it (same specimen, same seed, at every dose)."""
    from .stem import simulate_stem

    def plot(ax, dose):
        data = simulate_stem(1, dose=float(dose), seed=seed, **simulate_kwargs)
        scores = plot_detections(ax, data.images[0], finder.detect(data.images)[0], data.defect_positions[0],
                                 pixel_size=data.pixel_size)
        ax.text(0.02, 0.02, f"F1 = {scores['f1']:.2f}", transform=ax.transAxes, color="w", fontsize=9,
                bbox={"facecolor": "k", "alpha": 0.6})

    return plot
