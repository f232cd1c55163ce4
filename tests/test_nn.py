"""ml4em.nn: activations, backpropagation against finite differences, numpy and Keras agreeing on the same weights."""

import numpy as np
import pytest

from ml4em import nn
from ml4em.checks import CheckFailure
from ml4em.checks import nn as checks


# -- activations and losses ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(nn.ACTIVATIONS))
def test_activation_derivatives_match_finite_differences(name):
    f, df = nn.activation(name)
    z = np.linspace(-4, 4, 81) + 0.013  # avoid the kink of relu at exactly 0
    numeric = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
    # 1e-7: central differences with h = 1e-6 are exact to ~h^2 f''' plus round-off 1e-16/h = 1e-10
    np.testing.assert_allclose(df(z), numeric, atol=1e-7)


def test_sigmoid_known_values_and_no_overflow():
    with np.errstate(all="raise"):
        np.testing.assert_allclose(nn.sigmoid([-1000.0, 0.0, np.log(3.0), 1000.0]), [0.0, 0.5, 0.75, 1.0],
                                   atol=1e-15)
    assert nn.sigmoid_prime(0.0) == 0.25


def test_losses_by_hand():
    assert nn.mean_squared_error([1.0, 2.0, 3.0], [1.0, 2.0, 6.0]) == 3.0
    # -(ln 0.8 + ln 0.6) / 2
    assert nn.binary_cross_entropy([1.0, 0.0], [0.8, 0.4]) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2,
                                                                           rel=1e-12)
    # clipped at 1e-7: finite
    assert nn.binary_cross_entropy([1.0], [0.0]) == pytest.approx(-np.log(1e-7), rel=1e-9)
    from keras import losses

    y, p = np.array([[1.0], [0.0], [1.0]]), np.array([[0.7], [0.1], [0.2]])
    # 1e-6: Keras computes in float32
    assert nn.binary_cross_entropy(y, p) == pytest.approx(float(losses.binary_crossentropy(y, p).numpy().mean()),
                                                           rel=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda: nn.activation("swish"), r"activation='swish' is not known"),
    (lambda: nn.mean_squared_error(np.ones(3), np.ones((3, 1))), r"y_true has shape \(3,\) but the prediction"),
    (lambda: nn.DenseNetwork((3,)), r"at least two positive integers"),
    (lambda: nn.DenseNetwork((3, 0, 1)), r"at least two positive integers"),
    (lambda: nn.DenseNetwork((3, 1), activation="step"), r"activation='step'"),
    (lambda: nn.DenseNetwork((3, 1)).forward(np.ones((2, 4))), r"x should have shape \(n_samples, 3\)"),
    (lambda: nn.DenseNetwork((3, 1)).set_params(np.ones(3)), r"theta should have shape \(4,\)"),
    (lambda: nn.DenseNetwork((1, 1)).fit(np.ones((2, 1)), np.ones(2), epochs=0), r"epochs=0"),
    (lambda: nn.DenseNetwork((1, 1)).fit(np.ones((2, 1)), np.ones(2), learning_rate=0), r"learning_rate=0"),
    (lambda: nn.DenseNetwork((1, 1)).fit(np.ones((2, 1)), np.ones(2), loss="hinge"), r"loss='hinge'"),
    (lambda: nn.DenseNetwork((1, 2)).fit(np.ones((2, 1)), np.ones((2, 3))), r"y should have shape \(2, 2\)"),
    (lambda: nn.DenseNetwork((2, 3, 1)).spread_steps(), r"one input"),
    (lambda: nn.DenseNetwork((1, 3, 1)).spread_steps((1.0, 0.0)), r"low < high"),
    (lambda: nn.mlp(0), r"n_inputs=0 should be a positive integer"),
    (lambda: nn.mlp(2, (3, -1)), r"hidden=\[3, -1\]"),
    (lambda: nn.mlp(2, activation="step"), r"activation='step'"),
    (lambda: nn.make_peak_spectra(1), r"n_samples=1"),
    (lambda: nn.make_peak_spectra(10, n_channels=8), r"n_channels=8"),
    (lambda: nn.make_peak_spectra(10, peak_height=0), r"peak_height=0"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_type_errors():
    with pytest.raises(TypeError, match=r"should be an ml4em.nn.DenseNetwork"):
        nn.to_keras("not a network")
    import keras

    conv = keras.Sequential([keras.Input(shape=(8, 1)), keras.layers.Conv1D(2, 3)])
    with pytest.raises(TypeError, match=r"only Dense layers"):
        nn.DenseNetwork.from_keras(conv)


# -- backpropagation ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", sorted(set(nn.ACTIVATIONS) - {"linear"}))
@pytest.mark.parametrize("loss, out", [("mse", "linear"), ("binary_crossentropy", "sigmoid")])
def test_backprop_matches_finite_differences(activation, loss, out):
    net = nn.DenseNetwork((3, 5, 4, 2), activation=activation, output_activation=out, seed=1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 3)) + 0.01  # relu: keep clear of its kink
    y = (rng.random((7, 2)) > 0.5).astype(float)
    # 1e-6: finite-difference error (eps = 1e-6) relative to the gradient; a wrong gradient gives 0.1 to 1
    assert nn.gradient_check(net, x, y, loss=loss) < 1e-6


def test_gradient_check_detects_a_wrong_gradient(monkeypatch):
    net = nn.DenseNetwork((2, 3, 1), seed=0)
    x, y = np.random.default_rng(0).normal(size=(4, 2)), np.ones((4, 1))
    theta = net.get_params().copy()
    monkeypatch.setitem(nn.ACTIVATIONS, "sigmoid", (nn.sigmoid, lambda z: nn.sigmoid(z)))  # wrong derivative
    assert nn.gradient_check(net, x, y) > 0.01
    np.testing.assert_array_equal(net.get_params(), theta)  # parameters restored


def test_backward_by_hand_one_neuron():
    # one linear neuron a = w x + b with MSE on one sample: dL/dw = 2 (a - y) x, dL/db = 2 (a - y)
    net = nn.DenseNetwork((1, 1), output_activation="linear")
    net.weights[0][:] = 2.0
    net.biases[0][:] = 1.0
    loss, grads = net.loss_and_gradients(np.array([[3.0]]), np.array([[5.0]]))
    assert loss == 4.0  # (2*3 + 1 - 5)^2
    assert grads[0][0].item() == 12.0 and grads[0][1].item() == 4.0


def test_params_round_trip():
    net = nn.DenseNetwork((2, 3, 1), seed=0)
    theta = net.get_params()
    assert theta.shape == (net.n_params,) == (13,)
    net.set_params(theta * 2)
    np.testing.assert_array_equal(net.get_params(), theta * 2)


def test_fit_learns_a_function_and_is_seeded():
    x = np.linspace(-1, 1, 100)[:, None]
    y = np.sin(2 * x)
    net = nn.DenseNetwork((1, 8, 1), activation="tanh", seed=0)
    hist = net.fit(x, y, epochs=800, learning_rate=0.02, progress=False, validation_data=(x, y))
    assert hist["loss"][-1] < 1e-3 < hist["loss"][0]  # sin(2x) has variance ~0.4; a fit gets far below 1e-3
    assert hist["val_loss"] == pytest.approx(hist["loss"])
    again = nn.DenseNetwork((1, 8, 1), activation="tanh", seed=0)
    again.fit(x, y, epochs=800, learning_rate=0.02, progress=False)
    np.testing.assert_array_equal(again.get_params(), net.get_params())
    mini = nn.DenseNetwork((1, 8, 1), activation="tanh", seed=0)
    h2 = mini.fit(x, y, epochs=200, learning_rate=0.01, final_learning_rate=0.001, batch_size=16, seed=0,
                  progress=False)
    assert h2["loss"][-1] < h2["loss"][0]


def test_spread_steps_places_the_steps_in_the_range():
    net = nn.DenseNetwork((1, 50, 1), seed=0).spread_steps((0.0, 2.0), seed=1)
    steps = -net.biases[0] / net.weights[0][0]
    assert steps.min() >= 0.0 and steps.max() <= 2.0
    np.testing.assert_allclose(np.abs(net.weights[0][0]), 50.0)  # steepness 1 * width / half-range 1


# -- numpy and Keras agree -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "softplus"])
def test_numpy_and_keras_agree_on_the_same_weights(activation):
    net = nn.DenseNetwork((4, 6, 5, 2), activation=activation, output_activation="sigmoid", seed=3)
    model = nn.to_keras(net)
    x = np.random.default_rng(1).normal(size=(9, 4))
    # 1e-6: Keras computes in float32 (7 digits); the numpy network in float64
    np.testing.assert_allclose(model.predict(x, verbose=0), net.forward(x), rtol=1e-5, atol=1e-6)
    back = nn.DenseNetwork.from_keras(model)
    assert back.activations == [activation, activation, "sigmoid"]
    np.testing.assert_allclose(back.forward(x), net.forward(x), rtol=1e-6, atol=1e-7)


def test_keras_gradients_agree_with_backprop():
    import keras
    import tensorflow as tf

    net = nn.DenseNetwork((3, 4, 1), activation="tanh", seed=0)
    model = nn.to_keras(net)
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(6, 3)).astype("float32"), rng.normal(size=(6, 1)).astype("float32")
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x))
    keras_grads = [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]
    _, grads = net.loss_and_gradients(x.astype(float), y.astype(float))
    ours = [g for pair in grads for g in pair]
    for a, b in zip(keras_grads, ours):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)  # float32 against float64


def test_mlp_builder():
    model = nn.mlp(1, (10, 15, 5), seed=0)
    assert model.count_params() == (1 * 10 + 10) + (10 * 15 + 15) + (15 * 5 + 5) + (5 * 1 + 1)
    assert [layer.get_config()["activation"] for layer in model.layers] == ["sigmoid"] * 3 + ["linear"]
    w1 = nn.mlp(3, (4,), seed=7).get_weights()
    w2 = nn.mlp(3, (4,), seed=7).get_weights()
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)  # seeded
    clf = nn.mlp(8, (4,), activation="relu", output_activation="sigmoid", seed=0)
    assert clf.output_shape == (None, 1)


# -- data and figures ----------------------------------------------------------------------------------------------

def test_peak_spectra():
    x, y = nn.make_peak_spectra(400, seed=0)
    assert x.shape == (400, 64) and x.dtype == np.float32 and y.mean() == 0.5
    np.testing.assert_allclose(x.mean(axis=1), 1.0, rtol=1e-5)  # normalised: total intensity carries nothing
    x2, _ = nn.make_peak_spectra(400, seed=0)
    np.testing.assert_array_equal(x, x2)


def test_plot_neuron_labels_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    nn.plot_neuron(ax, weight=2.0, bias=-1.0, activation_name="tanh")
    assert "input" in ax.get_xlabel() and "output" in ax.get_ylabel()


# -- the notebook checks --------------------------------------------------------------------------------------------

# the checks refuse the package's own functions (ml4em.checks._own): the answers below are written out


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z, dtype=float)))  # no overflow for large |z|


def _sigmoid_prime(z):
    return _sigmoid(z) * (1 - _sigmoid(z))


def _bce(y, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _forward(x, weights, biases):
    a = x
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = a @ w + b
        a = z if i == len(weights) - 1 else _sigmoid(z)
    return a


def _backprop(x, y, w1, b1, w2, b2):
    z1 = x @ w1 + b1
    delta2 = 2.0 * (_sigmoid(z1) @ w2 + b2 - y) / x.shape[0]
    delta1 = (delta2 @ w2.T) * _sigmoid_prime(z1)
    return x.T @ delta1, delta1.sum(0), _sigmoid(z1).T @ delta2, delta2.sum(0)


def test_checks_accept_the_reference():
    checks.check_sigmoid(_sigmoid, _sigmoid_prime)
    checks.check_forward(_forward)
    checks.check_backprop(_backprop)
    checks.check_binary_cross_entropy(_bce)
    checks.check_bce_clipping(_bce)


@pytest.mark.parametrize("call, match", [
    (lambda: checks.check_sigmoid(lambda z: _sigmoid(-np.asarray(z, dtype=float)), _sigmoid_prime),
     r"sign in the exponent"),
    (lambda: checks.check_sigmoid(_sigmoid, _sigmoid), r"not its derivative"),
    (lambda: checks.check_forward(lambda x, W, b: nn.sigmoid(_forward(x, W, b))), r"output layer should be linear"),
    (lambda: checks.check_forward(lambda x, W, b: _forward(x, W, [0 * v for v in b])), r"add the bias"),
    (lambda: checks.check_backprop(lambda *a: tuple(g * 5 for g in _backprop(*a))), r"MEAN over samples"),
    (lambda: checks.check_backprop(lambda *a: tuple(g / 5 for g in _backprop(*a))), r"divided by n_samples twice"),
    (lambda: checks.check_backprop(lambda *a: _backprop(*a)[:3]), r"tuple of 4 arrays"),
    (lambda: checks.check_binary_cross_entropy(lambda y, p: -_bce(y, p)), r"sign is flipped"),
    (lambda: checks.check_bce_clipping(
        lambda y, p: -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))), r"clip p"),
])
def test_checks_catch_mistakes(call, match):
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(CheckFailure, match=match):
        call()


def test_check_classifier():
    class Constant:
        def __init__(self, p):
            self.p = p

        def predict(self, x, verbose=0):
            return np.full((len(x), 1), self.p)

    x, y = nn.make_peak_spectra(200, seed=0)
    with pytest.raises(CheckFailure, match=r"accuracy of 0.500"):
        checks.check_classifier(Constant(0.9), x, y)
    with pytest.raises(CheckFailure, match=r"probabilities in \[0, 1\]"):
        checks.check_classifier(Constant(3.0), x, y)
    with pytest.raises(CheckFailure, match=r"trained Keras model"):
        checks.check_classifier(None, x, y)

    class Oracle(Constant):
        def predict(self, x_, verbose=0):
            return y[:, None].copy()

    assert checks.check_classifier(Oracle(0), x, y) == 1.0
