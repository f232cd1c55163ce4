"""ml4em: Machine Learning for Electron Microscopy, the course package.

Submodules (each one topic; heavy dependencies are imported lazily):

- :mod:`ml4em.datasets`   data registry of real spectra, readers, seeded synthetic data
- :mod:`ml4em.regression` polynomial models, least squares, ridge, cross-validation, gradient descent
- :mod:`ml4em.plotting`   colour-blind-safe style and shared figures
- :mod:`ml4em.widgets`    ipywidgets explorers with a static fallback
- :mod:`ml4em.training`   progress bar and loss curve for long training
- :mod:`ml4em.checks`     the named checks that the tutorials' test cells call
- :mod:`ml4em.grading`    ``ml4em grade-check`` for instructors
- :mod:`ml4em.selfcheck`  ``ml4em.check()``: students check their answers
- :mod:`ml4em.student`    ``ml4em student-version``: student versions for Binder and self-study
- :mod:`ml4em.sandbox`    the grading sandbox; :mod:`ml4em.preprocessors` the course's nbgrader pipeline
- :mod:`ml4em.integrity`, :mod:`ml4em.similarity`, :mod:`ml4em.lms`, :mod:`ml4em.mutants`, :mod:`ml4em.autograde`
                          instructor tools: tampering, similar answers, LMS grades, mutation tests, autograding
- :mod:`ml4em.leaks`      the one scan for solution and hidden-test text; :mod:`ml4em.publish` the student repository
- :mod:`ml4em.colab`      the tutorials' Colab setup cell
- :mod:`ml4em.nn`, :mod:`ml4em.clustering`, :mod:`ml4em.stem`, :mod:`ml4em.cnn`, :mod:`ml4em.gan`, :mod:`ml4em.ga`
                          the models of tutorials 02-06
- :mod:`ml4em.eels`       the Monte Carlo replica method for the zero-loss peak (tutorials 07-09, ``ml4em zlp``)
- :mod:`ml4em.rl`, :mod:`ml4em.phase`, :mod:`ml4em.morphology`
                          reinforcement learning for scanning, phase retrieval, nanoparticle morphology (tutorials 10-12)
- :mod:`ml4em.ngshare_service` ngshare, the hub's exchange service, under SQLAlchemy 2 (``hub/``)
- :mod:`ml4em.figures`    the lectures' figures; :mod:`ml4em.site` the website and slides builder
"""

from ._config import by_mode, is_quick

__version__ = "0.1.0"
__all__ = ["__version__", "by_mode", "check", "is_quick"]


def check(notebook=None, **kwargs):
    """Check the answers of a saved tutorial notebook (see :func:`ml4em.selfcheck.check`)."""
    from .selfcheck import check as _check

    return _check(notebook, **kwargs)
