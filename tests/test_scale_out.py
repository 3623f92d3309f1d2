"""Scale-out: a search's and an ensemble's stacks as joblib tasks, on loky processes and on a
real Dask cluster of worker processes. The results are the in-process results."""

import os
import signal
import threading
import time
import warnings

import jax
import numpy as np
import pytest
from distributed import Client, LocalCluster
from joblib import parallel_config
from sklearn.base import clone
from sklearn.datasets import load_digits, make_regression
from sklearn.model_selection import GridSearchCV as SkGridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier, MLPRegressor, _programs, _stacking, _training
from skmlp.ensemble import MLPEnsembleClassifier
from skmlp.model_selection import GridSearchCV

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning",
                                        "ignore::sklearn.exceptions.FitFailedWarning",
                                        "ignore:One or more of the test scores:UserWarning")

GRID = {"mlpclassifier__alpha": [1e-4, 1e-1], "mlpclassifier__learning_rate_init": [1e-3, 1e-2]}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes of one thread each, on loopback, closed at the end."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def _search_for(**kw):
    return GridSearchCV(make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(12,), max_iter=15, random_state=0, **kw)), GRID, cv=3)


def _assert_same_search(a, b):
    assert a.best_params_ == b.best_params_
    for key in b.cv_results_:
        if key.startswith(("rank_", "param")):
            np.testing.assert_array_equal(a.cv_results_[key], b.cv_results_[key])
        elif "test_" in key:
            np.testing.assert_allclose(a.cv_results_[key], b.cv_results_[key], atol=1e-6)
    if getattr(b, "loss_curves_", None) is not None:
        for ca, cb in zip(a.loss_curves_, b.loss_curves_):
            assert (ca is None) == (cb is None)
            for fa, fb in zip(ca or [], cb or []):
                np.testing.assert_allclose(fa[0], fb[0], rtol=1e-9)


def _driver_training(monkeypatch):
    """Counts what the driver trains itself: stacks, fits alone, and the refit trained ahead
    of scikit-learn's call on its helper thread."""
    calls = {"stacks": 0, "alone": 0, "refit ahead": 0}
    train, alone = _training.train, _training.train_alone
    inside_alone = []

    def count_stack(runs, interrupt, shape=None):
        if threading.current_thread().name == "skmlp-refit":
            calls["refit ahead"] += 1
        else:
            calls["stacks"] += not inside_alone  # a fit alone trains as a stack of one
        return train(runs, interrupt, shape)

    def count_alone(run):
        calls["alone"] += 1
        inside_alone.append(run)
        try:
            return alone(run)
        finally:
            inside_alone.pop()

    monkeypatch.setattr(_training, "train", count_stack)
    monkeypatch.setattr(_training, "train_alone", count_alone)
    return calls


# ------------------------------------------------------------------ loky processes


def test_two_loky_workers_give_the_in_process_search(digits, monkeypatch):
    X, y = digits
    alone = _search_for().fit(X, y)
    calls = _driver_training(monkeypatch)
    ours = _search_for().set_params(n_jobs=2).fit(X, y)
    _assert_same_search(ours, alone)
    # the workers trained; the driver, the refit
    assert calls == {"stacks": 0, "alone": 0, "refit ahead": 1}


def test_a_mixed_adam_lbfgs_grid_keeps_scikit_learns_candidate_order(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=10,
                                                         random_state=0))
    grid = {"mlpclassifier__solver": ["adam", "lbfgs", "sgd"],
            "mlpclassifier__alpha": [1e-4, 1e-2]}
    ours = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)
    theirs = SkGridSearchCV(pipe, grid, cv=3).fit(X, y)
    _assert_same_search(ours, theirs)
    # ParameterGrid sorts the keys: alpha varies slowest; lbfgs keeps no loss curve
    assert [c is None for c in ours.loss_curves_] == [False, True, False] * 2


def test_a_folds_candidates_share_one_copy_of_its_rows(digits, monkeypatch):
    X, y = digits
    seen = []
    fit_stacked = _stacking.fit_stacked

    def spy(fits, **kw):
        seen.extend(fits)
        return fit_stacked(fits, **kw)

    monkeypatch.setattr(_stacking, "fit_stacked", spy)
    GridSearchCV(MLPClassifier(hidden_layer_sizes=(6,), max_iter=2, random_state=0),
                 {"alpha": [1e-4, 1e-3, 1e-2]}, cv=3).fit(X, y)
    assert len(seen) == 9
    for fold in range(3):
        rows = {id(X_train) for _, X_train, _, _ in seen[fold::3]}
        assert len(rows) == 1  # one object for the fold's three candidates
    assert len({id(X_train) for _, X_train, _, _ in seen}) == 3
    # a Pipeline's earlier steps: fitted once per fold, their output shared the same way
    seen.clear()
    _search_for().fit(X, y)
    assert len({id(X_train) for _, X_train, _, _ in seen}) == 3


def test_ensemble_members_on_two_workers_are_the_in_process_members(digits):
    X, y = digits
    member = MLPClassifier(hidden_layer_sizes=(10,), max_iter=5)
    alone = MLPEnsembleClassifier(member, n_estimators=4, random_state=0).fit(X, y)
    ours = MLPEnsembleClassifier(member, n_estimators=4, random_state=0, n_jobs=2).fit(X, y)
    for a, b in zip(ours.estimators_, alone.estimators_):
        for ca, cb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
            np.testing.assert_allclose(ca, cb, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), alone.predict_proba(X), atol=1e-10)


def test_stacks_are_cut_so_every_worker_trains_one(digits):
    X, y = digits
    fits = [(MLPClassifier(hidden_layer_sizes=(7,), max_iter=2, random_state=0, alpha=a),
             X[:300 + 40 * k], y[:300 + 40 * k], None) for a in (1e-4, 1e-3) for k in range(3)]
    runs = [(i, est._prepare_run(X_, y_)) for i, (est, X_, y_, _) in enumerate(fits)]
    chunks = _stacking._balance(_stacking._chunks(runs), 4)
    assert len(chunks) == 4 and sorted(i for c in chunks for i, _ in c) == list(range(6))


# ------------------------------------------------------------------ a Dask cluster


def test_the_search_on_a_dask_cluster_is_the_in_process_search(digits, cluster, monkeypatch):
    X, y = digits
    alone = _search_for().fit(X, y)
    calls = _driver_training(monkeypatch)
    with parallel_config(backend="dask"):
        ours = _search_for().fit(X, y)
    _assert_same_search(ours, alone)
    # the workers trained; the driver, the refit
    assert calls == {"stacks": 0, "alone": 0, "refit ahead": 1}


def test_a_diverging_candidate_gets_error_score_on_the_cluster(cluster):
    X, y = make_regression(n_samples=300, n_features=5, random_state=0)
    grid = {"learning_rate_init": [1e-3, 1e3]}  # the second overflows in its first epoch
    est = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0, solver="sgd")
    alone = GridSearchCV(est, grid, cv=3).fit(X, y)
    with parallel_config(backend="dask"):
        ours = GridSearchCV(est, grid, cv=3).fit(X, y)
    assert np.isnan(ours.cv_results_["mean_test_score"][1])
    _assert_same_search(ours, alone)


def test_a_worker_killed_mid_search_changes_nothing(digits, cluster):
    """Dask reruns the lost task on the other worker: a stack task is pure."""
    X, y = digits
    search = GridSearchCV(make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(24,), max_iter=150, tol=0, random_state=0)), GRID, cv=3)
    alone = search.fit(X, y)
    expected = {k: np.copy(v) for k, v in alone.cv_results_.items() if "test_score" in k}
    pids = cluster.run(os.getpid)  # worker address -> process id
    killed = []

    def kill_a_busy_worker():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            busy = [w for w, tasks in cluster.processing().items() if tasks]
            if busy:
                time.sleep(0.2)  # well into its task
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    with parallel_config(backend="dask"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = GridSearchCV(search.estimator, GRID, cv=3).fit(X, y)
    killer.join()
    assert killed  # a worker died while it trained
    for key, value in expected.items():
        np.testing.assert_allclose(ours.cv_results_[key], value, atol=1e-6)
    cluster.wait_for_workers(2, timeout=60)  # the nanny restarts it for later tests


# ------------------------------------------------------------------ data larger than memory


def test_dask_ml_incremental_is_partial_fit_over_the_blocks(digits):
    import dask.array as da
    from dask_ml.wrappers import Incremental

    X, y = digits
    X = X / 16.0
    blocks = da.from_array(X, chunks=200), da.from_array(y, chunks=200)
    model = Incremental(MLPClassifier(hidden_layer_sizes=(16,), random_state=0),
                        scoring="accuracy", shuffle_blocks=False).fit(*blocks,
                                                                    classes=np.arange(10))
    reference = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    for start in range(0, len(X), 200):
        reference.partial_fit(X[start:start + 200], y[start:start + 200], classes=np.arange(10))
    assert model.estimator_.n_iter_ == reference.n_iter_
    for a, b in zip(model.estimator_.coefs_ + model.estimator_.intercepts_,
                    reference.coefs_ + reference.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert model.score(*blocks) == reference.score(X, y)


# ------------------------------------------------------------------ lanes: stacks on threads


def _cores(monkeypatch, n):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(n)), raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)


def test_lanes_follow_the_cores_and_a_one_thread_request(monkeypatch):
    _cores(monkeypatch, 1)
    assert _stacking.lanes() == 1
    _cores(monkeypatch, 8)
    assert _stacking.lanes() == _stacking.LANES == 2
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # a joblib worker's, or the user's, request
    assert _stacking.lanes() == 1


def _lane_search():
    grid = {"mlpclassifier__alpha": [1e-4, 1e-2, 1.0]}  # 3 candidates x 3 folds: odd halves
    return GridSearchCV(make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(13,), max_iter=8, random_state=0)), grid, cv=3)


def test_a_search_in_two_lanes_is_the_search_in_one(digits, monkeypatch):
    X, y = digits
    _cores(monkeypatch, 2)
    monkeypatch.setattr(_stacking, "LANES", 1)
    one = _lane_search().fit(X, y)
    monkeypatch.setattr(_stacking, "LANES", 2)
    threads, train = [], _training.train

    def record(runs, interrupt, shape=None):
        threads.append((threading.current_thread().name, len(runs), shape))
        return train(runs, interrupt, shape)

    monkeypatch.setattr(_training, "train", record)
    before = _programs.train_epoch_stack.trace_count
    two = _lane_search().fit(X, y)
    _assert_same_search(two, one)
    stacks = [t for t in threads if t[1] > 1]  # the refit trains alone, in the driver
    assert len({name for name, _, _ in stacks}) == 2
    assert all(name.startswith("skmlp-lane") for name, _, _ in stacks)
    assert sorted(n for _, n, _ in stacks) == [3, 6]  # cut in two, ...
    # ... and the smaller padded to the larger's shape: one program (this width is compiled
    # nowhere else), as its padding (3 models of 8 epochs) costs less than a second one
    padded = {shape for _, _, shape in stacks}
    assert len(padded) == 1 and sorted(padded.pop()) == [2, 3]
    assert _programs.train_epoch_stack.trace_count - before == 1

    # where the padding would cost more than a compile, each trains at its own shape
    monkeypatch.setattr(_stacking, "PAD_BELOW_FLOPS", 0)
    threads.clear()
    own = _lane_search().fit(X, y)
    _assert_same_search(own, one)
    shapes = sorted(shape for _, n, shape in threads if n > 1)
    assert [sorted(shape) for shape in shapes] == [[1, 3], [2, 3]]
    assert _programs.train_epoch_stack.trace_count - before == 2  # the smaller one's program


def test_padding_that_costs_more_than_a_compile_is_left_out(digits):
    X, y = digits

    def stack(max_iter, seeds):
        runs = []
        for seed in seeds:  # each seed its own group
            est = MLPClassifier(hidden_layer_sizes=(50,), max_iter=max_iter, random_state=seed)
            est._validate_params()
            runs.append(est._prepare_run(X, y, None))
        return runs

    # one padding model of 600 rows x 3,760 parameters: 6 x 600 x 3760 x max_iter flops
    assert len(X) == 600
    short, long = 200, 10_000  # 2.7 and 135 GFLOP: one side of PAD_BELOW_FLOPS each
    assert _stacking._flops(stack(short, [0])[0]) == 6 * 600 * (64 * 50 + 50 + 50 * 10 + 10) * 200
    assert _stacking._even_shapes([stack(short, [0, 1]), stack(short, [2])]) == [(2, 1)] * 2
    assert _stacking._even_shapes([stack(long, [0, 1]), stack(long, [2])]) == [(2, 1), (1, 1)]


def test_large_epochs_train_alone_in_the_lanes_on_the_refits_program(digits, monkeypatch):
    X, y = digits
    _cores(monkeypatch, 2)
    monkeypatch.setattr(_stacking, "LANES", 2)
    # one fold fit's epoch: 400 rows x 1,066 parameters x 6 flops, under the threshold
    search = _lane_search().set_params(estimator__mlpclassifier__hidden_layer_sizes=(14,))
    est = clone(search.estimator[-1])
    est._validate_params()
    run = est._prepare_run(X[:400], y[:400], None)
    assert _stacking._epoch_flops(run) == 6 * 400 * (64 * 14 + 14 + 14 * 10 + 10)
    assert _stacking._flops(run) == 8 * _stacking._epoch_flops(run)  # max_iter=8
    assert not _stacking._alone_in_lanes([[(0, run)]])
    # 1,200 rows x 7,510 parameters x 6: 54 MFLOP an epoch in float64, alone; a float32
    # flop counts half (27), and float32 fits of that size stay in stacks
    for dtype, alone in (("float64", True), ("float32", False)):
        est = MLPClassifier(hidden_layer_sizes=(100,), compute_dtype=dtype)
        est._validate_params()
        big = est._prepare_run(np.tile(X, (2, 1)), np.tile(y, 2), None)
        assert _stacking._alone_in_lanes([[(0, big)]]) is alone
    monkeypatch.setattr(_stacking, "ALONE_MIN_EPOCH_FLOPS", 0)
    calls, train = [], _training.train

    def record(runs, interrupt, shape=None):
        calls.append((threading.current_thread().name, len(runs), runs[0].data[0].shape[0]))
        return train(runs, interrupt, shape)

    monkeypatch.setattr(_training, "train", record)
    before = (_programs.train_epochs.trace_count, _programs.train_epoch_stack.trace_count)
    alone = clone(search).fit(X, y)
    # nine fits one by one, on both lanes, padded to the refit's 600 rows (400 of their own):
    # the fits and the refit run one program, this width's first
    lanes = [call for call in calls if call[0].startswith("skmlp-lane")]
    assert len(lanes) == 9 and {n for _, n, _ in lanes} == {1}
    assert len({name for name, _, _ in lanes}) == 2
    assert {rows for _, _, rows in calls} == {600}
    assert (_programs.train_epochs.trace_count - before[0],
            _programs.train_epoch_stack.trace_count - before[1]) == (1, 0)
    # the same search as in stacks, and on one core (one lane) it stacks
    monkeypatch.setattr(_stacking, "ALONE_MIN_EPOCH_FLOPS", np.inf)
    _assert_same_search(alone, clone(search).fit(X, y))
    monkeypatch.setattr(_stacking, "ALONE_MIN_EPOCH_FLOPS", 0)
    _cores(monkeypatch, 1)
    calls.clear()
    _assert_same_search(alone, clone(search).fit(X, y))
    assert sorted(n for _, n, _ in calls) == [1, 9]  # the refit, and one stack


def test_a_fit_padded_to_more_rows_is_the_same_fit(digits):
    X, y = digits
    fitted = MLPClassifier(hidden_layer_sizes=(9,), max_iter=5, random_state=0).fit(X, y)
    est = MLPClassifier(hidden_layer_sizes=(9,), max_iter=5, random_state=0)
    est._validate_params()
    run = est._prepare_run(X, y, None)
    assert run.data[0].shape[0] == 600
    run.pad_rows(1000)  # two minibatches of padding only, skipped in every epoch
    assert [a.shape[0] for a in run.data] == [1000] * 4
    est._complete_run(run, _training.train_alone(run))
    for a, b in zip(est.coefs_ + est.intercepts_, fitted.coefs_ + fitted.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(est.loss_curve_, fitted.loss_curve_, rtol=1e-12)


def test_stacks_that_queue_for_a_lane_share_one_padded_program(digits, monkeypatch):
    X, y = digits
    _cores(monkeypatch, 2)
    monkeypatch.setattr(_stacking, "LANES", 2)

    class Never:
        requested = False

    stacks = []
    for alpha in (1e-4, 1e-3):  # each seed its own group: stacks of 2 x 1 and 1 x 1
        runs = []
        for seed in (0, 1, 2):
            est = MLPClassifier(hidden_layer_sizes=(11,), max_iter=2, random_state=seed,
                                alpha=alpha)
            est._validate_params()
            runs.append(est._prepare_run(X, y, None))
        stacks += [runs[:2], runs[2:]]
    assert [_training.stack_shape(runs) for runs in stacks] == [(2, 1), (1, 1)] * 2
    shapes, train = [], _training.train

    def record(runs, interrupt, shape=None):
        shapes.append((len(runs), shape))
        return train(runs, interrupt, shape)

    monkeypatch.setattr(_training, "train", record)
    outcomes = _stacking._train_in_lanes(stacks, Never())
    assert [len(outcome) for outcome, _ in outcomes] == [2, 1, 2, 1]
    # four stacks on two lanes: two wait for a lane, and all run one program
    assert sorted(shapes) == [(1, (2, 1)), (1, (2, 1)), (2, (2, 1)), (2, (2, 1))]


def test_padding_models_train_as_stopped_models(digits):
    X, y = digits
    X = X / 16.0

    def runs():
        out = []
        for alpha in (1e-4, 1e-2):
            for seed in (0, 1):
                est = MLPClassifier(hidden_layer_sizes=(13,), max_iter=4, random_state=seed,
                                    alpha=alpha)
                est._validate_params()
                out.append(est._prepare_run(X, y, None))
        return out

    class Never:
        requested = False

    plain_runs, padded_runs = runs(), runs()
    assert _training.stack_shape(plain_runs) == (2, 2)
    plain = _training.train(plain_runs, Never())
    padded = _training.train(padded_runs, Never(), (3, 3))
    assert len(padded) == 4
    for a, b, ra, rb in zip(plain, padded, plain_runs, padded_runs):
        assert ra.history.n_iter == rb.history.n_iter == 4
        np.testing.assert_allclose(ra.history.loss_curve, rb.history.loss_curve, rtol=1e-12)
        for pa, pb in zip(jax.tree_util.tree_leaves(a.params), jax.tree_util.tree_leaves(b.params)):
            np.testing.assert_allclose(pa, pb, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="cannot hold"):
        _training.train(runs(), Never(), (2, 1))


def test_a_lane_that_fails_raises_once_the_other_has_ended(digits, monkeypatch):
    X, y = digits
    _cores(monkeypatch, 2)
    fits = [(MLPClassifier(hidden_layer_sizes=(13,), max_iter=3, random_state=0, alpha=a),
             X, y, None) for a in (1e-4, 1e-3, 1e-2, 1e-1)]
    ended, train = [], _training.train

    def fail_first(runs, interrupt, shape=None):
        if runs[0].hparams["alpha"] == 1e-4:
            raise RuntimeError("this lane broke")
        time.sleep(0.2)
        ended.append(train(runs, interrupt, shape))
        return ended[-1]

    monkeypatch.setattr(_training, "train", fail_first)
    with pytest.raises(RuntimeError, match="this lane broke"):
        _stacking.fit_stacked(fits)
    assert len(ended) == 1  # the other stack trained to its end first


def test_lanes_copy_no_large_data_to_cut_a_stack(digits):
    X, y = digits

    def runs(folds, alphas):
        fits = [MLPClassifier(hidden_layer_sizes=(13,), max_iter=2, random_state=0, alpha=a)
                for a in alphas]
        return [(i, est._prepare_run(X[f], y[f]))
                for i, (est, f) in enumerate((e, f) for f in folds for e in fits)]

    three_folds = runs([slice(0, 400), slice(100, 500), slice(200, 600)], (1e-4, 1e-3))
    # small data: the even cut, between each fold's candidates (3 x 1 twice)
    cheap = _stacking._balance(_stacking._chunks(three_folds), 2)
    assert [_training.stack_shape([r for _, r in c]) for c in cheap] == [(3, 1), (3, 1)]
    # data over the copy limit: between the folds only, which copies nothing ...
    chunks = _stacking._balance(_stacking._chunks(three_folds), 2, copy_limit=0)
    assert sorted(_training.stack_shape([r for _, r in c]) for c in chunks) == [(1, 2), (2, 2)]
    # ... and one fold's candidates stay one stack
    one_fold = runs([slice(0, 400)], (1e-4, 1e-3, 1e-2))
    assert len(_stacking._balance(_stacking._chunks(one_fold), 2, copy_limit=0)) == 1
    assert len(_stacking._balance(_stacking._chunks(one_fold), 2)) == 2
