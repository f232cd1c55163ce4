"""A U-Net that maps one TEM image to the phase of the exit wave, trained on simulated images.

The idea follows J. M. Ede and R. Beanland, "Exit wavefunction reconstruction from single transmission electron
micrographs with deep learning" (arXiv:2001.10938, 2020): a convolutional network learns, from simulated pairs,
the prior that a single intensity image lacks, and works within the range of specimens it was trained on. The
network is :func:`ml4em.cnn.build_unet` with a linear output; the target is the phase minus its mean (the global
offset cannot be measured), and the input the image minus 1 (the incident beam), scaled but not normalised per
image, so that the strength of the contrast, which carries the strength of the phase, is kept.

Keras is imported inside the functions.

Used in: tutorials/11_phase_retrieval.
"""

import time

import numpy as np

__all__ = ["image_to_input", "build_phase_unet", "PhaseNet"]

_SCALE = 10.0  # contrasts of a few percent to inputs of order 0.1-1
_PHASE_SCALE = 10.0  # the network predicts the phase in units of 0.1 rad: outputs of order 1


def image_to_input(images):
    """Network input from images relative to the beam: ``(I - 1) * 10`` with a channel axis, float32.

    Parameters
    ----------
    images : ndarray of shape (n_images, rows, columns), dimensionless

    Returns
    -------
    ndarray of shape (n_images, rows, columns, 1), float32

    Examples
    --------
    >>> image_to_input(np.ones((2, 4, 4))).shape
    (2, 4, 4, 1)
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 3:
        raise ValueError(f"images should have shape (n_images, rows, columns); got {x.shape}. "
                         "For one image use image[None].")
    return ((x - 1.0) * _SCALE)[..., None]


def build_phase_unet(*, filters=8, depth=2, seed=None):
    """The phase network: :func:`ml4em.cnn.build_unet` with one channel in and a linear phase (rad) out.

    Examples
    --------
    >>> build_phase_unet(filters=4, depth=1, seed=0).output_shape  # doctest: +SKIP
    (None, None, None, 1)
    """
    from ..cnn import build_unet

    return build_unet(filters=filters, depth=depth, out_activation="linear", seed=seed, name="phase_unet")


class PhaseNet:
    """Phase retrieval from a single image with a U-Net trained on simulated (image, phase) pairs.

    Parameters
    ----------
    filters, depth : int
        Architecture (:func:`build_phase_unet`).
    learning_rate : float, default 3e-3
    epochs : int, default 10
    batch_size : int, default 32
    seed : int, numpy.random.Generator or None
        Seeds the weights and the order of the batches.

    Attributes
    ----------
    model_ : keras.Model
    history_ : dict of str to list of float
        Mean squared phase error per epoch, in units of (0.1 rad)^2 ("loss", and "val_loss" with validation data).
    train_seconds_ : float

    Examples
    --------
    >>> from ml4em.phase import make_phase_objects, simulate_images, transfer_function
    >>> H = transfer_function((64, 64), 0.2, defocus=100.0, cs=1e5, aperture=25.0)  # doctest: +SKIP
    >>> phase = make_phase_objects(500, seed=0)  # doctest: +SKIP
    >>> net = PhaseNet(seed=0).fit(simulate_images(phase, H, dose=2e4, seed=1), phase)  # doctest: +SKIP
    """

    def __init__(self, *, filters=8, depth=2, learning_rate=3e-3, epochs=10, batch_size=32, seed=None):
        self.filters, self.depth, self.learning_rate = filters, depth, learning_rate
        self.epochs, self.batch_size, self.seed = epochs, batch_size, seed

    def fit(self, images, phases, *, validation_data=None, monitor=True, desc="training the phase U-Net"):
        """Train on ``images`` (n, rows, columns) and their true ``phases`` (rad, same shape); returns self."""
        import keras

        from ..cnn import shuffled_batches
        from ..training import TrainingMonitor, check_positive_ints

        x = image_to_input(images)
        y = np.asarray(phases, dtype=np.float32)
        if y.shape != x.shape[:3]:
            raise ValueError(f"phases should have the shape of images, {x.shape[:3]}; got {y.shape}.")
        check_positive_ints(epochs=self.epochs, batch_size=self.batch_size)
        y = (y - y.mean(axis=(1, 2), keepdims=True))[..., None] * _PHASE_SCALE
        rng = np.random.default_rng(self.seed)
        self.model_ = build_phase_unet(filters=self.filters, depth=self.depth, seed=rng)
        self.model_.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="mse")
        val = None
        if validation_data is not None:
            vy = np.asarray(validation_data[1], np.float32)
            val = (image_to_input(validation_data[0]),
                   (vy - vy.mean(axis=(1, 2), keepdims=True))[..., None] * _PHASE_SCALE)
        callbacks = [TrainingMonitor(desc, ylabel="mean squared phase error ((0.1 rad)²)")] if monitor else []
        batches, steps = shuffled_batches(x, y, self.batch_size, seed=rng)
        start = time.perf_counter()
        hist = self.model_.fit(batches, steps_per_epoch=steps, epochs=self.epochs, shuffle=False,
                               validation_data=val, verbose=0, callbacks=callbacks)
        self.train_seconds_ = time.perf_counter() - start
        self.history_ = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
        return self

    def predict(self, images, *, batch_size=64):
        """The phase (rad, mean 0) of each image, ndarray of shape (n_images, rows, columns)."""
        if not hasattr(self, "model_"):
            raise RuntimeError("This PhaseNet is not fitted yet; call fit(images, phases) first.")
        out = self.model_.predict(image_to_input(images), batch_size=batch_size, verbose=0)[..., 0]
        return out.astype(float) / _PHASE_SCALE
