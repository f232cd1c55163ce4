"""TrainingMonitor follows the losses of a Keras fit and draws them; progress wraps loops."""

import numpy as np

from ml4em.plotting import PALETTE, plot_loss_curves, style
from ml4em.training import TrainingMonitor, progress


def test_training_monitor_records_losses():
    import keras

    keras.utils.set_random_seed(0)
    x = np.linspace(-1, 1, 64)[:, None]
    y = 3 * x[:, 0] + 1
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.1), "mse")
    monitor = TrainingMonitor("line", plot=True, disable=True)
    history = model.fit(x, y, epochs=30, batch_size=64, validation_split=0.25, verbose=0, callbacks=[monitor])
    assert set(monitor.history) == {"loss", "val_loss"}
    np.testing.assert_allclose(monitor.history["loss"], history.history["loss"], rtol=1e-6)
    assert monitor.history["loss"][-1] < 0.1 * monitor.history["loss"][0]  # it learned the line
    assert monitor.best_epoch == int(np.argmin(history.history["val_loss"])) + 1


def test_progress_counts():
    assert list(progress(range(4), disable=True)) == [0, 1, 2, 3]


def test_plot_loss_curves_labels():
    ax = plot_loss_curves({"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.6]}, ylabel="chi2 (dimensionless)")
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "chi2 (dimensionless)"
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    assert style(0)["color"] == PALETTE[0] and style(1)["linestyle"] != style(0)["linestyle"]
