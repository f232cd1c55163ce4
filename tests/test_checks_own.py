"""Every check refuses the package's own implementation of its exercise, and accepts the student's own.

The refused answers are built for every (check, package implementation) pair: the implementation itself, a
wrapper lambda, a student-style def through a module alias, one that finds it with getattr at run time, and
ones that hide it in a default argument or a closure. The accepted answers are the instructor solutions,
executed from the notebooks together with their test cells (visible and hidden tests).
"""

import ast
import functools
import importlib
import inspect
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from ml4em import regression as reg
from ml4em.checks import CheckFailure, check_close
from ml4em.checks._own import answers, package_answers, watching
from ml4em.checks._scan import PackageAnswers, _resolve
from ml4em.checks._seal import TOPICS

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"
TOPIC_OF = {"01_regression": "regression", "02_neural_networks": "nn", "03_clustering": "clustering",
            "04_cnn": "cnn", "05_gan": "gan", "06_genetic_algorithms": "ga", "07_eels_replicas": "eels",
            "08_band_gap": "eels", "09_spectral_image": "spectral", "10_reinforcement_learning": "rl",
            "11_phase_retrieval": "phase", "12_nanoparticle_morphology": "morphology"}
MODEL_EXERCISES = ("classifier", "defect_model")  # trained models: tested below with their own cases


def _cells(tutorial):
    nb = nbformat.read(TUTORIALS / tutorial / f"{tutorial}.ipynb", as_version=4)
    return [c for c in nb.cells if c.cell_type == "code"]


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def _is_test(cell):
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


@functools.lru_cache(maxsize=None)
def solutions(tutorial):
    """The instructor's functions of a tutorial: every solution cell that only defines functions, executed (with the
    imports of the notebook's other cells, e.g. ``from keras import ops``)."""
    namespace = {"np": np}
    for cell in _cells(tutorial):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") or meta.get("grade"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # an IPython magic
            tree = ast.parse("\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("%")))
        imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        exec(compile(ast.Module(body=imports, type_ignores=[]), f"<{tutorial} imports>", "exec"), namespace)
    for cell in _cells(tutorial):
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution") or meta.get("grade"):
            continue
        tree = ast.parse(cell.source)
        if tree.body and all(isinstance(node, (ast.FunctionDef, ast.Import, ast.ImportFrom)) for node in tree.body):
            exec(compile(cell.source, f"<{tutorial} {_grade_id(cell)}>", "exec"), namespace)
    return namespace


def _checks_called(source):
    return re.findall(r"checks\.(check_\w+)\(", source)


def _declaration(topic, name):
    return getattr(getattr(importlib.import_module(f"ml4em.checks.{topic}"), name), "__ml4em_answers__", None)


def _function_tests():
    for tutorial, topic in TOPIC_OF.items():
        for cell in filter(_is_test, _cells(tutorial)):
            declarations = [_declaration(topic, name) for name in _checks_called(cell.source)]
            if declarations and all(d and d.student and d.exercise not in MODEL_EXERCISES for d in declarations):
                yield pytest.param(tutorial, cell.source, id=f"{tutorial}:{_grade_id(cell)}")


@pytest.mark.parametrize("tutorial, source", list(_function_tests()))
def test_instructor_solution_passes_its_test_cell(tutorial, source):
    namespace = {**solutions(tutorial), "checks": importlib.import_module(f"ml4em.checks.{TOPIC_OF[tutorial]}")}
    exec(compile(source, f"<test cell of {tutorial}>", "exec"), namespace)


# -- every (check, package implementation) pair, six ways of handing the implementation in -------------------------

def _split(name):
    """``("ml4em.eels", ("Band", "contains"))`` for ``"ml4em.eels.Band.contains"``."""
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        return ".".join(parts[:i]), tuple(parts[i:])
    raise ValueError(name)


def _required(target):
    """How many positional arguments, and which keyword-only ones, a call of ``target`` needs."""
    function = target.__init__ if isinstance(target, type) else target
    params = [p for p in inspect.signature(function).parameters.values() if p.default is p.empty]
    n = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    return n - isinstance(target, type), tuple(p.name for p in params if p.kind == p.KEYWORD_ONLY)


def _variant(kind, name):
    impl = _resolve(name)
    module, attrs = _split(name)
    if kind == "itself":
        return impl
    if kind == "wrapper":
        return lambda *a, **k: impl(*a, **k)
    if kind == "default":
        def student(*args, _impl=impl, **kwargs):
            return _impl(*args, **kwargs)
        return student
    if kind == "closure":
        def make(f):
            def student(*args, **kwargs):
                return f(*args, **kwargs)
            return student
        return make(impl)
    n, keywords = _required(impl)
    namespace = {"MODULE": module, "ATTRS": attrs, "N": n, "KEYWORDS": keywords}
    source = {
        "alias": f"import {module} as alias\n\ndef student(*args, **kwargs):\n"
                 f"    return alias.{'.'.join(attrs)}(*args, **kwargs)\n",
        # the name is put together at run time: only the profile hook can see this one
        "getattr": "import functools, importlib\n\ndef student(*args, **kwargs):\n"
                   "    target = functools.reduce(getattr, ATTRS, importlib.import_module(MODULE))\n"
                   "    return target(*[None] * N, **dict.fromkeys(KEYWORDS))\n",
    }[kind]
    exec(compile(source, "<student>", "exec"), namespace)
    return namespace["student"]


def _pairs():
    for topic in TOPICS:
        module = importlib.import_module(f"ml4em.checks.{topic}")
        for check in module.__all__:
            declaration = _declaration(topic, check)
            if not declaration or not declaration.student or declaration.exercise in MODEL_EXERCISES:
                continue
            for slot in range(len(declaration.student)):
                for impl in declaration.implementations:
                    for kind in ("itself", "wrapper", "alias", "getattr", "default", "closure"):
                        yield pytest.param(topic, check, slot, impl, kind, id=f"{check}[{slot}]-{impl}-{kind}")


@pytest.mark.parametrize("topic, check, slot, impl, kind", list(_pairs()))
def test_package_implementation_is_refused(topic, check, slot, impl, kind):
    declaration = _declaration(topic, check)
    tutorial = declaration.tutorial
    work = [solutions(tutorial)[name.strip()] for name in declaration.exercise.split(",")]
    work[slot] = _variant(kind, impl)
    function = getattr(importlib.import_module(f"ml4em.checks.{topic}"), check)
    with np.errstate(all="ignore"), pytest.raises(CheckFailure, match=re.escape(f"`{impl}`")):
        function(*work)


# -- the two model exercises ----------------------------------------------------------------------------------------

def _peak_data():
    from ml4em import nn

    return nn.make_peak_spectra(300, seed=5)


class OracleClassifier:
    """Knows the labels: the check accepts it (it is no package model)."""

    def __init__(self, labels):
        self.labels = labels

    def predict(self, x, verbose=0):
        return self.labels[:, None].astype(float)


class OracleFinder:
    """Knows where the defects of the check's images are: the check accepts it."""

    def __init__(self, seed):
        self.seed = seed

    def predict(self, x, verbose=0):
        from ml4em.stem import simulate_stem

        return simulate_stem(len(x), seed=self.seed).defect_mask[..., None].astype(float)


def test_own_models_pass_their_checks():
    import weakref

    from ml4em.checks import cnn, nn

    x, y = _peak_data()
    gone = weakref.proxy(OracleClassifier(y))  # a dead weak proxy among the live objects (Keras leaves many)
    assert nn.check_classifier(OracleClassifier(y), x, y) == 1.0
    assert cnn.check_defect_model(OracleFinder(7), n_images=8, seed=7, min_f1=0.8) >= 0.8
    with pytest.raises(ReferenceError):
        gone.labels


def test_instructor_networks_are_not_taken_for_the_package_s():
    import keras
    from keras import layers

    from ml4em.checks._own import refuse_package

    for tutorial, grade_id, label, check in (("02_neural_networks", "ex5-classifier", "classifier", "check_classifier"),
                                             ("04_cnn", "ex4-defect-model", "defect_model", "check_defect_model")):
        source = next(c.source for c in _cells(tutorial) if _grade_id(c) == grade_id)
        source = source[:source.index(f"{label}.compile(")]  # the network only, untrained
        namespace = {"keras": keras, "layers": layers, "x_train": np.zeros((4, 64))}
        exec(compile(source, f"<{grade_id}>", "exec"), namespace)
        refuse_package(namespace[label], label, _declaration(TOPIC_OF[tutorial], check).implementations)


def _student_class(body, **namespace):
    exec(compile(f"class Student:\n    def predict(self, x, verbose=0):\n{body}\n", "<student>", "exec"), namespace)
    return namespace["Student"]()


def _model_cases():
    import keras

    from ml4em import cnn, nn

    finder = cnn.DefectFinder()
    finder.model_ = cnn.build_defect_unet(filters=2, depth=1, seed=0)  # stands for a trained network
    renamed = keras.Model(finder.model_.inputs, finder.model_.outputs, name="mine")
    wrapped = keras.Sequential([keras.Input((None, None, 1)), cnn.build_defect_unet(filters=2, depth=1)], name="w")
    yield "check_defect_model", finder, "ml4em.cnn.DefectFinder"
    yield "check_defect_model", renamed, "ml4em.cnn.DefectFinder"
    yield "check_defect_model", wrapped, "ml4em.cnn.build_defect_unet"
    yield "check_defect_model", cnn.build_unet(filters=2, depth=1), "ml4em.cnn.build_unet"
    yield "check_defect_model", _student_class("        return finder.predict_proba(x)", finder=finder), \
        "ml4em.cnn.DefectFinder"
    yield "check_defect_model", _student_class("        return getattr(m, 'Defect' + 'Finder')().predict_proba(x)",
                                               m=cnn), "ml4em.cnn.DefectFinder"
    yield "check_classifier", nn.mlp(64, (8,), activation="relu", output_activation="sigmoid"), "ml4em.nn.mlp"
    yield "check_classifier", nn.to_keras(nn.DenseNetwork((64, 4, 1), output_activation="sigmoid")), "ml4em.nn.mlp"
    yield "check_classifier", nn.DenseNetwork((64, 4, 1)), "ml4em.nn.DenseNetwork"
    yield "check_classifier", _student_class("        return alias.DenseNetwork((64, 1)).forward(x)", alias=nn), \
        "ml4em.nn.DenseNetwork"


def test_package_models_are_refused():
    from ml4em.checks import cnn, nn

    x, y = _peak_data()
    for check, model, impl in _model_cases():
        with pytest.raises(CheckFailure, match=re.escape(f"`{impl}`")):
            if check == "check_classifier":
                nn.check_classifier(model, x, y)
            else:
                cnn.check_defect_model(model, n_images=4)


# -- the declarations cover every autograded exercise ---------------------------------------------------------------

def test_every_autograded_exercise_has_a_declaration():
    exercises = 0
    for tutorial, topic in TOPIC_OF.items():
        for cell in filter(_is_test, _cells(tutorial)):
            names = _checks_called(cell.source)
            assert names, f"{tutorial} {_grade_id(cell)} calls no check"
            for name in names:
                declaration = _declaration(topic, name)
                assert declaration and declaration.tutorial == tutorial and declaration.implementations, name
            exercises += 1
    assert exercises >= 70  # the course's autograded exercises, 12 tutorials


def test_every_check_of_a_student_function_declares_the_package_answers():
    for topic in TOPICS:
        module = importlib.import_module(f"ml4em.checks.{topic}")
        for name in module.__all__:
            obj = getattr(module, name)
            if name.startswith("check_"):
                assert getattr(obj, "__ml4em_answers__", None), f"ml4em.checks.{topic}.{name}"


def test_package_answers_name_resolvable_implementations_and_their_exercises():
    answers = package_answers()
    assert answers["ml4em.regression.fit_least_squares"] == "01_regression: fit_least_squares"
    assert answers["ml4em.clustering.update_centres"] == "03_clustering: update_centres"
    for impl, where in answers.items():
        assert callable(_resolve(impl)), impl
        for item in where.split("; "):
            tutorial, _, exercise = item.partition(": ")
            assert tutorial in TOPIC_OF and exercise, item
    assert set(package_answers("eels")) < set(answers)
    assert package_answers("08_band_gap")["ml4em.eels.band"] == "08_band_gap: interval"
    with pytest.raises(ValueError, match="check module"):
        package_answers("regresion")
    with pytest.raises(ValueError, match="not a tutorial with checks"):
        package_answers("10_nothing")


# -- ml4em.checks._own itself, on a toy exercise --------------------------------------------------------------------

HIDDEN = {"table": {"mse": reg.mse}, "nested": [[reg.mse]]}


@answers("00_toy", "mean_square", "ml4em.regression.mse", "ml4em.regression.PolynomialRegression")
def check_mean_square(mean_square):
    check_close("mean_square", mean_square(np.array([1.0, 2.0]), np.array([1.0, 4.0])), 2.0)


def own_mean_square(a, b):
    return float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))


def _helper(a, b):
    return reg.mse(a, b)


def _first(a, b):  # calls _second, which calls _first back: a cycle
    return _second(a, b, 0) if a is not None else _first(a, b)


def _second(a, b, depth):
    return _first(None, b) if depth else _helper(a, b)


def _decorated(a, b):
    return reg.mse(a, b)


class Scorer:
    def __call__(self, a, b):
        return reg.mse(a, b)


class MyRegression(reg.PolynomialRegression):
    pass


def _static_students():
    yield "itself", reg.mse
    yield "same code", type(reg.mse)(reg.mse.__code__, reg.mse.__globals__)
    yield "wraps", functools.wraps(reg.mse)(lambda a, b: own_mean_square(a, b))
    yield "partial", functools.partial(reg.mse)
    yield "bound method", reg.PolynomialRegression(0).score
    yield "callable instance", Scorer()
    yield "class", MyRegression
    yield "helper", _helper
    yield "cycle of helpers", _first
    yield "closure", (lambda f: lambda a, b: f(a, b))(reg.mse)
    yield "keyword default", eval("lambda a, b, *, f=m: f(a, b)", {"m": reg.mse})
    yield "nested def", _nested_def
    yield "comprehension", lambda a, b: [reg.mse(x, y) for x, y in [(a, b)]][0]
    yield "dict in globals", lambda a, b: HIDDEN["table"]["mse"](a, b)
    yield "list in a list in globals", lambda a, b: HIDDEN["nested"][0][0](a, b)
    yield "import inside", _import_inside
    yield "full path", _full_path


def _nested_def(a, b):
    def inner():
        return reg.mse(a, b)
    return inner()


def _full_path(a, b):
    import ml4em

    return ml4em.regression.mse(a, b)


def _import_inside(a, b):
    from ml4em.regression import mse

    return mse(a, b)


@pytest.mark.parametrize("kind, student", list(_static_students()), ids=[k for k, _ in _static_students()])
def test_what_the_function_can_reach_is_refused_before_it_runs(kind, student):
    ran = []
    with pytest.raises(CheckFailure, match=r"`mean_square` (is|wraps|uses|is an instance of) "
                                           r"`ml4em\.regression\.(mse|PolynomialRegression)`"):
        check_mean_square(lambda a, b: ran.append(1) or student(a, b))
    assert not ran  # refused by looking, not by running


@pytest.mark.parametrize("student", [
    lambda a, b: getattr(reg, "m" + "se")(a, b),
    lambda a, b: importlib.import_module("ml4em." + "regression").__dict__["ms" + "e"](a, b),
    lambda a, b: eval("r.mse(a, b)", {"r": reg, "a": a, "b": b}),
    lambda a, b: list(map(getattr(reg, "m" + "se"), [a], [b]))[0],
    lambda a, b: __import__("ml4em").regression.mse(a, b),
], ids=["getattr", "importlib", "eval", "through map", "__import__"])
def test_what_the_function_calls_while_it_runs_is_refused(student):
    with pytest.raises(CheckFailure, match=r"called `ml4em\.regression\.mse` while the check ran"):
        check_mean_square(student)


def test_own_work_passes_and_a_permitted_helper_may_use_the_forbidden_function_inside():
    check_mean_square(own_mean_square)

    def with_helper(a, b):
        reg.cross_validate(np.arange(4.0), np.arange(4.0), 1, n_folds=2)  # calls mse inside the package
        return own_mean_square(a, b)

    check_mean_square(with_helper)


def test_the_refusal_wins_over_a_wrong_value():
    with pytest.raises(CheckFailure, match="called `ml4em.regression.mse`"):
        check_mean_square(lambda a, b: getattr(reg, "m" + "se")(a, b) + 1)


def test_an_undeclared_function_of_the_package_is_refused_too():
    from ml4em.clustering import steps

    with pytest.raises(CheckFailure, match=r"`ml4em\.clustering\.steps\._sq_dist_to`, code of the ml4em package"):
        check_mean_square(steps._sq_dist_to)


def test_the_previous_profile_hook_is_restored():
    import sys

    seen = []

    def outer(frame, event, arg):
        seen.append(event)

    sys.setprofile(outer)
    try:
        check_mean_square(own_mean_square)
        assert sys.getprofile() is outer
        with pytest.raises(CheckFailure, match="should be 2; got 0"):
            check_mean_square(lambda a, b: 0.0)
        assert sys.getprofile() is outer
        with pytest.raises(ZeroDivisionError):
            check_mean_square(lambda a, b: 1 / 0)
        assert sys.getprofile() is outer
        with pytest.raises(CheckFailure, match="while the check ran"):
            check_mean_square(lambda a, b: getattr(reg, "m" + "se")(a, b))
        assert sys.getprofile() is outer
    finally:
        sys.setprofile(None)
    assert seen  # the outer hook ran again between the checks


def test_switching_the_watch_off_is_refused():
    import sys

    def off(a, b):
        sys.setprofile(None)
        return getattr(reg, "m" + "se")(a, b)

    def off_and_on(a, b):
        hook = sys.getprofile()
        sys.setprofile(None)
        value = getattr(reg, "m" + "se")(a, b)
        sys.setprofile(hook)
        return value

    for student in (off, off_and_on):
        with pytest.raises(CheckFailure, match="switched off the check's watch"):
            check_mean_square(student)
        assert sys.getprofile() is None


def test_a_fresh_copy_of_a_module_still_matches():
    import importlib.util

    spec = importlib.util.spec_from_file_location("ml4em.fresh_regression", reg.__file__)
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert fresh.mse is not reg.mse
    known = PackageAnswers(["ml4em.regression.mse", "ml4em.regression.PolynomialRegression"])
    assert known.match(fresh.mse) == "ml4em.regression.mse"
    assert known.match(fresh.PolynomialRegression) is None  # classes by module and name: a renamed copy differs
    with watching(known) as calls:
        getattr(fresh, "mse")([1.0], [2.0])
    assert [c.name for c in calls] == ["ml4em.regression.mse"]


def test_checks_loaded_afresh_by_sealed_refuse_the_package_as_well():
    from ml4em.checks import sealed

    with pytest.raises(AssertionError) as failure:  # each call is a named check; the block fails at its end
        with sealed("regression") as checks:
            checks.check_least_squares(lambda X, y: np.linalg.lstsq(X, y, rcond=None)[0])
            checks.check_least_squares(reg.fit_least_squares)
            checks.check_least_squares(lambda X, y: getattr(reg, "fit_least" + "_squares")(X, y))
    message = str(failure.value)
    assert message.startswith("1 of 3 checks passed")
    assert re.search(r"check 2 \(check_least_squares\): .*`ml4em\.regression\.fit_least_squares`", message)
    assert re.search(r"check 3 \(check_least_squares\): .*while the check ran", message, re.DOTALL)


def test_declarations_that_name_nothing_are_errors():
    with pytest.raises(ValueError, match="no module"):
        PackageAnswers(["regression.mse"])
    with pytest.raises(AttributeError, match="mean_squared"):
        PackageAnswers(["ml4em.regression.mean_squared"])
    with pytest.raises(TypeError, match="declare functions, methods or classes"):
        PackageAnswers(["ml4em.nn.ACTIVATIONS"])


def test_value_exercises_only_record_their_declaration():
    from ml4em.checks import regression as checks

    X = reg.polynomial_features(np.linspace(0, 1, 20), 3)
    checks.check_eta_max(reg.max_stable_learning_rate(X), X)  # a number: nothing to look into
    assert checks.check_eta_max.__ml4em_answers__.implementations == ("ml4em.regression.max_stable_learning_rate",)
