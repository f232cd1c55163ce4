"""An ensemble of small multilayer perceptrons with a replica axis: weights, forward pass and Jacobian.

The ZLP model of the replica method is one small network per Monte Carlo
replica. Instead of a Python loop over replicas (and over epochs), every
array here carries a leading replica axis: the weights of ``n_replicas``
networks are one array of shape ``(n_replicas, n_params)``, a forward pass is
a few batched matrix products, and so is the Jacobian that the
Levenberg-Marquardt training (:mod:`ml4em.eels.lm`) needs.

Used in: tutorials/07_eels_replicas (through :class:`ml4em.eels.ZLPEnsemble`).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["MLPShape", "init_params", "forward", "jacobian", "jacobian_columns", "layer_factors"]


@dataclass(frozen=True)
class MLPShape:
    """Layer sizes of a fully connected network with tanh hidden units and one linear output.

    Parameters
    ----------
    n_inputs : int
        Number of input features (1 for energy loss only).
    hidden : tuple of int
        Hidden-layer widths, default ``(10, 15, 5)`` as in Roest et al. (2021).

    Examples
    --------
    >>> MLPShape(1, (10, 15, 5)).n_params
    271
    """

    n_inputs: int = 1
    hidden: tuple = (10, 15, 5)

    def __post_init__(self):
        if int(self.n_inputs) != self.n_inputs or self.n_inputs < 1:
            raise ValueError(f"n_inputs={self.n_inputs!r} should be a positive integer (number of input features).")
        hidden = tuple(self.hidden)
        if not hidden or any(int(h) != h or h < 1 for h in hidden):
            raise ValueError(f"hidden={self.hidden!r} should be a non-empty sequence of positive integers, "
                             "e.g. (10, 15, 5).")
        object.__setattr__(self, "hidden", tuple(int(h) for h in hidden))

    @property
    def layers(self):
        """List of (fan_in, fan_out) per layer."""
        sizes = [int(self.n_inputs), *self.hidden, 1]
        return list(zip(sizes[:-1], sizes[1:]))

    @property
    def n_params(self):
        """Number of weights and biases of one network."""
        return sum(i * o + o for i, o in self.layers)


def _unpack(theta, shape):
    """Views (W, b) per layer of the flat parameters ``theta`` (R, P): W (R, i, o), b (R, 1, o)."""
    out, start = [], 0
    n_rep = theta.shape[0]
    for fan_in, fan_out in shape.layers:
        w = theta[:, start:start + fan_in * fan_out].reshape(n_rep, fan_in, fan_out)
        start += fan_in * fan_out
        b = theta[:, start:start + fan_out].reshape(n_rep, 1, fan_out)
        start += fan_out
        out.append((w, b))
    return out


def init_params(shape, n_replicas, *, seed=None):
    """Random initial weights for ``n_replicas`` networks, shape ``(n_replicas, n_params)``.

    Weights are Glorot-uniform; the biases of the first layer are uniform in
    [-1, 1] so that, for inputs scaled to [-1, 1], the hidden units start
    with their transitions spread over the input range; other biases start
    at zero.

    Parameters
    ----------
    shape : MLPShape
    n_replicas : int
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray of shape (n_replicas, shape.n_params)

    Examples
    --------
    >>> init_params(MLPShape(1, (3,)), 2, seed=0).shape
    (2, 10)
    """
    rng = np.random.default_rng(seed)
    blocks = []
    for layer, (fan_in, fan_out) in enumerate(shape.layers):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        blocks.append(rng.uniform(-limit, limit, (n_replicas, fan_in * fan_out)))
        if layer == 0:
            blocks.append(rng.uniform(-1.0, 1.0, (n_replicas, fan_out)))
        else:
            blocks.append(np.zeros((n_replicas, fan_out)))
    return np.concatenate(blocks, axis=1)


def forward(theta, x, shape, *, return_activations=False):
    """Outputs of every replica's network.

    Parameters
    ----------
    theta : ndarray of shape (n_replicas, n_params)
    x : ndarray of shape (n_points, n_inputs) or (n_replicas, n_points, n_inputs)
        Scaled inputs, shared by all replicas (2-D) or one set per replica (3-D).
    shape : MLPShape

    Returns
    -------
    ndarray of shape (n_replicas, n_points)
        And, with ``return_activations``, the list of layer inputs (for
        :func:`jacobian`).

    Examples
    --------
    >>> s = MLPShape(1, (4,))
    >>> forward(init_params(s, 3, seed=0), np.zeros((5, 1)), s).shape
    (3, 5)
    """
    a = np.asarray(x, dtype=float)
    if a.ndim == 2:
        a = np.broadcast_to(a, (theta.shape[0], *a.shape))
    acts = [a]
    params = _unpack(theta, shape)
    for layer, (w, b) in enumerate(params):
        z = np.matmul(a, w) + b
        a = np.tanh(z) if layer < len(params) - 1 else z
        acts.append(a)
    y = a[..., 0]
    return (y, acts) if return_activations else y


def layer_factors(theta, x, shape, *, weights=None, dtype=np.float64, activations=None):
    """Network outputs and, per layer, the two factors of its block of the Jacobian.

    For layer l with input activations ``a`` (fan_in per point) and output
    sensitivities ``g = d y / d z_l`` (fan_out per point), the derivative of
    output i with respect to weight ``W[p, q]`` is ``a[i, p] g[i, q]`` and
    with respect to bias ``b[q]`` it is ``g[i, q]``. So a layer's rows of the
    Jacobian are outer products, and inner products of two rows need only
    the factors: ``(a_i . a_j + 1) (g_i . g_j)``. Reverse accumulation,
    batched over replicas and points.

    Parameters
    ----------
    theta : ndarray of shape (n_replicas, n_params)
    x : ndarray of shape (n_points, n_inputs) or (n_replicas, n_points, n_inputs)
    shape : MLPShape
    weights : ndarray of shape (n_replicas, n_points), optional
        Multiply the sensitivities of point ``(k, i)`` by ``weights[k, i]``
        (the ``1 / sigma`` of a chi2): the factors of the weighted Jacobian.
    dtype : numpy dtype, default float64
        Of the factors (the outputs ``y`` stay float64).
    activations : list of ndarray, optional
        The layer inputs that ``forward(theta, x, shape, return_activations=True)`` returns, when the forward
        pass at ``theta`` has already been run (it is then not run again).

    Returns
    -------
    y : ndarray of shape (n_replicas, n_points)
    factors : list of (a, g), one per layer in ``shape.layers`` order
        ``a`` of shape (n_replicas, fan_in, n_points) and ``g`` of shape
        (n_replicas, fan_out, n_points), both C-contiguous (or broadcast).

    Examples
    --------
    >>> s = MLPShape(1, (3,))
    >>> y, factors = layer_factors(init_params(s, 2, seed=0), np.zeros((4, 1)), s)
    >>> [(a.shape, g.shape) for a, g in factors]
    [((2, 1, 4), (2, 3, 4)), ((2, 3, 4), (2, 1, 4))]
    """
    dtype = np.dtype(dtype)
    if activations is None:
        y, acts = forward(theta, x, shape, return_activations=True)
    else:
        acts = activations
        y = acts[-1][..., 0]
    params = _unpack(theta, shape)
    n_rep, n_pts = y.shape
    if weights is None:
        g = np.ones((n_rep, 1, n_pts), dtype=dtype)
    else:
        g = np.ascontiguousarray(np.broadcast_to(np.asarray(weights, dtype=dtype), (n_rep, n_pts))[:, None, :])
    factors = [None] * len(params)
    for layer in range(len(params) - 1, -1, -1):
        a_in = np.ascontiguousarray(np.swapaxes(acts[layer], 1, 2), dtype=dtype)  # (n_rep, fan_in, n_pts)
        factors[layer] = (a_in, g)
        if layer > 0:
            w = params[layer][0].astype(dtype, copy=False)  # (n_rep, fan_in, fan_out)
            g = np.matmul(w, g) * np.swapaxes(1.0 - acts[layer] ** 2, 1, 2).astype(dtype, copy=False)
    return y, factors


def jacobian(theta, x, shape, *, weights=None, dtype=np.float64):
    """Network outputs and their derivatives with respect to every parameter.

    Parameters
    ----------
    theta : ndarray of shape (n_replicas, n_params)
    x : ndarray of shape (n_points, n_inputs) or (n_replicas, n_points, n_inputs)
    shape : MLPShape
    weights : ndarray of shape (n_replicas, n_points), optional
        Multiply row ``(k, i)`` of the Jacobian by ``weights[k, i]`` (the
        ``1 / sigma`` of a chi2), at no extra cost.
    dtype : numpy dtype, default float64
        Of the Jacobian; float32 halves its memory and the time of the
        products that use it (the outputs ``y`` stay float64).

    Returns
    -------
    y : ndarray of shape (n_replicas, n_points)
    jac : ndarray of shape (n_replicas, n_points, n_params), of ``dtype``
        A view of an array laid out as (n_replicas, n_params, n_points):
        ``np.swapaxes(jac, 1, 2)`` is C-contiguous.

    Examples
    --------
    >>> s = MLPShape(1, (3,))
    >>> theta = init_params(s, 1, seed=1)
    >>> x = np.array([[0.3]])
    >>> y, jac = jacobian(theta, x, s)
    >>> eps = 1e-6 * np.eye(s.n_params)[0]
    >>> num = (forward(theta + eps, x, s) - forward(theta - eps, x, s)) / 2e-6
    >>> bool(np.allclose(jac[0, 0, 0], num[0, 0]))
    True
    """
    y, factors = layer_factors(theta, x, shape, weights=weights, dtype=dtype)
    return y, jacobian_columns(factors, shape)


def jacobian_columns(factors, shape, layers=None):
    """The Jacobian's columns of some layers, built from their factors (:func:`layer_factors`).

    Each layer's block is the outer product of its two factors, written
    straight into one preallocated array (no concatenation), with the points
    on its last axis.

    Parameters
    ----------
    factors : list of (a, g)
        As :func:`layer_factors` returns them.
    shape : MLPShape
    layers : sequence of int, optional
        The layers whose columns to build (each layer's weights, then its
        biases, in parameter order); default all: ``n_params`` columns.

    Returns
    -------
    ndarray of shape (n_replicas, n_points, n_columns), of the factors' dtype
        A view of an array laid out as (n_replicas, n_columns, n_points):
        ``np.swapaxes(jac, 1, 2)`` is C-contiguous.
    """
    chosen = range(len(factors)) if layers is None else [int(i) for i in layers]
    n_rep, _, n_pts = factors[-1][1].shape
    sizes = [fan_in * fan_out + fan_out for fan_in, fan_out in shape.layers]
    jac_t = np.empty((n_rep, sum(sizes[i] for i in chosen), n_pts), dtype=factors[-1][1].dtype)
    start = 0
    for layer in chosen:
        (fan_in, fan_out), (a_in, g) = shape.layers[layer], factors[layer]
        w_end = start + fan_in * fan_out
        block = jac_t[:, start:w_end].reshape(n_rep, fan_in, fan_out, n_pts)  # a view: splits one axis
        np.multiply(a_in[:, :, None, :], g[:, None, :, :], out=block)
        jac_t[:, w_end:w_end + fan_out] = g
        start = w_end + fan_out
    return np.swapaxes(jac_t, 1, 2)
