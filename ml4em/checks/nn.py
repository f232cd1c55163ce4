"""Checks for tutorials/02_neural_networks.

Each check calls the student's function on a case with a known answer and
explains what is wrong. The reference answers come from :mod:`ml4em.nn`
(whose gradients are themselves checked against finite differences). Each
check refuses the package's own implementation of its exercise (see
:mod:`ml4em.checks._own`). A hint names a mistake only when the student's
result equals what that mistake gives (the wrong variant is computed and
compared).
"""

import numpy as np

from .. import nn as ref
from ._core import (CheckFailure, _fail, call_student, check_array, check_callable, check_close, check_scalar,
                    check_shape, check_true)
from ._own import answers

TUTORIAL = "02_neural_networks"

__all__ = ["check_sigmoid", "check_neuron_switch", "check_forward", "check_backprop", "check_binary_cross_entropy",
           "check_bce_clipping", "check_bce_gradient", "check_classifier", "check_classifier_training", "small_network",
           "NEURON_WEIGHTS", "NEURON_BIASES",
           "SWITCH_FROM", "SWITCH_TO"]

#: The values of the neuron explorer's sliders (weight theta and bias theta_0).
NEURON_WEIGHTS = (0.5, 1.0, 2.0, 4.0, 8.0)
NEURON_BIASES = (-4.0, -2.0, 0.0, 2.0, 4.0)
#: The switch asked for in the graded Think!: a <= 0.15 at x = SWITCH_FROM and a >= 0.85 at x = SWITCH_TO.
SWITCH_FROM, SWITCH_TO = 0.5, 1.5


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


def _reference_net(weights, biases, activation="sigmoid"):
    net = ref.DenseNetwork([weights[0].shape[0]] + [w.shape[1] for w in weights], activation=activation)
    net.weights = [np.array(w, dtype=float) for w in weights]
    net.biases = [np.array(b, dtype=float) for b in biases]
    return net


def _overflow_free(name, fn, z):
    """``fn(z)`` with floating-point overflow turned into an error, and a hint when it happens."""
    try:
        with np.errstate(over="raise"):
            return call_student(name, fn, z)
    except CheckFailure as failure:
        if "FloatingPointError" not in str(failure):
            raise
        _fail(f"`{name}(z)` overflows for z = {np.asarray(z).tolist()}: {str(failure).splitlines()[0]}",
              hint="np.exp(-z) overflows for z < -709; compute only np.exp(-np.abs(z)), which is at most 1, and use "
                   "sigma(z) = e^z / (1 + e^z) for z < 0. np.where evaluates BOTH of its branches everywhere, so a "
                   "branch that overflows overflows even where it is not chosen.")


@answers(TUTORIAL, "sigmoid, sigmoid_prime", "ml4em.nn.sigmoid", "ml4em.nn.sigmoid_prime", "ml4em.nn.activation")
def check_sigmoid(sigmoid, sigmoid_prime, *, z=(-1000.0, -30.0, -2.0, 0.0, 0.5, 3.0, 30.0, 1000.0)):
    """``sigmoid(z)`` is 1 / (1 + exp(-z)) elementwise, without overflow; ``sigmoid_prime(z)`` its derivative.

    Both are evaluated with numpy's overflow turned into an error, so that ``np.exp(-z)`` for z < -709 fails.
    """
    check_callable(sigmoid, "sigmoid")
    check_callable(sigmoid_prime, "sigmoid_prime")
    z = np.asarray(z, dtype=float)
    got = check_array("sigmoid(z)", _overflow_free("sigmoid", sigmoid, z.copy()))
    check_shape("sigmoid(z)", got, z.shape,
                hint="return one value per element of z (work on the whole array, do not sum or take one element)."
                if got.size in (0, 1) and z.size > 1 else None)
    expected = ref.sigmoid(z)
    hint = "sigma(z) = 1 / (1 + exp(-z)); sigma(0) should be 0.5."
    with np.errstate(over="ignore"):
        flipped = 1.0 / (1.0 + np.exp(z))
    if np.allclose(got, flipped) and not np.allclose(flipped, expected):
        hint = "the sign in the exponent is flipped: it is exp(-z)."
    check_close("sigmoid(z)", got, expected, rtol=1e-9, atol=1e-12, hint=hint)
    got = check_array("sigmoid_prime(z)", _overflow_free("sigmoid_prime", sigmoid_prime, z.copy()))
    check_shape("sigmoid_prime(z)", got, z.shape)
    expected = ref.sigmoid_prime(z)
    hint = "the derivative is sigma(z) * (1 - sigma(z)); it peaks at 0.25 for z = 0."
    if np.allclose(got, ref.sigmoid(z)) and not np.allclose(expected, ref.sigmoid(z)):
        hint = "you returned sigma(z) itself, not its derivative."
    elif np.allclose(got, z * (1.0 - z)) and not np.allclose(expected, z * (1.0 - z)):
        hint = "you computed z * (1 - z): the derivative is s * (1 - s) with s = sigmoid(z)."
    check_close("sigmoid_prime(z)", got, expected, rtol=1e-9, atol=1e-12, hint=hint)


def _switches(weight, bias):
    a_from, a_to = ref.sigmoid(weight * np.array([SWITCH_FROM, SWITCH_TO]) + bias)
    return bool(a_from <= 0.15 and a_to >= 0.85), float(a_from), float(a_to)


@answers(TUTORIAL, "switch_weight, switch_bias", "ml4em.nn.plot_neuron", student=())
def check_neuron_switch(switch_weight, switch_bias):
    """``switch_weight, switch_bias``: slider values of the neuron explorer for which a sigmoid neuron switches
    from a <= 0.15 at x = 0.5 to a >= 0.85 at x = 1.5. The truth is computed here for every slider pair."""
    weight = check_scalar("switch_weight", switch_weight)
    bias = check_scalar("switch_bias", switch_bias)
    check_true(any(np.isclose(weight, w) for w in NEURON_WEIGHTS),
               f"`switch_weight` should be one of the explorer's weights {list(NEURON_WEIGHTS)}; got {weight:g}.")
    check_true(any(np.isclose(bias, b) for b in NEURON_BIASES),
               f"`switch_bias` should be one of the explorer's biases {list(NEURON_BIASES)}; got {bias:g}.")
    good = [(w, b) for w in NEURON_WEIGHTS for b in NEURON_BIASES if _switches(w, b)[0]]
    check_true(len(good) > 0, "internal: no slider pair of the explorer gives the switch asked for")
    ok, a_from, a_to = _switches(weight, bias)
    centre = -bias / weight
    hint = None
    if not np.isclose(centre, 0.5 * (SWITCH_FROM + SWITCH_TO)):
        hint = (f"the middle of the step (a = 0.5) is at x = -theta_0 / theta = {centre:g}; it should be halfway "
                f"between x = {SWITCH_FROM} and x = {SWITCH_TO}.")
    elif not ok:
        hint = "the middle is right but the step is too gentle: a larger weight makes it steeper."
    check_true(ok, f"with theta = {weight:g} and theta_0 = {bias:g} the neuron gives a = {a_from:.3f} at x = "
               f"{SWITCH_FROM} and a = {a_to:.3f} at x = {SWITCH_TO}; it should be <= 0.15 and >= 0.85.", hint=hint)


@answers(TUTORIAL, "forward", "ml4em.nn.DenseNetwork", "ml4em.nn.mlp", "ml4em.nn.to_keras")
def check_forward(forward, *, sizes=(3, 4, 2), seed=0):
    """``forward(x, weights, biases)``: sigmoid on every hidden layer, linear output; shape (n_samples, n_out).

    The inputs must not be changed.
    """
    check_callable(forward, "forward")
    x, weights, biases = small_network(sizes, seed=seed)
    copies = ([w.copy() for w in weights], [b.copy() for b in biases], x.copy())
    name = f"forward(x, weights, biases) for a {'-'.join(map(str, sizes))} network"
    got = check_array(name, call_student("forward", forward, x, weights, biases))
    check_true(all(np.array_equal(a, b) for a, b in zip(copies[0] + copies[1] + [copies[2]], weights + biases + [x])),
               "`forward` changed `x`, `weights` or `biases`; only read them (use z = a @ W + b, not +=).")
    net = _reference_net(weights, biases)
    expected = net.forward(x)
    hint = None
    if got.shape == expected.shape[::-1] and np.allclose(got.T, expected):
        hint = "your output is transposed: one ROW per sample, z = a @ W + b (not W.T @ a.T)."
    check_shape(name, got, expected.shape, hint=hint)
    variants = [
        (ref.sigmoid(expected), "the output layer should be linear: do not apply the sigmoid to the last z."),
        (_reference_net(weights, biases, activation="linear").forward(x),
         "apply the sigmoid to every HIDDEN layer's z (only the last layer is linear)."),
        (_reference_net(weights, [0 * b for b in biases]).forward(x), "add the bias b to every z."),
    ]
    hint = "a = x; then for each layer z = a @ W + b and a = sigmoid(z), except the last layer, which is linear."
    for wrong, text in variants:
        if np.allclose(got, wrong) and not np.allclose(wrong, expected):
            hint = text
            break
    check_close(name, got, expected, rtol=1e-9, atol=1e-12, hint=hint)


@answers(TUTORIAL, "backprop", "ml4em.nn.DenseNetwork", "ml4em.nn.numerical_gradient",
         "ml4em.nn.one_hidden_gradients")
def check_backprop(backprop, *, n_in=2, n_hidden=3, n_samples=5, seed=1):
    """``backprop(x, y, W1, b1, W2, b2)`` returns ``(dW1, db1, dW2, db2)``, the gradients of the MSE."""
    check_callable(backprop, "backprop")
    _, (w1, w2), (b1, b2) = small_network((n_in, n_hidden, 1), seed=seed)
    rng = np.random.default_rng(seed + 100)
    x = rng.normal(size=(n_samples, n_in))
    y = rng.normal(size=(n_samples, 1))
    args = (x, y, w1, b1, w2, b2)
    copies = [a.copy() for a in args]
    result = call_student("backprop", backprop, *args)
    check_true(isinstance(result, (tuple, list)) and len(result) == 4,
               f"`backprop` should return a tuple of 4 arrays (dW1, db1, dW2, db2); got {type(result).__name__}"
               + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "") + ".")
    check_true(all(np.array_equal(a, b) for a, b in zip(args, copies)),
               "`backprop` changed one of its inputs; only read them.")
    expected = ref.one_hidden_gradients(x, y, w1, b1, w2, b2)
    n = n_samples
    label = f"for {n} samples, {n_in} input(s) and {n_hidden} hidden neurons"
    for name, got, exp, param in zip(("dW1", "db1", "dW2", "db2"), result, expected, (w1, b1, w2, b2)):
        got = check_array(f"{name} ({label})", got)
        hint = "a gradient has the shape of its parameter."
        if name.startswith("db") and got.shape == (n, param.size):
            hint = "db is the sum of delta over the samples: delta.sum(axis=0)."
        check_shape(f"{name} ({label})", got, param.shape, hint=hint)
        hint = "follow the chain rule from the loss back to this parameter."
        variants = [
            (exp * n, "the MSE is a MEAN over samples: divide by n_samples, delta2 = 2 (y_hat - y) / n."),
            (exp / n, "you divided by n_samples twice: only delta2 = 2 (y_hat - y) / n has the 1 / n."),
            (0.5 * exp, "d/dy_hat of (y_hat - y)^2 is 2 (y_hat - y): a factor 2 is missing."),
            (-exp, "the sign is flipped: delta2 = 2 (y_hat - y) / n, prediction minus target."),
        ]
        for wrong, text in variants:
            if np.allclose(got, wrong, rtol=1e-8, atol=1e-12) and not np.allclose(wrong, exp, rtol=1e-8, atol=1e-12):
                hint = text
                break
        else:
            if name in ("dW1", "db1"):
                hint = ("propagate delta2 = dC/dz2 back with delta1 = (delta2 @ W2.T) * sigmoid_prime(z1), then "
                        "dW1 = x.T @ delta1 and db1 = delta1.sum(axis=0).")
        # 1e-8: both are the same sums of products in float64; only round-off differs.
        check_close(f"{name} ({label})", got, exp, rtol=1e-8, atol=1e-12, hint=hint)


def _bce_case(binary_cross_entropy, y_true, p):
    check_callable(binary_cross_entropy, "binary_cross_entropy")
    y_true, p = np.asarray(y_true, dtype=float), np.asarray(p, dtype=float)
    name = f"binary_cross_entropy(y_true={y_true.tolist()}, p={p.tolist()})"
    with np.errstate(divide="ignore", invalid="ignore"):
        got = call_student("binary_cross_entropy", binary_cross_entropy, y_true.copy(), p.copy())
    check_true(got is not None, f"`{name}` is None. Did you forget a `return` statement?")
    check_true(np.ndim(got) == 0, f"`{name}` should be a single number; got an array of shape {np.shape(got)}.",
               hint="take the mean over the samples.")
    got = float(got)
    expected = ref.binary_cross_entropy(y_true, p)
    clip_hint = "clip p to [1e-7, 1 - 1e-7] before the logarithm (np.clip), so that log(0) cannot happen."
    clipped = np.clip(p, 1e-7, 1 - 1e-7)
    unclipped_only = False   # right on p clipped beforehand, wrong on p itself: the clipping is what is missing
    if not np.array_equal(clipped, p) and not (np.isfinite(got) and np.isclose(got, expected, rtol=1e-9)):
        with np.errstate(divide="ignore", invalid="ignore"):
            on_clipped = call_student("binary_cross_entropy", binary_cross_entropy, y_true.copy(), clipped.copy())
        unclipped_only = bool(np.ndim(on_clipped) == 0 and np.isclose(float(on_clipped), expected, rtol=1e-9))
    check_true(np.isfinite(got), f"`{name}` should be finite; got {got}.", hint=clip_hint if unclipped_only else None)
    hint = "the cost is -mean(y * log(p) + (1 - y) * log(1 - p))."
    if unclipped_only:
        hint = clip_hint
    elif np.isclose(got, -expected) and not np.isclose(expected, 0):
        hint = "the sign is flipped: the cost is MINUS the mean log-likelihood, and it is positive."
    elif np.isclose(got, expected * y_true.size) and y_true.size > 1:
        hint = "take the MEAN over samples, not the sum."
    check_close(name, got, expected, rtol=1e-9, hint=hint)


@answers(TUTORIAL, "binary_cross_entropy", "ml4em.nn.binary_cross_entropy")
def check_binary_cross_entropy(binary_cross_entropy, *, y_true=(1.0, 0.0, 1.0, 0.0), p=(0.9, 0.2, 0.4, 0.5)):
    """``binary_cross_entropy(y_true, p)`` is -mean(y log p + (1 - y) log(1 - p)), p clipped to [1e-7, 1 - 1e-7]."""
    _bce_case(binary_cross_entropy, y_true, p)


@answers(TUTORIAL, "binary_cross_entropy", "ml4em.nn.binary_cross_entropy")
def check_bce_clipping(binary_cross_entropy, *, y_true=(1.0, 0.0), p=(0.0, 1.0)):
    """Confident wrong answers (p = 0 for y = 1, p = 1 for y = 0) give a large but finite cost, -log(1e-7)."""
    _bce_case(binary_cross_entropy, y_true, p)


@answers(TUTORIAL, "bce_gradient", "ml4em.nn.binary_cross_entropy", "ml4em.nn.numerical_gradient")
def check_bce_gradient(bce_gradient, *, y_true=(1.0, 0.0, 1.0, 0.0, 1.0), z=(-3.0, -0.5, 0.0, 2.0, 6.0)):
    """``bce_gradient(y_true, z)``: dC/dz_i of the mean binary cross-entropy for p = sigmoid(z).

    The truth, (sigmoid(z) - y) / n, is confirmed here by central finite differences of the cost.
    """
    check_callable(bce_gradient, "bce_gradient")
    y_true, z = np.asarray(y_true, dtype=float), np.asarray(z, dtype=float)
    n = y_true.size
    name = f"bce_gradient(y_true={y_true.tolist()}, z={z.tolist()})"
    got = check_array(name, call_student("bce_gradient", bce_gradient, y_true.copy(), z.copy()))
    check_shape(name, got, z.shape, hint="one derivative per sample: dC/dz_i for every i.")
    p = ref.sigmoid(z)
    expected = (p - y_true) / n
    fd = ref.numerical_gradient(lambda t: ref.binary_cross_entropy(y_true, ref.sigmoid(t)), z, eps=1e-6)
    check_true(np.allclose(fd, expected, rtol=1e-5, atol=1e-8), "internal: the gradient of the cost is not (p - y) / n")
    variants = [
        (expected * n, "C is a MEAN over the n samples: its derivative has a factor 1 / n."),
        (-expected, "the sign is flipped: C decreases when z moves towards the label, so dC/dz = (p - y) / n."),
        ((p - y_true) / (p * (1 - p)) / n,
         "that is dC/dp; the chain rule multiplies it by dp/dz = sigmoid'(z) = p (1 - p), which cancels the "
         "denominator."),
        (expected * p * (1 - p),
         "you multiplied by sigmoid'(z) = p (1 - p) once too often: dC/dp * dp/dz = (p - y) / n."),
    ]
    hint = "C = -mean(y log p + (1 - y) log(1 - p)) with p = sigmoid(z); use dp/dz = p (1 - p)."
    for wrong, text in variants:
        if np.allclose(got, wrong, rtol=1e-9, atol=1e-12) and not np.allclose(wrong, expected, rtol=1e-9, atol=1e-12):
            hint = text
            break
    check_close(name, got, expected, rtol=1e-9, atol=1e-12, hint=hint)


@answers(TUTORIAL, "classifier", "ml4em.nn.mlp", "ml4em.nn.to_keras", "ml4em.nn.DenseNetwork")
def check_classifier(model, x_test, y_test, *, min_accuracy=0.85):
    """A trained Keras classifier whose accuracy on (x_test, y_test) is at least ``min_accuracy``.

    The model should output one probability per spectrum (a sigmoid output).
    """
    check_true(model is not None and hasattr(model, "predict"),
               f"`classifier` should be a trained Keras model; got {type(model).__name__}.")
    p = check_array("classifier.predict(x_test)",
                    call_student("classifier.predict", model.predict, np.asarray(x_test), verbose=0))
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
    print(f"`classifier`: accuracy {accuracy:.3f} on {len(y_test)} new spectra")
    return accuracy


def _loss_name(loss):
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", None) \
        or type(loss).__name__
    return str(name).lower().replace("_", "")


@answers(TUTORIAL, "classifier", "ml4em.nn.mlp", "ml4em.nn.to_keras", "ml4em.nn.DenseNetwork")
def check_classifier_training(model):
    """The classifier was trained as the exercise asks: binary cross-entropy, a sigmoid output, a validation split.

    Read off the compiled model and the history of its last ``fit`` (``model.history``).
    """
    check_true(model is not None and hasattr(model, "layers") and hasattr(model, "predict"),
               f"`classifier` should be a trained Keras model; got {type(model).__name__}.")
    loss = getattr(model, "loss", None)
    check_true(loss is not None and "binarycrossentropy" in _loss_name(loss),
               f"`classifier` should be compiled with the binary cross-entropy; got loss {loss!r:.60}.",
               hint="model.compile(optimizer=..., loss=\"binary_crossentropy\").")
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", None)
    check_true(getattr(last, "units", None) == 1 and activation == "sigmoid",
               f"the last layer of `classifier` should be Dense(1, activation='sigmoid'); got {type(last).__name__} "
               f"with {getattr(last, 'units', '?')} unit(s) and activation {activation}.")
    history = getattr(getattr(model, "history", None), "history", None)
    check_true(isinstance(history, dict) and history.get("loss"),
               "`classifier` has no training history: train it with classifier.fit(...) in the answer cell.")
    check_true("val_loss" in history,
               "`classifier` was trained without a validation set: its history has no val_loss.",
               hint="pass validation_split=0.2 to fit, so that early stopping can watch the validation cost.")
