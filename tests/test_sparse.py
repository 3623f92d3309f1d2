"""Sparse data trains sparse: same models as dense training, O(nnz) layout, scikit-learn's
behaviour on awkward matrices."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.preprocessing import OneHotEncoder

from skmlp import MLPClassifier, MLPRegressor, _data, _programs
from skmlp._core.network import SparseRows


@pytest.fixture(scope="module")
def onehot():
    """A small recommender-like table: two categorical ids, one-hot encoded (CSR)."""
    rng = np.random.RandomState(0)
    ids = np.c_[rng.randint(0, 60, 600), rng.randint(0, 90, 600)]
    y = ((ids[:, 0] % 3) == (ids[:, 1] % 2)).astype(int)
    X = OneHotEncoder().fit_transform(ids).tocsr()
    return X, y


def _fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def _assert_same_model(a, b, rtol=1e-10):
    for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        scale = max(np.max(np.abs(cb)), 1e-300)
        assert np.max(np.abs(ca - cb)) <= rtol * scale


CONFIGS = {
    "adam": dict(solver="adam"),
    "sgd": dict(solver="sgd", learning_rate_init=0.05),
    "lbfgs": dict(solver="lbfgs"),
    "adam early stopping": dict(solver="adam", early_stopping=True, n_iter_no_change=2),
    "batch norm + dropout": dict(solver="adam", batch_norm=True, dropout=0.2),
    "lbfgs batch norm": dict(solver="lbfgs", batch_norm=True),
    "rmsprop, two layers": dict(solver="rmsprop", hidden_layer_sizes=(8, 4)),
    "class weights": dict(solver="adam", class_weight="balanced"),
}


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_sparse_training_gives_the_dense_model(onehot, config):
    X, y = onehot
    kw = {"hidden_layer_sizes": (10,), "max_iter": 8, "random_state": 0, **CONFIGS[config]}
    sparse = _fit(MLPClassifier(**kw), X, y)
    dense = _fit(MLPClassifier(input_layout="dense", **kw), X, y)
    assert sparse.input_layout_ == "sparse" and dense.input_layout_ == "dense"
    _assert_same_model(sparse, dense)
    assert sparse.n_iter_ == dense.n_iter_
    np.testing.assert_allclose(sparse.loss_, dense.loss_, rtol=1e-10)


def test_sample_weights_warm_start_and_partial_fit_train_sparse(onehot):
    X, y = onehot
    w = np.random.RandomState(1).randint(0, 3, X.shape[0]).astype(float)
    models = {}
    for layout in ("sparse", "dense"):
        est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=0,
                            warm_start=True, input_layout=layout)
        _fit(est, X, y, sample_weight=w)
        _fit(est, X, y, sample_weight=w)  # warm start
        est.partial_fit(X[:200], y[:200])
        models[layout] = est
    _assert_same_model(models["sparse"], models["dense"])


def test_regression_on_sparse_input():
    X, _ = make_classification(n_samples=300, n_features=200, random_state=0)
    X = sp.random(300, 400, density=0.01, format="csr", random_state=0)
    y = np.asarray(X.sum(axis=1)).ravel()
    kw = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    _assert_same_model(_fit(MLPRegressor(**kw), X, y),
                       _fit(MLPRegressor(input_layout="dense", **kw), X, y))


def test_sparse_fit_reproduces_scikit_learns_sparse_fit(onehot):
    X, y = onehot
    kw = dict(hidden_layer_sizes=(10,), max_iter=5, random_state=0)
    ours = _fit(MLPClassifier(**kw), X, y)
    theirs = _fit(SkMLPClassifier(**kw), X, y)
    assert ours.input_layout_ == "sparse"
    _assert_same_model(ours, theirs, rtol=1e-9)


def test_the_dense_matrix_is_never_built(onehot, monkeypatch):
    X, y = onehot

    def refuse(X):
        raise AssertionError("densified")

    monkeypatch.setattr(_data, "_dense", refuse)
    monkeypatch.setattr(sp.csr_matrix, "toarray", refuse)
    _fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, early_stopping=True), X, y)
    _fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, solver="lbfgs"), X, y)


def test_the_layout_holds_only_each_rows_non_zeros():
    X = sp.csr_matrix(np.array([[0, 2.0, 0, 0, 1.0], [0, 0, 0, 0, 0], [3.0, 0, 0, 0, 0]]))
    rows = _data.sparse_rows(X, n_rows=4, dtype=np.float64)
    assert isinstance(rows, SparseRows) and rows.indices.shape == (4, 2)
    dense = np.zeros((4, 5))
    np.add.at(dense, (np.arange(4)[:, None], rows.indices), rows.values)
    np.testing.assert_array_equal(dense[:3], X.toarray())
    assert not dense[3].any()  # padding rows are empty


def test_auto_layout_follows_the_measured_crossover(onehot):
    X, _ = onehot
    def layout(X, setting="auto"):
        return _data.choose_layout(X, setting)[1]

    assert layout(X) == "sparse"
    assert layout(X.toarray()) == "sparse"  # a mostly-zero dense table
    assert layout(np.asfortranarray(X.toarray())) == "sparse"
    dense = np.random.RandomState(0).rand(50, 20)
    assert layout(dense) == "dense"
    assert layout(sp.csr_matrix(dense)) == "dense"  # sparse type, dense content
    assert layout(dense, "sparse") == "sparse"
    assert layout(X, "dense") == "dense"
    for table in (X.toarray(), np.asfortranarray(X.toarray())):
        csr, _ = _data.choose_layout(table)
        np.testing.assert_array_equal(csr.toarray(), X.toarray())
    # rows of very uneven length pad to the longest row: dense is cheaper then
    uneven = sp.lil_matrix((100, 400))
    uneven[0, :100] = 1.0
    uneven[1:, 0] = 1.0
    assert layout(uneven.tocsr()) == "dense"


def test_get_dummies_table_takes_the_sparse_path_with_identical_results(onehot):
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"user": rng.randint(0, 60, 400).astype(str),
                          "item": rng.randint(0, 90, 400).astype(str)})
    X = pd.get_dummies(frame)
    y = rng.randint(0, 2, 400)
    kw = dict(hidden_layer_sizes=(6,), max_iter=4, random_state=0)
    auto = _fit(MLPClassifier(**kw), X, y)
    dense = _fit(MLPClassifier(input_layout="dense", **kw), X, y)
    assert auto.input_layout_ == "sparse"
    _assert_same_model(auto, dense)
    np.testing.assert_array_equal(auto.feature_names_in_, X.columns)


def test_prediction_stays_sparse_and_matches_dense(onehot):
    X, y = onehot
    clf = _fit(MLPClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=0), X, y)
    np.testing.assert_allclose(clf.predict_proba(X), clf.predict_proba(X.toarray()),
                               rtol=1e-12)


def test_folds_and_hyperparameters_share_one_sparse_program(onehot):
    X, y = onehot
    kw = dict(hidden_layer_sizes=(7,), max_iter=2, random_state=0)
    _fit(MLPClassifier(**kw), X[:480], y[:480])
    before = _programs.train_epochs.trace_count
    _fit(MLPClassifier(alpha=0.1, learning_rate_init=0.01, **kw), X[:470], y[:470])
    _fit(MLPClassifier(**kw), X[100:575], y[100:575])
    assert _programs.train_epochs.trace_count == before


# ------------------------------------------------------------------ awkward matrices


def _errors_alike(make, X, y):
    """Both libraries raise the same error type and message, or both succeed."""
    outcomes = []
    for est in (SkMLPClassifier(max_iter=2, random_state=0), make()):
        try:
            _fit(est, X, y)
            outcomes.append(None)
        except Exception as exc:  # noqa: BLE001 - comparing what each raises
            outcomes.append((type(exc), str(exc)))
    assert outcomes[0] == outcomes[1]
    return outcomes[1]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_sparse_input_fails_as_in_scikit_learn(onehot, bad):
    X, y = onehot
    X = X.copy()
    X.data[3] = bad
    outcome = _errors_alike(lambda: MLPClassifier(max_iter=2, random_state=0), X, y)
    assert outcome is not None and outcome[0] is ValueError


def _canonical(X):
    Y = sp.csr_matrix(X, copy=True)
    Y.sum_duplicates()
    return Y


@pytest.mark.parametrize("kind", ["int64 indices", "unsorted indices", "duplicates",
                                  "empty rows", "coo", "csc"])
def test_awkward_sparse_matrices_train_like_their_canonical_form(onehot, kind):
    X, y = onehot
    X = X.copy()
    if kind == "int64 indices":
        X.indices = X.indices.astype(np.int64)
        X.indptr = X.indptr.astype(np.int64)
    elif kind == "unsorted indices":
        for i in range(X.shape[0]):
            s = slice(X.indptr[i], X.indptr[i + 1])
            X.indices[s], X.data[s] = X.indices[s][::-1].copy(), X.data[s][::-1].copy()
        X.has_sorted_indices = False
    elif kind == "duplicates":  # (i, j) stored twice sums, as in scipy
        coo = X.tocoo()
        X = sp.csr_matrix((np.r_[coo.data, coo.data[:50]],
                           (np.r_[coo.row, coo.row[:50]], np.r_[coo.col, coo.col[:50]])),
                          shape=X.shape)
        X = sp.csr_matrix((X.data, X.indices, X.indptr), shape=X.shape)
    elif kind == "empty rows":
        X = sp.vstack([X, sp.csr_matrix((5, X.shape[1]))]).tocsr()
        y = np.r_[y, [0, 1, 0, 1, 0]]
    elif kind == "coo":
        X = X.tocoo()
    else:
        X = X.tocsc()
    kw = dict(hidden_layer_sizes=(6,), max_iter=3, random_state=0)
    assert _errors_alike(lambda: MLPClassifier(**kw), X, y) is None
    ours = _fit(MLPClassifier(**kw), X, y)
    reference = _fit(MLPClassifier(input_layout="dense", **kw), _canonical(X).toarray(), y)
    assert ours.input_layout_ == "sparse"
    _assert_same_model(ours, reference)
    theirs = _fit(SkMLPClassifier(**kw), X, y)
    _assert_same_model(ours, theirs, rtol=1e-9)


def test_a_get_dummies_frame_trains_sparse_without_a_dense_float_copy():
    """``pd.get_dummies`` gives bool columns: they become CSR in one pass over their bytes,
    never the dense float64 matrix scikit-learn's check_array would build (8 bytes a cell)."""
    import tracemalloc

    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"user": pd.Categorical(rng.randint(1000, size=5000)),
                          "item": pd.Categorical(rng.randint(1000, size=5000))})
    X = pd.get_dummies(frame)  # 5000 x 2000 bool: 10 MB; as float64, 80 MB
    y = rng.randint(2, size=5000)
    kw = dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=2, random_state=0)
    _fit(MLPClassifier(**kw), X.iloc[:50], y[:50])  # compile outside the measurement
    tracemalloc.start()
    clf = _fit(MLPClassifier(**kw), X, y)
    proba = clf.predict_proba(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 40e6, peak / 1e6  # well under the 80 MB dense copy
    assert clf.input_layout_ == "sparse"
    np.testing.assert_array_equal(clf.feature_names_in_, X.columns)
    dense = _fit(MLPClassifier(**kw), X.to_numpy(np.float64), y)
    for a, b in zip(clf.coefs_ + clf.intercepts_, dense.coefs_ + dense.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(proba, dense.predict_proba(X.to_numpy(np.float64)))
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(X.rename(columns={X.columns[0]: "renamed"}))
