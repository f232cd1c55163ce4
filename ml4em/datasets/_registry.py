"""Registry of the data files that ml4em downloads at run time.

``REGISTRY`` maps a path relative to the data folder (and to ``BASE_URL``) to
its sha256. The files are never part of the repository or the package.

WS2 low-loss spectra: published with the EELSfitter code of Roest et al.,
Ultramicroscopy 222 (2021) 113202, arXiv:2009.05050 (code DOI
10.5281/zenodo.4020657). No licence is stated for these data files, so ml4em
only fetches them from their public origin, pinned to one commit.
"""

__all__ = ["BASE_URL", "ORIGIN_COMMIT", "REGISTRY", "WS2_SAMPLE", "WS2_VACUUM"]

ORIGIN_COMMIT = "a757c6aa16a16c41f1aa4a9f9693715658cc5f5e"
BASE_URL = (
    "https://raw.githubusercontent.com/LHCfitNikhef/EELSfitter/"
    f"{ORIGIN_COMMIT}/EELSFitter_v1/Data/"
)

WS2_SAMPLE = [
    "Specimen_4/(14)_m4d054eV_45d471eV.txt",
    "Specimen_4/(15)_m4d054eV_45d471eV.txt",
    "Specimen_4/(16)_m4d054eV_45d471eV.txt",
    "Specimen_4/(19)_m4d054eV_45d471eV.txt",
    "Specimen_4/(20)_m4d054eV_45d471eV.txt",
    "Specimen_4/(21)_m4d054eV_45d471eV.txt",
]
WS2_VACUUM = [
    "Specimen_4/(17)_Vacuum_m4d054eV_45d471eV.txt",
    "Specimen_4/(22)_Vacuum_m4d054eV_45d471eV.txt",
    "Specimen_4/(23)_Vacuum_m4d054eV_45d471eV.txt",
]

REGISTRY = {
    "Specimen_4/(14)_m4d054eV_45d471eV.txt": "e5c63875a78ba3926c37b2e91fda983d06f6938466d266c34e02a6b4c3fc0b7d",
    "Specimen_4/(15)_m4d054eV_45d471eV.txt": "35f93ea42c100fab69c4e55ef127ab2d195177caa8d3a3d63750f7c9f4e7a8e6",
    "Specimen_4/(16)_m4d054eV_45d471eV.txt": "d69b954e66802c41fcd8214d173524c982a896fdf78dde57b366c2d9c76e117f",
    "Specimen_4/(17)_Vacuum_m4d054eV_45d471eV.txt": "f31e9451feb4e3911ee42da688864a4a1ee6c4571adee6d4aab41c86d54f1d4f",
    "Specimen_4/(19)_m4d054eV_45d471eV.txt": "f83cde14b3a96ef678e355f0f1b27cf05105086ac994455bd5d7295df035fadb",
    "Specimen_4/(20)_m4d054eV_45d471eV.txt": "85f799f5efc3e709f51c81b6cedff87ea9b7ecf322905f58f3b849fc031358d8",
    "Specimen_4/(21)_m4d054eV_45d471eV.txt": "650b1ece36a3ba0d6012f2b933b12718256d14a9c26b99e67a81ca50d12c3457",
    "Specimen_4/(22)_Vacuum_m4d054eV_45d471eV.txt": "0471bb2d71cf0e40b8f37b36ddf4b86adedcd1a74930af404a05ce598b1c917e",
    "Specimen_4/(23)_Vacuum_m4d054eV_45d471eV.txt": "0a23c8d7445a3976a963cbb499dd58dc51c290c11b5777e9b9dfbb63c32d564e",
}
