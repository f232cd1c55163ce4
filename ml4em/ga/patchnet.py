"""Designing a network with a genetic algorithm: a small CNN's fitness on simulated STEM patches.

:class:`PatchNetFitness` trains a CNN with the genes' architecture and training settings to tell patches
centred on a defect from intact ones, and returns its validation accuracy, in the spirit of MENNDL (Patton
et al., SC'18, doi:10.1109/SC.2018.00053).
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .genes import Categorical, Integer, Real

__all__ = ["make_patch_data", "patch_net_space", "PatchNetFitness"]


def make_patch_data(n_patches, *, size=16, dose=5e3, seed=None, **simulate_kwargs):
    """Patches of simulated STEM images centred on an atomic column, labelled 1 if it is a defect.

    Half the patches show a defect (vacancy or substitution) at their centre, half an intact column.

    Parameters
    ----------
    n_patches : int
    size : int, default 16
        Patch side in pixels.
    dose : float, electrons per square angstrom, default 5e3
    seed : int, numpy.random.Generator or None
    **simulate_kwargs
        Passed to :func:`ml4em.stem.simulate_stem`.

    Returns
    -------
    x : ndarray of shape (n_patches, size, size, 1), float32
        Each patch scaled to zero mean and unit standard deviation.
    y : ndarray of shape (n_patches,), float32, 0 or 1

    Examples
    --------
    >>> x, y = make_patch_data(40, seed=0)
    >>> x.shape, float(y.mean())
    ((40, 16, 16, 1), 0.5)
    """
    from ..stem import simulate_stem

    if isinstance(n_patches, bool) or not isinstance(n_patches, (int, np.integer)) or n_patches < 2:
        raise ValueError(f"n_patches={n_patches!r} should be an integer >= 2.")
    rng = np.random.default_rng(seed)
    n_def, half = int(n_patches) // 2, int(n_patches) - int(n_patches) // 2
    pos, neg = [], []
    while sum(map(len, pos)) < n_def or sum(map(len, neg)) < half:
        data = simulate_stem(64, dose=dose, seed=rng, **simulate_kwargs)
        side, h = data.images.shape[-1], size // 2
        if side < size:
            raise ValueError(f"size={size} is larger than the simulated images ({side} pixels); use a smaller size.")
        windows = np.lib.stride_tricks.sliding_window_view(data.images, (size, size), axis=(1, 2))
        for i in range(len(data)):
            for sites, out in ((data.defect_positions[i], pos), (data.column_positions[i], neg)):
                rc = np.rint(sites).astype(int)
                ok = np.all((rc >= h) & (rc <= side - size + h), axis=1)  # the whole patch inside the image
                out.append(windows[i, rc[ok, 0] - h, rc[ok, 1] - h])
    pos, neg = np.concatenate(pos), np.concatenate(neg)
    pos = pos[rng.permutation(len(pos))[:n_def]]
    neg = neg[rng.permutation(len(neg))[:half]]
    x = np.concatenate([pos, neg]).astype(np.float32)
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))]).astype(np.float32)
    order = rng.permutation(len(x))
    x = x[order]
    x = (x - x.mean(axis=(1, 2), keepdims=True)) / (x.std(axis=(1, 2), keepdims=True) + 1e-6)
    return x[..., None], y[order]


@lru_cache(maxsize=4)
def _patch_split(n_train, n_val, size, dose, data_seed):
    x, y = make_patch_data(n_train + n_val, size=size, dose=dose, seed=data_seed)
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def patch_net_space():
    """The default search space of :class:`PatchNetFitness`: architecture and training settings.

    Examples
    --------
    >>> sorted(patch_net_space())
    ['activation', 'conv_layers', 'dense_units', 'dropout', 'filters', 'kernel_size', 'learning_rate']
    """
    return {"conv_layers": Integer(1, 3), "filters": Integer(2, 16), "kernel_size": Categorical((3, 5)),
            "dense_units": Integer(4, 64), "dropout": Real(0.0, 0.6),
            "activation": Categorical(("relu", "tanh", "sigmoid")), "learning_rate": Real(1e-4, 0.3, log=True)}


@dataclass(frozen=True)
class PatchNetFitness:
    """Validation accuracy of a small CNN that tells defect columns from intact ones (a picklable fitness).

    The network: ``conv_layers`` blocks of a convolution (``filters`` doubling each block, ``kernel_size``,
    ``activation``) and 2 x 2 max pooling, then dropout, a dense layer of ``dense_units`` and a sigmoid
    output; Adam with ``learning_rate`` for ``epochs`` epochs on :func:`make_patch_data` patches. The data
    are made once per process from ``data_seed``; the call's ``seed`` seeds the weights and batches.

    Parameters
    ----------
    n_train, n_val : int
        Training and validation patches.
    epochs : int, default 3
    batch_size : int, default 32
    size : int, default 16
        Patch side in pixels.
    dose : float, electrons per square angstrom, default 5e3
    data_seed : int, default 0
    """

    n_train: int = 2000
    n_val: int = 1000
    epochs: int = 3
    batch_size: int = 32
    size: int = 16
    dose: float = 5e3
    data_seed: int = 0

    space = staticmethod(patch_net_space)

    def build(self, genome, *, seed=None):
        """The keras.Model that ``genome`` describes (compiled)."""
        import keras
        from keras import layers

        missing = set(patch_net_space()) - set(genome)
        if missing:
            raise ValueError(f"genome lacks the genes {sorted(missing)}; draw it from PatchNetFitness.space().")
        rng = np.random.default_rng(seed)

        def init():
            return keras.initializers.GlorotUniform(seed=int(rng.integers(2**31)))

        act = genome["activation"]
        model = keras.Sequential([keras.Input(shape=(self.size, self.size, 1))], name="patch_net")
        for i in range(int(genome["conv_layers"])):
            model.add(layers.Conv2D(int(genome["filters"]) * 2**i, int(genome["kernel_size"]), padding="same",
                                    activation=act, kernel_initializer=init()))
            model.add(layers.MaxPooling2D(2))
        model.add(layers.Flatten())
        model.add(layers.Dropout(float(genome["dropout"]), seed=int(rng.integers(2**31))))
        model.add(layers.Dense(int(genome["dense_units"]), activation=act, kernel_initializer=init()))
        model.add(layers.Dense(1, activation="sigmoid", kernel_initializer=init()))
        model.compile(optimizer=keras.optimizers.Adam(float(genome["learning_rate"])), loss="binary_crossentropy",
                      metrics=["accuracy"])
        return model

    def __call__(self, genome, seed=None):
        from ..cnn import shuffled_batches

        (x, y), (xv, yv) = _patch_split(self.n_train, self.n_val, self.size, self.dose, self.data_seed)
        rng = np.random.default_rng(seed)
        model = self.build(genome, seed=rng)
        batches, steps = shuffled_batches(x, y, self.batch_size, seed=rng)
        model.fit(batches, steps_per_epoch=steps, epochs=self.epochs, shuffle=False, verbose=0)
        p = model.predict(xv, batch_size=256, verbose=0)[:, 0]
        accuracy = float(np.mean((p > 0.5) == (yv > 0.5)))
        return accuracy if np.isfinite(p).all() else 0.0


