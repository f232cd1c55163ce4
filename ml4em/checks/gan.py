"""Checks for tutorials/05_gan.

The reference answers are written out here from their definitions (losses on
logits), or come from :mod:`ml4em.gan` (PSNR, interpolation of partial scans).
Each check refuses the package's own implementation of its exercise (see
:mod:`ml4em.checks._own`); the package computes the three losses only inside
the ``train_step`` of its GANs. The losses must also work on TensorFlow tensors with a gradient (keras.ops),
since the student's training step (:func:`check_train_step`) differentiates them.
"""

import contextlib
import os
import sys

import numpy as np

from ._core import call_student, check_array, check_callable, check_close, check_scalar, check_true
from ._own import answers

TUTORIAL = "05_gan"

__all__ = ["check_discriminator_loss", "check_generator_loss", "check_psnr", "check_fill_scan",
           "check_completion_loss", "check_train_step", "check_interp_gain", "EXPLORER_COVERAGES"]

_TENSOR_HINT = ("numpy functions (np.mean, np.logaddexp, np.abs) and float() turn a tensor into a numpy number "
                "and cut the GradientTape; write the loss with keras.ops (ops.mean, ops.logaddexp, ops.abs) and "
                "return the tensor they give.")


@contextlib.contextmanager
def _quiet_native_log():
    """Send what TensorFlow's C++ code writes to file descriptor 2 (oneDNN notices such as "oneDNN supports DT_INT32
    only on platforms with AVX-512") to /dev/null while the check runs: nbgrader scores a test cell that writes to
    stderr 0. Python's own warnings and errors are not affected."""
    try:
        sys.stderr.flush()
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no file descriptor 2 to redirect
        yield
        return
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _softplus(x):
    return np.logaddexp(0.0, x)  # log(1 + e^x) without overflow


def _logits(n, seed, scale=2.0):
    return scale * np.random.default_rng(seed).standard_normal(n)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _check_gradient(label, fn, args, which, expected):
    """Call ``fn`` on float32 tensors inside a GradientTape and compare the gradient with respect to the
    argument numbers in ``which`` with ``expected`` (one array each)."""
    with _quiet_native_log():
        _compare_gradient(label, fn, args, which, expected)


def _compare_gradient(label, fn, args, which, expected):
    import tensorflow as tf

    tensors = [tf.constant(np.asarray(a, np.float32)) if isinstance(a, np.ndarray) else a for a in args]
    with tf.GradientTape() as tape:
        for i in which:
            tape.watch(tensors[i])
        out = call_student(label, fn, *tensors)
    check_true(tf.is_tensor(out), f"`{label}` on TensorFlow tensors returned {type(out).__name__}, not a tensor: "
               "the training step of exercise 5 cannot differentiate it.", hint=_TENSOR_HINT)
    grads = tape.gradient(out, [tensors[i] for i in which])
    for i, grad, want in zip(which, grads, expected):
        check_true(grad is not None, f"`{label}` on TensorFlow tensors has no gradient with respect to argument "
                   f"{i + 1}.", hint=_TENSOR_HINT)
        # float32 arithmetic on ~20 values: relative rounding ~1e-6
        check_close(f"the gradient of `{label}` with respect to argument {i + 1}", np.asarray(grad, float), want,
                    rtol=1e-4, atol=1e-6)


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
    _check_gradient("discriminator_loss(d_real, d_fake)", discriminator_loss, [d_real, d_fake], (0, 1),
                    [-_sigmoid(-d_real) / d_real.size, _sigmoid(d_fake) / d_fake.size])


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
    _check_gradient("generator_loss(d_fake)", generator_loss, [d_fake], (0,), [-_sigmoid(-d_fake) / d_fake.size])


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
    _check_gradient(name, completion_loss, [fake, real, d_fake, adversarial_weight], (0, 2),
                    [np.sign(fake - real) / fake.size, -adversarial_weight * _sigmoid(-d_fake) / d_fake.size])


# ---------------------------------------------------------------- the adversarial training step

def _spy_optimizer(learning_rate, log, label):
    """Plain SGD (an update proportional to the gradient, unlike Adam's first step) that notes every update."""
    import keras

    class SpySGD(keras.optimizers.SGD):
        def apply(self, grads, trainable_variables=None):
            grads = list(grads)
            variables = list(self._trainable_variables if trainable_variables is None else trainable_variables)
            log.append((label, [id(v) for v in variables], [g is None for g in grads]))
            return super().apply(grads, trainable_variables)

    return SpySGD(learning_rate)


class _Case:
    """Small completion networks, reset to the same initial weights before every run, with fresh spy optimisers."""

    def __init__(self, seed, *, adversarial_weight, instance_noise, learning_rate):
        import keras

        from .. import gan as ref

        # the patch discriminator behind a batch normalisation of the image it judges: then training=True (batch
        # statistics) and training=False (moving statistics) give different logits, as they do for the generator
        patch = ref.build_patch_discriminator(filters=4, n_layers=2, seed=seed + 1)
        condition, image = keras.Input(shape=(None, None, 2)), keras.Input(shape=(None, None, 1))
        logits = patch([condition, keras.layers.BatchNormalization(momentum=0.5)(image)])
        discriminator = keras.Model([condition, image], logits, name="normalised_patch_discriminator")
        self.model = ref.ScanCompletionGAN(ref.build_completion_generator(filters=4, depth=2, seed=seed),
                                           discriminator, instance_noise=instance_noise)
        self.initial = (self.model.generator.get_weights(), self.model.discriminator.get_weights())
        self.adversarial_weight, self.learning_rate = adversarial_weight, learning_rate

    def reset(self):
        """The model at its initial weights, compiled with new spy optimisers; returns (model, log)."""
        log = []
        self.model.generator.set_weights(self.initial[0])
        self.model.discriminator.set_weights(self.initial[1])
        self.model.compile(_spy_optimizer(self.learning_rate, log, "d"), _spy_optimizer(self.learning_rate, log, "g"),
                           adversarial_weight=self.adversarial_weight)
        return self.model, log


def _weights(model):
    return np.concatenate([np.ravel(np.asarray(w)) for w in model.trainable_weights])


def _run_step(train_step, data, case, noise_seed):
    import keras

    model, log = case.reset()
    before = (_weights(model.generator), _weights(model.discriminator))
    out = _step_output(call_student("train_step", train_step, model, *data, keras.random.SeedGenerator(noise_seed)))
    after = (_weights(model.generator), _weights(model.discriminator))
    return model, log, out, before, after


def _step_output(out):
    import tensorflow as tf

    name = "train_step(gan, x, y, seed)"
    check_true(isinstance(out, dict) and {"d_loss", "g_loss"} <= set(out),
               f"`{name}` should return a dict with the keys 'd_loss' and 'g_loss'; got {out!r:.80}.")
    for key in ("d_loss", "g_loss"):
        check_true(tf.is_tensor(out[key]), f"`{name}['{key}']` is {type(out[key]).__name__}, not a tensor.",
                   hint="keras' fit runs your step as a TensorFlow graph, where float() and .numpy() do not work: "
                        "return the losses as the tensors your loss functions give (written with keras.ops).")
    return {key: check_scalar(f"{name}['{key}']", out[key]) for key in ("d_loss", "g_loss")}


def _mean_softplus(x):
    return float(np.mean(_softplus(np.asarray(x, dtype=float))))


@answers(TUTORIAL, "train_step", "ml4em.gan.adversarial_step")
def check_train_step(train_step, *, batch=2, size=16, adversarial_weight=0.5, instance_noise=0.1, learning_rate=0.05,
                     seed=0):
    """``train_step(gan, x, y, seed)``: one discriminator update on real against generated completions, then one
    generator update against the updated discriminator, with the student's losses; returns the two losses.

    The student's step runs on small networks with spy optimisers (plain SGD that notes which weights each one
    updates) and is compared with :func:`ml4em.gan.adversarial_step` from the same initial weights.
    """
    with _quiet_native_log():
        _check_train_step(train_step, batch=batch, size=size, adversarial_weight=adversarial_weight,
                          instance_noise=instance_noise, learning_rate=learning_rate, seed=seed)


def _check_train_step(train_step, *, batch, size, adversarial_weight, instance_noise, learning_rate, seed):
    import keras
    import tensorflow as tf

    from .. import gan as ref

    check_callable(train_step, "train_step")
    rng = np.random.default_rng(seed)
    images = rng.random((batch, size, size))
    masks = rng.random((batch, size, size)) < 0.3
    x = tf.constant(ref.completion_inputs(images, masks))
    y = tf.constant(images[..., None].astype(np.float32))
    case = _Case(1000 + seed, adversarial_weight=adversarial_weight, instance_noise=instance_noise,
                 learning_rate=learning_rate)
    noise_seed = 2000 + seed
    model, log, out, (g0, d0), (g1, d1) = _run_step(train_step, (x, y), case, noise_seed)

    # which optimiser updated which weights, and in which order
    g_ids = {id(v) for v in model.generator.trainable_weights}
    d_ids = {id(v) for v in model.discriminator.trainable_weights}
    d_calls = [(ids, none) for label, ids, none in log if label == "d"]
    g_calls = [(ids, none) for label, ids, none in log if label == "g"]
    check_true(d_calls, "`train_step` applied no gradient with gan.d_optimizer: the discriminator was not trained.",
               hint="grads = tape.gradient(d_loss, gan.discriminator.trainable_weights); then "
                    "gan.d_optimizer.apply_gradients(zip(grads, gan.discriminator.trainable_weights)).")
    check_true(g_calls, "`train_step` applied no gradient with gan.g_optimizer: the generator was not trained.",
               hint="grads = tape.gradient(g_loss, gan.generator.trainable_weights); then "
                    "gan.g_optimizer.apply_gradients(zip(grads, gan.generator.trainable_weights)).")
    check_true(not any(set(ids) & g_ids for ids, _ in d_calls),
               "the generator was updated in the discriminator step: gan.d_optimizer received the generator's "
               "weights.", hint="in the discriminator step differentiate d_loss with respect to "
                                "gan.discriminator.trainable_weights only.")
    check_true(not any(set(ids) & d_ids for ids, _ in g_calls),
               "the discriminator's weights changed in the generator step: gan.g_optimizer received the "
               "discriminator's weights.", hint="in the generator step differentiate g_loss with respect to "
                                                "gan.generator.trainable_weights only.")
    check_true(len(d_calls) == 1 and len(g_calls) == 1,
               f"one step updates each network once; gan.d_optimizer was applied {len(d_calls)} times and "
               f"gan.g_optimizer {len(g_calls)} times.")
    check_true(log[0][0] == "d", "the generator was updated before the discriminator.",
               hint="first the discriminator step, then the generator step against the updated discriminator.")
    for label, (ids, none), part in (("discriminator", d_calls[0], d_ids), ("generator", g_calls[0], g_ids)):
        check_true(set(ids) == part, f"only some of the {label}'s weights were updated ({len(set(ids) & part)} of "
                   f"{len(part)}).", hint=f"use all of gan.{label}.trainable_weights.")
        check_true(not any(none), f"tape.gradient gave None for {sum(none)} of the {label}'s weights: its loss was "
                   "not computed from the network's output inside the GradientTape, or it went through numpy.",
                   hint="compute the loss inside `with tf.GradientTape() as tape:` from the network's output. "
                        + _TENSOR_HINT)
    check_true(np.any(d1 != d0) and np.any(g1 != g0), "the weights did not change in `train_step`.",
               hint="apply the gradients with the optimisers.")

    # the seed: the same seed gives the same step, another seed other instance noise
    _, _, again, _, (g2, d2) = _run_step(train_step, (x, y), case, noise_seed)
    # the same float32 computation twice: equal up to the order of reductions
    check_true(np.allclose(list(again.values()), list(out.values()), rtol=1e-5, atol=1e-7)
               and np.allclose(d2, d1, rtol=1e-4, atol=1e-6) and np.allclose(g2, g1, rtol=1e-4, atol=1e-6),
               "two calls of `train_step` with the same seed gave different results.",
               hint="draw the instance noise with keras.random.normal(ops.shape(image), seed=seed), from the `seed` "
                    "argument, not without a seed.")
    _, _, other, _, _ = _run_step(train_step, (x, y), case, noise_seed + 1)
    check_true(not np.isclose(other["d_loss"], out["d_loss"], rtol=1e-6, atol=0.0),
               "`train_step` gave the same discriminator loss for two different seeds: the `seed` argument is "
               "ignored.", hint="draw the instance noise with keras.random.normal(..., seed=seed) with the `seed` "
                                "you are given.")

    # the reference step on an identical copy
    probe, _ = case.reset()  # the initial networks: their logits without noise
    fake0 = probe.generator(x, training=True)
    d_real_clean = probe.discriminator([x, y], training=True)
    d_fake_clean = probe.discriminator([x, fake0], training=True)
    record = {}
    reference, _ = case.reset()
    want = {k: float(v) for k, v in ref.adversarial_step(reference, x, y, keras.random.SeedGenerator(noise_seed),
                                                        record=record).items()}
    d_real, d_fake = np.asarray(record["d_real"]), np.asarray(record["d_fake"])
    hint = ("L_D = discriminator_loss(D(x, y + noise), D(x, fake + noise)) with your function of exercise 1, with "
            "both networks called with training=True.")
    if np.isclose(out["d_loss"], _mean_softplus(d_real) + _mean_softplus(-d_fake), rtol=1e-4):
        hint = ("the labels are swapped: the discriminator should say 1 (real) for the full scan y and 0 for the "
                "completion: discriminator_loss(d_real, d_fake).")
    elif np.isclose(out["d_loss"], _mean_softplus(-np.asarray(d_real_clean)) + _mean_softplus(
            np.asarray(d_fake_clean)), rtol=1e-4):
        hint = "the discriminator should see both images with instance noise added."
    check_close("train_step(...)['d_loss']", out["d_loss"], want["d_loss"], rtol=1e-4, hint=hint)

    fake_g, d_fake_g = np.asarray(record["fake_g"]), np.asarray(record["d_fake_g"])
    l1 = float(np.mean(np.abs(fake_g - np.asarray(y))))
    hint = ("L_G = completion_loss(fake, y, D(x, fake + noise), gan.adversarial_weight) with your function of "
            "exercise 4, with a new completion and the updated discriminator.")
    if np.isclose(out["g_loss"], l1 + adversarial_weight * _mean_softplus(d_fake_g), rtol=1e-4):
        hint = "the generator's label is swapped: it wants the discriminator to say 1 (real) for its completions."
    elif np.isclose(out["g_loss"], l1 + _mean_softplus(-d_fake_g), rtol=1e-4) and adversarial_weight != 1:
        hint = "weight the adversarial term with gan.adversarial_weight."
    elif np.isclose(out["g_loss"], l1, rtol=1e-4):
        hint = "the adversarial term is missing from the generator's loss."
    check_close("train_step(...)['g_loss']", out["g_loss"], want["g_loss"], rtol=1e-4, hint=hint)

    # float32 steps of plain SGD: the updates agree to rounding (relative ~1e-5 of the largest update)
    for label, mine, theirs, start in (("discriminator", d1, _weights(reference.discriminator), d0),
                                       ("generator", g1, _weights(reference.generator), g0)):
        step_ref, step_mine = theirs - start, mine - start
        scale = float(np.max(np.abs(step_ref)))
        hint = None
        if np.allclose(step_mine, -step_ref, rtol=1e-2, atol=1e-2 * scale):
            hint = "the update goes uphill: apply the gradient of the loss to be minimised, with the optimiser."
        check_close(f"the update of the {label}'s weights in train_step", step_mine, step_ref, rtol=1e-2,
                    atol=1e-3 * scale, hint=hint)


# ---------------------------------------------------------------- the graded Think! of the coverage explorer

#: The coverages (fractions of the pixels) and the specimen seed of the tutorial's coverage explorer.
EXPLORER_COVERAGES = (0.05, 0.1, 0.2, 0.3)
EXPLORER_SEED = 21


def _explorer_psnr(coverage, method="interpolation"):
    import matplotlib.pyplot as plt

    from .. import gan as ref

    fig, ax = plt.subplots()
    try:
        return float(ref.coverage_explorer(None, seed=EXPLORER_SEED)(ax, coverage, method))
    finally:
        plt.close(fig)


@answers(TUTORIAL, "interp_gain_db", "ml4em.gan.coverage_explorer", student=())
def check_interp_gain(interp_gain_db, *, low=0.05, high=0.3):
    """``interp_gain_db``: how many dB interpolation's PSNR rises from coverage ``low`` to ``high`` in the explorer
    (to 0.1 dB: each panel shows its PSNR to one decimal, so their difference is known to within 0.1 dB)."""
    value = check_scalar("interp_gain_db", interp_gain_db)
    at_low, at_high = _explorer_psnr(low), _explorer_psnr(high)
    want = at_high - at_low
    hint = (f"read interpolation's PSNR in the corner of the panels at coverage {low} and {high} and subtract: "
            f"PSNR({high}) - PSNR({low}).")
    if np.isclose(value, -want, atol=0.11):
        hint = f"the sign: the PSNR at coverage {high} minus the one at {low}; more pixels, higher PSNR."
    check_close("interp_gain_db", value, want, rtol=0.0, atol=0.101, hint=hint)
