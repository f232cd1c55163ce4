"""ml4em.checks.nn: each check passes correct answers and fails typical mistakes; every hint is given for the
mistake it names and for no other (a wrong answer of another kind does not get it)."""

import numpy as np
import pytest

from ml4em import nn
from ml4em.checks import CheckFailure

from conftest import assert_hints, hint_of
from ml4em.checks import nn as checks


# -- sigmoid ---------------------------------------------------------------------------------------------------------

def stable(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def stable_prime(z):
    return stable(z) * (1 - stable(z))


def test_sigmoid_accepts_stable_forms():
    checks.check_sigmoid(stable, stable_prime)
    checks.check_sigmoid(lambda z: 0.5 * (1 + np.tanh(0.5 * np.asarray(z, float))), stable_prime, z=0.0)


SIGMOID_KEYS = ("overflows", "one value per element", "sign in the exponent", "sigma(z) itself", "z * (1 - z)")


def test_each_sigmoid_hint_names_its_mistake_only():
    naive = lambda z: 1.0 / (1.0 + np.exp(-np.asarray(z, float)))  # noqa: E731
    assert_hints({
        "naive formula": (lambda: hint_of(checks.check_sigmoid, naive, stable_prime), "overflows"),
        "where with both branches": (lambda: hint_of(checks.check_sigmoid, lambda z: np.where(
            np.asarray(z) >= 0, naive(z), np.exp(z) / (1 + np.exp(z))), stable_prime), "overflows"),
        "summed": (lambda: hint_of(checks.check_sigmoid, lambda z: np.sum(stable(z)), stable_prime),
                   "one value per element"),
        "flipped sign": (lambda: hint_of(checks.check_sigmoid, lambda z: stable(-np.asarray(z)), stable_prime),
                         "sign in the exponent"),
        "prime is sigma": (lambda: hint_of(checks.check_sigmoid, stable, stable), "sigma(z) itself"),
        "prime of z": (lambda: hint_of(checks.check_sigmoid, stable,
                                       lambda z: np.asarray(z, float) * (1 - np.asarray(z, float))), "z * (1 - z)"),
        "wrong constant": (lambda: hint_of(checks.check_sigmoid, lambda z: 2 * stable(z), stable_prime), None),
        "prime off by a factor": (lambda: hint_of(checks.check_sigmoid, stable, lambda z: 2 * stable_prime(z)), None),
    }, SIGMOID_KEYS)


# -- the neuron switch (graded Think!) -------------------------------------------------------------------------------

def test_neuron_switch_truth_is_computed():
    checks.check_neuron_switch(4.0, -4.0)
    good = [(w, b) for w in checks.NEURON_WEIGHTS for b in checks.NEURON_BIASES
            if nn.sigmoid(w * checks.SWITCH_FROM + b) <= 0.15 and nn.sigmoid(w * checks.SWITCH_TO + b) >= 0.85]
    assert good == [(4.0, -4.0)]


def test_neuron_switch_hints():
    keys = ("the middle of the step", "too gentle")
    assert_hints({
        "centre at 0.5": (lambda: hint_of(checks.check_neuron_switch, 4.0, -2.0), "the middle of the step"),
        "too gentle": (lambda: hint_of(checks.check_neuron_switch, 2.0, -2.0), "too gentle"),
        "off the grid": (lambda: hint_of(checks.check_neuron_switch, 3.0, -3.0), None),
    }, keys)


# -- forward ---------------------------------------------------------------------------------------------------------

def fwd(x, weights, biases, hidden=stable, last=lambda z: z, bias=True):
    a = np.asarray(x, float)
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = a @ w + (b if bias else 0)
        a = last(z) if i == len(weights) - 1 else hidden(z)
    return a


def test_forward_accepts_a_loop():
    for sizes, seed in [((3, 4, 2), 0), ((1, 10, 15, 5, 1), 3), ((4, 2), 4)]:
        checks.check_forward(fwd, sizes=sizes, seed=seed)


def test_forward_refuses_changed_inputs():
    def in_place(x, weights, biases):
        weights[0] += 0.0 * weights[0] + 1.0
        return fwd(x, weights, biases)
    with pytest.raises(CheckFailure, match="changed"):
        checks.check_forward(in_place)


FORWARD_KEYS = ("transposed", "output layer should be linear", "every HIDDEN layer", "add the bias")


def test_each_forward_hint_names_its_mistake_only():
    assert_hints({
        "transposed": (lambda: hint_of(checks.check_forward, lambda x, w, b: fwd(x, w, b).T), "transposed"),
        "sigmoid output": (lambda: hint_of(checks.check_forward, lambda x, w, b: fwd(x, w, b, last=stable)),
                           "output layer should be linear"),
        "no activation": (lambda: hint_of(checks.check_forward, lambda x, w, b: fwd(x, w, b, hidden=lambda z: z)),
                          "every HIDDEN layer"),
        "no bias": (lambda: hint_of(checks.check_forward, lambda x, w, b: fwd(x, w, b, bias=False)), "add the bias"),
        "tanh hidden": (lambda: hint_of(checks.check_forward, lambda x, w, b: fwd(x, w, b, hidden=np.tanh)), None),
    }, FORWARD_KEYS)
    # one layer: no hidden layer, so a missing activation is no mistake and gives no hint
    checks.check_forward(lambda x, w, b: fwd(x, w, b, hidden=lambda z: z), sizes=(4, 2), seed=4)


# -- backprop --------------------------------------------------------------------------------------------------------

def bp(x, y, W1, b1, W2, b2, scale=2.0, divide=1):
    n = x.shape[0]
    z1 = x @ W1 + b1
    a1 = stable(z1)
    delta2 = scale * (a1 @ W2 + b2 - y) / n ** divide
    delta1 = (delta2 @ W2.T) * stable_prime(z1)
    return x.T @ delta1, delta1.sum(axis=0), a1.T @ delta2, delta2.sum(axis=0)


def test_backprop_accepts_the_chain_rule_and_matches_the_package():
    for kwargs in [{}, {"n_in": 1, "n_hidden": 7, "seed": 5}, {"n_in": 3, "n_hidden": 1, "n_samples": 1, "seed": 7}]:
        checks.check_backprop(bp, **kwargs)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    W1, b1, W2, b2 = rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(3, 1)), rng.normal(size=1)
    for mine, theirs in zip(bp(x, y, W1, b1, W2, b2), nn.one_hidden_gradients(x, y, W1, b1, W2, b2)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)


def test_one_hidden_gradients_matches_finite_differences_and_names_bad_shapes():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(5, 1))
    params = [rng.normal(size=(2, 4)), rng.normal(size=4), rng.normal(size=(4, 1)), rng.normal(size=1)]
    grads = nn.one_hidden_gradients(x, y, *params)
    for k, (p, g) in enumerate(zip(params, grads)):
        def cost(flat, k=k, p=p):
            trial = list(params)
            trial[k] = flat.reshape(p.shape)
            return float(np.mean((stable(x @ trial[0] + trial[1]) @ trial[2] + trial[3] - y) ** 2))
        np.testing.assert_allclose(nn.numerical_gradient(cost, p.ravel()), g.ravel(), rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="W1"):
        nn.one_hidden_gradients(x, y, np.zeros((3, 4)), *params[1:])
    with pytest.raises(ValueError, match="b2"):
        nn.one_hidden_gradients(x, y, *params[:3], np.zeros(2))


BACKPROP_KEYS = ("sum of delta over the samples", "divide by n_samples", "divided by n_samples twice",
                 "a factor 2 is missing", "the sign is flipped")


def test_each_backprop_hint_names_its_mistake_only():
    def per_sample_db(*args):
        dW1, db1, dW2, db2 = bp(*args)
        x, y, W1, b1, W2, b2 = args
        delta2 = 2 * (stable(x @ W1 + b1) @ W2 + b2 - y) / len(x)
        return dW1, db1, dW2, delta2
    assert_hints({
        "db per sample": (lambda: hint_of(checks.check_backprop, per_sample_db), "sum of delta over the samples"),
        "no 1/n": (lambda: hint_of(checks.check_backprop, lambda *a: bp(*a, divide=0)), "divide by n_samples"),
        "1/n twice": (lambda: hint_of(checks.check_backprop, lambda *a: bp(*a, divide=2)),
                      "divided by n_samples twice"),
        "no factor 2": (lambda: hint_of(checks.check_backprop, lambda *a: bp(*a, scale=1.0)), "a factor 2 is missing"),
        "sign": (lambda: hint_of(checks.check_backprop, lambda *a: bp(*a, scale=-2.0)), "the sign is flipped"),
        "factor 3": (lambda: hint_of(checks.check_backprop, lambda *a: bp(*a, scale=3.0)), None),
    }, BACKPROP_KEYS)
    # with one sample, dividing by n once or twice is the same: no hint about n
    checks.check_backprop(lambda *a: bp(*a, divide=2), n_samples=1, n_in=3, n_hidden=1, seed=7)


# -- binary cross-entropy and its gradient ---------------------------------------------------------------------------

def bce(y, p, lo=1e-7, reduce=np.mean, sign=-1.0):
    y = np.asarray(y, float)
    p = np.clip(np.asarray(p, float), lo, 1 - lo) if lo else np.asarray(p, float)
    return float(sign * reduce(y * np.log(p) + (1 - y) * np.log(1 - p)))


def test_bce_accepts_the_clipped_mean():
    checks.check_binary_cross_entropy(bce)
    checks.check_bce_clipping(bce)
    checks.check_bce_clipping(bce, y_true=[1.0, 1.0, 0.0], p=[1e-9, 0.7, 1.0 - 1e-9])


BCE_KEYS = ("clip p", "the sign is flipped", "MEAN over samples", "take the mean over the samples")


def test_each_bce_hint_names_its_mistake_only():
    with np.errstate(divide="ignore", invalid="ignore"):
        assert_hints({
            "no clipping (inf)": (lambda: hint_of(checks.check_bce_clipping, lambda y, p: bce(y, p, lo=0)), "clip p"),
            "clipped too little": (lambda: hint_of(checks.check_bce_clipping, lambda y, p: bce(y, p, lo=1e-12)),
                                   "clip p"),
            "sign": (lambda: hint_of(checks.check_binary_cross_entropy, lambda y, p: bce(y, p, sign=1.0)),
                     "the sign is flipped"),
            "sum": (lambda: hint_of(checks.check_binary_cross_entropy, lambda y, p: bce(y, p, reduce=np.sum)),
                    "MEAN over samples"),
            "no reduction": (lambda: hint_of(checks.check_binary_cross_entropy,
                                             lambda y, p: -(np.asarray(y) * np.log(p))),
                             "take the mean over the samples"),
            # a wrong formula on extreme p: the clipping is not the mistake, so no clip hint
            "one term only, extreme p": (lambda: hint_of(checks.check_bce_clipping, lambda y, p: float(-np.mean(
                np.asarray(y) * np.log(np.clip(p, 1e-7, 1 - 1e-7))))), None),
        }, BCE_KEYS)


def grad_ok(y, z):
    return (stable(z) - np.asarray(y, float)) / np.size(y)


def test_bce_gradient_accepts_the_derivation():
    checks.check_bce_gradient(grad_ok)
    checks.check_bce_gradient(grad_ok, y_true=[1.0, 1.0], z=[-8.0, 8.0])


BCE_GRAD_KEYS = ("factor 1 / n", "the sign is flipped", "that is dC/dp", "once too often")


def test_each_bce_gradient_hint_names_its_mistake_only():
    def p_of(z):
        return stable(z)
    assert_hints({
        "no 1/n": (lambda: hint_of(checks.check_bce_gradient, lambda y, z: p_of(z) - np.asarray(y)), "factor 1 / n"),
        "sign": (lambda: hint_of(checks.check_bce_gradient, lambda y, z: -grad_ok(y, z)), "the sign is flipped"),
        "dC/dp": (lambda: hint_of(checks.check_bce_gradient, lambda y, z: grad_ok(y, z) / (p_of(z) * (1 - p_of(z)))),
                  "that is dC/dp"),
        "extra sigma'": (lambda: hint_of(checks.check_bce_gradient,
                                         lambda y, z: grad_ok(y, z) * p_of(z) * (1 - p_of(z))), "once too often"),
        "mse gradient": (lambda: hint_of(checks.check_bce_gradient, lambda y, z: 2 * grad_ok(y, z) + 0.01), None),
    }, BCE_GRAD_KEYS)


# -- the classifier's training (read off the model, no Keras needed here) -------------------------------------------

class FakeModel:
    """Stands in for a trained Keras model: what check_classifier_training reads."""

    def __init__(self, loss="binary_crossentropy", units=1, activation="sigmoid", history=("loss", "val_loss")):
        self.loss = loss
        act = {"sigmoid": lambda z: z, "linear": lambda z: z}[activation]
        act.__name__ = activation
        self.layers = [type("Dense", (), {"units": units, "activation": act})()]
        self.history = type("History", (), {"history": {k: [1.0] for k in history}})()

    def predict(self, x, verbose=0):
        return np.zeros((len(x), 1))


def test_classifier_training_reads_loss_output_and_validation():
    checks.check_classifier_training(FakeModel())
    with pytest.raises(CheckFailure, match="binary cross-entropy"):
        checks.check_classifier_training(FakeModel(loss="mse"))
    with pytest.raises(CheckFailure, match="Dense\\(1, activation='sigmoid'\\)"):
        checks.check_classifier_training(FakeModel(activation="linear"))
    with pytest.raises(CheckFailure, match="no training history"):
        checks.check_classifier_training(FakeModel(history=()))
    assert "validation_split" in hint_of(checks.check_classifier_training, FakeModel(history=("loss",)))
    assert hint_of(checks.check_classifier_training, FakeModel(loss="mse")).count("validation") == 0
