"""Faults a user meets outside scikit-learn's territory: the compile cache, Ctrl-C, divergence,
failed calls, and a user's own optax objects."""

import copy
import os
import pickle
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import numpy as np
import optax
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import skmlp
from skmlp import MLPClassifier, MLPRegressor, _compile_cache, _programs

NON_FINITE = "Solver produced non-finite parameter weights"


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X)[:500], y[:500]


@pytest.fixture
def cache_dir(tmp_path):
    """A private compile cache for one test, with nothing held in memory either."""
    previous = skmlp.compile_cache_dir()
    directory = tmp_path / "cache"
    skmlp.set_compile_cache(directory=directory)
    _forget_in_memory()
    yield directory
    skmlp.set_compile_cache(directory=previous)
    _compile_cache._refused.clear()


def _forget_in_memory():
    for program in _programs.PROGRAMS:
        program.clear()


def _fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def _traces():
    return sum(p.trace_count for p in _programs.PROGRAMS)


def _snapshot(est):
    """Everything an estimator holds, deep-copied, for before/after comparisons."""
    return copy.deepcopy(vars(est))


def _assert_same_state(a, b, path="est"):
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{path}: {sorted(a.keys() ^ b.keys())}"
        for k in a:
            _assert_same_state(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_state(x, y, f"{path}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif hasattr(a, "__dict__") and not callable(a):
        assert type(a) is type(b), path
        _assert_same_state(vars(a), vars(b), path)
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), path
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


# ------------------------------------------------------------------ 1. a trusted cache


def test_cache_directory_is_created_owner_only_under_umask_000(cache_dir, digits):
    X, y = digits
    old = os.umask(0)
    try:
        _fit(MLPClassifier(hidden_layer_sizes=(3,), max_iter=1), X, y)
    finally:
        os.umask(old)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    entries = list(cache_dir.glob("*.xla"))
    assert entries
    for path in [*entries, cache_dir / "key"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_directory_others_can_write_is_refused_with_a_warning(cache_dir, digits):
    X, y = digits
    cache_dir.mkdir(mode=0o700)
    cache_dir.chmod(0o777)
    with pytest.warns(RuntimeWarning, match=f"{cache_dir}.*writable by group or others.*chmod"):
        clf = _fit(MLPClassifier(hidden_layer_sizes=(3,), max_iter=1), X, y)
    assert clf.n_iter_ == 1
    assert not list(cache_dir.iterdir())  # nothing read, nothing written


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="changing a directory's owner needs root")
def test_a_directory_owned_by_another_user_is_refused(cache_dir, digits):
    X, y = digits
    cache_dir.mkdir(mode=0o700)
    os.chown(cache_dir, 12345, 12345)
    with pytest.warns(RuntimeWarning, match="owned by another user"):
        clf = _fit(MLPClassifier(hidden_layer_sizes=(3,), max_iter=1), X, y)
    assert clf.n_iter_ == 1 and not list(cache_dir.iterdir())


class _Payload:
    """What an attacker plants: unpickling it runs code (here, it creates a marker file)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.parametrize("forge", ["old_format", "new_format_wrong_tag"])
def test_a_planted_entry_is_never_unpickled(cache_dir, tmp_path, digits, forge):
    X, y = digits
    kw = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    expected = _fit(MLPClassifier(**kw), X, y).predict_proba(X)
    marker = tmp_path / "pwned"
    evil = pickle.dumps((_Payload(marker), None, None))
    for path in cache_dir.glob("*.xla"):
        if forge == "old_format":
            path.write_bytes(evil)
        else:
            path.write_bytes(_compile_cache._MAGIC + b"\0" * _compile_cache._TAG_BYTES + evil)
    _forget_in_memory()
    got = _fit(MLPClassifier(**kw), X, y).predict_proba(X)
    assert not marker.exists(), "a planted cache entry was unpickled"
    np.testing.assert_array_equal(got, expected)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="changing a file's owner needs root")
def test_an_entry_owned_by_another_user_is_ignored(cache_dir, digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    _fit(MLPClassifier(**kw), X, y)
    for path in cache_dir.glob("*.xla"):
        os.chown(path, 12345, 12345)
    _forget_in_memory()
    with pytest.warns(RuntimeWarning, match="not private to you"):
        _fit(MLPClassifier(**kw), X, y)
    # compiled afresh and stored again, by this user
    assert all(p.stat().st_uid == os.getuid() for p in cache_dir.glob("*.xla"))


# ------------------------------------------------------------------ 2. keys and size


_CHILD = textwrap.dedent("""
    import sys, warnings
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    from sklearn.datasets import load_digits
    import skmlp
    from skmlp import MLPRegressor, _programs
    assert skmlp.__file__.startswith(sys.argv[1]), skmlp.__file__
    X, y = load_digits(return_X_y=True)
    warnings.simplefilter("ignore")
    reg = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X / 16, y)
    print(sum(p.trace_count for p in _programs.PROGRAMS), float(reg.loss_))
""")


def test_an_edited_source_file_never_runs_a_stale_program(tmp_path):
    """An editable install whose activation was edited must not keep running the old code."""
    src = tmp_path / "src"
    shutil.copytree(Path(skmlp.__file__).parent, src / "skmlp",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, SKMLP_CACHE_DIR=str(tmp_path / "cache"), SKMLP_COMPILE_CACHE="1")

    def run():
        out = subprocess.run([sys.executable, "-c", _CHILD, str(src)], env=env,
                             capture_output=True, text=True, check=True)
        traces, loss = out.stdout.split()
        return int(traces), float(loss)

    traces, loss = run()
    assert traces > 0
    assert run() == (0, loss)  # unchanged source: served by the cache
    activations = src / "skmlp" / "_core" / "activations.py"
    activations.write_text(activations.read_text().replace(
        '"relu": jax.nn.relu,', '"relu": lambda x: jax.nn.relu(x) * 0.5,'))
    traces_after, loss_after = run()
    assert traces_after > 0 and loss_after != loss


def test_the_source_fingerprint_is_cheap_and_stable():
    _compile_cache.source_fingerprint.cache_clear()
    first = _compile_cache.source_fingerprint()
    assert first == _compile_cache.source_fingerprint() and len(first) == 32


def test_least_recently_used_entries_are_evicted_past_the_size_bound(cache_dir, digits):
    X, y = digits

    def fit(width):
        """Fit one architecture; the names of the entries it added."""
        before = set(cache_dir.glob("*.xla"))
        _fit(MLPClassifier(hidden_layer_sizes=(width,), max_iter=1), X, y)
        return set(cache_dir.glob("*.xla")) - before

    three, four = fit(3), fit(4)
    for t, paths in ((1, three), (2, four)):  # three is the older
        for p in paths:
            os.utime(p, (t, t))
    total = sum(p.stat().st_size for p in three | four)
    skmlp.set_compile_cache(max_size=int(1.05 * total))
    try:
        _forget_in_memory()
        assert not fit(3)  # loaded from disk, which makes its entries the most recent
        five = fit(5)  # over the bound: the least recently used (four's) go
        left = set(cache_dir.glob("*.xla"))
        assert three <= left and five <= left and not four & left
        assert sum(p.stat().st_size for p in left) <= 1.05 * total
    finally:
        skmlp.set_compile_cache(max_size=_compile_cache._DEFAULT_MAX_BYTES)


def test_clear_compile_cache_removes_every_program(cache_dir, digits):
    X, y = digits
    _fit(MLPClassifier(hidden_layer_sizes=(3,), max_iter=1), X, y)
    assert list(cache_dir.glob("*.xla"))
    assert skmlp.clear_compile_cache() >= 1
    assert not list(cache_dir.glob("*.xla"))
    assert not any(p._executables for p in _programs.PROGRAMS)
    _fit(MLPClassifier(hidden_layer_sizes=(3,), max_iter=1), X, y)
    assert list(cache_dir.glob("*.xla"))  # compiled and stored again


def test_a_compiled_program_is_written_on_a_helper_thread_and_on_disk_when_the_fit_returns(
        cache_dir, digits, monkeypatch):
    """Writing the entry (0.03 s for the digits epoch) does not hold up the first epoch: the
    write waits here until an epoch was dispatched, which it never would if the fit waited
    for the write first."""
    from skmlp import _training

    X, y = digits
    writers, first_epoch = [], threading.Event()
    store, executable = _compile_cache.store, _training._Stack._executable

    def spy(key, compiled):
        writers.append((threading.current_thread().name, first_epoch.wait(timeout=60)))
        store(key, compiled)

    def watched(stack, *args):
        call, program = executable(stack, *args)

        def epochs(*a):
            out = call(*a)
            first_epoch.set()
            return out

        return epochs, program

    monkeypatch.setattr(_compile_cache, "store", spy)
    monkeypatch.setattr(_training._Stack, "_executable", watched)
    _fit(MLPClassifier(hidden_layer_sizes=(3,), max_iter=2), X, y)
    assert writers == [("skmlp-cache-store", True)]
    assert len(list(cache_dir.glob("train_epochs-*.xla"))) == 1
    _forget_in_memory()
    traces = _traces()
    _fit(MLPClassifier(hidden_layer_sizes=(3,), max_iter=2), X, y)
    assert _traces() == traces  # loaded, not compiled


# ------------------------------------------------------------------ 3. entries under wrong names


def test_swapped_entries_are_rebuilt_not_fatal(cache_dir, digits):
    X, y = digits
    kws = [dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0),
           dict(hidden_layer_sizes=(6, 2), max_iter=2, random_state=0)]
    expected = [_fit(MLPClassifier(**kw), X, y).predict_proba(X) for kw in kws]
    a, b = sorted(cache_dir.glob("train_epochs-*.xla"))[:2]
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)
    _forget_in_memory()
    for kw, want in zip(kws, expected):
        np.testing.assert_array_equal(_fit(MLPClassifier(**kw), X, y).predict_proba(X), want)


def test_an_executable_for_other_arguments_is_rebuilt(cache_dir, digits, monkeypatch):
    """Even a correctly tagged entry is checked against the call's input signature."""
    X, y = digits
    monkeypatch.setattr(_compile_cache, "entry_key", lambda name, sig, device: f"{name}|same")
    _fit(MLPClassifier(hidden_layer_sizes=(3,), max_iter=1), X, y)
    _forget_in_memory()
    clf = _fit(MLPClassifier(hidden_layer_sizes=(7, 2), max_iter=2), X, y)
    assert clf.n_iter_ == 2


# ------------------------------------------------------------------ 4. Ctrl-C


def _interrupt_soon(delay):
    threading.Timer(delay, signal.pthread_kill,
                    (threading.main_thread().ident, signal.SIGINT)).start()


@pytest.mark.parametrize("delay", [0.0, 0.003, 0.01, 0.03])
def test_interrupt_while_training_returns_the_last_completed_epoch(digits, delay):
    X, y = digits
    seen = {}

    def record(est, figures):
        seen[figures["epoch"]] = [c.copy() for c in est.coefs_]
        if figures["epoch"] == 2:
            _interrupt_soon(delay)

    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=100000, tol=0, random_state=0,
                        callbacks=record)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        clf.fit(X, y)
    assert 2 <= clf.n_iter_ < 100000 and len(clf.loss_curve_) == clf.n_iter_
    for got, want in zip(clf.coefs_, seen[clf.n_iter_]):
        np.testing.assert_array_equal(got, want)
    assert np.isfinite(clf.predict_proba(X)).all()
    clf.set_params(callbacks=None)
    _fit(clf, X, y)  # still usable afterwards


def test_interrupt_while_compiling_leaves_a_fitted_model_unchanged(digits, monkeypatch):
    X, y = digits
    clf = _fit(MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0), X, y)
    before = _snapshot(clf)
    original = _programs.Program._load_or_compile

    def slow_compile(self, *args, **kwargs):
        _interrupt_soon(0.0)
        threading.Event().wait(5)  # the signal lands here
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_programs.Program, "_load_or_compile", slow_compile)
    clf.set_params(hidden_layer_sizes=(9,), random_state=1)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    clf.set_params(hidden_layer_sizes=(5,), random_state=0)
    _assert_same_state(_snapshot(clf), before)


# ------------------------------------------------------------------ 5. divergence


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_divergence_in_the_first_epoch_raises_and_changes_nothing(solver):
    X, y = make_regression(n_samples=100, n_features=5, random_state=0)
    X = X * 1e200  # overflows in the first forward pass
    reg = MLPRegressor(solver=solver, max_iter=5, random_state=0)
    with pytest.raises(ValueError, match=NON_FINITE):
        reg.fit(X, y)
    assert not hasattr(reg, "coefs_")
    fitted = _fit(MLPRegressor(solver=solver, max_iter=5, random_state=0), X / 1e200, y)
    before = _snapshot(fitted)
    fitted.set_params(warm_start=True)
    with pytest.raises(ValueError, match=NON_FINITE):
        fitted.fit(X, y)
    fitted.set_params(warm_start=False)
    _assert_same_state(_snapshot(fitted), before)


def test_lbfgs_divergence_after_progress_keeps_finite_parameters(monkeypatch):
    """The lbfgs twin of the stochastic rule: a warning, and the best finite parameters."""
    from skmlp._core import lbfgs

    X, y = make_regression(n_samples=100, n_features=5, noise=1.0, random_state=0)
    calls = []
    real = lbfgs.scipy.optimize.minimize

    def minimize_then_blow_up(fun, x0, **kw):
        def poisoned(theta):
            calls.append(1)
            value, grad = fun(theta)
            return (np.nan, grad) if len(calls) > 5 else (value, grad)
        result = real(poisoned, x0, **kw)
        result.fun, result.x = np.nan, np.full_like(result.x, np.nan)
        return result

    monkeypatch.setattr(lbfgs.scipy.optimize, "minimize", minimize_then_blow_up)
    with pytest.warns(ConvergenceWarning, match="finite parameters of lowest loss"):
        reg = MLPRegressor(solver="lbfgs", max_iter=50, random_state=0).fit(X, y)
    assert np.isfinite(reg.loss_) and all(np.isfinite(c).all() for c in reg.coefs_)


# ------------------------------------------------------------------ 6. failed calls roll back


@pytest.mark.parametrize("schedule", ["invscaling", "cosine", "adaptive"])
@pytest.mark.parametrize("warmup", [0, 3])
def test_a_failed_partial_fit_rolls_back_every_piece_of_state(digits, schedule, warmup):
    X, y = digits
    boom = {"on": False}

    def maybe_fail(est, figures):
        if boom["on"]:
            raise RuntimeError("callback failed")

    clf = MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", learning_rate=schedule,
                        warmup_epochs=warmup, random_state=0, callbacks=maybe_fail)
    for _ in range(2):
        clf.partial_fit(X, y, classes=np.unique(y))
    before = _snapshot(clf)
    boom["on"] = True
    with pytest.raises(RuntimeError, match="callback failed"):
        clf.partial_fit(X, y)
    _assert_same_state(_snapshot(clf), before)
    boom["on"] = False
    # ... so the next calls continue exactly as if the failed one had never happened
    twin = copy.deepcopy(clf)
    clf.partial_fit(X, y)
    twin.partial_fit(X, y)
    np.testing.assert_array_equal(clf.coefs_[0], twin.coefs_[0])


# ------------------------------------------------------------------ 7. a user's optax object


def test_identical_optax_objects_share_one_compiled_program(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(6,), max_iter=2, random_state=0)
    _fit(MLPClassifier(solver=optax.adam(1e-3), **kw), X, y)
    before = _programs.train_epochs.trace_count
    for _ in range(5):
        _fit(MLPClassifier(solver=optax.adam(1e-3), **kw), X, y)
    assert _programs.train_epochs.trace_count == before


def test_optax_hyperparameters_are_part_of_the_program(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(6,), max_iter=3, random_state=0)
    a = _fit(MLPClassifier(solver=optax.sgd(1e-3), **kw), X, y)
    b = _fit(MLPClassifier(solver=optax.sgd(1e-1), **kw), X, y)
    assert not np.allclose(a.coefs_[0], b.coefs_[0])


def test_executables_held_in_memory_are_bounded(digits, monkeypatch):
    X, y = digits
    monkeypatch.setattr(_programs.Program, "max_executables", 3)
    for lr in (1e-3, 2e-3, 3e-3, 4e-3, 5e-3):
        _fit(MLPClassifier(solver=optax.sgd(lr), hidden_layer_sizes=(6,), max_iter=1), X, y)
    assert len(_programs.train_epochs._executables) <= 3


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="Linux's /proc")
def test_dropped_executables_free_their_memory(digits, monkeypatch):
    """The table of executables bounds what a long session holds: JAX's own caches must not
    keep dropped programs alive (each maps ~150 regions; at the kernel's limit of 65530 the
    process crashed in the middle of a test suite)."""
    X, y = digits

    def regions():
        return sum(1 for _ in open("/proc/self/maps"))

    monkeypatch.setattr(_programs.Program, "max_executables", 2)
    monkeypatch.setattr(_compile_cache, "compile_cache_enabled", lambda: False)
    _fit(MLPClassifier(hidden_layer_sizes=(201,), max_iter=1), X, y)
    before = regions()
    for width in range(202, 214):  # 12 new architectures, 2 held at a time
        _fit(MLPClassifier(hidden_layer_sizes=(width,), max_iter=1), X, y)
    assert len(_programs.train_epochs._executables) == 2
    assert regions() - before < 600, regions() - before  # a leak adds ~150 per architecture


_OPTAX_CHILD = textwrap.dedent("""
    import warnings
    import optax
    from sklearn.datasets import load_digits
    from skmlp import MLPClassifier, _programs
    X, y = load_digits(return_X_y=True)
    warnings.simplefilter("ignore")
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(3e-3))
    MLPClassifier(solver=tx, hidden_layer_sizes=(7,), max_iter=2, random_state=0).fit(X / 16, y)
    print(_programs.train_epochs.trace_count)
""")


def test_an_optax_program_is_reused_by_a_new_process(tmp_path):
    """What each loky worker of a grid search does: the structure, not the object, is the key."""
    env = dict(os.environ, SKMLP_CACHE_DIR=str(tmp_path), SKMLP_COMPILE_CACHE="1")

    def run():
        out = subprocess.run([sys.executable, "-c", _OPTAX_CHILD], env=env,
                             capture_output=True, text=True, check=True)
        return int(out.stdout.split()[-1])

    assert run() == 1
    assert run() == 0
