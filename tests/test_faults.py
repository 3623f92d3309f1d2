"""Faults and bad input on the surfaces beyond one estimator: the searches, the ensembles,
ONNX export, the compile cache, corrupt sparse matrices and Ctrl-C during a search. Each is
held to scikit-learn's behaviour where it has one."""

import errno
import os
import signal
import warnings

import numpy as np
import onnxruntime
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import load_iris, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV as SkGridSearchCV
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import skmlp
from skmlp import LossCurveDisplay, MLPClassifier, MLPRegressor, _compile_cache, _data
from skmlp import _programs, _stacking, _training
from skmlp.ensemble import MLPEnsembleClassifier, MLPEnsembleRegressor
from skmlp.model_selection import GridSearchCV
from skmlp.onnx import to_onnx

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


class _Refuse(TransformerMixin, BaseEstimator):
    """Raises when fitted on ``n`` rows (one fold's training set), else passes X through."""

    def __init__(self, n=None):
        self.n = n

    def fit(self, X, y=None):
        if len(X) == self.n:
            raise ValueError(f"refusing {len(X)} rows")
        return self

    def transform(self, X):
        return X


# ------------------------------------------------------------------ the searches


def test_a_step_failing_on_one_fold_gets_error_score_as_in_scikit_learn(iris):
    X, y = iris
    pipe = make_pipeline(_Refuse(n=113), MLPClassifier(hidden_layer_sizes=(8,), max_iter=5,
                                                       random_state=0))
    grid = {"mlpclassifier__alpha": [1e-4, 1e-2]}
    cv = KFold(4, shuffle=True, random_state=0)  # training sets of 112, 112, 113 and 113 rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = GridSearchCV(pipe, grid, cv=cv).fit(X, y)
        theirs = SkGridSearchCV(pipe, grid, cv=cv).fit(X, y)
    for k in range(4):
        key = f"split{k}_test_score"
        np.testing.assert_allclose(ours.cv_results_[key], theirs.cv_results_[key], atol=1e-6)
    assert np.isnan(ours.cv_results_["split2_test_score"]).all()
    assert np.isfinite(ours.cv_results_["split0_test_score"]).all()


def test_a_sample_weight_of_the_wrong_length_fails_as_in_scikit_learn(iris):
    X, y = iris
    for Search in (GridSearchCV, SkGridSearchCV):
        search = Search(MLPClassifier(max_iter=2), {"alpha": [1e-4]}, cv=3)
        with pytest.raises(ValueError, match="All the 3 fits failed"), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search.fit(X, y, sample_weight=np.ones(10))


def test_a_failed_refit_leaves_the_search_as_it_was(iris):
    X, y = iris
    search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0),
                          {"alpha": [1e-4, 1e-3, 1e-2]}, cv=3).fit(X, y)
    before = dict(vars(search))
    curves = [list(c) for c in search.loss_curves_]
    search.set_params(param_grid={"alpha": [-1.0]})
    before["param_grid"] = search.param_grid
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    assert vars(search).keys() == before.keys()
    assert all(vars(search)[k] is v for k, v in before.items())
    assert [list(c) for c in search.loss_curves_] == curves
    LossCurveDisplay.from_estimator(search)  # still consistent


class _Raise(TransformerMixin, BaseEstimator):
    """A step that raises ``error`` when fitted (None: passes X through)."""

    def __init__(self, error=None):
        self.error = error

    def fit(self, X, y=None):
        if self.error is not None:
            raise self.error
        return self

    def transform(self, X):
        return X


@pytest.mark.parametrize("change", [
    {"param_grid": {"mlpclassifier__alpha": [-1.0]}},  # every fit fails: "All fits failed"
    {"error_score": "raise", "estimator__step__error": ValueError("a step fails")},
    {"estimator__step__error": KeyboardInterrupt()},  # Ctrl-C outside the epoch loop
], ids=["all fits fail", "error_score raise", "interrupted"])
def test_any_failed_fit_leaves_a_fitted_search_as_it_was(iris, change):
    """Generically, as test_hardening does for the estimators: every attribute is the very
    object it was, and holds what it held."""
    X, y = iris
    pipe = Pipeline([("step", _Raise()), ("mlpclassifier", MLPClassifier(
        hidden_layer_sizes=(4,), max_iter=3, random_state=0))])
    search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=3).fit(X, y)
    before = dict(vars(search))
    snapshot = {k: np.copy(v) for k, v in search.cv_results_.items() if "score" in k}
    search.set_params(**change)
    before.update({k: v for k, v in vars(search).items() if k in search.get_params(deep=False)})
    with pytest.raises((ValueError, KeyboardInterrupt)), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    assert vars(search).keys() == before.keys()
    assert all(vars(search)[k] is v for k, v in before.items())
    for key, value in snapshot.items():
        np.testing.assert_array_equal(search.cv_results_[key], value)
    assert search.best_estimator_.predict(X).shape == y.shape


def _train_alone_calls(monkeypatch):
    """Counts fits trained outside a model stack."""
    calls = []
    original = _training.train_alone

    def counted(run):
        calls.append(run)
        return original(run)

    monkeypatch.setattr(_training, "train_alone", counted)
    return calls


def test_a_search_trains_every_fit_in_stacks_but_the_refit(iris, monkeypatch):
    X, y = iris
    calls = _train_alone_calls(monkeypatch)
    before = _programs.train_epoch_stack.trace_count
    GridSearchCV(make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(23,),
                                                               max_iter=3)),
                 {"mlpclassifier__alpha": [1e-4, 1e-3, 1e-2]}, cv=3).fit(X, y)
    assert calls == []  # the refit too trained ahead of scikit-learn's call (RefitAhead)
    GridSearchCV(make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(23,),
                                                               max_iter=3)),
                 {"mlpclassifier__alpha": [1e-4, 1e-3, 1e-2]}, cv=3, scoring="accuracy"
                 ).fit(X, y)
    assert len(calls) == 1  # and in scikit-learn's refit, with another scorer
    assert _programs.train_epoch_stack.trace_count - before == 1  # a new architecture


def test_an_ensemble_trains_its_members_in_one_stack(iris, monkeypatch):
    X, y = iris
    calls = _train_alone_calls(monkeypatch)
    before = _programs.train_epoch_stack.trace_count
    MLPEnsembleClassifier(MLPClassifier(hidden_layer_sizes=(29,), max_iter=3),
                          n_estimators=4, random_state=0).fit(X, y)
    assert calls == []
    assert _programs.train_epoch_stack.trace_count - before == 1


# ------------------------------------------------------------------ Ctrl-C in a search


def test_nested_interrupt_contexts():
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with _training.DeferredInterrupt() as outer:
            with _training.DeferredInterrupt() as inner:
                signal.raise_signal(signal.SIGINT)  # the first: deferred, marked everywhere
            assert inner.requested and outer.requested
            with _training.DeferredInterrupt() as later:  # e.g. the refit
                assert not later.requested  # it trains in full, unless Ctrl-C comes again:
                signal.raise_signal(signal.SIGINT)
                reached.append("after the second Ctrl-C")
    assert reached == []
    with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C in the same context
        with _training.DeferredInterrupt():
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):  # leaving re-raises a second Ctrl-C that was lost
        with _training.DeferredInterrupt() as context:
            context.requested = context._again = True


class _InterruptOnce(TransformerMixin, BaseEstimator):
    """Sends SIGINT when fitted on all ``n`` rows (the refit), as a user's Ctrl-C."""

    def __init__(self, n=None):
        self.n = n

    def fit(self, X, y=None):
        if len(X) == self.n:
            signal.raise_signal(signal.SIGINT)
        return self

    def transform(self, X):
        return X


@pytest.mark.parametrize("lanes", [1, 2])
def test_first_ctrl_c_stops_every_stack_and_a_second_stops_the_search(iris, monkeypatch, lanes):
    X, y = iris
    monkeypatch.setattr(_stacking, "LANES", lanes)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    original = _training.Run.end_epoch
    sent = []

    def interrupt_after_the_first_epoch(run, metrics, fetch_weights):
        if not sent:  # one Ctrl-C, during the stacks' first epoch
            sent.append(signal.raise_signal(signal.SIGINT))
        return original(run, metrics, fetch_weights)

    monkeypatch.setattr(_training.Run, "end_epoch", interrupt_after_the_first_epoch)
    pipe = make_pipeline(_InterruptOnce(), MLPClassifier(hidden_layer_sizes=(6,), max_iter=400,
                                                         tol=0, random_state=0))
    grid = {"mlpclassifier__alpha": [1e-4, 1e-2]}
    # one Ctrl-C: every stacked fit stops at its epoch's end, said once; the search ends. One
    # stack, trained by the thread that runs the handler, stops after the first epoch; stacks
    # on two lanes' threads stop once the calling thread has run it (LANE_POLL_S), a few
    # epochs of iris later
    with pytest.warns(UserWarning, match="every model stack stopped.*Ctrl-C again"):
        search = GridSearchCV(pipe, grid, cv=3, refit=False).fit(X, y)
    epochs = [len(c) for folds in search.loss_curves_ for c, *_ in folds]
    if lanes == 1:
        assert epochs == [1] * 6
    else:
        assert len(epochs) == 6 and max(epochs) < 400
    # a second Ctrl-C (here in the refit, after the stacks took the first) stops the search
    sent.clear()
    search = GridSearchCV(pipe.set_params(_interruptonce__n=len(X)), grid, cv=3)
    with pytest.raises(KeyboardInterrupt), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    assert not hasattr(search, "best_estimator_") and not hasattr(search, "cv_results_")


# ------------------------------------------------------------------ ensembles


def test_ensemble_checks_sample_weight_like_scikit_learn(iris):
    X, y = iris
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(5,\), expected \(150,\)"):
        MLPEnsembleClassifier(bootstrap=True, n_estimators=2).fit(X, y, sample_weight=np.ones(5))


@pytest.mark.parametrize("Ensemble, member", [(MLPEnsembleClassifier, LogisticRegression()),
                                              (MLPEnsembleClassifier, MLPRegressor()),
                                              (MLPEnsembleRegressor, MLPClassifier())])
def test_ensemble_refuses_members_it_cannot_train_at_fit(iris, Ensemble, member):
    X, y = iris
    with pytest.raises(ValueError, match="'estimator' parameter .* must be an instance of"):
        Ensemble(member, n_estimators=2).fit(X, y)


# ------------------------------------------------------------------ ONNX


def _onnx_outputs(model, X):
    session = onnxruntime.InferenceSession(to_onnx(model, X[:1]).SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


def test_float64_ensemble_graphs_run_in_onnxruntime(iris):
    X, y = iris
    clf = MLPEnsembleClassifier(MLPClassifier(hidden_layer_sizes=(5,), max_iter=5),
                                n_estimators=3, random_state=0).fit(X, y)
    label, proba = _onnx_outputs(clf, X)
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(label, clf.predict(X))
    Xm, Ym = make_multilabel_classification(n_samples=60, n_features=5, n_classes=3,
                                            random_state=0)
    multi = MLPEnsembleClassifier(MLPClassifier(hidden_layer_sizes=(5,), max_iter=5),
                                  n_estimators=2, random_state=0).fit(Xm.astype(float), Ym)
    label, proba = _onnx_outputs(multi, Xm.astype(float))
    np.testing.assert_allclose(proba, multi.predict_proba(Xm.astype(float)), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_array_equal(label, multi.predict(Xm.astype(float)))
    Xr, Yr = make_regression(n_samples=60, n_features=4, n_targets=2, random_state=0)
    reg = MLPEnsembleRegressor(MLPRegressor(hidden_layer_sizes=(5,), max_iter=5),
                               n_estimators=2, random_state=0).fit(Xr, Yr / 100)
    (pred,) = _onnx_outputs(reg, Xr)
    np.testing.assert_allclose(pred, reg.predict(Xr), rtol=1e-12, atol=1e-12)


def test_an_integer_sample_exports_a_graph_that_runs(iris):
    X, y = iris
    Xi = np.round(X * 3).astype(np.int64)
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(Xi, y)
    label, proba = _onnx_outputs(clf, Xi)
    np.testing.assert_allclose(proba, clf.predict_proba(Xi), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(label, clf.predict(Xi))
    reg = MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(Xi, y)
    (pred,) = _onnx_outputs(reg, Xi)
    np.testing.assert_allclose(pred.ravel(), reg.predict(Xi), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ the compile cache


@pytest.fixture
def fresh_programs():
    """Nothing held in memory, so the next fit consults the disk cache; settings restored."""
    previous = skmlp.compile_cache_dir()
    for program in _programs.PROGRAMS:
        program.clear()
    yield
    skmlp.set_compile_cache(directory=previous)
    _compile_cache._refused.clear()


def _fit_warnings(X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MLPRegressor(hidden_layer_sizes=(3,), max_iter=1).fit(X, y)
    return [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_a_cache_path_that_is_a_file_warns_once_and_never_fails_a_fit(iris, tmp_path,
                                                                      fresh_programs):
    X, y = iris
    path = tmp_path / "not-a-directory"
    path.write_text("")
    skmlp.set_compile_cache(directory=path)
    said = _fit_warnings(X, y)
    assert len(said) == 1 and "not a directory" in said[0] and "SKMLP_CACHE_DIR" in said[0]
    for program in _programs.PROGRAMS:
        program.clear()
    assert _fit_warnings(X, y) == []  # said once


def test_a_corrupt_key_warns_once_with_the_fix(iris, tmp_path, fresh_programs):
    X, y = iris
    skmlp.set_compile_cache(directory=tmp_path / "cache")
    _fit_warnings(X, y)  # creates the directory, the key and an entry
    (tmp_path / "cache" / "key").write_bytes(b"short")
    for program in _programs.PROGRAMS:
        program.clear()
    said = _fit_warnings(X, y)
    assert len(said) == 1 and "holds 5 bytes" in said[0] and "delete that file" in said[0]


def test_a_failed_write_leaves_no_temporary_file(iris, tmp_path, fresh_programs, monkeypatch):
    X, y = iris
    directory = tmp_path / "cache"
    skmlp.set_compile_cache(directory=directory)

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_compile_cache.os, "replace", full_disk)
    said = _fit_warnings(X, y)
    assert len(said) == 1 and "No space left" in said[0]
    assert not [p for p in directory.iterdir() if p.name.startswith(".tmp-")]


# ------------------------------------------------------------------ corrupt sparse input


@pytest.mark.parametrize("bad_index", [-1, 20, 1000])
def test_a_csr_matrix_with_indices_out_of_range_is_refused(bad_index):
    X = sp.random(60, 20, density=0.2, format="csr", random_state=0)
    y = np.arange(60) % 3
    corrupt = X.copy()
    corrupt.indices[5] = bad_index
    with pytest.raises(ValueError, match="sparse matrix X is corrupt"):
        MLPClassifier(max_iter=1).fit(corrupt, y)
    clf = MLPClassifier(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="sparse matrix X is corrupt"):
        clf.predict(corrupt)
    broken = X.copy()
    broken.indptr[3] = broken.indptr[4] + 1
    with pytest.raises(ValueError, match="index pointer"):
        clf.predict(broken)


def test_a_large_dense_copy_of_sparse_input_is_announced(monkeypatch):
    monkeypatch.setattr(_data, "DENSE_COPY_WARN_BYTES", 1000)
    X = sp.random(50, 400, density=0.01, format="csr", random_state=0)
    y = np.arange(50) % 2
    with pytest.warns(UserWarning, match="dense copy .* 50 x 400 .*input_layout='auto'"):
        MLPClassifier(max_iter=1, input_layout="dense").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(max_iter=1).fit(X, y)  # the sparse layout: nothing to say
