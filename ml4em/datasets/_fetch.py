"""Fetching registered data files into the local cache, checked by sha256.

The cache folder is ``ML4EM_DATA_DIR`` when that variable is set, else the
user's cache (``~/.cache/ml4em`` on Linux). A file already there with the
registered hash is used without any network access, so a read-only mirror
(a course's shared folder on JupyterHub, or CI's copy) works offline. A file
whose hash differs is never used: it is downloaded again, or the error says
what is wrong.
"""

import hashlib
import os
from pathlib import Path

from ._registry import BASE_URL, REGISTRY

__all__ = ["DATA_ENV", "URL_ENV", "DataUnavailableError", "data_dir", "fetch", "download_all",
           "file_sha256"]

DATA_ENV = "ML4EM_DATA_DIR"
URL_ENV = "ML4EM_DATA_URL"


class DataUnavailableError(OSError):
    """A registered data file is neither in the cache nor downloadable."""


def data_dir():
    """Return the folder where data files are looked for and cached.

    Returns
    -------
    pathlib.Path
        ``$ML4EM_DATA_DIR`` if set and not empty, else the user's cache folder.
    """
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("ml4em"))


def file_sha256(path):
    """Return the hex sha256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _how_to_fix(folder):
    return (
        f"To fix it: connect to the internet and run `ml4em data download`, or set "
        f"{DATA_ENV} to a folder that already holds the files (a course mirror prepared with "
        f"`ml4em data download`; currently {DATA_ENV}={os.environ.get(DATA_ENV, '') or '(not set)'}, "
        f"looked in {folder})."
    )


def fetch(relpath, *, progressbar=False):
    """Return the local path of registered file ``relpath``, downloading it if needed.

    Parameters
    ----------
    relpath : str
        Key of :data:`ml4em.datasets.REGISTRY`, e.g.
        ``"Specimen_4/(14)_m4d054eV_45d471eV.txt"``.
    progressbar : bool, default False
        Show a download progress bar.

    Returns
    -------
    pathlib.Path
        A file whose sha256 matches the registry.

    Raises
    ------
    ValueError
        If ``relpath`` is not registered.
    DataUnavailableError
        If the file is missing or corrupt and cannot be downloaded; the message
        names ``ML4EM_DATA_DIR`` and ``ml4em data download``.
    """
    if relpath not in REGISTRY:
        known = ", ".join(sorted(REGISTRY)[:3])
        raise ValueError(f"relpath={relpath!r} is not a registered ml4em data file; "
                         f"known files look like {known} (see ml4em.datasets.REGISTRY).")
    folder = data_dir()
    target = folder / relpath
    expected = REGISTRY[relpath]
    problem = "is missing"
    if target.is_file():
        got = file_sha256(target)
        if got == expected:
            return target
        problem = (f"exists but its sha256 is {got}, not the registered {expected} "
                   "(a partial download or another file), so it was not used")
    import pooch

    base_url = os.environ.get(URL_ENV, "").strip() or BASE_URL
    if not base_url.endswith("/"):
        base_url += "/"
    fetcher = pooch.create(path=folder, base_url=base_url, registry={relpath: f"sha256:{expected}"},
                           retry_if_failed=1)
    downloader = pooch.HTTPDownloader(progressbar=progressbar, timeout=20)
    try:
        return Path(fetcher.fetch(relpath, downloader=downloader))
    except Exception as err:  # network, permission or hash errors all end here
        raise DataUnavailableError(
            f"The data file {relpath!r} {problem} in {folder}, and downloading it from "
            f"{base_url} failed ({type(err).__name__}: {err}). " + _how_to_fix(folder)
        ) from err


def download_all(*, progressbar=True):
    """Download every registered file into :func:`data_dir` (for offline use).

    Returns
    -------
    list of pathlib.Path
        The local paths, in registry order.
    """
    return [fetch(name, progressbar=progressbar) for name in REGISTRY]
