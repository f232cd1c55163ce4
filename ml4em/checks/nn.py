"""Checks for tutorials/02_neural_networks.

Each check calls the student's function on a case with a known answer and
explains what is wrong. The reference answers come from :mod:`ml4em.nn`
(whose gradients are themselves checked against finite differences). Each
check refuses the package's own implementation of its exercise (see
:mod:`ml4em.checks._own`).
"""

import numpy as np

from .. import nn as ref
from ._core import call_student, check_array, check_callable, check_close, check_scalar, check_shape, check_true
from ._own import answers

TUTORIAL = "02_neural_networks"

__all__ = ["check_sigmoid", "check_forward", "check_backprop", "check_binary_cross_entropy",
           "check_classifier", "small_network"]


def small_network(sizes=(3, 4, 2), *, seed=0):
    """Weights and biases of a small sigmoid network, and an input batch: ``(x, weights, biases)``.

    x has shape (5, sizes[0]); weights[i] has shape (sizes[i], sizes[i + 1]).
    Biases are random (not zero) so that a forgotten bias shows.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(5, sizes[0]))
    weights = [rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(size=b) for b in sizes[1:]]
    return x, weights, biases


def _reference_net(weights, biases):
    net = ref.DenseNetwork([weights[0].shape[0]] + [w.shape[1] for w in weights])
    net.weights = [np.array(w, dtype=float) for w in weights]
    net.biases = [np.array(b, dtype=float) for b in biases]
    return net


@answers(TUTORIAL, "sigmoid, sigmoid_prime", "ml4em.nn.sigmoid", "ml4em.nn.sigmoid_prime", "ml4em.nn.activation")
def check_sigmoid(sigmoid, sigmoid_prime, *, z=(-30.0, -2.0, 0.0, 0.5, 3.0, 30.0)):
    """``sigmoid(z)`` is 1 / (1 + exp(-z)) elementwise; ``sigmoid_prime(z)`` its derivative."""
    check_callable(sigmoid, "sigmoid")
    check_callable(sigmoid_prime, "sigmoid_prime")
    z = np.asarray(z, dtype=float)
    got = check_array("sigmoid(z)", call_student("sigmoid", sigmoid, z))
    check_shape("sigmoid(z)", got, z.shape, hint="apply the function to every element: use np.exp, not math.exp.")
    hint = "sigma(z) = 1 / (1 + exp(-z)); sigma(0) should be 0.5."
    if np.allclose(got, 1.0 / (1.0 + np.exp(z))):
        hint = "the sign in the exponent is flipped: it is exp(-z)."
    check_close("sigmoid(z)", got, ref.sigmoid(z), rtol=1e-9, atol=1e-12, hint=hint)
    got = check_array("sigmoid_prime(z)", sigmoid_prime(z))
    check_shape("sigmoid_prime(z)", got, z.shape)
    hint = "the derivative is sigma(z) * (1 - sigma(z)); it peaks at 0.25 for z = 0."
    if np.allclose(got, ref.sigmoid(z)):
        hint = "you returned sigma(z) itself, not its derivative."
    check_close("sigmoid_prime(z)", got, ref.sigmoid_prime(z), rtol=1e-9, atol=1e-12, hint=hint)


@answers(TUTORIAL, "forward", "ml4em.nn.DenseNetwork", "ml4em.nn.mlp", "ml4em.nn.to_keras")
def check_forward(forward, *, sizes=(3, 4, 2), seed=0):
    """``forward(x, weights, biases)``: sigmoid on every hidden layer, linear output; shape (n_samples, n_out)."""
    check_callable(forward, "forward")
    x, weights, biases = small_network(sizes, seed=seed)
    got = check_array("forward(x, weights, biases)", call_student("forward", forward, x, weights, biases))
    expected = _reference_net(weights, biases).forward(x)
    hint = None
    if got.shape == expected.shape[::-1]:
        hint = "one ROW per sample: compute z = a @ W + b (not W @ a)."
    check_shape("forward(x, weights, biases)", got, expected.shape, hint=hint)
    hint = "a = x; then for each layer z = a @ W + b and a = sigmoid(z), except the last layer, which is linear."
    if np.allclose(got, ref.sigmoid(expected)):
        hint = "the output layer should be linear: do not apply the sigmoid to the last z."
    elif len(sizes) > 2 and np.allclose(got, _reference_net(weights, [0 * b for b in biases]).forward(x)):
        hint = "add the bias b to every z."
    check_close("forward(x, weights, biases)", got, expected, rtol=1e-9, atol=1e-12, hint=hint)


@answers(TUTORIAL, "backprop", "ml4em.nn.DenseNetwork", "ml4em.nn.numerical_gradient")
def check_backprop(backprop, *, n_in=2, n_hidden=3, seed=1):
    """``backprop(x, y, W1, b1, W2, b2)`` returns ``(dW1, db1, dW2, db2)``, the gradients of the MSE."""
    check_callable(backprop, "backprop")
    x, (w1, w2), (b1, b2) = small_network((n_in, n_hidden, 1), seed=seed)
    y = np.random.default_rng(seed + 100).normal(size=(x.shape[0], 1))
    result = call_student("backprop", backprop, x, y, w1, b1, w2, b2)
    check_true(isinstance(result, (tuple, list)) and len(result) == 4,
               f"`backprop` should return a tuple of 4 arrays (dW1, db1, dW2, db2); got {type(result).__name__}"
               + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "") + ".")
    net = _reference_net([w1, w2], [b1, b2])
    _, grads = net.loss_and_gradients(x, y, loss="mse")
    expected = [grads[0][0], grads[0][1], grads[1][0], grads[1][1]]
    for name, got, exp, param in zip(("dW1", "db1", "dW2", "db2"), result, expected, (w1, b1, w2, b2)):
        got = check_array(name, got)
        check_shape(name, got, param.shape, hint="a gradient has the shape of its parameter; sum db over samples.")
        hint = "follow the chain rule from the loss back to this parameter."
        if np.allclose(got * x.shape[0], exp):
            hint = "the MSE is a MEAN over samples: divide by n_samples."
        elif np.allclose(got, 0.5 * exp):
            hint = "d/dy of (y_pred - y)^2 is 2 (y_pred - y): a factor 2 is missing."
        elif name in ("dW1", "db1"):
            hint = ("propagate delta2 = dL/dz2 back with delta1 = (delta2 @ W2.T) * sigmoid_prime(z1), then "
                    "dW1 = x.T @ delta1 and db1 = delta1.sum(axis=0).")
        # 1e-8: both are the same sums of products in float64; only round-off differs.
        check_close(name, got, exp, rtol=1e-8, atol=1e-12, hint=hint)


@answers(TUTORIAL, "binary_cross_entropy", "ml4em.nn.binary_cross_entropy")
def check_binary_cross_entropy(binary_cross_entropy, *, y_true=(1.0, 0.0, 1.0, 0.0), p=(0.9, 0.2, 0.4, 0.5)):
    """``binary_cross_entropy(y_true, p)`` is -mean(y log p + (1 - y) log(1 - p)), p clipped to [1e-7, 1 - 1e-7]."""
    check_callable(binary_cross_entropy, "binary_cross_entropy")
    y_true, p = np.asarray(y_true, dtype=float), np.asarray(p, dtype=float)
    got = check_scalar("binary_cross_entropy(y_true, p)", call_student("binary_cross_entropy", binary_cross_entropy,
                                                                       y_true, p))
    expected = ref.binary_cross_entropy(y_true, p)
    hint = "the cost is -mean(y * log(p) + (1 - y) * log(1 - p))."
    if np.isclose(got, -expected):
        hint = "the sign is flipped: the cost is MINUS the mean log-likelihood, and it is positive."
    elif np.isclose(got, expected * y_true.size):
        hint = "take the MEAN over samples, not the sum."
    check_close("binary_cross_entropy(y_true, p)", got, expected, rtol=1e-9, hint=hint)
    clip_hint = "clip p to [1e-7, 1 - 1e-7] before the logarithm (np.clip), so that log(0) cannot happen."
    with np.errstate(divide="ignore", invalid="ignore"):
        edge = call_student("binary_cross_entropy", binary_cross_entropy, np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    check_true(np.ndim(edge) == 0 and np.isfinite(edge),
               f"`binary_cross_entropy([1, 0], [0, 1])` (two confident wrong answers) should be large but finite; "
               f"got {edge}.", hint=clip_hint)
    check_close("binary_cross_entropy([1, 0], [0, 1])", edge, -np.log(1e-7), rtol=1e-6, hint=clip_hint)


@answers(TUTORIAL, "classifier", "ml4em.nn.mlp", "ml4em.nn.to_keras", "ml4em.nn.DenseNetwork")
def check_classifier(model, x_test, y_test, *, min_accuracy=0.85):
    """A trained Keras classifier whose accuracy on (x_test, y_test) is at least ``min_accuracy``.

    The model should output one probability per spectrum (a sigmoid output).
    """
    check_true(model is not None and hasattr(model, "predict"),
               f"`classifier` should be a trained Keras model; got {type(model).__name__}.")
    p = check_array("classifier.predict(x_test)", model.predict(np.asarray(x_test), verbose=0))
    check_true(p.size == len(y_test),
               f"`classifier` should give one probability per spectrum; got output shape {p.shape}.",
               hint="end the model with Dense(1, activation='sigmoid').")
    p = p.ravel()
    check_true(np.all((p >= 0) & (p <= 1)), "`classifier` should output probabilities in [0, 1].",
               hint="use activation='sigmoid' in the output layer.")
    accuracy = float(np.mean((p > 0.5) == (np.asarray(y_test).ravel() > 0.5)))
    check_true(accuracy >= min_accuracy,
               f"`classifier` reaches an accuracy of {accuracy:.3f} on new spectra; it should reach "
               f"{min_accuracy}.",
               hint="a hidden layer of 32 or more relu units, a few dozen epochs and early stopping should do; "
                    "check that you trained on x_train, y_train.")
    return accuracy
