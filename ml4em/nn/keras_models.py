"""Keras builders: a multilayer perceptron, and the Keras copy of a numpy :class:`~ml4em.nn.DenseNetwork`.

Keras is imported inside the functions, so that the numpy parts of :mod:`ml4em.nn` work without it.
"""

import numpy as np

from .functions import _activation
from .network import DenseNetwork

__all__ = ["mlp", "to_keras"]


def mlp(n_inputs, hidden=(10, 15, 5), *, activation="sigmoid", n_outputs=1, output_activation="linear",
        name="mlp", seed=None):
    """A Keras multilayer perceptron: Dense layers with Glorot-uniform weights and zero biases.

    Parameters
    ----------
    n_inputs : int
        Number of input features.
    hidden : sequence of int, default (10, 15, 5)
        Units of the hidden layers (the 10-15-5 network of the EELS
        replica papers by default).
    activation : str, default "sigmoid"
        Activation of the hidden layers (Keras name).
    n_outputs : int, default 1
    output_activation : str, default "linear"
        "sigmoid" for a binary classifier.
    name : str
    seed : int or None
        Seeds the initial weights through a ``keras.random.SeedGenerator``.

    Returns
    -------
    keras.Sequential
        Not compiled.

    Examples
    --------
    >>> model = mlp(1, (10, 15, 5), seed=0)  # doctest: +SKIP
    >>> model.count_params()  # doctest: +SKIP
    266
    """
    import keras
    from keras import layers

    from ..training import check_positive_ints

    check_positive_ints(n_inputs=n_inputs, n_outputs=n_outputs)
    hidden = list(hidden)
    if any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1 for h in hidden):
        raise ValueError(f"hidden={hidden!r} should be a sequence of positive integers (units per layer).")
    _activation(activation)
    _activation(output_activation)
    gen = keras.random.SeedGenerator(seed)
    stack = [keras.Input(shape=(int(n_inputs),))]
    for i, units in enumerate(hidden):
        stack.append(layers.Dense(int(units), activation=activation, name=f"hidden_{i + 1}",
                                  kernel_initializer=keras.initializers.GlorotUniform(seed=gen)))
    stack.append(layers.Dense(int(n_outputs), activation=output_activation, name="output",
                              kernel_initializer=keras.initializers.GlorotUniform(seed=gen)))
    return keras.Sequential(stack, name=name)


def to_keras(network, *, name="mlp"):
    """A Keras model with the layers, activations and weights of a :class:`DenseNetwork`.

    The two give the same outputs to float32 precision (Keras computes in float32).
    """
    if not isinstance(network, DenseNetwork):
        raise TypeError(f"network should be an ml4em.nn.DenseNetwork; got {type(network).__name__}.")
    if len(set(network.activations[:-1])) > 1:
        raise ValueError("to_keras needs one activation for all hidden layers; got "
                         f"{network.activations[:-1]}.")
    sizes = network.sizes
    model = mlp(sizes[0], sizes[1:-1], activation=network.activations[0] if len(sizes) > 2 else "linear",
                n_outputs=sizes[-1], output_activation=network.activations[-1], name=name)
    for layer, w, b in zip([la for la in model.layers if la.weights], network.weights, network.biases):
        layer.set_weights([w.astype("float32"), b.astype("float32")])
    return model


