"""Model stacks: a model trained in a stack is the model it would have been alone, and the
batched searches give scikit-learn's GridSearchCV / RandomizedSearchCV results."""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV as SkGridSearchCV
from sklearn.base import clone
from sklearn.model_selection import KFold, cross_validate
from sklearn.model_selection import RandomizedSearchCV as SkRandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skmlp import MLPClassifier, MLPRegressor, _programs
from skmlp.model_selection import GridSearchCV, RandomizedSearchCV
from skmlp._stacking import fit_stacked
from skmlp.model_selection import _search as search_module


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


def _same_model(a, b):
    """Equal to rounding: vmapped reductions may sum in another order (float64)."""
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert np.max(np.abs(ca - cb)) <= 1e-9 * np.max(np.abs(cb))
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-10)


# ------------------------------------------------------------------ the engine


@pytest.mark.parametrize("kw", [
    {},
    {"early_stopping": True, "n_iter_no_change": 2},
    {"solver": "sgd", "learning_rate": "adaptive", "n_iter_no_change": 2, "tol": 1e-2},
    {"dropout": 0.2, "batch_norm": True},
], ids=["adam", "early stopping", "sgd adaptive", "dropout batch norm"])
def test_a_model_in_a_stack_is_the_model_it_would_be_alone(digits, kw):
    X, y = digits
    X = StandardScaler().fit_transform(X)
    settings = [dict(alpha=a, learning_rate_init=lr, random_state=seed)
                for a, lr, seed in [(1e-4, 1e-3, 0), (1e-1, 3e-2, 0), (1e-3, 1e-2, 1),
                                    (1e-2, 1e-3, 2)]]
    common = dict(hidden_layer_sizes=(16,), max_iter=15, **kw)
    fits = [(MLPClassifier(**common, **s), X[i * 10:], y[i * 10:], None)
            for i, s in enumerate(settings)]
    results, _ = _quiet(fit_stacked, fits)
    for (est, Xf, yf, _), stacked in zip(fits, results):
        alone = _quiet(MLPClassifier(**est.get_params()).fit, Xf, yf)
        _same_model(stacked, alone)


@pytest.mark.parametrize("sizes", [(170, 175), (170, 190)],
                         ids=["equal minibatch counts", "unequal minibatch counts"])
def test_stacks_skip_padding_minibatches_exactly(digits, sizes):
    """Rows are padded to a bucket of whole minibatches (9 real minibatches of 20 pad to 10):
    a stack skips the padding ones on a shared count when every model has as many real
    minibatches, on each minibatch's contents otherwise; both give the models fitted alone."""
    X, y = digits
    X = StandardScaler().fit_transform(X)
    fits = [(MLPClassifier(hidden_layer_sizes=(8,), batch_size=20, max_iter=4, alpha=a,
                           random_state=0), X[:n], y[:n], None)
            for n in sizes for a in (1e-4, 1e-2)]
    results, _ = _quiet(fit_stacked, fits)
    for (est, Xf, yf, _), stacked in zip(fits, results):
        _same_model(stacked, _quiet(MLPClassifier(**est.get_params()).fit, Xf, yf))


def test_models_that_share_data_and_draws_are_the_models_they_would_be_alone(digits):
    """Candidates of one fold with one random_state: the stack shares their rows and order."""
    X, y = digits
    X = StandardScaler().fit_transform(X)
    fits = [(MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0, alpha=a,
                          learning_rate_init=lr), X, y.astype(float), None)
            for a in (1e-4, 1e-1) for lr in (1e-3, 1e-2)]
    fits += [(MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0, alpha=a,
                           learning_rate_init=lr), X[50:], y[50:].astype(float), None)
             for a in (1e-4, 1e-1) for lr in (1e-3, 1e-2)]
    results, _ = _quiet(fit_stacked, fits)
    for (est, Xf, yf, _), stacked in zip(fits, results):
        _same_model(stacked, _quiet(MLPRegressor(**est.get_params()).fit, Xf, yf))


def test_a_folds_candidates_validate_its_data_once_and_end_as_fitted_alone(digits, monkeypatch):
    """fit_stacked validates each (X, y) pair once per estimator class and loss; every fit
    still ends with its own copy of what validation sets, equal to a fit alone's. A poisson
    regressor on negative targets fails alone, beside a squared-error one on the same data."""
    X, y = digits
    X = StandardScaler().fit_transform(X)
    calls = []
    for cls in (MLPClassifier, MLPRegressor):
        original = cls._validate_input
        monkeypatch.setattr(cls, "_validate_input", lambda self, *a, _o=original, **k: (
            calls.append(type(self).__name__), _o(self, *a, **k))[1])
    folds = [(X[:300], y[:300]), (X[300:], y[300:])]
    fits = [(MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, alpha=a, random_state=0),
             Xf, yf, None) for Xf, yf in folds for a in (1e-4, 1e-2, 1e-1)]
    Xr, target = folds[0][0], y[:300] - 5.0
    fits += [(MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, loss=loss, random_state=0),
              Xr, target, None) for loss in ("squared_error", "poisson", "squared_error")]
    results, _ = _quiet(fit_stacked, fits)
    assert calls.count("MLPClassifier") == 2  # once per fold
    assert calls.count("MLPRegressor") == 2  # once per loss
    assert isinstance(results[7], ValueError) and "poisson" in str(results[7])
    for k in (6, 8):
        assert results[k].n_features_in_ == 64
    classifiers = results[:6]
    for est, (_, Xf, yf, _) in zip(classifiers, fits):
        alone = _quiet(MLPClassifier(**est.get_params()).fit, Xf, yf)
        assert est.n_features_in_ == alone.n_features_in_
        np.testing.assert_array_equal(est.classes_, alone.classes_)
        assert est._label_binarizer.y_type_ == alone._label_binarizer.y_type_
        _same_model(est, alone)
    for name in ("classes_", "_label_binarizer"):  # each fit holds its own copy
        assert len({id(getattr(est, name)) for est in classifiers}) == len(classifiers)


def test_a_stacked_fit_that_diverges_after_progress_keeps_its_last_finite_epoch():
    """In a stack, a model whose epoch diverges keeps the state it had (the stack's program
    holds it back), while the others train on: each equals its own separate fit."""
    X, y = make_regression(n_samples=200, n_features=10, noise=1.0, random_state=0)
    kw = dict(solver="sgd", momentum=0.9, max_iter=50, random_state=0)
    fits = [(MLPRegressor(learning_rate_init=lr, **kw), X * s, y * s, None)
            for lr, s in ((1e-3, 1.0), (10.0, 1e3))]
    results, _ = _quiet(fit_stacked, fits)
    diverged = results[1]
    assert 1 <= diverged.n_iter_ < 50
    assert all(np.isfinite(c).all() for c in diverged.coefs_ + diverged.intercepts_)
    for (est, Xf, yf, _), stacked in zip(fits, results):
        _same_model(stacked, _quiet(MLPRegressor(**est.get_params()).fit, Xf, yf))


def test_a_fit_that_diverges_in_a_stack_fails_alone(digits):
    X, y = make_regression(n_samples=100, n_features=5, random_state=0)
    fits = [(MLPRegressor(max_iter=5, random_state=0), X * s, y, None) for s in (1.0, 1e200)]
    results, _ = _quiet(fit_stacked, fits)
    assert isinstance(results[0], MLPRegressor)
    assert isinstance(results[1], ValueError) and "non-finite" in str(results[1])


# ------------------------------------------------------------------ the searches


def _compare(ours, theirs, X, y, **fit_params):
    a = _quiet(ours.fit, X, y, **fit_params)
    b = _quiet(theirs.fit, X, y, **fit_params)
    assert a.best_params_ == b.best_params_
    for key in b.cv_results_:
        if key.startswith(("rank_", "param")):
            np.testing.assert_array_equal(a.cv_results_[key], b.cv_results_[key])
        elif "test_" in key or "train_" in key:
            np.testing.assert_allclose(a.cv_results_[key], b.cv_results_[key], atol=1e-6)
    assert a.best_score_ == pytest.approx(b.best_score_, abs=1e-6)
    np.testing.assert_allclose(a.predict_proba(X) if hasattr(a, "predict_proba")
                               else a.predict(X),
                               b.predict_proba(X) if hasattr(b, "predict_proba")
                               else b.predict(X), atol=1e-10)
    return a


def test_grid_search_equals_scikit_learns_on_a_pipeline_with_early_stopping(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(17,), max_iter=30, early_stopping=True, n_iter_no_change=3,
        random_state=0))  # a width no other test uses: compiled here, once
    grid = {"mlpclassifier__alpha": [1e-4, 1e-1],
            "mlpclassifier__learning_rate_init": [1e-3, 1e-2, 5e-2]}
    before = _programs.train_epoch_stack.trace_count
    ours = _compare(GridSearchCV(pipe, grid, cv=3, return_train_score=True),
                    SkGridSearchCV(pipe, grid, cv=3, return_train_score=True), X, y)
    assert _programs.train_epoch_stack.trace_count - before == 1  # one program for 18 fits
    # each model of the stack stopped at its own epoch, the one it stops at alone
    stopped = []
    for ci, params in enumerate(ours.cv_results_["params"]):
        alone = _quiet(cross_validate, clone(pipe).set_params(**params), X, y, cv=3,
                       return_estimator=True)["estimator"]
        for fi, fitted in enumerate(alone):
            loss, val_loss, val_scores = ours.loss_curves_[ci][fi]
            assert len(loss) == fitted[-1].n_iter_
            np.testing.assert_allclose(val_scores, fitted[-1].validation_scores_, atol=1e-12)
            stopped.append(fitted[-1].n_iter_)
    assert len(set(stopped)) > 3 and min(stopped) < 30  # early stopping, at various epochs


def _add_one_in_place(X):
    X += 1.0
    return X


class _CountedScaler(StandardScaler):
    """A StandardScaler that counts its fits, with a ``random_state`` to tell whether refitting
    it on the same data could give another fit."""

    fits = 0

    def __init__(self, *, copy=True, random_state=0):
        super().__init__(copy=copy)
        self.random_state = random_state

    def fit(self, X, y=None, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight)


@pytest.mark.parametrize("random_state, in_place", [(0, False), (0, True), (None, False)],
                         ids=["deterministic", "a later step in place", "random"])
def test_a_pipelines_earlier_steps_are_fitted_once_per_fold_in_scikit_learns_loop(
        digits, random_state, in_place):
    # scikit-learn's loop fits a Pipeline's earlier steps for each candidate x fold; the
    # search's own memory keeps those fitted before the loop (once per fold) and hands copies
    # to the loop's fits and to the refit. A later step that changes its input in place does
    # not reach the kept output (else each hand-over would see it shifted once more), and a
    # step whose fit could differ (a random_state of None) is fitted each time. The results
    # are scikit-learn's, and the user's estimator and best_estimator_ keep memory=None.
    X, y = digits
    steps = [_CountedScaler(random_state=random_state)]
    if in_place:
        steps.append(FunctionTransformer(_add_one_in_place))
    pipe = make_pipeline(*steps, MLPClassifier(hidden_layer_sizes=(9,), max_iter=4,
                                               random_state=0))
    grid = {"mlpclassifier__alpha": [1e-4, 1e-2, 1.0]}
    ours = _compare(GridSearchCV(pipe, grid, cv=3), SkGridSearchCV(pipe, grid, cv=3), X, y)
    _CountedScaler.fits = 0
    _quiet(SkGridSearchCV(pipe, grid, cv=3).fit, X, y)
    theirs = _CountedScaler.fits  # scikit-learn's: 3 x 3 fits and the refit
    _CountedScaler.fits = 0
    _quiet(ours.fit, X, y)
    # ours: before the loop, once per fold and once for the refit trained ahead; in the
    # loop and the refit, none (or each time)
    assert (theirs, _CountedScaler.fits) == (10, 4 if random_state is not None else 14)
    assert ours.estimator is pipe and pipe.memory is None
    assert ours.best_estimator_.memory is None


def _shift(X, by):
    return X + by[1000]


def test_earlier_steps_hand_over_a_fit_only_for_equal_parameters_and_data():
    # The search's Pipeline memory hands over a step's fit only for parameters and data
    # equal entry for entry (a large array's repr elides its middle: its hash does not), and
    # only copies: what a caller does to its output never reaches the kept one.
    from skmlp._prefitted import EarlierSteps

    calls = []

    def fit_transform_one(transformer, X, y, weight=None, message=None, params=None):
        calls.append(transformer)
        return transformer.fit_transform(X, y), transformer

    fit_transform = EarlierSteps(2**20).cache(fit_transform_one)
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    by = np.zeros(2000)
    other = by.copy()
    other[1000] = 1.0
    assert repr(by) == repr(other)
    first, _ = fit_transform(FunctionTransformer(_shift, kw_args={"by": by}), X, y)
    again, fitted = fit_transform(FunctionTransformer(_shift, kw_args={"by": by.copy()}),
                                  X.copy(), y.copy())
    assert len(calls) == 1 and again is not first and fitted is not calls[0]
    np.testing.assert_array_equal(again, X)
    again += 5.0  # the caller's copy
    np.testing.assert_array_equal(fit_transform(
        FunctionTransformer(_shift, kw_args={"by": by}), X, y)[0], X)
    assert len(calls) == 1
    np.testing.assert_array_equal(fit_transform(
        FunctionTransformer(_shift, kw_args={"by": other}), X, y)[0], X + 1.0)
    fit_transform(FunctionTransformer(_shift, kw_args={"by": by}), X + 1.0, y)
    fit_transform(FunctionTransformer(_shift, kw_args={"by": by}), X, y[::-1].copy())
    assert len(calls) == 4  # other parameters, other X, other y: fitted each time


def test_a_search_compiles_its_refits_program_while_its_stacks_train(digits, monkeypatch):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(19,), max_iter=5, early_stopping=True, random_state=0))
    grid = {"mlpclassifier__alpha": [1e-4, 1e-1],
            "mlpclassifier__learning_rate_init": [1e-3, 1e-2]}
    before = _programs.train_epochs.trace_count  # a width no other test uses
    compiled = []

    def best(cv_results):  # called after scikit-learn's loop, before the refit
        compiled.append(_programs.train_epochs.trace_count - before)
        return int(np.argmax(cv_results["mean_test_score"]))

    search = _quiet(GridSearchCV(pipe, grid, cv=3, refit=best).fit, X, y)
    assert compiled == [1]  # the refit's program, compiled alongside the stacks
    assert _programs.train_epochs.trace_count - before == 1  # and the refit ran it
    alone = _quiet(clone(pipe).set_params(**search.cv_results_["params"][search.best_index_])
                   .fit, X, y)
    for got, want in zip(search.best_estimator_[-1].coefs_, alone[-1].coefs_):
        np.testing.assert_array_equal(got, want)
    # a search whose candidates run different programs leaves its refit to compile later
    grid = {"mlpclassifier__hidden_layer_sizes": [(21,), (22,)]}
    before = _programs.train_epochs.trace_count
    compiled.clear()
    _quiet(GridSearchCV(pipe, grid, cv=3, refit=best).fit, X, y)
    assert compiled == [0] and _programs.train_epochs.trace_count - before == 1
    # and so does a search whose fits train sparse (their programs are shaped by the data's
    # non-zeros: a dense stand-in would compile a program nobody runs)
    sparse_X = (X > 8).astype(float)
    sparse = MLPClassifier(hidden_layer_sizes=(26,), max_iter=3, input_layout="sparse",
                           random_state=0)
    before = _programs.train_epochs.trace_count
    compiled.clear()
    _quiet(GridSearchCV(sparse, {"alpha": [1e-4, 1e-1]}, cv=3, refit=best).fit, sparse_X, y)
    assert compiled == [0] and _programs.train_epochs.trace_count - before == 1
    # and so does a search on data above the size bound (no stand-in copies of large data)
    monkeypatch.setattr(search_module, "REFIT_AHEAD_MAX_BYTES", X.nbytes - 1)
    pipe.set_params(mlpclassifier__hidden_layer_sizes=(25,))
    grid = {"mlpclassifier__alpha": [1e-4, 1e-1]}
    before = _programs.train_epochs.trace_count
    compiled.clear()
    _quiet(GridSearchCV(pipe, grid, cv=3, refit=best).fit, X, y)
    assert compiled == [0] and _programs.train_epochs.trace_count - before == 1


def _refit_spies(monkeypatch):
    """Counts of refits trained ahead (taken, or not), of fits trained alone in ``fit`` and of
    scores the loop took from the search's own scoring."""
    from skmlp import _base, _stacking, _training

    counts = {"ahead": [], "alone": 0, "known": 0}
    init, train_alone = _stacking.RefitAhead.__init__, _training.train_alone
    known_score = _base.known_score

    def spy_known(*args):
        score = known_score(*args)
        counts["known"] += score is not None
        return score

    def spy_init(self, *args):
        init(self, *args)
        counts["ahead"].append(self)

    def spy_alone(run):
        counts["alone"] += 1
        return train_alone(run)

    monkeypatch.setattr(_stacking.RefitAhead, "__init__", spy_init)
    monkeypatch.setattr(_training, "train_alone", spy_alone)
    monkeypatch.setattr(_base, "known_score", spy_known)
    return counts


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_the_refit_trains_ahead_while_the_loop_scores_and_ends_as_a_plain_refit(
        digits, monkeypatch, Estimator):
    X, y = digits
    if Estimator is MLPRegressor:
        y = y.astype(float)
    pipe = make_pipeline(StandardScaler(), Estimator(hidden_layer_sizes=(13,), max_iter=8,
                                                     random_state=0))
    grid = {"mlpclassifier__alpha" if Estimator is MLPClassifier else "mlpregressor__alpha":
            [1e-4, 1e-1], "mlpclassifier__learning_rate_init" if Estimator is MLPClassifier
            else "mlpregressor__learning_rate_init": [1e-3, 3e-2]}
    counts = _refit_spies(monkeypatch)
    with pytest.warns(ConvergenceWarning):  # the refit's, issued where scikit-learn refits
        search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    (ahead,) = counts["ahead"]
    assert ahead.taken and counts["alone"] == 0  # the refit came from the helper thread
    # the loop took every fit's test score from the scores that chose the refit's candidate
    assert counts["known"] == 4 * 3
    # refit_time_ charges the helper's own preparing and training, not scikit-learn's wait
    assert not ahead._thread.is_alive() and search.refit_time_ >= ahead.seconds > 0
    alone = _quiet(clone(pipe).set_params(**search.best_params_).fit, X, y)
    got, want = search.best_estimator_[-1], alone[-1]
    for a, b in zip(got.coefs_ + got.intercepts_, want.coefs_ + want.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert got.loss_curve_ == want.loss_curve_ and got.n_iter_ == want.n_iter_
    # the candidate it guessed is scikit-learn's own (it is the same search without it)
    monkeypatch.setattr(search_module._StackedSearchMixin, "_refit_ahead", lambda *a: None)
    counts["alone"] = 0
    plain = _quiet(GridSearchCV(pipe, grid, cv=3).fit, X, y)
    assert counts["alone"] == 1 and plain.best_index_ == search.best_index_
    assert counts["known"] == 4 * 3  # the plain loop scored every fit itself, to the same bits
    for key in (f"split{k}_test_score" for k in range(3)):
        np.testing.assert_array_equal(plain.cv_results_[key], search.cv_results_[key])
    np.testing.assert_array_equal(plain.best_estimator_[-1].coefs_[0], got.coefs_[0])


def test_a_refit_ahead_for_another_candidate_is_stopped_and_the_refit_trains_as_usual(
        digits, monkeypatch):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(13,), max_iter=300, tol=0, n_iter_no_change=300, random_state=0))
    grid = {"mlpclassifier__alpha": [1e-4, 1e-1]}
    counts = _refit_spies(monkeypatch)
    # scores that make the helper train the candidate scikit-learn will not pick
    scores = search_module._StackedSearchMixin._fold_scores
    monkeypatch.setattr(search_module._StackedSearchMixin, "_fold_scores",
                        lambda self, *shape: -scores(self, *shape))
    search = _quiet(GridSearchCV(pipe, grid, cv=3).fit, X, y)
    (ahead,) = counts["ahead"]
    assert not ahead.taken and counts["alone"] == 1  # scikit-learn's refit trained its own
    assert ahead.cancelled and not ahead._thread.is_alive()  # and the guess was stopped
    alone = _quiet(clone(pipe).set_params(**search.best_params_).fit, X, y)
    np.testing.assert_array_equal(search.best_estimator_[-1].coefs_[0], alone[-1].coefs_[0])


@pytest.mark.parametrize("kw, verbose", [({"scoring": "accuracy"}, False),
                                         ({"refit": False}, False),
                                         ({"refit": "score"}, False),
                                         ({}, True)])
def test_a_refit_trains_ahead_only_where_its_candidate_is_known(digits, monkeypatch, kw,
                                                                verbose, capsys):
    X, y = digits
    est = MLPClassifier(hidden_layer_sizes=(13,), max_iter=3, random_state=0, verbose=verbose)
    counts = _refit_spies(monkeypatch)
    _quiet(GridSearchCV(est, {"alpha": [1e-4, 1e-1]}, cv=3, **kw).fit, X, y)
    assert counts["ahead"] == []  # another scorer, no refit or a named one, a verbose fit
    assert counts["alone"] == (0 if kw.get("refit") is False else 1)


def test_a_refit_ahead_keeps_its_warnings_for_the_thread_that_takes_it(digits):
    from skmlp._stacking import RefitAhead

    X, y = digits
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ahead = RefitAhead(MLPClassifier(max_iter=3, random_state=0), X, y, None)
        ahead._thread.join()
        assert not caught  # trained, its max_iter warning kept, not issued on the helper
        fitted = ahead.take()
    assert [w.category for w in caught] == [ConvergenceWarning]
    want = _quiet(MLPClassifier(max_iter=3, random_state=0).fit, X, y)
    for a, b in zip(fitted.coefs_ + fitted.intercepts_, want.coefs_ + want.intercepts_):
        np.testing.assert_array_equal(a, b)
    # cancelled, it stops after its running call
    ahead = RefitAhead(MLPClassifier(max_iter=100000, tol=0, n_iter_no_change=100000,
                                     random_state=0), X, y, None)
    ahead.cancel()
    assert not ahead._thread.is_alive() and ahead.run.history.n_iter < 100000
    # Ctrl-C while scikit-learn's refit waits for it: as a refit's fit, it stops after its
    # running call, says so, and keeps what it trained
    import signal
    import threading

    ahead = RefitAhead(MLPClassifier(max_iter=100000, tol=0, n_iter_no_change=100000,
                                     random_state=0), X, y, None)
    threading.Timer(0.3, signal.pthread_kill,
                    (threading.main_thread().ident, signal.SIGINT)).start()
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        fitted = ahead.take()
    assert 0 < fitted.n_iter_ < 100000 and len(fitted.loss_curve_) == fitted.n_iter_


def test_grid_search_routes_sample_weights_and_scores_several_metrics(digits):
    X, y = digits
    X = StandardScaler().fit_transform(X)
    w = np.random.RandomState(0).randint(1, 4, len(y)).astype(float)
    est = MLPClassifier(hidden_layer_sizes=(12,), max_iter=10, random_state=0)
    grid = {"alpha": [1e-4, 1e-2], "batch_size": [50, 100]}  # two programs: two stacks
    scoring = {"acc": "accuracy", "f1": "f1_macro"}
    ours = _compare(GridSearchCV(est, grid, cv=KFold(3, shuffle=True, random_state=0),
                                 scoring=scoring, refit="f1"),
                    SkGridSearchCV(est, grid, cv=KFold(3, shuffle=True, random_state=0),
                                   scoring=scoring, refit="f1"), X, y, sample_weight=w)
    assert ours.multimetric_ and "mean_test_f1" in ours.cv_results_


def test_randomized_search_equals_scikit_learns(digits):
    X, y = digits
    X = StandardScaler().fit_transform(X)
    y = y.astype(float)
    est = MLPRegressor(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    dist = {"alpha": [1e-5, 1e-3, 1e-1], "learning_rate_init": [1e-3, 3e-3, 1e-2]}
    _compare(RandomizedSearchCV(est, dist, n_iter=5, cv=3, random_state=0),
             SkRandomizedSearchCV(est, dist, n_iter=5, cv=3, random_state=0), X, y)


def test_fits_that_cannot_stack_fall_back_to_scikit_learns_loop(digits):
    X, y = digits
    X = StandardScaler().fit_transform(X)
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    grid = {"solver": ["lbfgs", "adam"], "alpha": [1e-4, 1e-2]}
    _compare(GridSearchCV(est, grid, cv=3), SkGridSearchCV(est, grid, cv=3), X, y)


def _scale(X, by):
    return X * by


def test_error_score_applies_to_a_fit_that_fails_in_a_stack():
    from sklearn.preprocessing import FunctionTransformer

    X, y = make_regression(n_samples=120, n_features=5, random_state=0)
    pipe = make_pipeline(FunctionTransformer(_scale, kw_args={"by": 1.0}),
                         MLPRegressor(max_iter=5, random_state=0))
    # the second scale overflows the first forward pass: nothing finite is learned
    grid = {"functiontransformer__kw_args": [{"by": 1.0}, {"by": 1e200}]}
    search = _quiet(GridSearchCV(pipe, grid, cv=3, error_score=np.nan).fit, X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores[0]) and np.isnan(scores[1])
    with pytest.raises(ValueError, match="non-finite"):
        _quiet(GridSearchCV(pipe, grid, cv=3, error_score="raise").fit, X, y)


_SHARDED = textwrap.dedent("""
    import warnings
    import jax
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler
    from skmlp import MLPClassifier
    from skmlp._stacking import fit_stacked
    assert len(jax.local_devices()) == 2
    warnings.simplefilter("ignore")
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:400]
    y = y[:400]
    fits = [(MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=s), X[s:], y[s:],
             None) for s in range(4)]
    results, _ = fit_stacked(fits)
    for (est, Xf, yf, _), got in zip(fits, results):
        alone = MLPClassifier(**est.get_params()).fit(Xf, yf)
        np.testing.assert_allclose(got.coefs_[0], alone.coefs_[0], atol=1e-12)
    print("sharded ok")
""")


def test_stacks_shard_over_all_local_devices(tmp_path):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               SKMLP_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", _SHARDED], env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "sharded ok" in out.stdout


# ------------------------------------------------------------------ ensembles


def test_ensemble_members_are_the_models_fitted_alone(digits):
    from skmlp.ensemble import MLPEnsembleClassifier

    X, y = digits
    X = StandardScaler().fit_transform(X)
    member = MLPClassifier(hidden_layer_sizes=(15,), max_iter=10)  # a width of its own
    before = _programs.train_epoch_stack.trace_count
    ens = _quiet(MLPEnsembleClassifier(member, n_estimators=5, random_state=0).fit, X, y)
    assert _programs.train_epoch_stack.trace_count - before == 1
    seeds = {est.random_state for est in ens.estimators_}
    assert len(seeds) == 5
    for est in ens.estimators_:
        _same_model(est, _quiet(MLPClassifier(**est.get_params()).fit, X, y))
    proba = np.mean([est.predict_proba(X) for est in ens.estimators_], axis=0)
    np.testing.assert_allclose(ens.predict_proba(X), proba)
    np.testing.assert_array_equal(ens.predict(X), ens.classes_[proba.argmax(1)])
    assert ens.score(X, y) >= np.mean([est.score(X, y) for est in ens.estimators_]) - 0.02


def test_ensemble_bootstrap_is_integer_sample_weights(digits):
    from skmlp.ensemble import MLPEnsembleRegressor

    X, y = digits
    X = StandardScaler().fit_transform(X)
    y = y.astype(float)
    ens = _quiet(MLPEnsembleRegressor(MLPRegressor(hidden_layer_sizes=(8,), max_iter=5),
                                      n_estimators=3, bootstrap=True, random_state=0).fit, X, y)
    members = ens._members(len(y), None)
    for (est, weight), fitted in zip(members, ens.estimators_):
        assert weight.sum() == len(y) and np.all(weight == np.round(weight))
        _same_model(fitted, _quiet(est.fit, X, y, sample_weight=weight))
    np.testing.assert_allclose(ens.predict(X),
                               np.mean([e.predict(X) for e in ens.estimators_], axis=0))


def test_ensemble_of_lbfgs_members_fits_one_after_another(digits):
    from skmlp.ensemble import MLPEnsembleClassifier

    X, y = digits
    X = StandardScaler().fit_transform(X)
    ens = _quiet(MLPEnsembleClassifier(MLPClassifier(solver="lbfgs", max_iter=20),
                                       n_estimators=2, random_state=0).fit, X, y)
    assert all(est.n_iter_ > 0 for est in ens.estimators_)


@pytest.mark.parametrize("seed", range(20))
def test_ensemble_of_one_class_predicts_it(seed):
    """Members trained on one class output [1 - p, p]; the ensemble's classes_ has one entry
    (an IndexError in predict, about one seed in two, before the fix)."""
    from skmlp.ensemble import MLPEnsembleClassifier

    X = np.random.RandomState(seed).uniform(-1, 1, (20, 3))
    y = np.full(20, "only")
    ens = _quiet(MLPEnsembleClassifier(MLPClassifier((8,), max_iter=20), n_estimators=3,
                                       random_state=seed).fit, X, y)
    np.testing.assert_array_equal(ens.predict(X), y)


_WARM_SEARCH_CHILD = textwrap.dedent("""
    import hashlib, threading, warnings
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from skmlp import MLPClassifier, _programs
    from skmlp.model_selection import GridSearchCV
    loaded, load = [], _programs.train_epochs._load

    def spy(*args):
        compiled = load(*args)
        if compiled is not None:
            loaded.append(threading.current_thread().name)
        return compiled

    _programs.train_epochs._load = spy
    X, y = load_digits(return_X_y=True)
    warnings.simplefilter("ignore")
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(29,), max_iter=3,
                                                         random_state=0))
    search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-1]}, cv=3).fit(X, y)
    best = search.best_estimator_[-1]
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in (
        search.cv_results_["mean_test_score"], *best.coefs_, *best.intercepts_)))
    print(",".join(loaded) or "-", digest.hexdigest())
""")


def test_a_warm_search_loads_its_program_while_it_prepares_its_fits(tmp_path):
    """With a warm compile cache, the program the refit and the fits run is loaded on a helper
    thread as soon as the first fit is prepared, while the main thread prepares the others;
    the search's scores and refit are the cold search's, bit for bit."""
    env = dict(os.environ, SKMLP_CACHE_DIR=str(tmp_path), SKMLP_COMPILE_CACHE="1")
    runs = [subprocess.run([sys.executable, "-c", _WARM_SEARCH_CHILD], env=env, check=True,
                           capture_output=True, text=True).stdout.split()[-2:]
            for _ in range(2)]
    (cold_loads, cold), (warm_loads, warm) = runs
    assert cold_loads == "-" and warm_loads == "skmlp-meanwhile"  # loaded once, on the helper
    assert cold == warm


def test_a_folds_candidates_share_one_padded_copy_of_its_rows():
    from skmlp._data import padded_arrays, shared_padding

    rng = np.random.RandomState(0)
    X, Y = rng.rand(37, 4), rng.rand(37, 3)
    with shared_padding():
        first = padded_arrays(X, Y, None, 40, np.float64)
        assert padded_arrays(X, Y, None, 40, np.float64) is first  # the same arrays: shared
        # the same rows seen through another view of the same memory: shared too
        assert padded_arrays(X[:37], Y[:37], None, 40, np.float64) is first
        # anything else is padded anew: other rows, rows, dtype, weights or memory
        others = [padded_arrays(X[:36], Y[:36], None, 40, np.float64),
                  padded_arrays(X, Y, None, 41, np.float64),
                  padded_arrays(X, Y, None, 40, np.float32),
                  padded_arrays(X, Y, np.ones(37), 40, np.float64),
                  padded_arrays(X.copy(), Y, None, 40, np.float64)]
        assert all(other is not first for other in others)
        np.testing.assert_array_equal(others[-1][0], first[0])
    assert padded_arrays(X, Y, None, 40, np.float64) is not first  # outside the context
    np.testing.assert_array_equal(first[0][:37], X)
    assert not first[0][37:].any() and list(first[3]) == [1.0] * 37 + [0.0] * 3


def test_a_prefitted_fit_is_handed_over_only_for_equal_data():
    # Keys summarise the data (a sample of its entries); a hand-over checks every entry.
    import scipy.sparse as sp

    from skmlp._prefitted import fit_key, register, registry, take_prefitted

    rng = np.random.RandomState(0)
    X = rng.rand(300, 40)
    y = rng.randint(0, 2, 300)
    other = X.copy()
    other[1, 1] += 1.0  # an entry the key's sample skips
    est = MLPClassifier(max_iter=3)
    assert fit_key(est, X, y, None) == fit_key(est, other, y, None)
    fitted = MLPClassifier(max_iter=3)
    fitted.marker_ = "stacked"
    with registry() as entries:
        register(entries, fit_key(est, X, y, None), fitted, (X, y, None))
        assert not take_prefitted(MLPClassifier(max_iter=3), other, y, None)
        assert not take_prefitted(MLPClassifier(max_iter=3), sp.csr_matrix(X), y, None)
        taker = MLPClassifier(max_iter=3)
        assert take_prefitted(taker, X.copy(), y.copy(), None)
        assert taker.marker_ == "stacked"
        assert not take_prefitted(MLPClassifier(max_iter=3), X, y, None)  # handed over once
        # two fits whose keys collide each keep their own result
        first, second = MLPClassifier(max_iter=3), MLPClassifier(max_iter=3)
        first.marker_, second.marker_ = "first", "second"
        register(entries, fit_key(est, X, y, None), first, (X, y, None))
        register(entries, fit_key(est, other, y, None), second, (other, y, None))
        takers = [MLPClassifier(max_iter=3), MLPClassifier(max_iter=3)]
        assert take_prefitted(takers[0], other, y, None)
        assert take_prefitted(takers[1], X, y, None)
        assert [t.marker_ for t in takers] == ["second", "first"]
        # entries compare bit for bit (NaN equals NaN), in any memory layout; one ulp misses
        with_nan = X.copy()
        with_nan[3, 3] = np.nan
        for data in (with_nan, np.asfortranarray(with_nan), X.astype(np.float32)):
            register(entries, fit_key(est, data, y, None), fitted, (data, y, None))
            off = data.copy(order="K")
            off[0, 0] = np.nextafter(off[0, 0], np.inf)
            assert not take_prefitted(MLPClassifier(max_iter=3), off, y, None)
            assert take_prefitted(MLPClassifier(max_iter=3), data.copy(order="K"), y, None)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_a_score_a_search_computed_is_taken_once_for_the_same_data_only(digits, Estimator):
    from skmlp._prefitted import remember_score

    X, y = digits
    est = _quiet(Estimator(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit, X, y)
    true = est.score(X, y)
    remember_score(est, X, y, -7.0)  # a score no model has: it shows which path answered
    assert est.score(X.copy(), y.copy()) == -7.0  # equal data, bit for bit
    assert est.score(X, y) == true  # taken once
    for other_X, other_y, weight in [(X[:-1], y[:-1], None), (X, y, np.ones(len(y))),
                                     (np.nextafter(X, np.inf), y, None)]:
        remember_score(est, X, y, -7.0)
        assert est.score(other_X, other_y, weight) != -7.0
    remember_score(est, X, y, -7.0)
    _quiet(est.fit, X, y)  # new weights: the score kept for the old ones is gone
    assert est.score(X, y) == true


def test_fit_keys_tell_parameters_and_data_apart_on_both_hashing_paths():
    # Arrays of numbers take the fast C-pickle digest; anything else (a list of labels, an
    # object array) joblib's canonical hash. Either way: equal fits, equal keys; a different
    # parameter, dtype, shape or sampled entry, a different key.
    from skmlp._prefitted import _plain, _summary, fit_key

    rng = np.random.RandomState(0)
    X = rng.rand(50, 4)
    y = rng.randint(0, 3, 50)
    est = MLPClassifier(max_iter=3)
    key = fit_key(est, X, y, None)
    assert _plain(["a", (1, 2.0, None, True), b"x"]) and not _plain([np.float64(1.0)])
    assert _plain([_summary(a) for a in (X, y, None)])
    assert key == fit_key(MLPClassifier(max_iter=3), X.copy(), y.copy(), None)
    assert len({key, fit_key(MLPClassifier(max_iter=4), X, y, None),
                fit_key(est, X.astype(np.float32), y, None), fit_key(est, X[:49], y[:49], None),
                fit_key(est, X + 1.0, y, None), fit_key(est, X, y, np.ones(50)),
                fit_key(est, X, list(y), None)}) == 7
    labels = np.array(["a", "b"] * 25, dtype=object)
    assert not _plain([_summary(labels)])
    assert fit_key(est, X, labels, None) == fit_key(est, X, labels.copy(), None)
    assert fit_key(est, X, list(y), None) == fit_key(est, X, list(y), None)
