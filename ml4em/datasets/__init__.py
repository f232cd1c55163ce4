"""Data for the course: real spectra from a checked registry, readers and seeded synthetic data.

Real data are never stored in the repository: :func:`fetch` downloads a
registered file (pinned origin, sha256-checked) into :func:`data_dir`, which
``ML4EM_DATA_DIR`` overrides. ``ml4em data download`` prepares a cache for
offline use (a JupyterHub without internet).
"""

from ._fetch import DATA_ENV, URL_ENV, DataUnavailableError, data_dir, download_all, fetch, file_sha256
from ._registry import BASE_URL, REGISTRY
from .readers import SUPPORTED_SUFFIXES, Spectrum, read_spectrum
from .spectral_image import SpectralImage, make_spectral_image
from .synthetic import (
    REGRESSION_FUNCTIONS,
    LowLossTruth,
    energy_axis,
    make_lowloss_spectrum,
    make_regression_data,
    zlp_profile,
)
from .ws2 import LowLossSpectra, bin_centres, load_ws2_lowloss, parse_energy_range

__all__ = [
    "BASE_URL",
    "DATA_ENV",
    "REGISTRY",
    "SUPPORTED_SUFFIXES",
    "URL_ENV",
    "DataUnavailableError",
    "LowLossSpectra",
    "LowLossTruth",
    "REGRESSION_FUNCTIONS",
    "Spectrum",
    "SpectralImage",
    "bin_centres",
    "data_dir",
    "download_all",
    "energy_axis",
    "fetch",
    "file_sha256",
    "load_ws2_lowloss",
    "make_lowloss_spectrum",
    "make_regression_data",
    "make_spectral_image",
    "parse_energy_range",
    "read_spectrum",
    "zlp_profile",
]
