"""Neural networks from the neuron up: activations, a dense network in numpy with backpropagation, Keras builders.

A neuron computes ``z = x^T theta + theta_0`` and ``a = sigma(z)``; a layer
does this for many neurons at once, ``Z = X W + b`` for a batch ``X`` of
shape (n_samples, n_in), ``W`` of shape (n_in, n_out) and ``b`` of shape
(n_out,), the layout Keras uses, so that the numpy :class:`DenseNetwork` and
a Keras model built by :func:`mlp` or :func:`to_keras` compute the same
thing with the same weights.

Submodules:

- :mod:`ml4em.nn.functions`     activations and cost functions with their derivatives
- :mod:`ml4em.nn.network`       :class:`DenseNetwork` (forward pass, backpropagation) and the finite-difference
  gradient check
- :mod:`ml4em.nn.keras_models`  Keras builders (:func:`mlp`, :func:`to_keras`); Keras is imported only inside them
- :mod:`ml4em.nn.examples`      the signal-or-noise spectra and the neuron figure of the tutorial

Used in: tutorials/02_neural_networks (everything) and the EELS tutorials
(:func:`mlp`).
"""

from .examples import make_peak_spectra, plot_neuron
from .functions import ACTIVATIONS, LOSSES, activation, binary_cross_entropy, mean_squared_error, sigmoid, sigmoid_prime
from .keras_models import mlp, to_keras
from .network import DenseNetwork, gradient_check, numerical_gradient, one_hidden_gradients

__all__ = ["ACTIVATIONS", "sigmoid", "sigmoid_prime", "activation", "mean_squared_error", "binary_cross_entropy",
           "LOSSES", "DenseNetwork", "numerical_gradient", "gradient_check", "one_hidden_gradients", "mlp", "to_keras",
           "make_peak_spectra",
           "plot_neuron"]
