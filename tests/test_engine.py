"""The training engine: compile reuse, the per-machine compile cache, devices."""

import contextlib
import gc
import os
import subprocess
import sys
import textwrap
import threading
import warnings

import jax
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skmlp
from skmlp import MLPClassifier, MLPRegressor, _programs
from skmlp._data import bucket, n_padded_rows


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X, y


def test_buckets_are_monotone_and_within_25_percent():
    sizes = [bucket(n) for n in range(1, 5000)]
    assert all(b >= n for n, b in zip(range(1, 5000), sizes))
    assert sizes == sorted(sizes)
    assert all(b <= 1.25 * n + 1 for n, b in zip(range(1, 5000), sizes))
    # 5-fold CV training sets of digits (1437 or 1438 rows) share one bucket
    assert n_padded_rows(1437, 200) == n_padded_rows(1438, 200)


@pytest.mark.parametrize("solver", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("x64", [False, True])
def test_initial_optimizer_state_is_optax_init_without_a_program(solver, nesterov, x64):
    """The built-in solvers' initial states are filled on the host; they must equal what
    optax's own ``init`` returns, leaf for leaf, in structure, dtype and value."""
    from skmlp._core import optim

    dtype = np.float64 if x64 else np.float32
    params = {"coefs": [np.ones((3, 4), dtype), np.ones((4, 2), dtype)],
              "intercepts": [np.ones(4, dtype), np.ones(2, dtype)]}
    with jax.enable_x64(x64):
        expected = jax.device_get(optim.init_opt_state(solver, params, nesterov))
        got = optim.initial_opt_state(solver, params, nesterov)
    assert jax.tree_util.tree_structure(got) == jax.tree_util.tree_structure(expected)
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(expected)):
        assert isinstance(a, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_grid_search_compiles_the_training_program_once(digits):
    """9 candidates x 5 folds: new learning rates, alphas and fold sizes reuse one program."""
    X, y = digits
    grid = {"mlpclassifier__alpha": [1e-5, 1e-3, 1e-1],
            "mlpclassifier__learning_rate_init": [1e-3, 3e-3, 1e-2]}
    # a width no other test uses: its program is compiled here, exactly once
    pipe = make_pipeline(StandardScaler(),
                         MLPClassifier(hidden_layer_sizes=(61,), max_iter=50, random_state=0))
    before = _programs.train_epochs.trace_count
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(pipe, grid, cv=5, refit=False).fit(X, y)  # scikit-learn's
    assert len(search.cv_results_["params"]) * 5 == 45
    assert _programs.train_epochs.trace_count - before == 1  # 45 separate fits, one program


@pytest.mark.parametrize("change", [{"momentum": 0.5}, {"beta_1": 0.8, "beta_2": 0.99},
                                    {"epsilon": 1e-6}, {"power_t": 0.3},
                                    {"learning_rate": "invscaling"}])
def test_hyperparameters_are_runtime_values(change, digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), max_iter=2, random_state=0, solver="sgd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(**kw).fit(X, y)
        before = _programs.train_epochs.trace_count
        MLPClassifier(**kw, **change).fit(X, y)
    assert _programs.train_epochs.trace_count == before


def test_settings_a_solver_ignores_compile_nothing(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), max_iter=2, random_state=0, solver="adam")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(**kw).fit(X, y)
        before = _programs.train_epochs.trace_count
        MLPClassifier(nesterovs_momentum=False, **kw).fit(X, y)
    assert _programs.train_epochs.trace_count == before


def test_prediction_never_compiles(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(max_iter=2, random_state=0).fit(X, y)
    counts = [p.trace_count for p in _programs.PROGRAMS]
    for n in (1, 7, 1000):
        clf.predict_proba(X[:n])
    assert [p.trace_count for p in _programs.PROGRAMS] == counts


@pytest.mark.parametrize("sparse", [False, True])
def test_large_data_gathers_per_step_with_the_same_result(digits, monkeypatch, sparse):
    # Small training sets are gathered once per epoch, large ones one minibatch at a time;
    # both visit the same rows in the same order.
    import scipy.sparse as sp

    from skmlp._core import train

    X, y = digits
    X = sp.csr_matrix(X / 16) if sparse else X / 16
    kw = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0, solver="adam")
    gathered = []  # the number of rows of each gather traced into the epoch program
    take_rows = train.take_rows
    monkeypatch.setattr(train, "take_rows",
                        lambda X, rows: gathered.append(rows.shape[0]) or take_rows(X, rows))
    monkeypatch.setattr(_programs._compile_cache, "compile_cache_enabled", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _programs.train_epochs.clear()
        small = MLPClassifier(**kw).fit(X, y)
        small_gathers, gathered[:] = gathered[:], []
        monkeypatch.setattr(train, "PREGATHER_BYTES", 0)
        _programs.train_epochs.clear()
        large = MLPClassifier(**kw).fit(X, y)
    _programs.train_epochs.clear()
    (epoch_rows,) = small_gathers  # one gather of the whole (padded) epoch ...
    assert epoch_rows >= len(y) and epoch_rows % 200 == 0
    assert gathered == [200]  # ... against one of a minibatch inside the step
    assert large.loss_curve_ == pytest.approx(small.loss_curve_, rel=1e-12)
    for a, b in zip(large.coefs_, small.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("params", [
    dict(max_iter=12),  # stops at max_iter
    dict(max_iter=200, tol=1e-2, n_iter_no_change=2),  # stops on the training loss
    dict(max_iter=40, learning_rate="adaptive", solver="sgd", tol=1e-2, n_iter_no_change=2),
    dict(max_iter=30, early_stopping=True, n_iter_no_change=3, tol=1e-3),
    dict(max_iter=8, learning_rate_init=10.0),  # diverges
])
def test_epochs_dispatched_ahead_change_nothing(digits, monkeypatch, params):
    # A single fit trains several epochs a call when none of them but the last can stop it or
    # change its rate, and a short call's successor is dispatched before the host books it; a
    # fit that stops, diverges, or whose learning rate changes, drops it and puts the
    # RandomState back: every figure, the weights and a warm-started continuation equal those
    # of one epoch at a time.
    from skmlp import _training

    X, y = digits
    X = X / 16 * (10 if params.get("learning_rate_init") == 10.0 else 1)
    fits = []
    dispatched, chunks = [], []

    class CountedAhead(_training._Ahead):
        def __init__(self, runs, active):
            super().__init__(runs, active)
            dispatched.append(runs)

    chunk = _training._Stack._chunk

    def counted_chunk(self, epoch_s, after=0):
        chunks.append(chunk(self, epoch_s, after))
        return chunks[-1]

    monkeypatch.setattr(_training, "_Ahead", CountedAhead)
    monkeypatch.setattr(_training._Stack, "_chunk", counted_chunk)
    # 4 epochs a call, always ahead (whatever this machine's epoch time); an epoch a call,
    # always ahead; an epoch at a time
    monkeypatch.setattr(_training, "CHUNK_BELOW_S", np.inf)
    for n_epochs, ahead_below in ((4, np.inf), (1, np.inf), (1, -1.0)):
        monkeypatch.setattr(_training, "CHUNK_EPOCHS", n_epochs)
        monkeypatch.setattr(_training, "AHEAD_BELOW_S", ahead_below)
        dispatched.clear()
        chunks.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, warm_start=True,
                                **params)
            first = clf.fit(X, y).loss_curve_[:]
            clf.set_params(max_iter=3)
            fits.append((first, clf.fit(X, y).loss_curve_[:], clf.n_iter_,
                         [c.copy() for c in clf.coefs_]))
        if n_epochs > 1:
            several = max(chunks) > 1
            assert several == ("early_stopping" not in params)  # its epochs keep weights
        elif ahead_below > 0:
            assert dispatched
            if params == dict(max_iter=12):
                # epochs 2-12 of the first fit and 2-3 of the continuation went ahead
                assert len(dispatched) == 11 + 2
    for first, curve, n, coefs in fits[:2]:
        assert first == fits[2][0] and curve == fits[2][1] and n == fits[2][2]
        for a, b in zip(coefs, fits[2][3]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("params", [
    dict(compute_dtype="float32"),
    dict(batch_norm=True, dropout=0.2),
    dict(input_layout="sparse", solver="sgd", learning_rate="adaptive", tol=1e-2,
         n_iter_no_change=2),
])
def test_several_epochs_a_call_give_one_epoch_a_calls_numbers(digits, monkeypatch, params):
    # Chunked epochs run the epoch's code inside a loop of the program: float32 arithmetic,
    # batch norm's running statistics, dropout's keys and sparse rows come out bit for bit.
    from skmlp import _training

    X, y = digits
    X = X / 16
    fits, chunks = [], []
    chunk = _training._Stack._chunk
    monkeypatch.setattr(_training._Stack, "_chunk", lambda self, epoch_s, after=0: (
        chunks.append(chunk(self, epoch_s, after)) or chunks[-1]))
    monkeypatch.setattr(_training, "CHUNK_BELOW_S", np.inf)
    for n_epochs in (10, 1):
        monkeypatch.setattr(_training, "CHUNK_EPOCHS", n_epochs)
        chunks.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=25, random_state=0,
                                **params).fit(X, y)
        fits.append(clf)
        assert (max(chunks) > 1) == (n_epochs > 1)  # several epochs a call did run
    chunked, single = fits
    assert chunked.n_iter_ == single.n_iter_ and chunked.loss_curve_ == single.loss_curve_
    for a, b in zip(chunked.coefs_ + chunked.intercepts_, single.coefs_ + single.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(chunked.predict_proba(X), single.predict_proba(X))


def test_a_divergence_inside_a_call_of_several_epochs_keeps_the_epoch_before(monkeypatch):
    # Epoch 17 of this fit diverges inside a call of several epochs: the call stops there,
    # and the fit keeps the state after epoch 16 (the call run again for the epochs before
    # it), as one epoch at a time does.
    from skmlp import MLPRegressor, _training

    rng = np.random.RandomState(0)
    X = rng.randn(300, 5)
    y = X @ rng.randn(5) * 1e3
    fits, calls = [], []
    executable = _training._Stack._executable

    def counted(self, *args):
        call, program = executable(self, *args)
        return (lambda *a: calls.append(a[-1]) or call(*a)), program

    monkeypatch.setattr(_training._Stack, "_executable", counted)
    monkeypatch.setattr(_training, "CHUNK_BELOW_S", np.inf)
    monkeypatch.setattr(_training, "AHEAD_BELOW_S", np.inf)
    for n_epochs in (10, 1):
        monkeypatch.setattr(_training, "CHUNK_EPOCHS", n_epochs)
        calls.clear()
        reg = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", momentum=0.99,
                           learning_rate_init=3e-4, batch_size=50, tol=0, max_iter=30,
                           random_state=0)
        with pytest.warns(ConvergenceWarning, match="training loss became nan in epoch 17"):
            reg.fit(X, y)
        fits.append(reg)
        if n_epochs == 10:
            # 10 epochs and 1 dispatched ahead of their booking (the worst case of their
            # figures allows no more); 6 (their count of epochs without improvement allows
            # no more), the 6th diverging (epoch 17), and 1 ahead, dropped; the 5 before it
            assert calls == [10, 1, 6, 1, 5]
    chunked, single = fits
    assert chunked.n_iter_ == single.n_iter_ == 16
    assert chunked.loss_curve_ == single.loss_curve_
    for a, b in zip(chunked.coefs_ + chunked.intercepts_, single.coefs_ + single.intercepts_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(chunked.predict(X), single.predict(X))


def test_a_fit_on_a_program_that_trained_before_starts_from_its_epoch_time(digits,
                                                                           monkeypatch):
    # The first fit on a program trains one epoch in its first call, its epoch time unknown;
    # a later fit on the same program starts from the time measured then: several epochs in
    # its first call, and the next call dispatched ahead. Its numbers are the first fit's.
    from skmlp import _training

    X, y = digits
    X = X / 16
    monkeypatch.setattr(_training, "_EPOCH_S", type(_training._EPOCH_S)())
    firsts = []
    chunk = _training._Stack._chunk

    def first_chunk(self, epoch_s, after=0):
        n = chunk(self, epoch_s, after)
        if not firsts or firsts[-1] is None:
            firsts[-1:] = [(epoch_s, n)]
        return n

    monkeypatch.setattr(_training._Stack, "_chunk", first_chunk)
    fits = [MLPClassifier(hidden_layer_sizes=(13,), max_iter=30, random_state=0)
            for _ in range(2)]
    for clf in fits:
        firsts.append(None)
        _quiet_fit(clf, X, y)
    (cold_s, cold_n), (seeded_s, seeded_n) = firsts
    assert cold_s == np.inf and cold_n == 1
    assert 0 < seeded_s < _training.CHUNK_BELOW_S and seeded_n == _training.CHUNK_EPOCHS
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    for a, b in zip(fits[0].coefs_, fits[1].coefs_):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("params, settings", [
    (dict(max_iter=12, n_iter_no_change=100), [{}]),  # every epoch but the first goes ahead
    (dict(max_iter=60, tol=1e-2, n_iter_no_change=2),  # members stop at different epochs
     [dict(learning_rate_init=r) for r in (1e-3, 1e-2, 3e-2)]),
    (dict(max_iter=60, tol=1e-2, n_iter_no_change=2),  # ... in groups of their own seeds,
     [dict(random_state=s, learning_rate_init=r)     # whose row orders an epoch dropped
      for s in (0, 1) for r in (1e-3, 3e-2)]),        # must put back group by group
    (dict(max_iter=40, learning_rate="adaptive", solver="sgd", tol=1e-2, n_iter_no_change=2),
     [dict(momentum=m) for m in (0.5, 0.9)]),
    (dict(max_iter=30, early_stopping=True, n_iter_no_change=3, tol=1e-3),
     [dict(alpha=a) for a in (1e-4, 1e-1)]),
    (dict(max_iter=8, n_iter_no_change=100),  # one member diverges
     [dict(learning_rate_init=r) for r in (1e-3, 10.0)]),
])
def test_stack_epochs_dispatched_ahead_change_nothing(digits, monkeypatch, params, settings):
    # A stack's next epoch goes ahead while the host books this one when no member can stop
    # or change its rate at this epoch; an epoch that trained a member that stopped after all
    # is dropped and trained again. Every member's figures and weights equal those of one
    # epoch at a time, also when epochs go ahead regardless (and are dropped when a member
    # stops); going ahead only when steady drops none but after a divergence.
    from sklearn.base import clone

    from skmlp import _stacking, _training

    X, y = digits
    diverges = any(s.get("learning_rate_init") == 10.0 for s in settings)
    X = X / 16 * (10 if diverges else 1)
    dispatched, dropped = [], []

    class CountedAhead(_training._Ahead):
        def __init__(self, runs, active):
            super().__init__(runs, active)
            dispatched.append(runs)

        def discard(self):
            dropped.append(self)
            super().discard()

    monkeypatch.setattr(_training, "_Ahead", CountedAhead)
    monkeypatch.setattr(_stacking, "LANES", 1)  # one stack, not two halves
    base = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, **params)
    folds = [slice(0, 900), slice(300, 1200)]  # two groups of equally many rows
    steady = _training._steady
    outcomes = {}
    for mode, ahead_below, rule in (("steady", np.inf, steady),
                                    ("always", np.inf, _training._steady_rate),
                                    ("never", -1.0, steady)):
        monkeypatch.setattr(_training, "STACK_AHEAD_BELOW_S", ahead_below)
        monkeypatch.setattr(_training, "_steady", rule)
        dispatched.clear()
        dropped.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits = [(clone(base).set_params(**s), X[f], y[f], None)
                    for f in folds for s in settings]
            results, _ = _stacking.fit_stacked(fits)
        fitted = [m for m in results if not isinstance(m, BaseException)]
        outcomes[mode] = ([repr(m) if isinstance(m, BaseException) else
                           (m.loss_curve_, m.n_iter_, m.validation_scores_) for m in results],
                          [c for m in fitted for c in m.coefs_], len(dispatched), len(dropped))
    for mode in ("steady", "always"):
        assert outcomes[mode][0] == outcomes["never"][0]
        for a, b in zip(outcomes[mode][1], outcomes["never"][1]):
            np.testing.assert_array_equal(a, b)
    assert outcomes["never"][2] == 0 and outcomes["steady"][2] > 0
    if params == dict(max_iter=12, n_iter_no_change=100):
        assert outcomes["steady"][2:] == (11, 0)  # epochs 2-12 went ahead, none dropped
    elif not diverges:
        assert outcomes["steady"][3] == 0  # nobody stops at an epoch that went ahead
    if len(settings) > 1 and not diverges:
        assert outcomes["always"][3] > 0  # members stopped under epochs that went ahead


def test_cpu_compiler_options_follow_the_data():
    # Dense epochs get their data type's options on top of every CPU program's: float64 the
    # float64 options (a single fit's with XLA's sums kept whole, and its small steps' loops
    # undivided), a single fit's float32 the older emitters; a float32 stack, sparse data
    # (integer indices) and L-BFGS, XLA's defaults but the optimisation level; other devices
    # none.
    cpu = jax.devices("cpu")[0]
    program, stack = _programs.train_epochs, _programs.train_epoch_stack
    dense64 = {"data": (np.zeros((4, 3)), np.zeros(4))}
    dense32 = {"data": (np.zeros((4, 3), np.float32), np.zeros(4, np.float32))}
    fit64 = {**_programs._CPU_OPTIONS, **_programs._CPU_FLOAT64_OPTIONS,
             "xla_disable_hlo_passes": "tree_reduction_rewriter"}
    assert program._compiler_options(cpu, dense64) == fit64
    assert stack._compiler_options(cpu, dense64) == {**_programs._CPU_OPTIONS,
                                                     **_programs._CPU_FLOAT64_OPTIONS}
    assert program._compiler_options(cpu, dense32) == {**_programs._CPU_OPTIONS,
                                                       "xla_cpu_use_fusion_emitters": False}
    assert stack._compiler_options(cpu, dense32) == _programs._CPU_OPTIONS
    sparse = {"data": (np.zeros((4, 3)), np.zeros((4, 3), np.int32))}
    assert program._compiler_options(cpu, sparse) == _programs._CPU_OPTIONS
    assert _programs.full_batch_value_and_grad._compiler_options(cpu, dense64) == \
        _programs._CPU_OPTIONS

    from skmlp._core import train

    # a step's widest array: the batch's rows times the widest of input and layers
    def fit(n_features, sizes, batch_size=200, dtype=np.float64):
        coefs = [np.zeros((a, b), dtype) for a, b in zip([n_features, *sizes], sizes)]
        dynamic = {"data": (np.zeros((4, n_features), dtype), np.zeros(4, dtype)),
                   "state": train.TrainState({"coefs": coefs}, {}, (), None)}
        spec = train.TrainSpec(net=None, loss="log_loss", batch_size=batch_size)
        return program._compiler_options(cpu, dynamic, {"spec": spec})

    small = {**fit64,
             "xla_disable_hlo_passes": "tree_reduction_rewriter,cpu-parallel-task-assigner"}
    assert fit(64, (100, 10)) == small  # digits (100,): 200 x 100
    assert fit(163, (10,)) == small and fit(10, (163,)) == small  # 200 x 163 numbers
    assert fit(164, (10,)) == fit64 and fit(10, (164,)) == fit64
    assert fit(784, (500, 500, 10)) == fit64  # MNIST's
    assert fit(64, (100, 10), batch_size=400) == fit64
    assert fit(64, (100, 10), dtype=np.float32) == program._compiler_options(cpu, dense32)

    class Gpu:
        platform = "gpu"

    assert program._compiler_options(Gpu(), dense64) is None


def test_fits_compile_with_their_data_types_options(digits, monkeypatch):
    # What real fits hand the compiler: their padded data (X, Y, weights, mask) must all be
    # of the compute type for its options to apply, so the table above is checked in use.
    from skmlp.model_selection import GridSearchCV as StackedSearch

    X, y = digits
    seen = []
    options = _programs.Program._compiler_options

    def spy(program, device, dynamic, static=None):
        seen.append((program.name, options(program, device, dynamic, static)))
        return seen[-1][1]

    monkeypatch.setattr(_programs.Program, "_compiler_options", spy)
    monkeypatch.setattr(_programs._compile_cache, "compile_cache_enabled", lambda: False)
    for program in _programs.PROGRAMS:
        program.clear()
    kw = dict(hidden_layer_sizes=(7,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(compute_dtype="float32", **kw).fit(X / 16, y)
        MLPClassifier(**kw).fit(X / 16, y)
        StackedSearch(MLPClassifier(compute_dtype="float32", **kw),
                      {"alpha": [1e-4, 1e-3]}, cv=2).fit(X / 16, y)
    for program in _programs.PROGRAMS:
        program.clear()
    cpu = _programs._CPU_OPTIONS
    assert seen == [
        ("train_epochs", {**cpu, "xla_cpu_use_fusion_emitters": False}),
        ("train_epochs", {**cpu, **_programs._CPU_FLOAT64_SMALL_STEP_OPTIONS}),
        ("train_epoch_stack", cpu),  # the refit reuses the first fit's program
    ]


def test_llvm_compiles_a_program_in_four_parts_per_core(monkeypatch):
    # XLA's default, 32 parts, is kept where there are 8 cores or more; every option of every
    # table is one this XLA knows (an unknown one would be dropped without a word).
    for cores, parts in ((1, 4), (2, 8), (8, 32), (64, 32)):
        monkeypatch.setattr(_programs.os, "sched_getaffinity", lambda pid: set(range(cores)),
                            raising=False)
        assert _programs._codegen_parts() == parts
    program = jax.jit(lambda a: a + 1).lower(np.zeros(3))

    def known(option, value):
        try:
            program.compile({option: value})
        except jax.errors.JaxRuntimeError as exc:
            assert "compile option" in str(exc)
            return False
        return True

    for options in (_programs._CPU_OPTIONS, _programs._CPU_FLOAT64_SMALL_STEP_OPTIONS,
                    _programs._CPU_FLOAT32_OPTIONS):
        # older XLAs (jax 0.8.0's) lack YNNPACK's option, and compile without it
        options = {k: v for k, v in options.items() if "ynn" not in k or known(k, v)}
        program.compile({**_programs._CPU_OPTIONS, **options})


def test_a_float64_fit_compiles_its_sums_whole_and_its_loops_undivided(digits, monkeypatch):
    # The passes named in the single fit's float64 options must exist in this XLA: a misspelt
    # name is ignored without a word. Each sum over 32 numbers would again compile as two
    # kernels of its own (a reduce-window of partial sums, then their sum), and each loop
    # would be cut in parts for the threads (``outer_dimension_partitions``).
    X, y = digits
    monkeypatch.setattr(_programs._compile_cache, "compile_cache_enabled", lambda: False)
    _programs.train_epochs.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(hidden_layer_sizes=(7,), max_iter=2, random_state=0).fit(X / 16, y)
    (compiled,) = _programs.train_epochs._executables.values()
    _programs.train_epochs.clear()
    text = compiled.as_text()
    assert " reduce(" in text and "reduce-window(" not in text
    assert "fusion(" in text and '"outer_dimension_partitions":["' not in text


def test_an_unknown_compiler_option_is_dropped_and_the_others_kept(digits, monkeypatch):
    # The CPU options are XLA's own flags, and an XLA older or newer than skmlp's may not know
    # one (jax 0.8.0 has no YNNPACK option): the program compiles with XLA's default for it and
    # every other option still applies (here, sums kept whole: no reduce-window).
    X, y = digits
    kw = dict(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    options = {"xla_cpu_no_such_option_anywhere": True,
               "xla_disable_hlo_passes": "tree_reduction_rewriter",
               "xla_cpu_no_such_option_either": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        expected = MLPClassifier(**kw).fit(X / 16, y)
        for table in ("cpu_dense_options", "cpu_small_step_options"):
            monkeypatch.setattr(_programs.train_epochs, table, {np.dtype(np.float64): options})
        monkeypatch.setattr(_programs._compile_cache, "compile_cache_enabled", lambda: False)
        _programs.train_epochs.clear()
        traces = _programs.train_epochs.trace_count
        clf = MLPClassifier(**kw).fit(X / 16, y)
    (compiled,) = _programs.train_epochs._executables.values()
    _programs.train_epochs.clear()
    assert _programs.train_epochs.trace_count == traces + 1  # compiled here, not loaded
    assert "reduce-window(" not in compiled.as_text()
    assert clf.loss_curve_ == pytest.approx(expected.loss_curve_, rel=1e-10)


def _primitive_names(jaxpr):
    """The primitives of ``jaxpr``'s equations, its sub-programs' (loop bodies, branches)
    included."""
    names = []
    for eqn in jaxpr.eqns:
        names.append(eqn.primitive.name)
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else (value,):
                sub = getattr(sub, "jaxpr", sub)
                if hasattr(sub, "eqns"):
                    names += _primitive_names(sub)
    return names


def _programs_fitted(monkeypatch, fits):
    """Each program the fits ran with its arguments, by name and static arguments (the first
    call of each)."""
    seen = {}
    original = _programs.Program._key

    def key(self, args, kwargs):
        out = original(self, args, kwargs)
        seen.setdefault((self.name, tuple(sorted(out[2].items()))),
                        (self, out[1], out[2], bool(jax.config.jax_enable_x64)))
        return out

    monkeypatch.setattr(_programs.Program, "_key", key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for fit in fits:
            fit()
    monkeypatch.undo()
    return seen


def _program_primitives(program, dynamic, static, x64):
    with jax.enable_x64(x64):  # as the fit traced it
        return _primitive_names(program._make_jit().trace(**dynamic, **static).jaxpr.jaxpr)


def test_training_programs_trace_jax_numpy_inline_and_keep_their_loops(digits, monkeypatch):
    """jax.numpy's functions are jits of their own: traced as sub-programs, they took 0.04-0.05
    s of a cold digits fit's 0.2-0.3 s trace. The core traces its own code with them inlined
    (``train.inlined``, under ``jax.disable_jit``), but never a loop (a scan would be unrolled)
    nor a user's optax update (it may hold loops), on every code path: early stopping's
    evaluation, dropout, batch norm, SGD, L-BFGS's chunked gradient, a user's solver, a
    stack. No jit equation is left in any training program."""
    import optax
    from scipy import sparse

    from skmlp._core import train
    from skmlp.model_selection import GridSearchCV as StackedSearch

    X, y = digits
    X = X / 16
    kw = dict(max_iter=2, random_state=0)
    sgd = optax.sgd(1e-3)
    inline = {"forward": set(), "user update": set()}

    def update(grads, state, params=None):
        inline["user update"].add(jax.config.jax_disable_jit)
        return sgd.update(grads, state, params)

    user_solver = optax.GradientTransformation(sgd.init, update)
    fits = [
        lambda: MLPClassifier(hidden_layer_sizes=(6,), early_stopping=True, **kw).fit(X, y),
        lambda: MLPRegressor(hidden_layer_sizes=(6, 5), solver="sgd", dropout=0.1,
                             batch_norm=True, **kw).fit(X, y.astype(float)),
        lambda: MLPClassifier(hidden_layer_sizes=(6,), solver="lbfgs", input_layout="sparse",
                              **kw).fit(sparse.csr_matrix(X), y),  # chunks of 512 rows
        lambda: MLPClassifier(hidden_layer_sizes=(6,), solver=user_solver, **kw).fit(X, y),
        lambda: StackedSearch(MLPClassifier(hidden_layer_sizes=(6,), **kw),
                              {"alpha": [1e-4, 1e-2]}, cv=2).fit(X, y),
    ]
    seen = _programs_fitted(monkeypatch, fits)
    assert sorted(name for name, _ in seen) == [
        "full_batch_value_and_grad", "train_epoch_stack", "train_epochs", "train_epochs",
        "train_epochs"]
    forward = train.forward

    def recorded_forward(*args, **kwargs):
        inline["forward"].add(jax.config.jax_disable_jit)
        return forward(*args, **kwargs)

    monkeypatch.setattr(train, "forward", recorded_forward)
    for (name, _), called in seen.items():
        names = _program_primitives(*called)
        assert not {"pjit", "jit", "closed_call"} & set(names), name
        assert names.count("scan") == 1, name
        if name == "train_epochs":
            assert names.count("while") == 1 and names.count("cond") == 1
    assert inline == {"forward": {True}, "user update": {False}}


def test_inlined_tracing_trains_bit_identical_weights(digits, monkeypatch):
    """The inlined trace is the same program: weights equal bit for bit, compiled afresh
    both ways."""
    from skmlp._core import train

    X, y = digits
    monkeypatch.setattr(_programs._compile_cache, "compile_cache_enabled", lambda: False)
    kw = dict(hidden_layer_sizes=(9,), max_iter=4, random_state=0, early_stopping=True,
              alpha=1e-3)
    weights = []
    for context in (train.inlined, contextlib.nullcontext):
        monkeypatch.setattr(train, "inlined", context)
        _programs.train_epochs.clear()
        traces = _programs.train_epochs.trace_count
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = MLPClassifier(**kw).fit(X / 16, y)
        assert _programs.train_epochs.trace_count == traces + 1  # compiled here
        weights.append(clf.coefs_ + clf.intercepts_)
    _programs.train_epochs.clear()
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


_CHILD = textwrap.dedent("""
    import warnings
    import numpy as np
    from sklearn.datasets import load_digits
    from skmlp import MLPClassifier, _programs
    X, y = load_digits(return_X_y=True)
    warnings.simplefilter("ignore")
    MLPClassifier(hidden_layer_sizes=(12,), max_iter=3, random_state=0).fit(X / 16, y)
    print(sum(p.trace_count for p in _programs.PROGRAMS))
""")


def _child_traces(cache_dir, enabled="1"):
    env = dict(os.environ, SKMLP_CACHE_DIR=str(cache_dir), SKMLP_COMPILE_CACHE=enabled)
    out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                         text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def test_a_new_process_loads_compiled_programs_from_the_cache(tmp_path):
    assert _child_traces(tmp_path) > 0  # cold: compiles and stores
    assert list(tmp_path.glob("*.xla"))
    assert _child_traces(tmp_path) == 0  # warm: loads, compiles nothing


_DIGEST_CHILD = textwrap.dedent("""
    import hashlib
    import warnings
    import numpy as np
    from sklearn.datasets import load_digits
    from skmlp import MLPClassifier, _programs
    X, y = load_digits(return_X_y=True)
    warnings.simplefilter("ignore")
    clf = MLPClassifier(hidden_layer_sizes=(23,), max_iter=8, random_state=0).fit(X / 16, y)
    weights = b"".join(np.ascontiguousarray(w).tobytes() for w in clf.coefs_ + clf.intercepts_)
    print(sum(p.trace_count for p in _programs.PROGRAMS), hashlib.sha256(weights).hexdigest())
""")


def _child_digest(cache_dir):
    env = dict(os.environ, SKMLP_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c", _DIGEST_CHILD], env=env, capture_output=True,
                         text=True, check=True)
    traces, digest = out.stdout.split()[-2:]
    return int(traces), digest


def test_a_random_state_gives_bit_identical_weights_cold_warm_and_under_load(tmp_path):
    """The same ``random_state`` gives the same weights, bit for bit, whether the program was
    compiled in this process (cold), loaded from the compile cache (warm), or run while every
    core is busy with another process: nothing about a fit depends on timing."""
    cold = _child_digest(tmp_path)
    warm = _child_digest(tmp_path)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(os.cpu_count() or 2)]
    try:
        loaded = _child_digest(tmp_path)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    assert (cold[0], warm[0], loaded[0]) == (1, 0, 0)  # compiled once, then loaded
    assert cold[1] == warm[1] == loaded[1]


def test_cache_can_be_disabled_by_environment(tmp_path):
    assert _child_traces(tmp_path, enabled="0") > 0
    assert not list(tmp_path.glob("*.xla"))


def test_corrupt_cache_entry_is_rebuilt(tmp_path, digits):
    X, y = digits
    previous = skmlp.compile_cache_dir()
    skmlp.set_compile_cache(directory=tmp_path)
    try:
        kw = dict(hidden_layer_sizes=(9,), max_iter=2, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            expected = MLPClassifier(**kw).fit(X, y).predict_proba(X)
            for path in tmp_path.glob("*.xla"):
                path.write_bytes(b"not an executable")
            for program in _programs.PROGRAMS:
                program._executables.clear()
            got = MLPClassifier(**kw).fit(X, y).predict_proba(X)
        np.testing.assert_array_equal(got, expected)
        assert all(p.stat().st_size > 1000 for p in tmp_path.glob("*.xla"))  # rewritten
    finally:
        skmlp.set_compile_cache(directory=previous)


def test_unwritable_cache_directory_only_warns(tmp_path, digits):
    X, y = digits
    blocker = tmp_path / "file"
    blocker.write_text("")
    previous = skmlp.compile_cache_dir()
    skmlp.set_compile_cache(directory=blocker / "cache")  # a directory under a file
    try:
        for program in _programs.PROGRAMS:
            program._executables.clear()
        with pytest.warns(RuntimeWarning, match="compile cache"):
            MLPRegressor(hidden_layer_sizes=(5,), max_iter=1).fit(X, y)
    finally:
        skmlp.set_compile_cache(directory=previous)


def test_fit_does_not_change_global_jax_config(digits):
    X, y = digits
    before = jax.config.jax_enable_x64
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        MLPClassifier(max_iter=1).fit(X.astype(np.float64), y)
    assert jax.config.jax_enable_x64 == before


def test_cross_val_score_in_parallel_workers(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=20, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=3, n_jobs=2)
    assert scores.min() > 0.85


def test_explicit_device_choice(digits):
    """The documented way to choose a device: jax.default_device."""
    X, y = digits
    with jax.default_device(jax.devices("cpu")[0]), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(max_iter=3, random_state=0).fit(X / 16, y)
    assert clf.score(X / 16, y) > 0.5


def _gpus():
    try:
        return jax.devices("gpu")
    except RuntimeError:
        return []


@pytest.mark.skipif(not _gpus(), reason="no GPU visible to JAX")
def test_gpu_fit_matches_cpu_fit(digits):
    X, y = digits
    X = StandardScaler().fit_transform(X)
    kw = dict(max_iter=20, random_state=0, compute_dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with jax.default_device(jax.devices("cpu")[0]):
            cpu = MLPClassifier(**kw).fit(X, y)
        with jax.default_device(_gpus()[0]):
            gpu = MLPClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), atol=1e-3)


def test_threads_that_need_one_new_program_compile_it_once():
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    before = _programs.train_epochs.trace_count
    fits = [MLPClassifier(hidden_layer_sizes=(27,), max_iter=2, random_state=seed)
            for seed in range(3)]
    threads = [threading.Thread(target=_quiet_fit, args=(clf, X, y[:300])) for clf in fits]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _programs.train_epochs.trace_count - before == 1  # the others waited for it
    assert all(clf.n_iter_ == 2 for clf in fits)


def _quiet_fit(clf, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)


def test_programs_are_traced_with_the_garbage_collector_paused():
    """A full collection inside a cold fit's trace cost 0.1-0.27 s; the trace pauses it."""
    seen = []

    def fun(x):
        seen.append(gc.isenabled())
        return x + 1

    program = _programs.Program(fun)
    assert gc.isenabled()
    program(np.zeros(3))
    assert seen == [False] and gc.isenabled()
    program(np.zeros(3))  # held: neither traced nor paused
    assert seen == [False]


def test_the_collector_pause_restores_what_it_found():
    assert gc.isenabled()
    with pytest.raises(ValueError), _programs._gc_paused():
        raise ValueError
    assert gc.isenabled()
    gc.disable()  # a user who runs without the collector keeps it off
    try:
        with _programs._gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    # Pauses overlap across threads: the collector runs again when the last one ends.
    first, second = _programs._gc_paused(), _programs._gc_paused()
    first.__enter__()
    entered, done = threading.Event(), threading.Event()

    def other():
        with second:
            entered.set()
            done.wait()

    thread = threading.Thread(target=other)
    thread.start()
    entered.wait()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    done.set()
    thread.join()
    assert gc.isenabled()
