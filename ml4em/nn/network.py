"""A dense feed-forward network in numpy: forward pass, backpropagation, and a gradient check.

The weights are laid out as in Keras, ``W`` of shape (n_in, n_out) and ``b`` of shape (n_out,), so that
:func:`ml4em.nn.to_keras` gives a Keras model that computes the same function.
"""

import numpy as np

from .functions import ACTIVATIONS, _activation, _loss

__all__ = ["DenseNetwork", "numerical_gradient", "gradient_check", "one_hidden_gradients"]


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
        from ..training import progress as bar

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




def one_hidden_gradients(x, y, W1, b1, W2, b2):
    """Gradients of the mean squared error of a one-hidden-layer sigmoid network with a linear output.

    The network is ``y_hat = sigmoid(x @ W1 + b1) @ W2 + b2`` and the cost ``mean((y_hat - y)**2)``; this is
    the reference for the backpropagation exercise of tutorials/02_neural_networks, computed by
    :meth:`DenseNetwork.loss_and_gradients`.

    Parameters
    ----------
    x : ndarray of shape (n_samples, n_inputs)
    y : ndarray of shape (n_samples, n_outputs)
    W1 : ndarray of shape (n_inputs, n_hidden)
    b1 : ndarray of shape (n_hidden,)
    W2 : ndarray of shape (n_hidden, n_outputs)
    b2 : ndarray of shape (n_outputs,)

    Returns
    -------
    (dW1, db1, dW2, db2) : tuple of ndarray
        Each with the shape of its parameter (all dimensionless, like the network).

    Raises
    ------
    ValueError
        When the shapes do not chain (x's columns against W1's rows, W1's columns against W2's rows and b1,
        W2's columns against b2).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> grads = one_hidden_gradients(rng.normal(size=(4, 2)), np.zeros((4, 1)), rng.normal(size=(2, 3)),
    ...                              np.zeros(3), rng.normal(size=(3, 1)), np.zeros(1))
    >>> [g.shape for g in grads]
    [(2, 3), (3,), (3, 1), (1,)]
    """
    x, y = np.atleast_2d(np.asarray(x, dtype=float)), np.asarray(y, dtype=float)
    W1, b1, W2, b2 = (np.asarray(a, dtype=float) for a in (W1, b1, W2, b2))
    if W1.ndim != 2 or x.shape[1] != W1.shape[0]:
        raise ValueError(f"W1 should have shape (n_inputs={x.shape[1]}, n_hidden); got {W1.shape}.")
    if W2.ndim != 2 or W2.shape[0] != W1.shape[1] or b1.shape != (W1.shape[1],):
        raise ValueError(f"W2 should have shape (n_hidden={W1.shape[1]}, n_outputs) and b1 shape ({W1.shape[1]},); "
                         f"got W2 {W2.shape} and b1 {b1.shape}.")
    if b2.shape != (W2.shape[1],):
        raise ValueError(f"b2 should have shape ({W2.shape[1]},); got {b2.shape}.")
    net = DenseNetwork([W1.shape[0], W1.shape[1], W2.shape[1]])
    net.weights, net.biases = [W1.copy(), W2.copy()], [b1.copy(), b2.copy()]
    _, ((dW1, db1), (dW2, db2)) = net.loss_and_gradients(x, y.reshape(len(x), -1), loss="mse")
    return dW1, db1, dW2, db2
