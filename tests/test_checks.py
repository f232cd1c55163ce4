"""The checks behind tutorial test cells: right answers pass, typical wrong answers fail with a useful hint."""

import numpy as np
import pytest

from ml4em import regression as reg
from ml4em.checks import CheckFailure, check_array, check_close, check_scalar, check_shape
from ml4em.checks import regression as checks


def right_design(x, d):
    return np.vander(np.asarray(x, float), d + 1, increasing=True)


def test_core_checks():
    check_close("a", [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(CheckFailure, match=r"`a` should have shape \(2,\); got \(3,\)"):
        check_close("a", [1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(CheckFailure, match="should be 3; got 4"):
        check_close("a", 4.0, 3.0)
    with pytest.raises(CheckFailure, match="Did you forget a `return`"):
        check_array("a", None)
    with pytest.raises(CheckFailure, match="non-finite"):
        check_array("a", [1.0, np.nan])
    with pytest.raises(CheckFailure, match="single number"):
        check_scalar("a", [1.0, 2.0])
    with pytest.raises(CheckFailure, match="Hint: look here"):
        check_shape("a", np.zeros(2), (3,), hint="look here")
    assert issubclass(CheckFailure, AssertionError)  # nbgrader scores a failing assertion as 0


def test_design_matrix_checks():
    checks.check_design_matrix(right_design)
    checks.check_design_matrix(right_design, x=np.linspace(-2, 3, 11), degree=7)
    with pytest.raises(CheckFailure, match="transposed"):
        checks.check_design_matrix(lambda x, d: right_design(x, d).T)
    with pytest.raises(CheckFailure, match="constant column"):
        checks.check_design_matrix(lambda x, d: right_design(x, d)[:, 1:])
    with pytest.raises(CheckFailure, match="reverse order"):
        checks.check_design_matrix(lambda x, d: right_design(x, d)[:, ::-1])
    with pytest.raises(NotImplementedError):  # the blank student stub fails the test cell
        checks.check_design_matrix(lambda x, d: (_ for _ in ()).throw(NotImplementedError()))


def right_least_squares(X, y):
    theta, *_ = np.linalg.lstsq(X, y, rcond=None)
    return theta


def right_kfold(x, y, d, k, *, training=False, order=None):
    """The consecutive-fold CV error written out (``order`` shuffles the samples first)."""
    idx = np.arange(len(x)) if order is None else np.asarray(order)
    errors = []
    for fold in np.array_split(idx, k):
        train = np.setdiff1d(idx, fold)
        theta = right_least_squares(right_design(x[train], d), y[train])
        where = train if training else fold
        errors.append(np.mean((y[where] - right_design(x[where], d) @ theta) ** 2))
    return float(np.mean(errors))


def test_least_squares_checks():
    checks.check_least_squares(right_least_squares, degree=4)
    with pytest.raises(CheckFailure, match="minimise the sum of squared residuals"):
        checks.check_least_squares(lambda X, y: np.zeros(X.shape[1]))
    with pytest.raises(CheckFailure, match="should have 1 dimension"):
        checks.check_least_squares(lambda X, y: np.zeros((X.shape[1], 1)))
    with pytest.raises(CheckFailure, match="one coefficient per column"):
        checks.check_least_squares(lambda X, y: np.zeros(X.shape[1] + 1))


def test_mse_checks():
    checks.check_mse(lambda a, b: float(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))
    with pytest.raises(CheckFailure, match="SUM of squared errors"):
        checks.check_mse(lambda a, b: np.sum((a - b) ** 2))
    with pytest.raises(CheckFailure, match="root of the mean"):
        checks.check_mse(lambda a, b: np.sqrt(np.mean((a - b) ** 2)))


def test_kfold_checks():
    checks.check_kfold_cv_error(right_kfold)
    with pytest.raises(CheckFailure, match="TRAINING error"):
        checks.check_kfold_cv_error(lambda x, y, d, k: right_kfold(x, y, d, k, training=True))
    with pytest.raises(CheckFailure, match="array_split"):
        checks.check_kfold_cv_error(lambda x, y, d, k: right_kfold(x, y, d, k, order=np.random.default_rng(0)
                                                                  .permutation(len(x))))


def test_ridge_checks():
    checks.check_ridge(lambda X, y, a: np.linalg.solve(X.T @ X + a * np.eye(X.shape[1]), X.T @ y))
    with pytest.raises(CheckFailure, match="plain least-squares"):
        checks.check_ridge(lambda X, y, a: reg.fit_least_squares(X, y))
    with pytest.raises(CheckFailure):  # an unpenalised intercept is a different model here
        checks.check_ridge(lambda X, y, a: reg.fit_ridge(X, y, a))


def test_gradient_step_checks():
    def good(t, X, y, lr):
        return t - lr * 2 / len(y) * X.T @ (X @ t - y)

    checks.check_gradient_step(good)
    with pytest.raises(CheckFailure, match="UP the gradient"):
        checks.check_gradient_step(lambda t, X, y, lr: t + lr * 2 / len(y) * X.T @ (X @ t - y))
    with pytest.raises(CheckFailure, match="factor 2/n"):
        checks.check_gradient_step(lambda t, X, y, lr: t - lr * X.T @ (X @ t - y))

    def in_place(t, X, y, lr):
        t -= lr * 2 / len(y) * X.T @ (X @ t - y)
        return t

    with pytest.raises(CheckFailure, match="in place"):
        checks.check_gradient_step(in_place)


def test_eta_max_and_best_degree_checks():
    X = reg.polynomial_features(np.linspace(0, 1, 20), 3)
    checks.check_eta_max(reg.max_stable_learning_rate(X), X)
    with pytest.raises(CheckFailure, match="not 1 / lambda_max"):
        checks.check_eta_max(reg.max_stable_learning_rate(X) / 2, X)
    x = np.linspace(0, 1, 20)
    y = 2 * x + 0.1 * np.sin(40 * x)
    errors = [reg.cross_validate(x, y, d, n_folds=4, shuffle=False)[1] for d in range(5)]
    best = int(np.argmin(errors))
    checks.check_best_degree(best, x, y, list(range(5)), 4)
    with pytest.raises(CheckFailure, match="lowest validation error"):
        checks.check_best_degree((best + 1) % 5, x, y, list(range(5)), 4)
    with pytest.raises(CheckFailure, match="integer"):
        checks.check_best_degree(float(best), x, y, list(range(5)), 4)


# -- a student's function that raises gets a message, never a traceback through the check -------------------------

def _function_checks():
    import importlib

    from ml4em.checks._seal import TOPICS

    for topic in TOPICS:
        module = importlib.import_module(f"ml4em.checks.{topic}")
        for name in module.__all__:
            declaration = getattr(getattr(module, name), "__ml4em_answers__", None)
            if declaration and declaration.student and declaration.exercise not in ("classifier", "defect_model"):
                yield pytest.param(getattr(module, name), len(declaration.student), id=f"{topic}.{name}")


@pytest.mark.parametrize("check, n_functions", list(_function_checks()))
def test_an_error_in_the_students_code_is_a_message_that_names_the_function(check, n_functions):
    def student(*args, **kwargs):
        raise TypeError("only size-1 arrays can be converted to Python scalars")

    with pytest.raises(CheckFailure, match=r"raised TypeError: only size-1 arrays") as failure:
        check(*[student] * n_functions)
    assert "Traceback" not in str(failure.value)
    assert failure.value.__cause__ is None and failure.value.__suppress_context__


@pytest.mark.parametrize("check, n_functions", list(_function_checks()))
def test_a_blank_answer_stays_not_answered(check, n_functions):
    def stub(*args, **kwargs):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):  # ml4em.check() then says "not answered yet"
        check(*[stub] * n_functions)


def test_math_on_an_array_gets_the_numpy_hint():
    import math

    from ml4em.checks import nn

    def sigmoid(z):
        return 1.0 / (1.0 + math.exp(-z))

    with pytest.raises(CheckFailure, match=r"raised TypeError.*\nHint: .*use numpy's \(np.exp"):
        nn.check_sigmoid(sigmoid, lambda z: sigmoid(z) * (1 - sigmoid(z)))
