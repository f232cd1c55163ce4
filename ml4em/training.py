"""Progress bar and loss curve for long training runs.

:class:`TrainingMonitor` is a Keras callback that shows one tqdm progress bar
over the epochs (with the current losses) and, at the end, the loss curves;
pass ``live_every=N`` to redraw the curves every N epochs in a notebook.
:func:`progress` wraps any loop (numpy training, genetic algorithms) the same
way.

Used in: tutorials/02_neural_networks and every tutorial that trains a model.
"""

import functools

import numpy as np

from .plotting import plot_loss_curves

__all__ = ["TrainingMonitor", "progress", "check_positive_ints"]


def check_positive_ints(**settings):
    """Raise ``ValueError`` naming the first setting that is not a positive integer (bools are refused).

    The one check of the training settings of the course's models (epochs, batch sizes, layer sizes).

    Examples
    --------
    >>> check_positive_ints(epochs=5, batch_size=np.int64(8))
    >>> check_positive_ints(epochs=0)
    Traceback (most recent call last):
    ...
    ValueError: epochs=0 should be a positive integer.
    """
    for name, value in settings.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}={value!r} should be a positive integer.")


def progress(iterable=None, *, total=None, desc=None, disable=None):
    """A tqdm progress bar that works in notebooks and terminals.

    Examples
    --------
    >>> sum(progress(range(3), disable=True))
    3
    """
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=True)


class _MonitorMixin:
    """Epoch bookkeeping shared by the Keras callback."""

    def _start(self, epochs):
        self.history = {}
        self._bar = progress(total=epochs, desc=self.desc, disable=self.disable)
        self._handle = None

    def _epoch(self, logs):
        for key, value in (logs or {}).items():
            if (key in self.keys) if self.keys is not None else ("loss" in key):
                self.history.setdefault(key, []).append(float(value))
        self._bar.update(1)
        self._bar.set_postfix({k: f"{v[-1]:.3g}" for k, v in self.history.items()})
        epoch = len(next(iter(self.history.values()), []))
        if self.live_every and epoch % self.live_every == 0:
            self._draw(live=True)

    def _draw(self, live=False):
        import matplotlib.pyplot as plt

        if not self.history:
            return None
        fig, ax = plt.subplots(figsize=(6, 3.5))
        plot_loss_curves(self.history, ax=ax, ylabel=self.ylabel, title=self.desc)
        if live:
            try:
                from IPython.display import display

                if self._handle is None:
                    self._handle = display(fig, display_id=True)
                else:
                    self._handle.update(fig)
            except ImportError:  # outside IPython: nothing to update live
                pass
            plt.close(fig)
            return None
        return fig

    def _end(self):
        self._bar.close()
        if self.plot:
            fig = self._draw()
            if fig is not None:
                import matplotlib.pyplot as plt

                plt.show()
        self.best_epoch = None
        for key in ("val_loss", "loss"):
            if key in self.history:
                self.best_epoch = int(np.argmin(self.history[key])) + 1
                break


@functools.cache
def _monitor_class():
    import keras

    class _TrainingMonitor(_MonitorMixin, keras.callbacks.Callback):
        __doc__ = TrainingMonitor.__doc__

        def __init__(self, desc=None, *, keys=None, live_every=None, plot=True,
                     ylabel="loss (dimensionless)", disable=None):
            super().__init__()
            self.desc = desc
            self.keys = keys
            self.live_every = live_every
            self.plot = plot
            self.ylabel = ylabel
            self.disable = disable
            self.history = {}
            self.best_epoch = None

        def on_train_begin(self, logs=None):
            self._start(self.params.get("epochs"))

        def on_epoch_end(self, epoch, logs=None):
            self._epoch(logs)

        def on_train_end(self, logs=None):
            self._end()

    return _TrainingMonitor


def TrainingMonitor(desc=None, *, keys=None, live_every=None, plot=True, ylabel="loss (dimensionless)",
                    disable=None):
    """Keras callback: a progress bar over epochs and the loss curves.

    (A function returning the callback, so that importing ml4em does not import Keras.)

    Parameters
    ----------
    desc : str, optional
        Title of the bar and the figure.
    keys : list of str, optional
        Logged quantities to follow; default every key containing "loss".
    live_every : int, optional
        Redraw the curves every so many epochs (in a notebook).
    plot : bool, default True
        Show the loss curves when training ends.
    ylabel : str
        Label of the loss axis, with units.
    disable : bool, optional
        Hide the progress bar.

    Returns
    -------
    keras.callbacks.Callback
        With attributes ``history`` (dict of str to list of float, one value
        per epoch) and ``best_epoch`` (epoch from 1 of the lowest validation,
        else training, loss) after training.

    Examples
    --------
    >>> model.fit(x, y, epochs=200, verbose=0, callbacks=[TrainingMonitor()])  # doctest: +SKIP
    """
    return _monitor_class()(desc, keys=keys, live_every=live_every, plot=plot, ylabel=ylabel, disable=disable)
