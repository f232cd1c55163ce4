"""The EELS replica method: ZLP subtraction with uncertainties, band gaps and spectral images.

A zero-loss-peak (ZLP) model is trained on Monte Carlo replicas of the
measured spectra, one small neural network per replica, without assuming a
shape for the peak; the spread of the networks carries the uncertainty into
everything derived from the ZLP-subtracted spectrum (Roest et al.,
Ultramicroscopy 222 (2021) 113202, doi:10.1016/j.ultramic.2021.113202,
arXiv:2009.05050; Brokkelkamp et al., J. Phys. Chem. A 126 (2022) 1255,
doi:10.1021/acs.jpca.1c09566, arXiv:2110.09402).

Modules, one topic each:

- :mod:`~ml4em.eels.axis`        energy axis, ZLP centre and alignment, FWHM, t/lambda
- :mod:`~ml4em.eels.regions`     the automatic choice of dE1 and dE2
- :mod:`~ml4em.eels.replicas`    training data, Monte Carlo replicas, splits, chi2
- :mod:`~ml4em.eels.model`       the ensemble of networks with a replica axis: weights, forward pass, Jacobian
- :mod:`~ml4em.eels.lm`          Levenberg-Marquardt training of all replicas at once, with early stopping
- :mod:`~ml4em.eels.zlp`         :class:`ZLPEnsemble`, the ZLP model with uncertainties
- :mod:`~ml4em.eels.predict`     medians, 68% bands, chi2 cut, coverage
- :mod:`~ml4em.eels.subtract`    matching the ZLP to a spectrum and subtracting it
- :mod:`~ml4em.eels.bandgap`     band-gap fits per replica
- :mod:`~ml4em.eels.pipeline`    spectra to band gap in one call (regions, ensemble, subtraction, fit, warnings)
- :mod:`~ml4em.eels.memory`      the memory the replicas need, checked before any training
- :mod:`~ml4em.eels.classical`   the classical ZLP subtractions it replaces (power law, reflected tail, scaled vacuum)
- :mod:`~ml4em.eels.extrapolate` ZLPs that depend on exposure time or beam energy
- :mod:`~ml4em.eels.image`       spectral images: clustering, ZLP per cluster, band-gap maps
- :mod:`~ml4em.eels.lazy`        spectral images of any size: chunked with dask, resumable store
- :mod:`~ml4em.eels.plots`       the figures shared by tutorials and the command line
- :mod:`~ml4em.eels.explorers`   the sliders of the EELS tutorials
- :mod:`~ml4em.eels.teaching`    small, fast pieces for the tutorials' exercises and the course's versions of them
- :mod:`~ml4em.eels.cli`         the ``ml4em zlp`` command
- :mod:`~ml4em.eels.cli_checks`  its checks of the input files and spectra before the work
- :mod:`~ml4em.eels.cli_output`  its output folders: marker file, temporary folder, rename, SIGTERM
- :mod:`~ml4em.eels.cli_image`   the ``ml4em zlp-image`` command
"""

from .bandgap import BandGapFit, band_gap_model, default_window, fit_band_gap
from .classical import Subtraction, subtract_power_law, subtract_reflected_tail, subtract_scaled_vacuum
from .extrapolate import ZLPSeries, make_zlp_series, relative_band_width
from .image import BandGapMaps, ImageZLP, cluster_by_thickness, load_spectral_image
from .axis import (align_zlp, check_spectra, estimate_thickness, fwhm, integrated_intensity,
                   zero_loss_intensity, zlp_centre)
from .lazy import ImageMaps, LazySpectralImage, open_spectral_image, process_spectral_image
from .lm import LMResult, train_lm
from .model import MLPShape, forward, init_params, jacobian
from .pipeline import SpectrumAnalysis, analyse_spectra, choose_window
from .predict import Band, band, coverage, select_replicas
from .regions import choose_dE1, choose_dE2, choose_regions, first_local_minimum, noise_level, smooth_spectrum
from .replicas import TrainingSet, chi2_per_point, make_replicas, make_training_set, split_replicas
from .subtract import match_zlp, matching_weight, subtract_zlp, subtracted_band
from .zlp import ZLPEnsemble

__all__ = ["SpectrumAnalysis", "analyse_spectra", "choose_window", "Subtraction", "subtract_power_law", "subtract_reflected_tail", "subtract_scaled_vacuum",
    "ImageMaps", "LazySpectralImage", "open_spectral_image", "process_spectral_image",
    "Band", "BandGapFit", "BandGapMaps", "ImageZLP", "LMResult", "MLPShape", "TrainingSet",
    "ZLPEnsemble", "ZLPSeries", "band_gap_model", "cluster_by_thickness", "default_window", "fit_band_gap",
    "load_spectral_image", "make_zlp_series", "match_zlp", "matching_weight", "relative_band_width",
    "subtract_zlp", "subtracted_band", "estimate_thickness",
    "align_zlp", "band", "check_spectra", "chi2_per_point", "choose_dE1", "choose_dE2", "choose_regions",
    "coverage", "first_local_minimum", "forward", "fwhm", "init_params", "integrated_intensity", "jacobian",
    "make_replicas", "make_training_set", "noise_level", "select_replicas", "smooth_spectrum", "split_replicas",
    "train_lm", "zero_loss_intensity", "zlp_centre",
]
