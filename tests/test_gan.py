"""Tests of ml4em.gan: the toy GAN, partial-scan masks, interpolation, PSNR/SSIM and the completion GAN."""

import numpy as np
import pytest

from ml4em import by_mode
from ml4em.gan import (
    ScanCompleter,
    ScanCompletionGAN,
    ToyGAN,
    build_completion_generator,
    build_mlp,
    build_patch_discriminator,
    completion_inputs,
    coverage_explorer,
    interpolate_scan,
    mode_coverage,
    normalize_scans,
    plot_completion,
    plot_toy_samples,
    psnr,
    sample_ring,
    scan_mask,
    scan_masks,
    ssim,
    train_toy_gan,
)
from ml4em.stem import simulate_stem


def test_sample_ring_and_mode_coverage():
    x, c = sample_ring(4000, n_modes=6, radius=3.0, width=0.05, seed=0)
    assert x.shape == (4000, 2) and c.shape == (6, 2)
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 3.0)
    cov = mode_coverage(x, c)
    # width 0.05 and a radius of a quarter of the 3.0 spacing: every sample lies near a centre
    assert cov["modes_covered"] == 6 and cov["fraction_in_modes"] == 1.0 and cov["counts"].sum() == 4000
    collapsed = np.repeat(c[:2], 50, axis=0)
    cov = mode_coverage(collapsed, c)
    assert cov["modes_covered"] == 2 and cov["counts"].tolist() == [50, 50, 0, 0, 0, 0]
    assert mode_coverage(np.full((10, 2), 100.0), c)["fraction_in_modes"] == 0.0
    with pytest.raises(ValueError, match="samples"):
        mode_coverage(np.zeros(5), c)
    with pytest.raises(ValueError, match="n_samples=0"):
        sample_ring(0)
    with pytest.raises(ValueError, match="radius"):
        sample_ring(5, width=0)


def test_toy_gan_trains_and_is_seeded():
    x, c = sample_ring(2048, seed=1)
    gan, history = train_toy_gan(x, epochs=by_mode(full=40, quick=15), seed=0)
    assert set(history) == {"d_loss", "g_loss"} and len(history["d_loss"]) == by_mode(full=40, quick=15)
    assert all(np.isfinite(history["d_loss"]))
    # after training the generator puts a good share of its samples near the modes
    # (an untrained one spreads them over the plane: about 5 % fall within 0.25 of a centre)
    cov = mode_coverage(gan.sample(2000), c)
    assert cov["fraction_in_modes"] > 0.15 and cov["modes_covered"] >= 3, cov
    a = ToyGAN(build_mlp(2, 2, seed=0), build_mlp(2, 1, seed=1), latent_dim=2, seed=5)
    b = ToyGAN(build_mlp(2, 2, seed=0), build_mlp(2, 1, seed=1), latent_dim=2, seed=5)
    np.testing.assert_array_equal(a.sample(10), b.sample(10))  # same weights and same SeedGenerator
    with pytest.raises(ValueError, match="latent_dim=0"):
        ToyGAN(build_mlp(2, 2), build_mlp(2, 1), latent_dim=0)
    with pytest.raises(ValueError, match="data should have shape"):
        train_toy_gan(np.zeros(5))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert plot_toy_samples(ax, gan, x, c)["counts"].shape == (8,)
    plt.close(fig)


@pytest.mark.parametrize("kind", ["spiral", "lines", "points"])
@pytest.mark.parametrize("coverage", [0.05, 0.1, 0.3])
def test_scan_mask_coverage(kind, coverage):
    masks = scan_masks(5, 64, coverage, kind=kind, seed=0)
    assert masks.shape == (5, 64, 64) and masks.dtype == bool
    # points and lines are exact up to rounding to whole pixels / lines; the spiral is refined to within 1 %
    np.testing.assert_allclose(masks.mean(axis=(1, 2)), coverage, atol=0.01 if kind != "lines" else 0.5 / 64 + 1e-9)
    np.testing.assert_array_equal(scan_mask(64, coverage, kind=kind, seed=3), scan_mask(64, coverage, kind=kind, seed=3))


def test_scan_mask_errors():
    with pytest.raises(ValueError, match="coverage=0"):
        scan_mask(64, 0)
    with pytest.raises(ValueError, match="kind='zigzag'"):
        scan_mask(64, 0.1, kind="zigzag")
    with pytest.raises(ValueError, match="size=2"):
        scan_mask(2, 0.1)


def test_normalize_scans_uses_only_scanned_pixels():
    images = np.random.default_rng(0).random((3, 16, 16)) * 50 + 10
    masks = scan_masks(3, 16, 0.3, kind="points", seed=0)
    images[~masks] = 1e6  # unscanned values must not matter
    scaled, low, high = normalize_scans(images, masks)
    for s, m in zip(scaled, masks):
        assert s[m].min() == pytest.approx(0.0) and s[m].max() == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(low[:, None, None] + (high - low)[:, None, None] * scaled, images, rtol=1e-5)
    with pytest.raises(ValueError, match="masks the same"):
        normalize_scans(images, masks[:2])
    with pytest.raises(ValueError, match="at least 2 pixels"):
        normalize_scans(images, np.zeros_like(masks))


def test_interpolation_is_exact_for_a_plane():
    rows, cols = np.mgrid[0:32, 0:32]
    plane = 0.3 + 0.01 * rows - 0.02 * cols
    mask = scan_mask(32, 0.1, kind="points", seed=1)
    mask[[0, 0, -1, -1], [0, -1, 0, -1]] = True  # corners: the convex hull is the whole image
    # linear interpolation on a triangulation reproduces a plane to rounding
    np.testing.assert_allclose(interpolate_scan(plane, mask), plane, atol=1e-12)
    spiral = scan_mask(32, 0.1, seed=2)  # corners outside the hull: filled with the nearest value
    out = interpolate_scan(plane, spiral)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[spiral], plane[spiral])
    with pytest.raises(ValueError, match="same shape"):
        interpolate_scan(plane, spiral[:5])
    with pytest.raises(ValueError, match="at least 3"):
        interpolate_scan(plane, np.zeros_like(spiral))


def test_psnr_and_ssim_known_answers():
    import tensorflow as tf

    target = np.zeros((8, 8))
    assert psnr(target + 0.1, target) == pytest.approx(20.0)  # MSE 0.01 -> 10 log10(1 / 0.01)
    assert psnr(target + 2.0, target, data_range=4.0) == pytest.approx(10 * np.log10(4.0))
    rng = np.random.default_rng(0)
    a = rng.random((4, 24, 24))
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1)
    np.testing.assert_allclose(psnr(b, a), [psnr(x, y) for x, y in zip(b, a)])
    ref = tf.image.ssim(tf.constant(b[..., None]), tf.constant(a[..., None]), max_val=1.0).numpy()
    np.testing.assert_allclose(ssim(b, a), ref, rtol=1e-5)  # TensorFlow computes in float64 here too
    assert ssim(a[0], a[0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same 2-D or 3-D shape"):
        psnr(a, a[0])
    with pytest.raises(ValueError, match="window=11"):
        ssim(np.zeros((8, 8)), np.zeros((8, 8)))


def test_generator_keeps_scanned_pixels_and_train_step_returns_losses():
    import keras

    data = simulate_stem(8, size=32, seed=3)
    masks = scan_masks(8, 32, 0.1, seed=4)
    scaled, _, _ = normalize_scans(data.images, masks)
    x = completion_inputs(scaled, masks)
    gen = build_completion_generator(filters=4, depth=2, seed=0)
    out = np.asarray(gen(x))[..., 0]
    np.testing.assert_allclose(out[masks], scaled[masks], atol=1e-6)  # float32 copy of the measured values
    gan = ScanCompletionGAN(gen, build_patch_discriminator(filters=4, seed=1), seed=0)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), adversarial_weight=0.1)
    logs = gan.train_on_batch(x, scaled[..., None], return_dict=True)
    assert set(logs) == {"d_loss", "g_loss", "l1", "adversarial"}
    assert logs["g_loss"] == pytest.approx(logs["l1"] + 0.1 * logs["adversarial"], rel=1e-4)
    with pytest.raises(ValueError, match="adversarial_weight"):
        gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), adversarial_weight=-1)


def test_adversarial_step_updates_each_network_once_and_drives_fit():
    import keras
    import tensorflow as tf

    from ml4em.gan import adversarial_step

    data = simulate_stem(4, size=16, seed=5)
    masks = scan_masks(4, 16, 0.3, seed=6)
    scaled, _, _ = normalize_scans(data.images, masks)
    x, y = tf.constant(completion_inputs(scaled, masks)), tf.constant(scaled[..., None].astype(np.float32))

    def make(seed=0):
        gan = ScanCompletionGAN(build_completion_generator(filters=4, depth=2, seed=0),
                                build_patch_discriminator(filters=4, n_layers=2, seed=1), seed=seed)
        gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.1), adversarial_weight=0.5)
        return gan

    a, b = make(), make()
    g0, d0 = a.generator.get_weights(), a.discriminator.get_weights()
    record = {}
    logs = adversarial_step(a, x, y, keras.random.SeedGenerator(3), record=record)
    # the discriminator's loss before its update: BCE on the recorded logits (real -> 1, completion -> 0)
    d_real, d_fake = np.asarray(record["d_real"], float), np.asarray(record["d_fake"], float)
    want = np.mean(np.logaddexp(0, -d_real)) + np.mean(np.logaddexp(0, d_fake))
    assert float(logs["d_loss"]) == pytest.approx(want, rel=1e-5)
    # the generator's loss: L1 plus 0.5 times the non-saturating loss on the updated discriminator's logits
    l1 = np.mean(np.abs(np.asarray(record["fake_g"]) - np.asarray(y)))
    want = l1 + 0.5 * np.mean(np.logaddexp(0, -np.asarray(record["d_fake_g"], float)))
    assert float(logs["g_loss"]) == pytest.approx(want, rel=1e-5)
    assert all(np.any(w != w0) for w, w0 in zip(a.discriminator.get_weights(), d0))  # every layer of D moved
    assert any(np.any(w != w0) for w, w0 in zip(a.generator.get_weights(), g0))
    same = adversarial_step(b, x, y, keras.random.SeedGenerator(3))
    assert float(same["d_loss"]) == pytest.approx(float(logs["d_loss"]), rel=1e-6)
    c = make()
    other = adversarial_step(c, x, y, keras.random.SeedGenerator(4))
    assert float(other["d_loss"]) != pytest.approx(float(logs["d_loss"]), rel=1e-6)  # another instance noise
    # fit with step=adversarial_step logs the two losses, seeded by the model's SeedGenerator
    fitted = ScanCompletionGAN(build_completion_generator(filters=4, depth=2, seed=0),
                               build_patch_discriminator(filters=4, n_layers=2, seed=1), seed=0, step=adversarial_step)
    fitted.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    hist = fitted.fit(x, y, batch_size=2, epochs=2, verbose=0).history
    assert set(hist) == {"d_loss", "g_loss"} and len(hist["d_loss"]) == 2 and np.all(np.isfinite(hist["g_loss"]))
    with pytest.raises(ValueError, match="step="):
        ScanCompletionGAN(fitted.generator, fitted.discriminator, step="adversarial")
    with pytest.raises(ValueError, match="compiled"):
        adversarial_step(ScanCompletionGAN(fitted.generator, fitted.discriminator), x, y, 0)
    bad = ScanCompletionGAN(fitted.generator, fitted.discriminator, step=lambda gan, x, y, seed: 1.0)
    bad.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    with pytest.raises(ValueError, match="'d_loss' and 'g_loss'"):
        bad.fit(x, y, batch_size=2, epochs=1, verbose=0)


def test_scan_completer_beats_interpolation():
    # Quick version of the benchmark (benchmarks/images.py: 1000 images, 8 epochs, >= 2 dB over interpolation)
    n_train, epochs, batch = by_mode(full=1000, quick=300), by_mode(full=8, quick=6), by_mode(full=16, quick=8)
    train, test = simulate_stem(n_train, seed=20), simulate_stem(40, seed=21)
    m_train, m_test = scan_masks(n_train, 64, 0.1, seed=22), scan_masks(40, 64, 0.1, seed=23)
    completer = ScanCompleter(epochs=epochs, batch_size=batch, seed=0).fit(train.images, m_train, monitor=False)
    scores = completer.evaluate(test.images, m_test)
    assert scores["gan_psnr_db"] >= scores["interp_psnr_db"] + by_mode(full=2.0, quick=1.0), scores
    assert scores["gan_ssim"] > scores["interp_ssim"], scores
    full = completer.complete(test.images[:2], m_test[:2])
    assert full.shape == (2, 64, 64)
    np.testing.assert_allclose(full[m_test[:2]], test.images[:2][m_test[:2]], rtol=1e-4)  # measured pixels kept

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4)
    s = plot_completion(axes, completer, test.images[0], m_test[0], pixel_size=0.04)
    assert s["gan_psnr_db"] == pytest.approx(psnr(completer._complete_scaled(
        normalize_scans(test.images[:1], m_test[:1])[0], m_test[:1])[0], normalize_scans(
        test.images[:1], m_test[:1])[0][0]), rel=1e-6)
    with pytest.raises(ValueError, match="4 Axes"):
        plot_completion(axes[:2], completer, test.images[0], m_test[0])
    plt.close(fig)
    fig, ax = plt.subplots()
    plot = coverage_explorer(completer)
    for method in ("partial scan", "interpolation", "GAN", "full scan"):
        value = plot(ax, 0.1, method)
        assert np.isfinite(value) or method == "full scan"  # the PSNR of the panel, inf for the truth itself
    with pytest.raises(ValueError, match="completer=None"):
        coverage_explorer(None)(ax, 0.1, "GAN")
    with pytest.raises(ValueError, match="method='magic'"):
        plot(ax, 0.1, "magic")
    plt.close(fig)


def test_scan_completer_not_fitted():
    with pytest.raises(RuntimeError, match="not fitted"):
        ScanCompleter().complete(np.zeros((1, 16, 16)), np.ones((1, 16, 16), bool))
    with pytest.raises(ValueError, match="epochs=0"):
        ScanCompleter(epochs=0).fit(np.zeros((2, 16, 16)), np.ones((2, 16, 16), bool), monitor=False)


def test_tutorial_checks_accept_right_and_explain_wrong_answers():
    from ml4em.checks import CheckFailure
    from ml4em.checks import gan as checks

    from keras import ops

    def d_loss(d_real, d_fake):  # keras.ops: it must also differentiate on tensors
        return ops.mean(ops.logaddexp(0.0, -d_real)) + ops.mean(ops.logaddexp(0.0, d_fake))

    checks.check_discriminator_loss(d_loss)
    with pytest.raises(CheckFailure, match="swapped"):
        checks.check_discriminator_loss(lambda r, f: d_loss(f, r))
    with pytest.raises(CheckFailure, match="two terms"):
        checks.check_discriminator_loss(lambda r, f: np.mean(np.logaddexp(0, -r)))
    checks.check_generator_loss(lambda f: ops.mean(ops.logaddexp(0.0, -f)))
    with pytest.raises(CheckFailure, match="saturating"):
        checks.check_generator_loss(lambda f: -np.mean(np.logaddexp(0, f)))
    checks.check_psnr(lambda p, t, r: 10 * np.log10(r**2 / np.mean((p - t) ** 2)))  # the package's psnr is refused
    with pytest.raises(CheckFailure, match="log10"):
        checks.check_psnr(lambda p, t, r: 10 * np.log(r**2 / np.mean((p - t) ** 2)))
    def linear_only(image, mask, fill=False):
        from scipy.interpolate import griddata

        grid = np.indices(image.shape).reshape(2, -1).T
        out = griddata(np.argwhere(mask), image[mask], grid).reshape(image.shape)
        nearest = griddata(np.argwhere(mask), image[mask], grid, method="nearest").reshape(image.shape)
        return np.where(np.isnan(out), nearest, out) if fill else out

    checks.check_fill_scan(lambda image, mask: linear_only(image, mask, fill=True))  # the package's is refused

    with pytest.raises(CheckFailure, match="NaN"):
        checks.check_fill_scan(linear_only)
    with pytest.raises(CheckFailure, match="keep their values"):
        checks.check_fill_scan(lambda image, mask: np.zeros_like(image))

    def completion(fake, real, d_fake, w):
        return ops.mean(ops.abs(fake - real)) + w * ops.mean(ops.logaddexp(0.0, -d_fake))

    checks.check_completion_loss(completion)
    with pytest.raises(CheckFailure, match="ABSOLUTE"):
        checks.check_completion_loss(lambda f, r, d, w: np.mean((f - r) ** 2) + w * np.mean(np.logaddexp(0, -d)))
    with pytest.raises(CheckFailure, match="left out"):
        checks.check_completion_loss(lambda f, r, d, w: np.mean(np.abs(f - r)))
