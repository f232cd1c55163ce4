"""Activations and cost functions of a neural network, with the derivatives that backpropagation needs.

Activations act element-wise on arrays of any shape; costs take ``y_true`` and ``y_pred`` of the same shape
(n_samples, n_outputs) and return the mean over all elements, as Keras does.
"""

import numpy as np

__all__ = ["ACTIVATIONS", "sigmoid", "sigmoid_prime", "activation", "mean_squared_error", "binary_cross_entropy",
           "LOSSES"]


def sigmoid(z):
    """The logistic function ``1 / (1 + exp(-z))``, written as ``(1 + tanh(z/2)) / 2`` (no overflow).

    Examples
    --------
    >>> float(sigmoid(0.0)), float(sigmoid(1000.0))
    (0.5, 1.0)
    """
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def sigmoid_prime(z):
    """Derivative of the sigmoid, ``sigma(z) (1 - sigma(z))``.

    Examples
    --------
    >>> float(sigmoid_prime(0.0))
    0.25
    """
    s = sigmoid(z)
    return s * (1.0 - s)


def _relu(z):
    return np.maximum(z, 0.0)


def _relu_prime(z):
    return (np.asarray(z) > 0).astype(float)


def _tanh_prime(z):
    return 1.0 - np.tanh(z) ** 2


#: Activations by their Keras names: (function, derivative).
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (np.tanh, _tanh_prime),
    "relu": (_relu, _relu_prime),
    "softplus": (lambda z: np.logaddexp(0.0, z), sigmoid),
    "linear": (lambda z: np.asarray(z, dtype=float), lambda z: np.ones_like(z, dtype=float)),
}


def activation(name):
    """Return ``(function, derivative)`` of the activation called ``name`` (a key of :data:`ACTIVATIONS`).

    Examples
    --------
    >>> f, df = activation("relu")
    >>> f(np.array([-1.0, 2.0])), df(np.array([-1.0, 2.0]))
    (array([0., 2.]), array([0., 1.]))
    """
    return _activation(name)


def _activation(name):
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"activation={name!r} is not known; choose one of {sorted(ACTIVATIONS)}.")
    return ACTIVATIONS[name]


def mean_squared_error(y_true, y_pred):
    """Mean over all values of ``(y_pred - y_true)^2``: the regression cost (Keras' "mse").

    Examples
    --------
    >>> mean_squared_error(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    2.0
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean((y_pred - y_true) ** 2))


def _mse_grad(y_true, y_pred):
    return 2.0 * (y_pred - y_true) / y_pred.size


_EPS = 1e-7  # Keras' epsilon: probabilities are clipped to [eps, 1 - eps] before the logarithm


def binary_cross_entropy(y_true, p):
    """Mean of ``-[y log p + (1 - y) log(1 - p)]``: the cost of binary classification.

    ``p`` is clipped to ``[1e-7, 1 - 1e-7]`` as in Keras, so that a
    confident wrong answer costs a large but finite amount.

    Parameters
    ----------
    y_true : array-like of 0 and 1
    p : array-like of the same shape, probabilities of class 1

    Examples
    --------
    >>> round(binary_cross_entropy(np.array([1.0, 0.0]), np.array([0.9, 0.2])), 6)
    0.164252
    """
    y_true, p = _pair(y_true, p)
    p = np.clip(p, _EPS, 1.0 - _EPS)
    return float(-np.mean(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p)))


def _bce_grad(y_true, p):
    p = np.clip(p, _EPS, 1.0 - _EPS)
    return (p - y_true) / (p * (1.0 - p)) / p.size


#: Losses by their Keras names: (loss(y_true, y_pred), gradient with respect to y_pred).
LOSSES = {"mse": (mean_squared_error, _mse_grad), "binary_crossentropy": (binary_cross_entropy, _bce_grad)}


def _pair(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but the prediction has {y_pred.shape}; they should "
                         "match (reshape y to (n_samples, n_outputs)).")
    return y_true, y_pred


def _loss(name):
    if name not in LOSSES:
        raise ValueError(f"loss={name!r} is not known; choose one of {sorted(LOSSES)}.")
    return LOSSES[name]


