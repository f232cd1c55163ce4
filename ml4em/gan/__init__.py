"""Generative adversarial networks: a toy game in 2-D and the completion of partial STEM scans.

The toy: :class:`ToyGAN` learns a ring of Gaussians (:func:`sample_ring`) from
noise; :func:`mode_coverage` tells whether it found every mode or collapsed
onto a few.

Partial scans: a scan that visits about 10 % of the pixels (:func:`scan_mask`,
along a spiral, random lines or random points) cuts dose and time; a
generator completes it to the full image. The baseline is linear
interpolation (:func:`interpolate_scan`); the model is a U-Net generator
trained with an L1 loss plus an adversarial loss from a patch discriminator
(:class:`ScanCompletionGAN`, wrapped by :class:`ScanCompleter`), scored by
:func:`psnr` and :func:`ssim`. The approach follows Ede & Beanland, Sci. Rep.
10, 8332 (2020), doi:10.1038/s41598-020-65261-0; the conditional GAN with an
L1 term is pix2pix (Isola et al., arXiv:1611.07004).

Submodules:

- :mod:`ml4em.gan.toy`         the adversarial game on a ring of Gaussians, and mode coverage
- :mod:`ml4em.gan.scans`       partial-scan masks, scaling, and the interpolation baseline
- :mod:`ml4em.gan.metrics`     image quality: PSNR and SSIM
- :mod:`ml4em.gan.completion`  the completion GAN (Keras 3 ``train_step``), :class:`ScanCompleter`, figures and explorer

The models are Keras 3 code on the TensorFlow backend.

Used in: tutorials/05_gan.
"""

from .completion import (
    ScanCompleter,
    ScanCompletionGAN,
    adversarial_step,
    build_completion_generator,
    build_patch_discriminator,
    completion_inputs,
    coverage_explorer,
    plot_completion,
)
from .metrics import psnr, ssim
from .scans import interpolate_scan, normalize_scans, scan_mask, scan_masks
from .toy import ToyGAN, build_mlp, mode_coverage, plot_toy_samples, sample_ring, train_toy_gan

__all__ = ["sample_ring", "build_mlp", "ToyGAN", "train_toy_gan", "plot_toy_samples", "mode_coverage", "scan_mask",
           "scan_masks", "normalize_scans", "interpolate_scan", "psnr", "ssim", "completion_inputs",
           "build_patch_discriminator", "build_completion_generator", "ScanCompletionGAN", "adversarial_step",
           "ScanCompleter", "plot_completion", "coverage_explorer"]
