"""One wrong answer of each kind students write, and the message that names the mistake.

The kinds are those the course's checks must catch in general, not case by case:

* an argument the function ignores (a seed, a parameter every visible case passes with the same value);
* ``<`` where ``<=`` is asked, seen only at the boundary;
* a hard-coded result: the visible case's expected value returned as a constant;
* a weighting that a loose statistical test cannot tell apart (D against D^2 in k-means++);
* a hint shown where its condition does not identify the mistake (a different wrong answer gets no such hint);
* a Python error inside the student's code (``math.exp`` on an array), which must become a message, not a
  traceback through the check;
* all or nothing: a nearly right answer must score more than a blank one (partial credit per named check).

Each wrong answer is written here; the tutorial-specific ones are in tests/test_checks_<topic>.py.
"""

import math

import numpy as np
import pytest

from ml4em.checks import CheckFailure, sealed
from ml4em.checks import clustering as clustering_checks
from ml4em.checks import regression as regression_checks
from ml4em.clustering import kmeans_plusplus as reference_kmeans_plusplus


def _fails(check, answer, *args, **kwargs):
    with pytest.raises(CheckFailure) as failure:
        check(answer, *args, **kwargs)
    return str(failure.value)


def _design(x, degree):
    x = np.asarray(x, dtype=float)
    return np.stack([x ** j for j in range(degree + 1)], axis=1)


def _lstsq(X, y):
    return np.linalg.lstsq(X, y, rcond=None)[0]


# --- an argument the function ignores ---------------------------------------------------------------------------
def _kmeans_plusplus(X, n_clusters, *, seed=None, power=2.0):
    """k-means++ written from scratch (the exact D^power rule); power=1 is the D-weighting mistake."""
    X = np.asarray(X, dtype=float)
    rng = np.random.default_rng(seed)
    centres = [X[rng.integers(len(X))]]
    d2 = ((X - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, n_clusters):
        weight = d2 ** (power / 2.0)
        centres.append(X[rng.choice(len(X), p=weight / weight.sum())])
        d2 = np.minimum(d2, ((X - centres[-1]) ** 2).sum(axis=1))
    return np.array(centres)


def test_the_written_kmeans_plusplus_is_accepted():
    clustering_checks.check_kmeans_plusplus(_kmeans_plusplus)
    assert _kmeans_plusplus is not reference_kmeans_plusplus


def test_a_seed_that_is_ignored_is_named():
    def ignores_seed(X, n_clusters, *, seed=None):
        return _kmeans_plusplus(X, n_clusters, seed=0)

    message = _fails(clustering_checks.check_kmeans_plusplus, ignores_seed)
    assert "the same for every seed" in message and "default_rng(seed)" in message


def test_a_parameter_that_is_ignored_fails_on_another_value():
    def ridge_alpha_fixed(X, y, alpha):  # right for the notebook's alpha = 0.1 only
        return np.linalg.solve(X.T @ X + 0.1 * np.eye(X.shape[1]), X.T @ y)

    regression_checks.check_ridge(ridge_alpha_fixed)  # the visible case cannot tell
    message = _fails(regression_checks.check_ridge, ridge_alpha_fixed, degree=3, alpha=2.5, n=25, seed=31)
    assert "fit_ridge(X, y, 2.5)" in message


# --- `<` where `<=` is asked -------------------------------------------------------------------------------------
def test_strict_comparison_is_caught_at_the_boundary():
    # the t/lambda map of tutorial 03 sums the ZLP channels zlp_window[0] <= E <= zlp_window[1]
    def t_map_strict(energy_loss, counts, zlp_window):
        energy, counts = np.asarray(energy_loss, dtype=float), np.asarray(counts, dtype=float)
        inside = (energy > zlp_window[0]) & (energy < zlp_window[1])
        return np.log(counts.sum(axis=-1) / counts[..., inside].sum(axis=-1))

    message = _fails(clustering_checks.check_t_over_lambda_map, t_map_strict)
    assert "zlp_window[0] <= E <= zlp_window[1]" in message


# --- the visible case's expected value returned as a constant -----------------------------------------------------
def test_a_hard_coded_result_fails_the_other_cases():
    def mse_constant(y_true, y_pred):
        return 0.3125  # what the visible case expects

    regression_checks.check_mse(mse_constant)  # the visible case alone cannot tell
    message = _fails(regression_checks.check_mse, mse_constant, y_true=np.arange(7.0), y_pred=np.arange(7.0) ** 1.5)
    assert "should be" in message and "got 0.3125" in message


# --- a weighting a loose test cannot tell apart -------------------------------------------------------------------
def test_d_weighting_instead_of_d_squared_is_named():
    def d_weighted(X, n_clusters, *, seed=None):
        return _kmeans_plusplus(X, n_clusters, seed=seed, power=1.0)

    message = _fails(clustering_checks.check_kmeans_plusplus, d_weighted)
    assert "weight by the distance D itself" in message and "D^2" in message


# --- a hint only where its condition identifies the mistake --------------------------------------------------------
def test_each_gradient_step_hint_names_its_own_mistake_only():
    def uphill(theta, X, y, learning_rate):
        return theta + learning_rate * (2.0 / len(y)) * X.T @ (X @ theta - y)

    def no_mean(theta, X, y, learning_rate):
        return theta - learning_rate * X.T @ (X @ theta - y)

    def wrong_residual(theta, X, y, learning_rate):
        return theta - learning_rate * (2.0 / len(y)) * X.T @ (X @ theta + y)

    assert "stepped UP the gradient" in _fails(regression_checks.check_gradient_step, uphill)
    message = _fails(regression_checks.check_gradient_step, no_mean)
    assert "factor 2/n" in message and "UP" not in message
    message = _fails(regression_checks.check_gradient_step, wrong_residual)
    assert "Hint: you stepped UP" not in message and "factor 2/n" not in message


# --- a Python error in the student's code -------------------------------------------------------------------------
def test_math_on_an_array_becomes_a_message_with_the_numpy_hint():
    def mse_math(y_true, y_pred):
        return math.fsum(np.asarray(y_true) - np.asarray(y_pred)) ** 2 / math.sqrt(np.asarray(y_true))

    message = _fails(regression_checks.check_mse, mse_math)
    assert message.startswith("`mse` raised TypeError")
    assert "use numpy's (np.exp, np.log, np.sqrt, ...)" in message and "Traceback" not in message


def test_an_undefined_name_in_the_students_code_is_named():
    def uses_undefined(x, degree):
        return np.stack([x ** j for j in range(degre + 1)], axis=1)  # noqa: F821 (the student's typo)

    message = _fails(regression_checks.check_design_matrix, uses_undefined)
    assert "`design_matrix` raised NameError" in message and "does not exist" in message


# --- all or nothing -----------------------------------------------------------------------------------------------
def test_a_nearly_right_answer_scores_more_than_a_blank_one(capsys):
    def kfold_pooled(x, y, degree, n_folds):  # pools the held-out errors: right only when the folds are equal
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        squared = []
        for fold in np.array_split(np.arange(len(x)), n_folds):
            train = np.setdiff1d(np.arange(len(x)), fold)
            theta = _lstsq(_design(x[train], degree), y[train])
            squared += list((y[fold] - _design(x[fold], degree) @ theta) ** 2)
        return float(np.mean(squared))

    def blank(x, y, degree, n_folds):
        raise NotImplementedError()

    def cell(answer):
        with sealed("regression", points=3) as checks:
            checks.check_kfold_cv_error(answer)  # 23 points in 5 folds: unequal folds
            checks.check_kfold_cv_error(answer, n=40, degree=6, n_folds=10, seed=21)
            checks.check_kfold_cv_error(answer, n=9, degree=1, n_folds=3, seed=22)

    cell(kfold_pooled)
    out = capsys.readouterr().out.strip().splitlines()
    assert float(out[-1]) == 2.0 and "2 of 3 checks passed: 2 of 3 points" in out
    with pytest.raises(NotImplementedError):  # the blank answer fails the cell: 0 points
        cell(blank)
