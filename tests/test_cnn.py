"""Tests of ml4em.cnn: convolution and pooling by hand, detection scores, and the defect finder."""

import numpy as np
import pytest
from scipy import signal

from ml4em import by_mode
from ml4em.cnn import (
    DefectFinder,
    build_defect_unet,
    build_unet,
    conv2d,
    detection_scores,
    f1_against_dose,
    find_defects,
    match_defects,
    max_pool2d,
    normalize_images,
    plot_detections,
    shuffled_batches,
)
from ml4em.stem import simulate_stem


@pytest.mark.parametrize("mode", ["valid", "same"])
@pytest.mark.parametrize("kshape", [(3, 3), (2, 5), (4, 1)])
def test_conv2d_matches_scipy(mode, kshape):
    rng = np.random.default_rng(0)
    image, kernel = rng.standard_normal((9, 11)), rng.standard_normal(kshape)
    # float64 sums of < 20 products: agreement to rounding
    np.testing.assert_allclose(conv2d(image, kernel, mode=mode), signal.correlate2d(image, kernel, mode=mode),
                               rtol=1e-12, atol=1e-12)


def test_conv2d_matches_a_keras_layer():
    import keras

    rng = np.random.default_rng(1)
    image, kernel = rng.standard_normal((8, 8)), rng.standard_normal((3, 3))
    layer = keras.layers.Conv2D(1, 3, use_bias=False)
    layer.build((None, 8, 8, 1))
    layer.set_weights([kernel[:, :, None, None]])
    out = np.asarray(layer(image[None, :, :, None].astype("float32")))[0, :, :, 0]
    np.testing.assert_allclose(conv2d(image, kernel), out, rtol=1e-4, atol=1e-5)  # float32 in Keras


def test_max_pool_matches_keras_and_drops_leftovers():
    import keras

    image = np.random.default_rng(2).standard_normal((7, 9))
    out = np.asarray(keras.layers.MaxPooling2D(2)(image[None, :, :, None].astype("float32")))[0, :, :, 0]
    np.testing.assert_allclose(max_pool2d(image, 2), out, rtol=1e-6)  # a max is exact up to float32 rounding
    assert max_pool2d(image, 3).shape == (2, 3)
    np.testing.assert_array_equal(max_pool2d(np.arange(16.0).reshape(4, 4), 4), [[15.0]])


def test_conv_and_pool_errors():
    with pytest.raises(ValueError, match="image should be a 2-D"):
        conv2d(np.zeros(4), np.ones((2, 2)))
    with pytest.raises(ValueError, match="kernel should be a 2-D"):
        conv2d(np.zeros((4, 4)), np.ones(2))
    with pytest.raises(ValueError, match="mode='full'"):
        conv2d(np.zeros((4, 4)), np.ones((2, 2)), mode="full")
    with pytest.raises(ValueError, match="larger than image"):
        conv2d(np.zeros((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="pool=0"):
        max_pool2d(np.zeros((4, 4)), 0)
    with pytest.raises(ValueError, match="pool=5 is larger"):
        max_pool2d(np.zeros((4, 4)), 5)


def test_normalize_images():
    x = normalize_images(np.random.default_rng(3).poisson(20, (4, 8, 8)))
    assert x.shape == (4, 8, 8, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x.mean(axis=(1, 2, 3)), 0, atol=1e-5)  # float32 means of 64 values
    np.testing.assert_allclose(x.std(axis=(1, 2, 3)), 1, rtol=1e-4)
    with pytest.raises(ValueError, match="n_images, rows, cols"):
        normalize_images(np.zeros((8, 8)))


def test_find_defects_centroids_and_small_regions():
    p = np.zeros((2, 10, 10))
    p[0, 1:3, 1:3] = 0.9  # a 2 x 2 blob centred at (1.5, 1.5)
    p[0, 7, 7] = 0.9  # one pixel: below min_pixels=2
    p[1, 5, 4:7] = [0.6, 1.0, 0.6]  # weighted centroid at (5, 5)
    found = find_defects(p)
    np.testing.assert_allclose(found[0], [[1.5, 1.5]])
    np.testing.assert_allclose(found[1], [[5.0, 5.0]])
    assert find_defects(np.zeros((5, 5))).shape == (0, 2)
    with pytest.raises(ValueError, match="threshold"):
        find_defects(p[0], threshold=1.5)
    with pytest.raises(ValueError, match="probability should have shape"):
        find_defects(np.zeros(5))


def test_match_and_scores_by_hand():
    found = np.array([[0.0, 0.0], [10.0, 10.0], [20.0, 20.5], [30.0, 30.0]])
    true = np.array([[0.5, 0.5], [20.0, 20.0], [40.0, 40.0]])
    pairs, fp, fn = match_defects(found, true, tolerance=1.0)
    assert pairs.tolist() == [[0, 0], [2, 1]] and fp.tolist() == [1, 3] and fn.tolist() == [2]
    s = detection_scores(found, true, tolerance=1.0)
    # tp=2, fp=2, fn=1: precision 1/2, recall 2/3, F1 = 2*2/(4+2+1) = 4/7
    assert (s["tp"], s["fp"], s["fn"]) == (2, 2, 1)
    assert s["precision"] == pytest.approx(0.5) and s["recall"] == pytest.approx(2 / 3)
    assert s["f1"] == pytest.approx(4 / 7)
    # one-to-one: two detections near one defect give one TP and one FP
    pairs, fp, fn = match_defects([[0, 0], [0, 1]], [[0, 0.4]], tolerance=2)
    assert len(pairs) == 1 and len(fp) == 1 and len(fn) == 0
    # summed over images
    s = detection_scores([found, np.zeros((0, 2))], [true, np.array([[1.0, 1.0]])], tolerance=1.0)
    assert (s["tp"], s["fp"], s["fn"]) == (2, 2, 2)
    assert detection_scores(np.zeros((0, 2)), np.zeros((0, 2)))["f1"] == 1.0
    with pytest.raises(ValueError, match="tolerance"):
        match_defects(found, true, tolerance=0)
    with pytest.raises(ValueError, match="found should have shape"):
        match_defects(np.zeros(4), true)
    with pytest.raises(ValueError, match="found has 1 images but true has 2"):
        detection_scores([found], [true, true])


def test_build_unet_shapes_and_errors():
    model = build_unet(in_channels=2, out_channels=3, filters=2, depth=2, seed=0)
    out = model(np.zeros((1, 16, 24, 2), "float32"))
    assert tuple(out.shape) == (1, 16, 24, 3)
    a, b = build_defect_unet(filters=2, seed=5), build_defect_unet(filters=2, seed=5)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)  # seeded initialisation
    with pytest.raises(ValueError, match="filters=0"):
        build_unet(filters=0)
    with pytest.raises(ValueError, match="dropout=1"):
        build_unet(dropout=1)


def test_shuffled_batches_is_seeded_and_covers_every_sample_each_epoch():
    x, y = np.arange(10.0), np.arange(10.0) * 2
    (a, steps), (b, _) = shuffled_batches(x, y, 4, seed=0), shuffled_batches(x, y, 4, seed=0)
    assert steps == 3
    epochs = []
    for _ in range(2):
        batches = [next(a) for _ in range(steps)]
        for (xa, ya), (xb, yb) in zip(batches, [next(b) for _ in range(steps)]):
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, 2 * xa)
        epochs.append(np.concatenate([xa for xa, _ in batches]))
        np.testing.assert_array_equal(np.sort(epochs[-1]), x)  # every sample once per epoch
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled
    with pytest.raises(ValueError, match="same length"):
        shuffled_batches(x, y[:5], 4)
    with pytest.raises(ValueError, match="batch_size=0"):
        shuffled_batches(x, y, 0)


def test_defect_finder_training_is_reproducible():
    data = simulate_stem(32, size=32, seed=1)
    a = DefectFinder(epochs=1, filters=2, seed=3).fit(data.images, data.defect_mask, monitor=False)
    b = DefectFinder(epochs=1, filters=2, seed=3).fit(data.images, data.defect_mask, monitor=False)
    # same seed: same weights and batches; TensorFlow's CPU kernels are deterministic here
    np.testing.assert_allclose(a.history_["loss"], b.history_["loss"], rtol=1e-6)


def test_defect_finder_reaches_f1_on_held_out_images():
    # Quick version of the benchmark (benchmarks/images.py: 2000 images, 10 epochs, F1 >= 0.9):
    # 400 images and 4 epochs must already find most defects on fresh images.
    n_train, epochs, batch = by_mode(full=2000, quick=400), by_mode(full=10, quick=4), by_mode(full=32, quick=16)
    train, test = simulate_stem(n_train, seed=10), simulate_stem(100, seed=11)
    finder = DefectFinder(epochs=epochs, batch_size=batch, seed=0).fit(train.images, train.defect_mask,
                                                                       monitor=False)
    scores = finder.score(test.images, test.defect_positions)
    assert scores["f1"] >= by_mode(full=0.9, quick=0.7), scores
    assert len(finder.history_["loss"]) == epochs and finder.history_["loss"][-1] < finder.history_["loss"][0]
    # F1 falls at a 20x lower dose
    f1 = f1_against_dose(finder, [1e3, 2e4], n_images=30, seed=12)
    assert f1[0] < f1[1]
    probs = finder.predict_proba(test.images[:2])
    assert probs.shape == (2, 64, 64) and np.all((probs >= 0) & (probs <= 1))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    s = plot_detections(ax, test.images[0], finder.detect(test.images[:1])[0], test.defect_positions[0],
                        pixel_size=0.04)
    assert ax.get_xlabel() == "x (nm)" and 0 <= s["f1"] <= 1
    plt.close(fig)


def test_defect_finder_errors():
    data = simulate_stem(2, seed=0)
    with pytest.raises(RuntimeError, match="not fitted"):
        DefectFinder().detect(data.images)
    with pytest.raises(ValueError, match="defect_masks should have the shape"):
        DefectFinder(epochs=1).fit(data.images, data.defect_mask[:1], monitor=False)
    with pytest.raises(ValueError, match="epochs=0"):
        DefectFinder(epochs=0).fit(data.images, data.defect_mask, monitor=False)
    with pytest.raises(ValueError, match="defect_weight"):
        DefectFinder(defect_weight=0).fit(data.images, data.defect_mask, monitor=False)
    with pytest.raises(ValueError, match="doses"):
        f1_against_dose(None, [-1])


def test_tutorial_checks_accept_right_and_explain_wrong_answers():
    from ml4em.checks import CheckFailure
    from ml4em.checks import cnn as checks

    checks.check_conv2d(lambda image, kernel: signal.correlate2d(image, kernel, mode="valid"))  # not the package's
    with pytest.raises(CheckFailure, match="flipped the kernel"):
        checks.check_conv2d(lambda image, kernel: signal.convolve2d(image, kernel, mode="valid"))
    with pytest.raises(CheckFailure, match="whole kernel fits"):
        checks.check_conv2d(lambda image, kernel: signal.correlate2d(image, kernel, mode="same"))
    checks.check_max_pool(lambda image, size: image[:image.shape[0] // size * size, :image.shape[1] // size * size]
                          .reshape(image.shape[0] // size, size, image.shape[1] // size, size).max(axis=(1, 3)))
    with pytest.raises(CheckFailure, match="average pooling"):
        checks.check_max_pool(lambda image, size: image.reshape(3, 2, 4, 2).mean(axis=(1, 3)))
    with pytest.raises(CheckFailure, match="must not overlap"):
        checks.check_max_pool(lambda image, size: np.zeros((5, 7)))

    def scores(found, true, tolerance):  # greedy one-to-one matching, written out (the package's is refused)
        found, true = np.reshape(found, (-1, 2)), np.reshape(true, (-1, 2))
        used, tp = np.zeros(len(found), bool), 0
        for t in true:
            d = np.where(used, np.inf, np.hypot(*(found - t).T)) if len(found) else np.array([np.inf])
            if d.min() <= tolerance:
                used[int(np.argmin(d))], tp = True, tp + 1
        fp, fn = len(found) - tp, len(true) - tp
        return (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0,
                2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)

    checks.check_detection_f1(scores)

    def many_to_many(found, true, tolerance):
        d = np.hypot(*(found[:, None] - true[None]).transpose(2, 0, 1))
        p, r = np.mean(d.min(1) <= tolerance), np.mean(d.min(0) <= tolerance)
        return p, r, 2 * p * r / (p + r)

    with pytest.raises(CheckFailure, match="only one true defect"):
        checks.check_detection_f1(many_to_many)
    with pytest.raises(CheckFailure, match="swapped"):
        checks.check_detection_f1(lambda f, t, tol: scores(f, t, tol)[1::-1] + (scores(f, t, tol)[2],))

    class Blind:
        def predict(self, x, verbose=0):
            return np.zeros(x.shape)

    with pytest.raises(CheckFailure, match="F1 = 0.000"):
        checks.check_defect_model(Blind(), n_images=5)

    class Flat:
        def predict(self, x, verbose=0):
            return np.zeros((len(x), 10))

    with pytest.raises(CheckFailure, match="one probability per pixel"):
        checks.check_defect_model(Flat(), n_images=5)
    with pytest.raises(CheckFailure, match="None"):
        checks.check_defect_model(None)
