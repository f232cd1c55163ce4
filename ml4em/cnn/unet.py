"""Fully-convolutional Keras networks for images: STEM image scaling, a U-Net builder, the defect U-Net.

Keras is imported inside the builders.
"""

import numpy as np

__all__ = ["normalize_images", "build_unet", "build_defect_unet"]


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


