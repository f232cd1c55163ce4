"""Neural networks from the neuron up: activations, a dense network in numpy with backpropagation, Keras builders.

A neuron computes ``z = x^T theta + theta_0`` and ``a = sigma(z)``; a layer
does this for many neurons at once, ``Z = X W + b`` for a batch ``X`` of
shape (n_samples, n_in), ``W`` of shape (n_in, n_out) and ``b`` of shape
(n_out,), the layout Keras uses, so that the numpy :class:`DenseNetwork` and
a Keras model built by :func:`mlp` or :func:`to_keras` compute the same
thing with the same weights. Keras is imported only inside the functions
that build Keras models.

Used in: tutorials/02_neural_networks (everything) and the EELS tutorials
(:func:`mlp`).
"""

import numpy as np

__all__ = ["ACTIVATIONS", "sigmoid", "sigmoid_prime", "activation", "mean_squared_error", "binary_cross_entropy",
           "LOSSES", "DenseNetwork", "numerical_gradient", "gradient_check", "mlp", "to_keras",
           "make_peak_spectra", "plot_neuron"]


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


class DenseNetwork:
    """A fully connected feed-forward network in numpy, with backpropagation and Adam.

    Parameters
    ----------
    sizes : sequence of int
        Units per layer, input first: ``(1, 10, 1)`` is one input, one
        hidden layer of 10 neurons and one output.
    activation : str, default "sigmoid"
        Activation of the hidden layers (a key of :data:`ACTIVATIONS`).
    output_activation : str, default "linear"
    seed : int, numpy.random.Generator or None
        Seeds the Glorot-uniform initial weights (biases start at 0, as in Keras).

    Attributes
    ----------
    weights : list of ndarray of shape (n_in, n_out)
    biases : list of ndarray of shape (n_out,)
    activations : list of str, one per layer

    Examples
    --------
    >>> net = DenseNetwork((2, 3, 1), seed=0)
    >>> net.forward(np.zeros((4, 2))).shape
    (4, 1)
    >>> net.n_params
    13
    """

    def __init__(self, sizes, *, activation="sigmoid", output_activation="linear", seed=None):
        sizes = list(sizes)
        if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1
                                 for s in sizes):
            raise ValueError(f"sizes={sizes!r} should be at least two positive integers (inputs, ..., outputs).")
        _activation(activation)
        _activation(output_activation)
        rng = np.random.default_rng(seed)
        self.weights, self.biases = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            limit = np.sqrt(6.0 / (n_in + n_out))
            self.weights.append(rng.uniform(-limit, limit, (n_in, n_out)))
            self.biases.append(np.zeros(n_out))
        self.activations = [activation] * (len(sizes) - 2) + [output_activation]

    @property
    def sizes(self):
        """Units per layer, input first."""
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    @property
    def n_params(self):
        """Number of weights and biases."""
        return int(sum(w.size + b.size for w, b in zip(self.weights, self.biases)))

    def _check_x(self, x):
        x = np.asarray(x, dtype=float)
        if x.ndim == 1 and self.sizes[0] == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"x should have shape (n_samples, {self.sizes[0]}); got {x.shape}.")
        return x

    def forward(self, x, *, return_cache=False):
        """Forward pass: ``a_0 = x``, ``z_l = a_{l-1} W_l + b_l``, ``a_l = sigma_l(z_l)``.

        Parameters
        ----------
        x : ndarray of shape (n_samples, n_inputs)
        return_cache : bool
            Also return the list of ``(a_{l-1}, z_l)`` that :meth:`backward` needs.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs) [, cache]
        """
        a = self._check_x(x)
        cache = []
        for w, b, name in zip(self.weights, self.biases, self.activations):
            z = a @ w + b
            cache.append((a, z))
            a = ACTIVATIONS[name][0](z)
        return (a, cache) if return_cache else a

    predict = forward

    def backward(self, cache, grad_output):
        """Backpropagation: gradients of the loss with respect to every weight and bias.

        Parameters
        ----------
        cache : list from ``forward(x, return_cache=True)``
        grad_output : ndarray of shape (n_samples, n_outputs)
            Derivative of the loss with respect to the network's output.

        Returns
        -------
        list of (dW, db), one pair per layer, shaped like the weights and biases
        """
        grads = [None] * len(self.weights)
        delta_a = np.asarray(grad_output, dtype=float)
        for layer in range(len(self.weights) - 1, -1, -1):  # a loop over layers, not samples
            a_prev, z = cache[layer]
            delta = delta_a * ACTIVATIONS[self.activations[layer]][1](z)  # dL/dz
            grads[layer] = (a_prev.T @ delta, delta.sum(axis=0))
            delta_a = delta @ self.weights[layer].T
        return grads

    def loss_and_gradients(self, x, y, *, loss="mse"):
        """The loss on (x, y) and its gradients (list of (dW, db)).

        Parameters
        ----------
        x : ndarray of shape (n_samples, n_inputs)
        y : ndarray of shape (n_samples, n_outputs) or (n_samples,) for one output
        loss : {"mse", "binary_crossentropy"}
        """
        loss_fn, grad_fn = _loss(loss)
        out, cache = self.forward(x, return_cache=True)
        y = np.asarray(y, dtype=float)
        if y.ndim == 1 and out.shape[1] == 1:
            y = y[:, None]
        value = loss_fn(y, out)
        return value, self.backward(cache, grad_fn(y, out))

    def get_params(self):
        """All weights and biases in one flat vector (layer by layer, W then b)."""
        return np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(self.weights, self.biases)])

    def set_params(self, theta):
        """Set all weights and biases from a flat vector made by :meth:`get_params`."""
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta should have shape ({self.n_params},); got {theta.shape}.")
        i = 0
        for w, b in zip(self.weights, self.biases):
            w[...] = theta[i:i + w.size].reshape(w.shape)
            i += w.size
            b[...] = theta[i:i + b.size]
            i += b.size

    def fit(self, x, y, *, epochs=1000, learning_rate=0.01, final_learning_rate=None, batch_size=None, loss="mse",
            validation_data=None, seed=None, progress=True, desc=None):
        """Train with Adam on mini-batches (the whole set when ``batch_size`` is None).

        Parameters
        ----------
        x : ndarray of shape (n_samples, n_inputs)
        y : ndarray of shape (n_samples, n_outputs) or (n_samples,)
        epochs : int
        learning_rate : float
            Step size of Adam.
        final_learning_rate : float, optional
            If given, the step size decays geometrically from
            ``learning_rate`` to this value over the epochs.
        batch_size : int, optional
        loss : {"mse", "binary_crossentropy"}
        validation_data : (x_val, y_val), optional
        seed : int, numpy.random.Generator or None
            Seeds the shuffling of the mini-batches.
        progress : bool
            Show a progress bar.

        Returns
        -------
        dict
            ``{"loss": [...], "val_loss": [...]}``, one value per epoch.

        References
        ----------
        D. P. Kingma and J. Ba, "Adam: a method for stochastic optimization", arXiv:1412.6980.
        """
        from .training import progress as bar

        x = self._check_x(x)
        y = np.asarray(y, dtype=float).reshape(x.shape[0], -1)
        if y.shape[1] != self.sizes[-1]:
            raise ValueError(f"y should have shape ({x.shape[0]}, {self.sizes[-1]}); got {np.shape(y)}.")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs={epochs!r} should be a positive integer.")
        if not learning_rate > 0 or (final_learning_rate is not None and not final_learning_rate > 0):
            raise ValueError(f"learning_rate={learning_rate!r} and final_learning_rate={final_learning_rate!r} "
                             "should be > 0.")
        decay = 1.0 if final_learning_rate is None else (final_learning_rate / learning_rate) ** (1.0 / epochs)
        lr = learning_rate
        _loss(loss)
        rng = np.random.default_rng(seed)
        n = x.shape[0]
        batch = n if batch_size is None else int(batch_size)
        params = [p for wb in zip(self.weights, self.biases) for p in wb]
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        beta1, beta2, eps, t = 0.9, 0.999, 1e-7, 0
        history = {"loss": []}
        if validation_data is not None:
            history["val_loss"] = []
        for _ in bar(range(int(epochs)), desc=desc or "numpy training", disable=not progress):
            order = rng.permutation(n) if batch < n else np.arange(n)
            for s in range(0, n, batch):
                idx = order[s:s + batch]
                _, grads = self.loss_and_gradients(x[idx], y[idx], loss=loss)
                t += 1
                for p, g, mi, vi in zip(params, [g for gw in grads for g in gw], m, v):
                    mi *= beta1
                    mi += (1 - beta1) * g
                    vi *= beta2
                    vi += (1 - beta2) * g * g
                    p -= lr * (mi / (1 - beta1**t)) / (np.sqrt(vi / (1 - beta2**t)) + eps)
            lr *= decay
            history["loss"].append(_loss(loss)[0](y, self.forward(x)))
            if validation_data is not None:
                xv, yv = validation_data
                out = self.forward(xv)
                history["val_loss"].append(_loss(loss)[0](np.asarray(yv, dtype=float).reshape(out.shape), out))
        return history

    def spread_steps(self, x_range=(-1.0, 1.0), *, steepness=1.0, seed=None):
        """Re-initialise the first layer so that its neurons switch at random places across ``x_range``.

        For a network with one input: neuron i gets the weight
        ``+-steepness * max(width, 2) / (half-width of x_range)`` and the bias
        that puts its step (``z = 0``) at a point drawn uniformly in the range,
        the "sum of steps" picture of the universal approximation theorem.
        Training from there is much more reliable than from small random
        weights, which leave all neurons nearly linear over the data.

        Returns
        -------
        self
        """
        if self.sizes[0] != 1:
            raise ValueError(f"spread_steps needs a network with one input; this one has {self.sizes[0]}.")
        lo, hi = (float(v) for v in x_range)
        if not lo < hi:
            raise ValueError(f"x_range={x_range!r} should be (low, high) with low < high.")
        rng = np.random.default_rng(seed)
        width = self.sizes[1]
        w = rng.choice([-1.0, 1.0], width) * steepness * max(width, 2) / (0.5 * (hi - lo))
        self.weights[0][0] = w
        self.biases[0][:] = -w * rng.uniform(lo, hi, width)
        return self

    @classmethod
    def from_keras(cls, model):
        """A DenseNetwork with the layers, activations and weights of a Keras model of Dense layers."""
        dense = [layer for layer in model.layers if layer.weights]
        if not dense or any(type(layer).__name__ != "Dense" for layer in dense):
            raise TypeError("model should hold only Dense layers (as built by ml4em.nn.mlp).")
        names = [layer.get_config()["activation"] for layer in dense]
        for name in names:
            _activation(name)
        net = cls([dense[0].get_weights()[0].shape[0]] + [layer.units for layer in dense])
        net.activations = names
        for i, layer in enumerate(dense):
            w, b = layer.get_weights()
            net.weights[i] = np.asarray(w, dtype=float)
            net.biases[i] = np.asarray(b, dtype=float)
        return net


def numerical_gradient(f, theta, *, eps=1e-6):
    """Central finite differences ``(f(theta + eps e_i) - f(theta - eps e_i)) / (2 eps)`` for every i.

    Parameters
    ----------
    f : callable
        Scalar function of a flat parameter vector.
    theta : ndarray of shape (n_params,)
    eps : float
        Step; the error of the estimate is of order eps^2.

    Returns
    -------
    ndarray of shape (n_params,)

    Examples
    --------
    >>> numerical_gradient(lambda t: float(np.sum(t**2)), np.array([1.0, -2.0])).round(6)
    array([ 2., -4.])
    """
    theta = np.array(theta, dtype=float)
    grad = np.empty_like(theta)
    for i in range(theta.size):  # one pair of evaluations per parameter
        old = theta[i]
        theta[i] = old + eps
        up = f(theta)
        theta[i] = old - eps
        down = f(theta)
        theta[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def gradient_check(network, x, y, *, loss="mse", eps=1e-6):
    """Relative difference between the gradients from backpropagation and from finite differences.

    ``|g_bp - g_fd| / (|g_bp| + |g_fd|)`` with Euclidean norms over all
    parameters. Correct backpropagation gives about 1e-8 (the error of the
    finite differences, of order eps^2 and round-off/eps); a mistake gives
    something of order 0.1 to 1.

    Examples
    --------
    >>> net = DenseNetwork((2, 4, 1), seed=0)
    >>> x = np.random.default_rng(1).normal(size=(5, 2)); y = np.ones((5, 1))
    >>> gradient_check(net, x, y) < 1e-6
    True
    """
    _, grads = network.loss_and_gradients(x, y, loss=loss)
    g_bp = np.concatenate([np.concatenate([dw.ravel(), db]) for dw, db in grads])
    theta0 = network.get_params()

    def f(theta):
        network.set_params(theta)
        return network.loss_and_gradients(x, y, loss=loss)[0]

    try:
        g_fd = numerical_gradient(f, theta0, eps=eps)
    finally:
        network.set_params(theta0)
    return float(np.linalg.norm(g_bp - g_fd) / max(np.linalg.norm(g_bp) + np.linalg.norm(g_fd), 1e-300))


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

    for arg, value in (("n_inputs", n_inputs), ("n_outputs", n_outputs)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{arg}={value!r} should be a positive integer.")
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


def make_peak_spectra(n_samples=2000, *, n_channels=64, peak_height=0.8, peak_width=2.0, seed=None):
    """Signal or noise? Noisy spectra, half of them with a peak at a random position.

    Every spectrum is a smooth background of random level and slope with
    Poisson noise; in class 1 a Gaussian peak of ``peak_height`` times the
    background level sits at a random channel. Spectra are divided by their
    mean, so the total intensity tells nothing: a linear classifier does
    poorly, a network that learns local features does well.

    Parameters
    ----------
    n_samples : int, default 2000
    n_channels : int, default 64
    peak_height : float, default 0.8
        Peak height relative to the background level.
    peak_width : float, channels, default 2
        Standard deviation of the Gaussian peak.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    x : ndarray of shape (n_samples, n_channels), float32
        Spectra divided by their mean (dimensionless).
    y : ndarray of shape (n_samples,), float32
        1 where a peak is present, else 0.

    Examples
    --------
    >>> x, y = make_peak_spectra(10, seed=0)
    >>> x.shape, sorted(set(y.tolist())) == [0.0, 1.0]
    ((10, 64), True)
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples={n_samples!r} should be an integer >= 2.")
    if isinstance(n_channels, bool) or not isinstance(n_channels, (int, np.integer)) or n_channels < 16:
        raise ValueError(f"n_channels={n_channels!r} should be an integer >= 16.")
    if not (peak_height > 0 and peak_width > 0):
        raise ValueError(f"peak_height={peak_height!r} and peak_width={peak_width!r} should be > 0.")
    rng = np.random.default_rng(seed)
    ch = np.arange(n_channels)
    level = rng.uniform(20.0, 60.0, (n_samples, 1))
    slope = rng.uniform(-0.5, 0.5, (n_samples, 1))
    y = rng.permutation(np.arange(n_samples) % 2)
    pos = rng.uniform(8.0, n_channels - 8.0, (n_samples, 1))
    mean = level * (np.exp(slope * ch / n_channels) + y[:, None] * peak_height
                    * np.exp(-0.5 * ((ch - pos) / peak_width) ** 2))
    counts = rng.poisson(mean).astype(float)
    x = counts / np.maximum(counts.mean(axis=1, keepdims=True), 1e-12)
    return x.astype(np.float32), y.astype(np.float32)


def plot_neuron(ax, weight=1.0, bias=0.0, activation_name="sigmoid", x_range=(-5.0, 5.0)):
    """Draw one neuron's output ``a = sigma(weight * x + bias)`` against its input x.

    Parameters
    ----------
    ax : matplotlib Axes
    weight, bias : float
        theta and theta_0 of the neuron.
    activation_name : str
        A key of :data:`ACTIVATIONS`.
    x_range : (float, float)

    Returns
    -------
    matplotlib.axes.Axes
    """
    from .plotting import style

    f, df = activation(activation_name)
    x = np.linspace(x_range[0], x_range[1], 400)
    z = weight * x + bias
    ax.plot(x, f(z), label="a = σ(θx + θ₀)", **style(0))
    ax.plot(x, weight * df(z), label="da/dx", **style(1))
    if weight != 0:
        ax.axvline(-bias / weight, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("input x (dimensionless)")
    ax.set_ylabel("output a (dimensionless)")
    ax.set_title(f"{activation_name}: θ = {weight:g}, θ₀ = {bias:g}", fontsize=10)
    ax.legend(fontsize=8)
    return ax
