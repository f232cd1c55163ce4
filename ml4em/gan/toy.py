"""The adversarial game on a toy distribution: a ring of Gaussians in 2-D, a GAN of two small MLPs.

And a measure of mode collapse: which modes the generator's samples reach.

Keras 3 code on the TensorFlow backend; :class:`ToyGAN` writes its own ``train_step``.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from .scans import _positive_int

__all__ = ["sample_ring", "build_mlp", "ToyGAN", "train_toy_gan", "plot_toy_samples", "mode_coverage"]


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
    from ..training import TrainingMonitor

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


