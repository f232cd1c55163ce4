"""Generative adversarial networks: a toy game in 2-D and the completion of partial STEM scans.

The toy: :class:`ToyGAN` learns a ring of Gaussians (:func:`sample_ring`) from
noise; :func:`mode_coverage` tells whether it found every mode or collapsed
onto a few.

Partial scans: a scan that visits about 10 % of the pixels (:func:`scan_mask`,
along a spiral, random lines or random points) cuts dose and time; a
generator completes it to the full image. The baseline is linear
interpolation (:func:`interpolate_scan`); the model is a U-Net generator
trained with an L1 loss plus an adversarial loss from a patch discriminator
(:class:`ScanCompletionGAN`, wrapped by :class:`ScanCompleter`), scored by
:func:`psnr` and :func:`ssim`. The approach follows Ede & Beanland, Sci. Rep.
10, 8332 (2020), doi:10.1038/s41598-020-65261-0; the conditional GAN with an
L1 term is pix2pix (Isola et al., arXiv:1611.07004).

This module is Keras 3 code on the TensorFlow backend and imports both.

Used in: tutorials/05_gan.
"""

import time

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

__all__ = ["sample_ring", "build_mlp", "ToyGAN", "train_toy_gan", "plot_toy_samples", "mode_coverage", "scan_mask", "scan_masks", "normalize_scans",
           "interpolate_scan", "psnr", "ssim", "completion_inputs", "build_patch_discriminator", "build_completion_generator",
           "ScanCompletionGAN", "ScanCompleter", "plot_completion", "coverage_explorer"]


def _positive_int(name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}={value!r} should be an integer >= {low}.")
    return int(value)


# ---------------------------------------------------------------- the toy game


def sample_ring(n_samples, *, n_modes=8, radius=2.0, width=0.05, seed=None):
    """Points from ``n_modes`` Gaussians of standard deviation ``width`` evenly spaced on a circle.

    Returns
    -------
    points : ndarray of shape (n_samples, 2), float32
    centres : ndarray of shape (n_modes, 2)

    Examples
    --------
    >>> x, c = sample_ring(100, seed=0)
    >>> x.shape, c.shape
    ((100, 2), (8, 2))
    """
    n_samples, n_modes = _positive_int("n_samples", n_samples), _positive_int("n_modes", n_modes)
    if not (radius > 0 and width > 0):
        raise ValueError(f"radius={radius!r} and width={width!r} should both be > 0.")
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points = centres[rng.integers(n_modes, size=n_samples)] + width * rng.standard_normal((n_samples, 2))
    return points.astype(np.float32), centres


def build_mlp(in_dim, out_dim, *, hidden=(64, 64), seed=None, name="mlp"):
    """A dense network ``in_dim -> hidden... -> out_dim`` with LeakyReLU and a linear output."""
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input(shape=(_positive_int("in_dim", in_dim),))], name=name)
    for units in hidden:
        model.add(layers.Dense(units, kernel_initializer=keras.initializers.HeNormal(int(rng.integers(2**31)))))
        model.add(layers.LeakyReLU(0.2))
    model.add(layers.Dense(_positive_int("out_dim", out_dim),
                           kernel_initializer=keras.initializers.GlorotUniform(int(rng.integers(2**31)))))
    return model


class ToyGAN(keras.Model):
    """A GAN on vectors: ``generator(z)`` with z ~ N(0, 1) against ``discriminator(x)`` (logits).

    Parameters
    ----------
    generator : keras.Model, (latent_dim,) -> (dim,)
    discriminator : keras.Model, (dim,) -> (1,) logits
    latent_dim : int
    seed : int or None
        Seeds the :class:`keras.random.SeedGenerator` that draws every z.

    Examples
    --------
    >>> gan = ToyGAN(build_mlp(2, 2, seed=0), build_mlp(2, 1, seed=1), latent_dim=2, seed=0)
    >>> gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    >>> x, _ = sample_ring(512, seed=0)
    >>> h = gan.fit(x, batch_size=128, epochs=1, verbose=0)
    >>> sorted(h.history)
    ['d_loss', 'g_loss']
    """

    def __init__(self, generator, discriminator, *, latent_dim, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim = _positive_int("latent_dim", latent_dim)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compile(self, d_optimizer, g_optimizer, loss_fn=None):
        """``loss_fn`` defaults to binary cross-entropy on logits."""
        super().compile()
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.loss_fn = loss_fn or keras.losses.BinaryCrossentropy(from_logits=True)
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def sample(self, n_samples):
        """``n_samples`` generated points, ndarray of shape (n_samples, dim)."""
        z = keras.random.normal((int(n_samples), self.latent_dim), seed=self.seed_generator)
        return ops.convert_to_numpy(self.generator(z, training=False))

    def train_step(self, real):
        batch = ops.shape(real)[0]
        # discriminator: real -> 1, generated -> 0
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=True)
            d_real = self.discriminator(real, training=True)
            d_fake = self.discriminator(fake, training=True)
            d_loss = self.loss_fn(ops.ones_like(d_real), d_real) + self.loss_fn(ops.zeros_like(d_fake), d_fake)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        # generator: make the discriminator say 1 (the non-saturating loss)
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            d_fake = self.discriminator(self.generator(z, training=True), training=True)
            g_loss = self.loss_fn(ops.ones_like(d_fake), d_fake)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}


def train_toy_gan(data, *, latent_dim=2, hidden=(64, 64), d_learning_rate=1e-3, g_learning_rate=1e-3, epochs=40,
                  batch_size=128, seed=None, monitor=False):
    """Build and train a :class:`ToyGAN` of two :func:`build_mlp` s on ``data`` (n, dim).

    Returns
    -------
    gan : ToyGAN
    history : dict with "d_loss" and "g_loss", one value per epoch
    """
    from .training import TrainingMonitor

    x = np.asarray(data, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"data should have shape (n_samples, dim); got {x.shape}.")
    rng = np.random.default_rng(seed)
    gan = ToyGAN(build_mlp(latent_dim, x.shape[1], hidden=hidden, seed=rng, name="generator"),
                 build_mlp(x.shape[1], 1, seed=rng, name="discriminator"), latent_dim=latent_dim,
                 seed=int(rng.integers(2**31)))
    gan.compile(keras.optimizers.Adam(d_learning_rate, beta_1=0.5), keras.optimizers.Adam(g_learning_rate, beta_1=0.5))
    callbacks = [TrainingMonitor("toy GAN", keys=["d_loss", "g_loss"], plot=False)] if monitor else []
    x = x[rng.permutation(len(x))]
    hist = gan.fit(x, batch_size=batch_size, epochs=_positive_int("epochs", epochs), shuffle=False, verbose=0,
                   callbacks=callbacks)
    return gan, {k: [float(v) for v in vals] for k, vals in hist.history.items()}


def plot_toy_samples(ax, gan, data, centres, *, n_samples=1000, title=None):
    """Scatter real ``data`` and ``n_samples`` generated points, with the mode centres; returns the
    :func:`mode_coverage` of the generated points."""
    fake = gan.sample(n_samples)
    real = np.asarray(data)[:n_samples]
    ax.scatter(real[:, 0], real[:, 1], s=4, alpha=0.3, color="#56B4E9", label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, alpha=0.5, color="#D55E00", label="generated")
    ax.scatter(centres[:, 0], centres[:, 1], marker="+", s=80, color="k", label="mode centres")
    cov = mode_coverage(fake, centres)
    ax.set_xlabel("x1 (dimensionless)")
    ax.set_ylabel("x2 (dimensionless)")
    ax.set_aspect("equal")
    ax.set_title(title or f"{cov['modes_covered']} of {len(centres)} modes covered", fontsize=10)
    ax.legend(loc="upper right", fontsize=7, markerscale=1.5)
    return cov


def mode_coverage(samples, centres, *, radius=None, min_fraction=0.02):
    """How many modes a generator found.

    Parameters
    ----------
    samples : ndarray of shape (n, dim)
    centres : ndarray of shape (n_modes, dim)
    radius : float, optional
        A sample within ``radius`` of a centre belongs to that mode; default a quarter of the smallest
        distance between centres.
    min_fraction : float, default 0.02
        A mode is covered when it holds at least this fraction of the samples.

    Returns
    -------
    dict with "modes_covered" (int), "fraction_in_modes" (share of samples near some centre) and
    "counts" (ndarray of shape (n_modes,)).

    Examples
    --------
    >>> x, c = sample_ring(800, seed=0)
    >>> mode_coverage(x, c)["modes_covered"]
    8
    """
    x, c = np.asarray(samples, float), np.asarray(centres, float)
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1]:
        raise ValueError(f"samples {x.shape} and centres {c.shape} should be (n, dim) and (n_modes, dim).")
    if radius is None:
        dc = np.linalg.norm(c[:, None] - c[None], axis=-1)
        radius = 0.25 * dc[~np.eye(len(c), dtype=bool)].min() if len(c) > 1 else 1.0
    d = np.linalg.norm(x[:, None] - c[None], axis=-1)
    near = d.min(axis=1) <= radius
    counts = np.bincount(d.argmin(axis=1)[near], minlength=len(c))
    return {"modes_covered": int(np.sum(counts >= min_fraction * len(x))),
            "fraction_in_modes": float(near.mean()), "counts": counts}


# ---------------------------------------------------------------- partial scans


def scan_mask(size, coverage=0.1, *, kind="spiral", seed=None):
    """Pixels visited by a partial scan.

    Parameters
    ----------
    size : int
        The image is ``size x size`` pixels.
    coverage : float, default 0.1
        Fraction of the pixels to visit (0 to 1).
    kind : {"spiral", "lines", "points"}
        "spiral": an Archimedean spiral with a random phase and centre; "lines": random whole scan lines
        (rows); "points": random pixels.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of shape (size, size), bool

    Examples
    --------
    >>> m = scan_mask(64, 0.1, seed=0)
    >>> bool(abs(m.mean() - 0.1) < 0.01)
    True
    """
    size = _positive_int("size", size, 4)
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage={coverage!r} should be in (0, 1], the fraction of pixels scanned.")
    rng = np.random.default_rng(seed)
    mask = np.zeros((size, size), dtype=bool)
    if kind == "points":
        mask.flat[rng.choice(size * size, max(1, round(coverage * size * size)), replace=False)] = True
    elif kind == "lines":
        mask[rng.choice(size, max(1, round(coverage * size)), replace=False)] = True
    elif kind == "spiral":
        centre = (size - 1) / 2 + rng.uniform(-0.1, 0.1, 2) * size
        phase = rng.uniform(0, 2 * np.pi)
        pitch = 1.27 / coverage  # a rasterised curve visits about 4/pi pixels per pixel of length
        for _ in range(3):  # refine the distance between turns until the coverage is right
            r_max = np.sqrt(2) * size + pitch
            s = np.arange(0.0, np.pi * r_max**2 / pitch, 0.3)  # arc length, pixels
            r = np.sqrt(pitch * s / np.pi)
            theta = 2 * np.pi * r / pitch + phase
            rows, cols = np.rint(centre[0] + r * np.sin(theta)), np.rint(centre[1] + r * np.cos(theta))
            ok = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
            mask[:] = False
            mask[rows[ok].astype(int), cols[ok].astype(int)] = True
            pitch *= mask.mean() / coverage
    else:
        raise ValueError(f"kind={kind!r} is not known; use 'spiral', 'lines' or 'points'.")
    return mask


def scan_masks(n_images, size, coverage=0.1, *, kind="spiral", seed=None):
    """``n_images`` independent :func:`scan_mask` s, ndarray of shape (n_images, size, size), bool."""
    rng = np.random.default_rng(seed)
    return np.stack([scan_mask(size, coverage, kind=kind, seed=rng)
                     for _ in range(_positive_int("n_images", n_images))])


def normalize_scans(images, masks):
    """Scale each image so that its scanned pixels span 0 to 1 (only scanned pixels are used).

    Parameters
    ----------
    images : ndarray of shape (n_images, rows, cols)
        Values at unscanned pixels are ignored.
    masks : ndarray of bool, same shape

    Returns
    -------
    scaled : ndarray of shape (n_images, rows, cols), float32
    low, high : ndarray of shape (n_images,)
        ``images = low + (high - low) * scaled``.
    """
    x = np.asarray(images, dtype=np.float32)
    m = np.asarray(masks, dtype=bool)
    if x.ndim != 3 or m.shape != x.shape:
        raise ValueError(f"images should have shape (n_images, rows, cols) and masks the same; got {x.shape} "
                         f"and {m.shape}.")
    if not np.all(m.sum(axis=(1, 2)) >= 2):
        raise ValueError("every mask should select at least 2 pixels; increase the coverage.")
    low = np.where(m, x, np.inf).min(axis=(1, 2))
    high = np.where(m, x, -np.inf).max(axis=(1, 2))
    span = np.maximum(high - low, 1e-6)
    return (x - low[:, None, None]) / span[:, None, None], low, low + span


def interpolate_scan(image, mask, *, method="linear"):
    """Fill the unscanned pixels of one image from the scanned ones (``scipy.interpolate.griddata``).

    Pixels outside the scanned points' convex hull take the nearest scanned value.

    Parameters
    ----------
    image : ndarray of shape (rows, cols)
    mask : ndarray of bool, same shape
    method : {"linear", "nearest", "cubic"}

    Returns
    -------
    ndarray of shape (rows, cols); equal to ``image`` where ``mask``.
    """
    from scipy.interpolate import griddata

    image, mask = np.asarray(image, dtype=float), np.asarray(mask, dtype=bool)
    if image.ndim != 2 or mask.shape != image.shape:
        raise ValueError(f"image should be 2-D and mask the same shape; got {image.shape} and {mask.shape}. "
                         "For a stack, call this per image.")
    if mask.sum() < 3:
        raise ValueError(f"mask selects {int(mask.sum())} pixels; interpolation needs at least 3.")
    points = np.argwhere(mask)
    grid = np.indices(image.shape).reshape(2, -1).T
    out = griddata(points, image[mask], grid, method=method).reshape(image.shape)
    if np.isnan(out).any():
        out = np.where(np.isnan(out), griddata(points, image[mask], grid, method="nearest").reshape(image.shape),
                       out)
    return np.where(mask, image, out)


def psnr(prediction, target, *, data_range=1.0):
    """Peak signal-to-noise ratio in dB, ``10 log10(data_range**2 / mean squared error)``, per image.

    Parameters
    ----------
    prediction, target : ndarray of shape (rows, cols) or (n_images, rows, cols)
    data_range : float, default 1

    Returns
    -------
    float, or ndarray of shape (n_images,)

    Examples
    --------
    >>> psnr(np.full((4, 4), 0.1), np.zeros((4, 4)))
    20.0
    """
    p, t = np.asarray(prediction, float), np.asarray(target, float)
    if p.shape != t.shape or p.ndim not in (2, 3):
        raise ValueError(f"prediction {p.shape} and target {t.shape} should have the same 2-D or 3-D shape.")
    mse = np.mean((p - t) ** 2, axis=(-2, -1))
    out = 10 * np.log10(data_range**2 / np.maximum(mse, 1e-20))
    return float(out) if out.ndim == 0 else out


def ssim(prediction, target, *, data_range=1.0, window=11, sigma=1.5):
    """Structural similarity (Wang et al., IEEE TIP 13, 600 (2004), doi:10.1109/TIP.2003.819861), per image.

    Local means, variances and covariance under an 11 x 11 Gaussian window of
    width 1.5 pixels, evaluated where the window fits (as ``tf.image.ssim``),
    with constants ``(0.01 data_range)**2`` and ``(0.03 data_range)**2``.

    Returns
    -------
    float (1 for identical images), or ndarray of shape (n_images,)

    Examples
    --------
    >>> x = np.random.default_rng(0).random((16, 16))
    >>> ssim(x, x)
    1.0
    """
    p, t = np.asarray(prediction, float), np.asarray(target, float)
    if p.shape != t.shape or p.ndim not in (2, 3) or min(p.shape[-2:]) < window:
        raise ValueError(f"prediction {p.shape} and target {t.shape} should have the same 2-D or 3-D shape with "
                         f"sides of at least window={window} pixels.")
    g = np.exp(-0.5 * ((np.arange(window) - (window - 1) / 2) / sigma) ** 2)
    g /= g.sum()

    def blur(a):  # separable Gaussian, 'valid' part only
        for axis in (-1, -2):
            a = np.lib.stride_tricks.sliding_window_view(a, window, axis=axis) @ g
        return a

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mp, mt = blur(p), blur(t)
    vp, vt, cov = blur(p * p) - mp**2, blur(t * t) - mt**2, blur(p * t) - mp * mt
    s = ((2 * mp * mt + c1) * (2 * cov + c2)) / ((mp**2 + mt**2 + c1) * (vp + vt + c2))
    out = s.mean(axis=(-2, -1))
    return float(out) if out.ndim == 0 else out


# ---------------------------------------------------------------- the completion GAN


def completion_inputs(scaled, masks):
    """The generator's input: the scanned values (0 elsewhere) and the mask, shape (n, rows, cols, 2)."""
    m = np.asarray(masks, dtype=np.float32)
    return np.stack([np.asarray(scaled, np.float32) * m, m], axis=-1)


def build_completion_generator(*, filters=16, depth=3, seed=None):
    """U-Net generator: (scanned values, mask) -> full image, keeping the scanned values as measured.

    The network's output replaces only the unscanned pixels: ``out = x0 + (1 - mask) * unet(x)``.

    Returns
    -------
    keras.Model, input (None, None, 2), output (None, None, 1)
    """
    from .cnn import build_unet

    unet = build_unet(in_channels=2, filters=filters, depth=depth, out_activation="linear", out_bias=0.0,
                      seed=seed, name="completion_unet")
    inputs = keras.Input(shape=(None, None, 2))
    values, mask = inputs[..., :1], inputs[..., 1:]
    outputs = values + (1.0 - mask) * unet(inputs)
    return keras.Model(inputs, outputs, name="completion_generator")


def build_patch_discriminator(*, filters=16, n_layers=3, seed=None):
    """Patch discriminator: (condition with 2 channels, image) -> a map of real/fake logits, one per patch.

    Each layer is a stride-2 convolution with LeakyReLU, so one logit judges a patch of about
    ``2**(n_layers + 1)`` pixels.

    Returns
    -------
    keras.Model, inputs [(None, None, 2), (None, None, 1)], output (None, None, 1) logits
    """
    rng = np.random.default_rng(seed)
    condition, image = keras.Input(shape=(None, None, 2)), keras.Input(shape=(None, None, 1))
    x = layers.Concatenate()([condition, image])
    for i in range(_positive_int("n_layers", n_layers)):
        x = layers.Conv2D(filters * 2**i, 4, strides=2, padding="same",
                          kernel_initializer=keras.initializers.HeNormal(int(rng.integers(2**31))))(x)
        x = layers.LeakyReLU(0.2)(x)
    logits = layers.Conv2D(1, 3, padding="same",
                           kernel_initializer=keras.initializers.GlorotUniform(int(rng.integers(2**31))))(x)
    return keras.Model([condition, image], logits, name="patch_discriminator")


class ScanCompletionGAN(keras.Model):
    """Conditional GAN that completes partial scans: an L1 loss plus an adversarial loss.

    The generator maps x = (scanned values, mask) to a full image; the
    discriminator sees x with either the full scan or the generator's image.
    Generator loss: ``l1_weight * mean|G(x) - y| + adversarial_weight * BCE(D(x, G(x)), 1)``.

    Parameters
    ----------
    generator, discriminator : keras.Model
        See :func:`build_completion_generator` and :func:`build_patch_discriminator`.
    seed : int or None
        Seeds the :class:`keras.random.SeedGenerator` of the instance noise added to the discriminator's images.
    instance_noise : float, default 0.02
        Standard deviation of that noise (in units of the scaled images); it keeps the discriminator from
        winning on pixel-level detail alone.
    """

    def __init__(self, generator, discriminator, *, seed=None, instance_noise=0.02, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.instance_noise = float(instance_noise)

    def compile(self, d_optimizer, g_optimizer, *, l1_weight=1.0, adversarial_weight=0.01, loss_fn=None):
        """``loss_fn`` (the adversarial loss) defaults to binary cross-entropy on logits."""
        super().compile()
        if l1_weight < 0 or adversarial_weight < 0:
            raise ValueError(f"l1_weight={l1_weight!r} and adversarial_weight={adversarial_weight!r} should be >= 0.")
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.l1_weight, self.adversarial_weight = float(l1_weight), float(adversarial_weight)
        self.loss_fn = loss_fn or keras.losses.BinaryCrossentropy(from_logits=True)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("d_loss", "g_loss", "l1", "adversarial")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, x, training=False):
        return self.generator(x, training=training)

    def _noisy(self, image):
        return image + self.instance_noise * keras.random.normal(ops.shape(image), seed=self.seed_generator)

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generator(x, training=True)
            d_real = self.discriminator([x, self._noisy(y)], training=True)
            d_fake = self.discriminator([x, self._noisy(fake)], training=True)
            d_loss = self.loss_fn(ops.ones_like(d_real), d_real) + self.loss_fn(ops.zeros_like(d_fake), d_fake)
            l1 = ops.mean(ops.abs(fake - y))
            adversarial = self.loss_fn(ops.ones_like(d_fake), d_fake)
            g_loss = self.l1_weight * l1 + self.adversarial_weight * adversarial
        d_grads = d_tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(d_grads, self.discriminator.trainable_weights))
        g_grads = g_tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(g_grads, self.generator.trainable_weights))
        for name, value in (("d_loss", d_loss), ("g_loss", g_loss), ("l1", l1), ("adversarial", adversarial)):
            self.trackers[name].update_state(value)
        return {name: t.result() for name, t in self.trackers.items()}

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        l1 = ops.mean(ops.abs(self.generator(x, training=False) - y))
        self.trackers["l1"].update_state(l1)
        return {"l1": self.trackers["l1"].result()}


class ScanCompleter:
    """Complete partial STEM scans with a :class:`ScanCompletionGAN` trained on full scans.

    Parameters
    ----------
    filters, depth : int, default 8 and 3
        Generator size (see :func:`build_completion_generator`).
    adversarial_weight : float, default 0.01
        Weight of the adversarial loss against the L1 loss (weight 1); 0 trains the generator on L1 alone.
    learning_rate : float, default 3e-3
        Adam's step size for both networks.
    epochs : int, default 8
    batch_size : int, default 16
    seed : int, numpy.random.Generator or None

    Attributes
    ----------
    gan_ : ScanCompletionGAN
    history_ : dict of str to list of float
    train_seconds_ : float
    """

    def __init__(self, *, filters=8, depth=3, adversarial_weight=0.01, learning_rate=3e-3, epochs=8,
                 batch_size=16, seed=None):
        self.filters, self.depth, self.adversarial_weight = filters, depth, adversarial_weight
        self.learning_rate, self.epochs, self.batch_size, self.seed = learning_rate, epochs, batch_size, seed

    def fit(self, images, masks, *, monitor=True):
        """Train on full scans ``images`` (n, rows, cols) and the partial-scan ``masks`` to complete from.

        Returns self.
        """
        from .cnn import shuffled_batches
        from .training import TrainingMonitor

        scaled, _, _ = normalize_scans(images, masks)
        _positive_int("epochs", self.epochs)
        rng = np.random.default_rng(self.seed)
        self.gan_ = ScanCompletionGAN(build_completion_generator(filters=self.filters, depth=self.depth, seed=rng),
                                      build_patch_discriminator(seed=rng), seed=int(rng.integers(2**31)))
        self.gan_.compile(keras.optimizers.Adam(self.learning_rate, beta_1=0.5),
                          keras.optimizers.Adam(self.learning_rate, beta_1=0.5),
                          adversarial_weight=self.adversarial_weight)
        callbacks = [TrainingMonitor("training the scan-completion GAN", keys=["l1", "d_loss"],
                                     ylabel="loss (dimensionless)")] if monitor else []
        start = time.perf_counter()
        batches, steps = shuffled_batches(completion_inputs(scaled, masks), scaled[..., None], self.batch_size,
                                          seed=rng)
        hist = self.gan_.fit(batches, steps_per_epoch=steps, epochs=self.epochs, shuffle=False, verbose=0,
                             callbacks=callbacks)
        self.train_seconds_ = time.perf_counter() - start
        self.history_ = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
        return self

    def _complete_scaled(self, scaled, masks):
        if not hasattr(self, "gan_"):
            raise RuntimeError("This ScanCompleter is not fitted yet; call fit(images, masks) first.")
        return self.gan_.generator.predict(completion_inputs(scaled, masks), batch_size=64, verbose=0)[..., 0]

    def complete(self, images, masks):
        """Complete partial scans: ``images`` (only the pixels in ``masks`` are used) -> full images, same units."""
        scaled, low, high = normalize_scans(images, masks)
        return low[:, None, None] + (high - low)[:, None, None] * self._complete_scaled(scaled, masks)

    def evaluate(self, images, masks):
        """PSNR (dB) and SSIM of the GAN and of linear interpolation against the full scans ``images``.

        Both are computed on the images scaled by :func:`normalize_scans` (data range 1) and averaged
        over images.

        Returns
        -------
        dict with "gan_psnr_db", "interp_psnr_db", "gan_ssim", "interp_ssim", and "mean_psnr_db", "mean_ssim"
        of the simplest guess: every unscanned pixel set to the mean of the scanned ones.
        """
        scaled, _, _ = normalize_scans(images, masks)
        m = np.asarray(masks, dtype=bool)
        guesses = {"gan": self._complete_scaled(scaled, masks),
                   "interp": np.stack([interpolate_scan(s, k) for s, k in zip(scaled, m)]),
                   "mean": np.where(m, scaled, (scaled * m).sum(axis=(1, 2), keepdims=True)
                                    / m.sum(axis=(1, 2), keepdims=True))}
        out = {}
        for name, guess in guesses.items():
            out[f"{name}_psnr_db"] = float(np.mean(psnr(guess, scaled)))
            out[f"{name}_ssim"] = float(np.mean(ssim(guess, scaled)))
        return out


def _show(ax, image, title, pixel_size):
    rows, cols = image.shape
    s, unit = (pixel_size, "nm") if pixel_size else (1.0, "pixels")
    ax.imshow(image, cmap="gray", vmin=0, vmax=1, extent=(-0.5 * s, (cols - 0.5) * s, (rows - 0.5) * s, -0.5 * s))
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(f"x ({unit})")
    ax.set_ylabel(f"y ({unit})")
    ax.grid(False)


def plot_completion(axes, completer, image, mask, *, pixel_size=None):
    """Four panels: the full scan, the partial scan, its interpolation and the GAN's completion.

    Parameters
    ----------
    axes : sequence of 4 matplotlib Axes
    completer : ScanCompleter (fitted)
    image : ndarray of shape (rows, cols), counts
        The full scan (the truth).
    mask : ndarray of bool, same shape
    pixel_size : float, nm, optional

    Returns
    -------
    dict with the PSNR (dB) and SSIM of both methods on this image
    """
    if len(axes) != 4:
        raise ValueError(f"axes should hold 4 Axes (full, partial, interpolation, GAN); got {len(axes)}.")
    image, mask = np.asarray(image, float)[None], np.asarray(mask, bool)[None]
    scaled = normalize_scans(image, mask)[0][0]
    interp = interpolate_scan(scaled, mask[0])
    gan = completer._complete_scaled(scaled[None], mask)[0]
    scores = {"interp_psnr_db": psnr(interp, scaled), "gan_psnr_db": psnr(gan, scaled),
              "interp_ssim": ssim(interp, scaled), "gan_ssim": ssim(gan, scaled)}
    _show(axes[0], scaled, "full scan (truth)", pixel_size)
    _show(axes[1], np.where(mask[0], scaled, 0.0), f"partial scan ({mask.mean():.0%} of pixels)", pixel_size)
    _show(axes[2], interp, f"interpolation: {scores['interp_psnr_db']:.1f} dB, SSIM {scores['interp_ssim']:.2f}",
          pixel_size)
    _show(axes[3], gan, f"GAN: {scores['gan_psnr_db']:.1f} dB, SSIM {scores['gan_ssim']:.2f}", pixel_size)
    return scores


def coverage_explorer(completer, *, kind="spiral", seed=0, **simulate_kwargs):
    """A ``plot(ax, coverage, method)`` function for :func:`ml4em.widgets.explore`.

    It draws one simulated image (the same specimen at every setting) as seen by ``method``: "partial scan",
    "interpolation", "GAN" or "full scan", at the scan ``coverage`` (fraction of pixels).
    """
    from .stem import simulate_stem

    data = simulate_stem(1, seed=seed, **simulate_kwargs)

    def plot(ax, coverage, method="GAN"):
        mask = scan_mask(data.images.shape[-1], float(coverage), kind=kind, seed=seed)[None]
        scaled = normalize_scans(data.images, mask)[0]
        if method == "partial scan":
            image = np.where(mask[0], scaled[0], 0.0)
        elif method == "interpolation":
            image = interpolate_scan(scaled[0], mask[0])
        elif method == "GAN":
            image = completer._complete_scaled(scaled, mask)[0]
        elif method == "full scan":
            image = scaled[0]
        else:
            raise ValueError(f"method={method!r} is not known; use 'partial scan', 'interpolation', 'GAN' or "
                             "'full scan'.")
        _show(ax, image, "", data.pixel_size)
        ax.text(0.02, 0.02, f"{method}: PSNR {psnr(image, scaled[0]):.1f} dB", transform=ax.transAxes,
                color="w", fontsize=8, bbox={"facecolor": "k", "alpha": 0.6})

    return plot
