"""The checks of tutorial 05 (ml4em.checks.gan) accept right answers and name the typical mistakes.

Every wrong answer below is one a student might write; its check must fail with a message that names the mistake.
"""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from ml4em import gan as ref
from ml4em.checks import CheckFailure
from ml4em.checks import gan as checks


def discriminator_loss(d_real, d_fake):
    return ops.mean(ops.logaddexp(0.0, -d_real)) + ops.mean(ops.logaddexp(0.0, d_fake))


def completion_loss(fake, real, d_fake, adversarial_weight):
    return ops.mean(ops.abs(fake - real)) + adversarial_weight * ops.mean(ops.logaddexp(0.0, -d_fake))


def make_step(*, d_loss=discriminator_loss, g_loss=completion_loss, d_weights="d", g_weights="g", apply_d=True,
              noise_seed="seed", old_discriminator=False, as_float=False, noise=True, d_training=True):
    """A training step with one mistake switched on by its arguments (the defaults give the right step)."""

    def train_step(gan, x, y, seed):
        chosen = {"seed": seed, "none": None, "fixed": 7}[noise_seed]
        if noise_seed == "fixed":
            chosen = keras.random.SeedGenerator(7)

        def noisy(image):
            if not noise:
                return image
            return image + gan.instance_noise * keras.random.normal(ops.shape(image), seed=chosen)

        pick = {"d": gan.discriminator.trainable_weights, "g": gan.generator.trainable_weights,
                "both": gan.discriminator.trainable_weights + gan.generator.trainable_weights}
        with tf.GradientTape() as tape:
            fake = gan.generator(x, training=True)
            d_real = gan.discriminator([x, noisy(y)], training=d_training)
            d_fake = gan.discriminator([x, noisy(fake)], training=d_training)
            loss_d = d_loss(d_real, d_fake)
        weights = pick[d_weights]
        if apply_d:
            gan.d_optimizer.apply_gradients(zip(tape.gradient(loss_d, weights), weights))
        with tf.GradientTape() as tape:
            fake = gan.generator(x, training=True)
            logits = d_fake if old_discriminator else gan.discriminator([x, noisy(fake)], training=True)
            if old_discriminator:
                logits = gan.discriminator([x, noisy(fake)], training=True) * 0 + logits
            loss_g = g_loss(fake, y, logits, gan.adversarial_weight)
        weights = pick[g_weights]
        gan.g_optimizer.apply_gradients(zip(tape.gradient(loss_g, weights), weights))
        if as_float:
            return {"d_loss": float(loss_d), "g_loss": float(loss_g)}
        return {"d_loss": loss_d, "g_loss": loss_g}

    return train_step


def test_right_losses_and_step_pass():
    checks.check_discriminator_loss(discriminator_loss)
    checks.check_generator_loss(lambda d_fake: ops.mean(ops.logaddexp(0.0, -d_fake)))
    checks.check_completion_loss(completion_loss)
    checks.check_train_step(make_step())
    checks.check_train_step(make_step(), batch=3, size=24, adversarial_weight=1.0, seed=4)


@pytest.mark.parametrize("kwargs, message", [
    (dict(d_weights="both"), "generator was updated in the discriminator step"),
    (dict(g_weights="both"), "discriminator's weights changed in the generator step"),
    (dict(apply_d=False), "applied no gradient with gan.d_optimizer"),
    (dict(d_loss=lambda r, f: discriminator_loss(f, r)), "labels are swapped"),
    (dict(g_loss=lambda f, y, d, w: ops.mean(ops.abs(f - y)) + w * ops.mean(ops.logaddexp(0.0, d))),
     "generator's label is swapped"),
    (dict(g_loss=lambda f, y, d, w: completion_loss(f, y, d, 1.0)), "weight the adversarial term"),
    (dict(noise_seed="none"), "same seed gave different results"),
    (dict(noise_seed="fixed"), "the `seed` argument is ignored"),
    (dict(noise=False), "instance noise"),
    (dict(as_float=True), "not a tensor"),
    (dict(d_training=False), "training=True"),
])
def test_wrong_steps_fail_naming_the_mistake(kwargs, message):
    with pytest.raises(CheckFailure, match=re.escape(message)):
        checks.check_train_step(make_step(**kwargs))


def test_generator_step_against_the_old_discriminator_fails():
    with pytest.raises(CheckFailure, match=re.escape("g_loss")):
        checks.check_train_step(make_step(old_discriminator=True))


def test_package_step_is_refused():
    with pytest.raises(CheckFailure, match=re.escape("ml4em.gan.adversarial_step")):
        checks.check_train_step(ref.adversarial_step)
    with pytest.raises(CheckFailure, match=re.escape("ml4em.gan.adversarial_step")):
        checks.check_train_step(lambda gan, x, y, seed: ref.adversarial_step(gan, x, y, seed))


@pytest.mark.parametrize("check, loss", [
    (checks.check_discriminator_loss, lambda r, f: np.mean(np.logaddexp(0, -r)) + np.mean(np.logaddexp(0, f))),
    (checks.check_generator_loss, lambda f: float(np.mean(np.logaddexp(0, -np.asarray(f))))),
    (checks.check_completion_loss,
     lambda f, r, d, w: np.mean(np.abs(f - r)) + w * np.mean(np.logaddexp(0, -d))),
])
def test_numpy_losses_that_cut_the_gradient_tape_fail(check, loss):
    with pytest.raises(CheckFailure, match="keras.ops"):
        check(loss)


def test_interp_gain_is_computed_from_the_explorer():
    low, high = checks._explorer_psnr(0.05), checks._explorer_psnr(0.3)
    assert high > low + 1.0  # more pixels, better interpolation
    checks.check_interp_gain(round(high, 1) - round(low, 1))
    with pytest.raises(CheckFailure, match="sign"):
        checks.check_interp_gain(low - high)
    with pytest.raises(CheckFailure, match="interp_gain_db"):
        checks.check_interp_gain(high - low + 0.3)
