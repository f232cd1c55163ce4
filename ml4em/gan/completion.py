"""Partial-scan completion with a conditional GAN: a U-Net generator against a patch discriminator.

The generator is trained with an L1 loss plus an adversarial loss, in Keras 3 style (a ``keras.Model`` with
its own ``train_step``).

:class:`ScanCompleter` wraps the training on simulated images and the evaluation against interpolation.
"""

import time

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from .metrics import psnr, ssim
from .scans import _positive_int, interpolate_scan, normalize_scans, scan_mask

__all__ = ["completion_inputs", "build_patch_discriminator", "build_completion_generator", "ScanCompletionGAN",
           "adversarial_step", "ScanCompleter", "plot_completion", "coverage_explorer"]


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
    from ..cnn import build_unet

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
    step : callable or None
        A training step ``step(gan, x, y, seed)`` that updates both networks and returns a dict with
        "d_loss" and "g_loss" (see :func:`adversarial_step`); ``fit`` then calls it with this model and its
        ``SeedGenerator``, and logs those two losses. None: the built-in step, which updates both networks
        from one forward pass and also logs "l1" and "adversarial".
    """

    def __init__(self, generator, discriminator, *, seed=None, instance_noise=0.02, step=None, **kwargs):
        super().__init__(**kwargs)
        if step is not None and not callable(step):
            raise ValueError(f"step={step!r} should be a function step(gan, x, y, seed) or None.")
        if not instance_noise >= 0:
            raise ValueError(f"instance_noise={instance_noise!r} should be >= 0 (a standard deviation).")
        self.generator, self.discriminator = generator, discriminator
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.instance_noise = float(instance_noise)
        self.step = step

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
        if self.step is not None:
            logs = self.step(self, x, y, self.seed_generator)
            if not isinstance(logs, dict) or not {"d_loss", "g_loss"} <= set(logs):
                raise ValueError(f"the training step {getattr(self.step, '__name__', self.step)!r} should return a "
                                 f"dict with 'd_loss' and 'g_loss'; got {logs!r:.80}.")
            for name in ("d_loss", "g_loss"):
                self.trackers[name].update_state(logs[name])
            return {name: self.trackers[name].result() for name in ("d_loss", "g_loss")}
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


def _noisy(gan, image, seed):
    return image + gan.instance_noise * keras.random.normal(ops.shape(image), seed=seed)


def adversarial_step(gan, x, y, seed, *, record=None):
    """One adversarial training step of a compiled :class:`ScanCompletionGAN`: first the discriminator, then the
    generator against the updated discriminator.

    The discriminator sees every image with instance noise, ``image + gan.instance_noise * N(0, 1)``, drawn with
    ``keras.random.normal(..., seed=seed)`` in this order: the real image and the completion in the discriminator
    step, the new completion in the generator step.

    1. Discriminator step: ``fake = G(x)``; ``L_D = BCE(D(x, y + noise), 1) + BCE(D(x, fake + noise), 0)`` on
       logits (means over the patches); ``gan.d_optimizer`` applies its gradient to the discriminator's weights.
    2. Generator step: ``fake = G(x)`` again; ``L_G = mean|fake - y| + gan.adversarial_weight * BCE(D(x, fake +
       noise), 1)``; ``gan.g_optimizer`` applies its gradient to the generator's weights.

    Both networks are called with ``training=True``. This is the reference answer of the tutorial's exercise;
    :class:`ScanCompletionGAN` runs it inside ``fit`` when given as ``step``.

    Parameters
    ----------
    gan : ScanCompletionGAN
        Compiled (it holds ``d_optimizer``, ``g_optimizer`` and ``adversarial_weight``).
    x : tensor of shape (batch, rows, cols, 2)
        Scanned values (0 elsewhere) and the mask (see :func:`completion_inputs`).
    y : tensor of shape (batch, rows, cols, 1)
        The full scans, scaled.
    seed : keras.random.SeedGenerator or int
        Seeds the instance noise (an int gives the same noise to all three draws).
    record : dict, optional
        Receives the tensors of both steps: "d_real", "d_fake" (logits of the discriminator step), "fake",
        "fake_g" and "d_fake_g" (completion and logits of the generator step).

    Returns
    -------
    dict with "d_loss" (before the update) and "g_loss" (with the updated discriminator): scalar tensors.
    """
    if not hasattr(gan, "d_optimizer"):
        raise ValueError("gan should be a compiled ScanCompletionGAN: call gan.compile(d_optimizer, g_optimizer) "
                         "first.")
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    fake = gan.generator(x, training=True)
    with tf.GradientTape() as tape:
        d_real = gan.discriminator([x, _noisy(gan, y, seed)], training=True)
        d_fake = gan.discriminator([x, _noisy(gan, fake, seed)], training=True)
        d_loss = bce(ops.ones_like(d_real), d_real) + bce(ops.zeros_like(d_fake), d_fake)
    weights = gan.discriminator.trainable_weights
    gan.d_optimizer.apply_gradients(zip(tape.gradient(d_loss, weights), weights))
    with tf.GradientTape() as tape:
        fake_g = gan.generator(x, training=True)
        d_fake_g = gan.discriminator([x, _noisy(gan, fake_g, seed)], training=True)
        g_loss = ops.mean(ops.abs(fake_g - y)) + gan.adversarial_weight * bce(ops.ones_like(d_fake_g), d_fake_g)
    weights = gan.generator.trainable_weights
    gan.g_optimizer.apply_gradients(zip(tape.gradient(g_loss, weights), weights))
    if record is not None:
        record.update(d_real=d_real, d_fake=d_fake, fake=fake, fake_g=fake_g, d_fake_g=d_fake_g)
    return {"d_loss": d_loss, "g_loss": g_loss}


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
    step : callable or None
        A training step ``step(gan, x, y, seed)`` such as :func:`adversarial_step` (see
        :class:`ScanCompletionGAN`); None: the built-in one.

    Attributes
    ----------
    gan_ : ScanCompletionGAN
    history_ : dict of str to list of float
    train_seconds_ : float
    """

    def __init__(self, *, filters=8, depth=3, adversarial_weight=0.01, learning_rate=3e-3, epochs=8,
                 batch_size=16, seed=None, step=None):
        self.filters, self.depth, self.adversarial_weight = filters, depth, adversarial_weight
        self.learning_rate, self.epochs, self.batch_size, self.seed = learning_rate, epochs, batch_size, seed
        self.step = step

    def fit(self, images, masks, *, monitor=True):
        """Train on full scans ``images`` (n, rows, cols) and the partial-scan ``masks`` to complete from.

        Returns self.
        """
        from ..cnn import shuffled_batches
        from ..training import TrainingMonitor

        scaled, _, _ = normalize_scans(images, masks)
        _positive_int("epochs", self.epochs)
        rng = np.random.default_rng(self.seed)
        self.gan_ = ScanCompletionGAN(build_completion_generator(filters=self.filters, depth=self.depth, seed=rng),
                                      build_patch_discriminator(seed=rng), seed=int(rng.integers(2**31)),
                                      step=self.step)
        self.gan_.compile(keras.optimizers.Adam(self.learning_rate, beta_1=0.5),
                          keras.optimizers.Adam(self.learning_rate, beta_1=0.5),
                          adversarial_weight=self.adversarial_weight)
        keys = ["g_loss", "d_loss"] if self.step is not None else ["l1", "d_loss"]
        callbacks = [TrainingMonitor("training the scan-completion GAN", keys=keys,
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
    "interpolation", "GAN" or "full scan", at the scan ``coverage`` (fraction of pixels), and returns its PSNR
    (dB) against the full scan, the number shown in the panel's corner. ``completer`` is needed only for "GAN".
    """
    from ..stem import simulate_stem

    data = simulate_stem(1, seed=seed, **simulate_kwargs)

    def plot(ax, coverage, method="GAN"):
        mask = scan_mask(data.images.shape[-1], float(coverage), kind=kind, seed=seed)[None]
        scaled = normalize_scans(data.images, mask)[0]
        if method == "partial scan":
            image = np.where(mask[0], scaled[0], 0.0)
        elif method == "interpolation":
            image = interpolate_scan(scaled[0], mask[0])
        elif method == "GAN":
            if completer is None:
                raise ValueError("method='GAN' needs a fitted ScanCompleter; got completer=None.")
            image = completer._complete_scaled(scaled, mask)[0]
        elif method == "full scan":
            image = scaled[0]
        else:
            raise ValueError(f"method={method!r} is not known; use 'partial scan', 'interpolation', 'GAN' or "
                             "'full scan'.")
        _show(ax, image, "", data.pixel_size)
        value = psnr(image, scaled[0])
        ax.text(0.02, 0.02, f"{method}: PSNR {value:.1f} dB", transform=ax.transAxes,
                color="w", fontsize=8, bbox={"facecolor": "k", "alpha": 0.6})
        return value

    return plot
