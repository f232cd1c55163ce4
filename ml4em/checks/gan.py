"""Checks for tutorials/05_gan.

The reference answers are written out here from their definitions (losses on
logits), or come from :mod:`ml4em.gan` (PSNR, interpolation of partial scans).
Each check refuses the package's own implementation of its exercise (see
:mod:`ml4em.checks._own`); the package computes the three losses only inside
the ``train_step`` of its GANs.
"""

import numpy as np

from ._core import call_student, check_array, check_callable, check_close, check_scalar, check_true
from ._own import answers

TUTORIAL = "05_gan"

__all__ = ["check_discriminator_loss", "check_generator_loss", "check_psnr", "check_fill_scan",
           "check_completion_loss"]


def _softplus(x):
    return np.logaddexp(0.0, x)  # log(1 + e^x) without overflow


def _logits(n, seed, scale=2.0):
    return scale * np.random.default_rng(seed).standard_normal(n)


@answers(TUTORIAL, "discriminator_loss", "ml4em.gan.ToyGAN.train_step", "ml4em.gan.ScanCompletionGAN.train_step")
def check_discriminator_loss(discriminator_loss, *, n=16, seed=0):
    """``discriminator_loss(d_real, d_fake)``: binary cross-entropy on logits, real -> 1 and generated -> 0."""
    check_callable(discriminator_loss, "discriminator_loss")
    d_real, d_fake = _logits(n, seed) + 1.0, _logits(n + 3, seed + 1) - 1.0
    name = "discriminator_loss(d_real, d_fake)"
    got = check_scalar(name, call_student("discriminator_loss", discriminator_loss, d_real.copy(), d_fake.copy()))
    expected = np.mean(_softplus(-d_real)) + np.mean(_softplus(d_fake))
    hint = ("-mean(log sigmoid(d_real)) - mean(log(1 - sigmoid(d_fake))): the inputs are logits, not "
            "probabilities.")
    if np.isclose(got, np.mean(_softplus(d_real)) + np.mean(_softplus(-d_fake))):
        hint = "real and generated are swapped: the discriminator should say 1 for real and 0 for generated."
    elif np.isclose(got, np.mean(_softplus(-d_real))) or np.isclose(got, np.mean(_softplus(d_fake))):
        hint = "the loss has two terms, one for the real and one for the generated samples; add both."
    elif np.isclose(got, 0.5 * expected):
        hint = "add the two mean losses; do not average them."
    # float64 sums of ~20 terms: rounding only
    check_close(name, got, expected, rtol=1e-6, hint=hint)
    zero = check_scalar("discriminator_loss(0, 0)", call_student("discriminator_loss", discriminator_loss,
                                                                 np.zeros(4), np.zeros(4)))
    check_close("discriminator_loss(0, 0)", zero, 2 * np.log(2), rtol=1e-6,
                hint="at logits 0 the discriminator says 1/2 for everything: the loss is 2 ln 2.")


@answers(TUTORIAL, "generator_loss", "ml4em.gan.ToyGAN.train_step", "ml4em.gan.ScanCompletionGAN.train_step")
def check_generator_loss(generator_loss, *, n=16, seed=2):
    """``generator_loss(d_fake)``: the non-saturating loss -mean(log sigmoid(d_fake))."""
    check_callable(generator_loss, "generator_loss")
    d_fake = _logits(n, seed) - 2.0
    name = "generator_loss(d_fake)"
    got = check_scalar(name, call_student("generator_loss", generator_loss, d_fake.copy()))
    expected = np.mean(_softplus(-d_fake))
    hint = "the generator wants the discriminator to say 1 for its samples: -mean(log sigmoid(d_fake))."
    if np.isclose(got, -np.mean(_softplus(d_fake))):
        hint = ("that is the saturating 'minimax' loss mean(log(1 - sigmoid(d_fake))); its gradient vanishes when "
                "the discriminator wins. Use -mean(log sigmoid(d_fake)).")
    elif np.isclose(got, np.mean(_softplus(d_fake))):
        hint = "the target is 1 (fool the discriminator), not 0."
    check_close(name, got, expected, rtol=1e-6, hint=hint)
    zero = check_scalar("generator_loss(0)", call_student("generator_loss", generator_loss, np.zeros(3)))
    check_close("generator_loss(0)", zero, np.log(2), rtol=1e-6)


@answers(TUTORIAL, "psnr", "ml4em.gan.psnr")
def check_psnr(psnr, *, shape=(3, 16, 16), data_range=1.0, seed=3):
    """``psnr(prediction, target, data_range)``: 10 log10(data_range^2 / MSE) for one image."""
    from .. import gan as ref

    check_callable(psnr, "psnr")
    rng = np.random.default_rng(seed)
    target = rng.random(shape[1:]) * data_range
    prediction = target + 0.05 * data_range * rng.standard_normal(shape[1:])
    name = f"psnr(prediction, target, {data_range})"
    got = check_scalar(name, call_student("psnr", psnr, prediction.copy(), target.copy(), data_range))
    expected = ref.psnr(prediction, target, data_range=data_range)
    mse = np.mean((prediction - target) ** 2)
    hint = "PSNR = 10 log10(data_range**2 / mean squared error), in dB."
    if np.isclose(got, 10 * np.log10(data_range / np.sqrt(mse))) or np.isclose(got, 10 * np.log10(data_range / mse)):
        hint = "square the data range and use the mean SQUARED error: 10 log10(data_range**2 / MSE)."
    elif np.isclose(got, 10 * np.log(data_range**2 / mse)):
        hint = "use the base-10 logarithm (np.log10): decibels."
    elif np.isclose(got, 20 * np.log10(data_range**2 / mse)):
        hint = "the factor is 10 for a ratio of powers (squared quantities)."
    check_close(name, got, expected, rtol=1e-9, hint=hint)


@answers(TUTORIAL, "fill_scan", "ml4em.gan.interpolate_scan")
def check_fill_scan(fill_scan, *, size=24, coverage=0.15, kind="spiral", seed=4):
    """``fill_scan(image, mask)``: linear interpolation of the scanned pixels, nearest value outside their hull."""
    from .. import gan as ref

    check_callable(fill_scan, "fill_scan")
    rng = np.random.default_rng(seed)
    image = rng.random((size, size))
    mask = ref.scan_mask(size, coverage, kind=kind, seed=seed)
    name = f"fill_scan(image, mask) ({kind} scan, {size} x {size})"
    got = check_array(name, call_student("fill_scan", fill_scan,
                                         image.copy(), mask.copy()), shape=(size, size), finite=False)
    check_true(np.all(np.isfinite(got)), f"`{name}` has {int(np.sum(~np.isfinite(got)))} NaN pixels.",
               hint="griddata's linear method gives NaN outside the convex hull of the scanned points: fill those "
                    "pixels with griddata(..., method='nearest').")
    check_close(f"{name} at the scanned pixels", got[mask], image[mask], rtol=1e-9,
                hint="the scanned pixels are measured: keep their values.")
    expected = ref.interpolate_scan(image, mask)
    check_close(name, got, expected, rtol=1e-7, atol=1e-9,
                hint="interpolate with scipy.interpolate.griddata(points, values, grid, method='linear') where points "
                     "are the (row, column) indices of the scanned pixels (np.argwhere(mask)).")


@answers(TUTORIAL, "completion_loss", "ml4em.gan.ScanCompletionGAN.train_step")
def check_completion_loss(completion_loss, *, adversarial_weight=0.01, seed=5):
    """``completion_loss(fake, real, d_fake, adversarial_weight)``: mean |fake - real| + w * generator loss."""
    check_callable(completion_loss, "completion_loss")
    rng = np.random.default_rng(seed)
    real = rng.random((2, 8, 8, 1))
    fake = real + 0.1 * rng.standard_normal(real.shape)
    d_fake = _logits((2, 2, 2, 1), seed)
    name = f"completion_loss(fake, real, d_fake, {adversarial_weight})"
    got = check_scalar(name, call_student("completion_loss", completion_loss,
                                          fake.copy(), real.copy(), d_fake.copy(), adversarial_weight))
    l1 = np.mean(np.abs(fake - real))
    adv = np.mean(_softplus(-d_fake))
    expected = l1 + adversarial_weight * adv
    hint = "the sum of the L1 term mean(|fake - real|) and adversarial_weight times -mean(log sigmoid(d_fake))."
    if np.isclose(got, np.mean((fake - real) ** 2) + adversarial_weight * adv):
        hint = "use the mean ABSOLUTE error (L1), not the squared one: it blurs less."
    elif np.isclose(got, l1):
        hint = "you left out the adversarial term adversarial_weight * generator loss."
    elif np.isclose(got, l1 + adv):
        hint = "multiply the adversarial term by adversarial_weight."
    check_close(name, got, expected, rtol=1e-6, hint=hint)
