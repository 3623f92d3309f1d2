"""Release quality: packaging metadata, scikit-learn compatibility shims, training visibility
(compile messages, loss-curve Display, summary display, doc links) and the custom-solver
schedule guard."""

import importlib.metadata
import os
import pathlib
import pickle
import re
import subprocess
import sys
import textwrap
import tomllib

import numpy as np
import optax
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skmlp
from skmlp import LossCurveDisplay, MLPClassifier, MLPRegressor, _programs, _sklearn_compat
from skmlp.ensemble import MLPEnsembleClassifier
from skmlp.model_selection import GridSearchCV

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X[:400]), y[:400]


# ---------------------------------------------------------------------------- packaging


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_one_version_source():
    project = _pyproject()["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert importlib.metadata.version("skmlp") == skmlp.__version__


def test_licence_file_matches_metadata():
    project = _pyproject()["project"]
    assert project["license"] == "BSD-3-Clause"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("BSD 3-Clause License")


def test_declared_minimums_match_the_constraints_file():
    """CI's minimum-versions run installs ``.ci/min-constraints.txt``: it must pin exactly the
    declared lower bound of every runtime dependency."""
    pins = dict(line.split("==") for line in (ROOT / ".ci" / "min-constraints.txt")
                .read_text().split() if "==" in line)
    for requirement in _pyproject()["project"]["dependencies"]:
        name, floor = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9.]+)", requirement).groups()
        assert pins.get(name) == floor, (name, floor, pins.get(name))


def test_typed_marker_ships():
    assert (ROOT / "skmlp" / "py.typed").exists()
    assert "py.typed" in _pyproject()["tool"]["setuptools"]["package-data"]["skmlp"]


def test_lbfgs_print_options_follow_scipy(monkeypatch):
    monkeypatch.setattr(_sklearn_compat.scipy, "__version__", "1.14.1")
    assert _sklearn_compat.lbfgs_print_options(1) == {"iprint": 1}
    monkeypatch.setattr(_sklearn_compat.scipy, "__version__", "1.16.0")
    assert _sklearn_compat.lbfgs_print_options(1) == {}


def test_missing_helper_message_names_the_fix():
    message = str(_sklearn_compat._missing(ImportError("cannot import name '_x'")))
    assert "scikit-learn>=" in message and "_x" in message


# ---------------------------------------------------------------------------- custom solvers


@pytest.mark.parametrize("kw", [{"learning_rate": "cosine"}, {"learning_rate": "adaptive"},
                                {"warmup_epochs": 2}])
def test_custom_solver_refuses_a_schedule_it_cannot_apply(kw, digits):
    X, y = digits
    clf = MLPClassifier(solver=optax.sgd(1e-2), max_iter=2, **kw)
    with pytest.raises(ValueError, match="custom optax solver"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_custom_solver_callbacks_report_no_learning_rate(digits):
    X, y = digits
    seen = []
    MLPClassifier(solver=optax.sgd(1e-2), max_iter=2, random_state=0,
                  callbacks=lambda est, figures: seen.append(figures["learning_rate"])
                  ).fit(X, y)
    assert seen == [None, None]
    seen.clear()
    MLPClassifier(max_iter=2, random_state=0,
                  callbacks=lambda est, figures: seen.append(figures["learning_rate"])
                  ).fit(X, y)
    assert seen == [0.001, 0.001]


# ---------------------------------------------------------------------------- compile messages


def test_verbose_fit_says_when_it_compiles(digits, capsys):
    X, y = digits
    # an architecture no other test uses, so this process has no executable for it yet
    kw = dict(hidden_layer_sizes=(7, 3), max_iter=1, random_state=0, verbose=True)
    skmlp.clear_compile_cache()
    _programs.train_epochs.clear()
    MLPClassifier(**kw).fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"Compiling train_epochs .* done in \d+\.\d\d s; cached in", out)
    assert out.index("Compiling") < out.index("Iteration 1")

    _programs.train_epochs.clear()  # next: from the disk cache
    MLPClassifier(**kw).fit(X, y)
    assert re.search(r"Loaded the compiled program train_epochs from the compile cache in",
                     capsys.readouterr().out)

    MLPClassifier(**kw).fit(X, y)  # in memory: nothing to say
    assert "ompil" not in capsys.readouterr().out.replace("Iteration", "")

    MLPClassifier(**dict(kw, verbose=False)).fit(X, y)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------------- summary, links


def test_html_repr_links_to_skmlp_docs():
    for est in (MLPClassifier(), MLPRegressor(), GridSearchCV(MLPClassifier(), {}),
                MLPEnsembleClassifier(MLPClassifier())):
        link = est._get_doc_link()
        module = type(est).__module__.split("._")[0]
        assert link.startswith("https://skmlp.readthedocs.io/")
        assert link.endswith(f"/generated/{module}.{type(est).__name__}.html")
        release = ".".join(skmlp.__version__.split(".")[:2])  # the docs of this version
        assert f"/en/{release}/" in link
        assert link in est._repr_html_()


# ---------------------------------------------------------------------------- Display


@pytest.fixture
def plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_display_plots_the_fitted_curves(digits, plt):
    X, y = digits
    clf = MLPClassifier(max_iter=8, early_stopping=True, n_iter_no_change=50, random_state=0
                        ).fit(X, y)
    display = LossCurveDisplay.from_estimator(clf)
    train, val_loss, val_score = display.lines_
    np.testing.assert_allclose(train.get_ydata(), clf.loss_curve_)
    np.testing.assert_allclose(val_loss.get_ydata(), clf.validation_loss_curve_)
    np.testing.assert_allclose(val_score.get_ydata(), clf.validation_scores_)
    np.testing.assert_array_equal(train.get_xdata(), np.arange(1, 9))
    assert val_score.axes is display.score_ax_ is not display.ax_
    assert display.score_ax_.get_ylabel() == "validation accuracy"
    assert display.ax_.get_xlabel() == "epoch"


def test_display_overlays_estimators_pipelines_and_members(digits, plt):
    X, y = digits
    a = MLPClassifier(max_iter=3, random_state=0).fit(X, y)
    b = make_pipeline(StandardScaler(), MLPClassifier(max_iter=5, random_state=1)).fit(X, y)
    display = LossCurveDisplay.from_estimator([a, b], names=["small", "piped"])
    assert [line.get_label() for line in display.lines_] == [
        "small: training loss", "piped: training loss"]
    assert display.score_ax_ is None
    assert len(display.lines_[1].get_ydata()) == 5

    Xr, yr = make_regression(n_samples=100, n_features=5, random_state=0)
    reg = MLPRegressor(max_iter=4, early_stopping=True, random_state=0).fit(Xr, yr)
    assert LossCurveDisplay.from_estimator(reg).score_ax_.get_ylabel() == "validation R^2"

    ensemble = MLPEnsembleClassifier(MLPClassifier(max_iter=3), n_estimators=3,
                                      random_state=0).fit(X, y)
    labels = [line.get_label() for line in LossCurveDisplay.from_estimator(ensemble).lines_]
    assert labels == [f"member {i}: training loss" for i in range(3)]

    _, ax = plt.subplots()
    assert LossCurveDisplay.from_estimator(a, ax=ax).ax_ is ax
    with pytest.raises(ValueError, match="names has 1 entries for 2 curves"):
        LossCurveDisplay.from_estimator([a, b], names=["one"])
    with pytest.raises(ValueError, match="lbfgs"):
        LossCurveDisplay.from_estimator(MLPClassifier(solver="lbfgs", max_iter=3).fit(X, y))


def test_display_overlays_a_search_s_candidates(digits, plt):
    X, y = digits
    search = GridSearchCV(MLPClassifier(max_iter=4, random_state=0),
                          {"alpha": [1e-4, 1e-1], "learning_rate_init": [1e-3, 1e-2]},
                          cv=2).fit(X, y)
    assert len(search.loss_curves_) == 4
    assert all(len(folds) == 2 for folds in search.loss_curves_)
    display = LossCurveDisplay.from_estimator(search)
    assert len(display.lines_) == 4
    assert display.lines_[0].get_label() == "alpha=0.0001, learning_rate_init=0.001: training loss"
    first = np.mean([np.asarray(f[0]) for f in search.loss_curves_[0]], axis=0)
    np.testing.assert_allclose(display.lines_[0].get_ydata(), first)


# ---------------------------------------------------------------------------- sklearn.callback


class _Recorder:
    """A ``sklearn.callback`` FitCallback that records every hook, the model it is shown at
    each epoch's end, and asks to stop after ``stop_after`` epochs."""

    def __init__(self, stop_after=None):
        self.events, self.models, self.stop_after = [], [], stop_after

    def setup(self, estimator, context):
        self.events.append(("setup", type(estimator).__name__))

    def teardown(self, estimator, context):
        self.events.append(("teardown", type(estimator).__name__))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None):
        self.events.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.events.append(("end", context.task_name))
        if context.task_name == "epoch" and fitted_estimator is not None:
            self.models.append([c.copy() for c in fitted_estimator.coefs_])
            n_epochs = sum(e == ("end", "epoch") for e in self.events)
            return self.stop_after is not None and n_epochs >= self.stop_after
        return False


class _PropagatedRecorder(_Recorder):
    max_propagation_depth = None


@pytest.fixture
def sk_callback():
    return pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9")


def test_sklearn_callbacks_see_every_epoch_and_its_model(digits, sk_callback):
    X, y = digits
    legacy = []
    recorder = _Recorder()
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=4, random_state=0,
                        callbacks=lambda est, f: legacy.append([c.copy() for c in est.coefs_]))
    clf.set_callbacks(recorder).fit(X, y)
    assert recorder.events[0] == ("setup", "MLPClassifier")
    assert recorder.events[1] == ("begin", "fit")
    assert recorder.events[2:-2] == [("begin", "epoch"), ("end", "epoch")] * 4
    assert recorder.events[-2:] == [("end", "fit"), ("teardown", "MLPClassifier")]
    assert len(recorder.models) == 4
    for seen, expected in zip(recorder.models, legacy):  # the model of that very epoch
        for a, b in zip(seen, expected):
            np.testing.assert_array_equal(a, b)
    assert not hasattr(clf, "_callback_fit_ctx")  # torn down


def test_sklearn_callback_can_stop_training(digits, sk_callback):
    X, y = digits
    clf = MLPClassifier(max_iter=50, random_state=0).set_callbacks(_Recorder(stop_after=3))
    clf.fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3


def test_scoring_monitor_logs_each_epoch(digits, sk_callback):
    X, y = digits
    monitor = sk_callback.ScoringMonitor(scoring="accuracy")
    clf = MLPClassifier(max_iter=3, random_state=0).set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    epochs = [r for r in rows if r["task_name"] == "epoch"]
    assert len(epochs) == 3
    assert epochs[-1]["accuracy"] == pytest.approx(clf.score(X, y))


def test_sklearn_callbacks_through_lbfgs_and_partial_fit(digits, sk_callback):
    X, y = digits
    recorder = _Recorder()
    MLPClassifier(solver="lbfgs", max_iter=5).set_callbacks(recorder).fit(X, y)
    assert [e for e in recorder.events if e[0] in ("begin", "end")] == [
        ("begin", "fit"), ("end", "fit")]
    recorder = _Recorder()
    MLPClassifier().set_callbacks(recorder).partial_fit(X, y, classes=np.unique(y))
    assert [e for e in recorder.events if e[0] in ("begin", "end")] == [
        ("begin", "fit"), ("begin", "epoch"), ("end", "epoch"), ("end", "fit")]


def test_pipeline_propagates_callbacks_to_its_mlp(digits, sk_callback):
    X, y = digits
    recorder = _PropagatedRecorder()
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=2, random_state=0))
    pipe.set_callbacks(recorder).fit(X, y)
    assert recorder.events.count(("end", "epoch")) == 2
    assert len(recorder.models) == 2  # each epoch's model reaches the pipeline's callback


def test_search_propagates_callbacks_to_stacked_fits(digits, sk_callback):
    """A search's auto-propagated callback sees each candidate x fold fit and its epochs,
    even though a model stack trained them before scikit-learn's loop asked for them."""
    X, y = digits
    recorder = _PropagatedRecorder()
    search = GridSearchCV(MLPClassifier(max_iter=3, random_state=0), {"alpha": [1e-4, 1e-2]},
                          cv=2)
    search.set_callbacks(recorder).fit(X, y)
    assert search.loss_curves_[0] is not None  # the fits were stacked
    fits = [e for e in recorder.events if e == ("begin", "fit")]
    epochs = [e for e in recorder.events if e == ("end", "epoch")]
    assert len(fits) >= 4 + 1  # 2 candidates x 2 folds, the refit (and the search's own)
    assert len(epochs) == 5 * 3


def test_progress_bar_over_epochs_and_search_fits(digits, sk_callback, capfd):
    X, y = digits
    clf = MLPClassifier(max_iter=3, random_state=0).set_callbacks(sk_callback.ProgressBar())
    assert clf.fit(X, y).n_iter_ == 3
    out = capfd.readouterr().out
    assert "MLPClassifier - fit" in out and "100%" in out
    search = GridSearchCV(MLPClassifier(max_iter=2, random_state=0), {"alpha": [1e-4, 1e-2]},
                          cv=2).set_callbacks(sk_callback.ProgressBar(max_propagation_depth=None))
    search.fit(X, y)
    out = capfd.readouterr().out
    # one bar per stacked fit (replayed from its stack), and one for the refit
    for k in range(4):
        assert f"candidate-split-evaluation | MLPClassifier - fit #{k}" in out
    assert "refit-with-best-params | MLPClassifier - fit" in out


# ---------------------------------------------------------------------------- persistence


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_skops_round_trip_without_trusting_optax(solver, digits, tmp_path):
    """A fitted model holds no optax types (its optimizer state is a list of arrays), so
    skops loads it trusting skmlp's own classes only, and partial_fit resumes exactly."""
    import skops.io as sio
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=3, batch_norm=True,
                        random_state=0).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert all(t.startswith("skmlp.") for t in untrusted), untrusted
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    loaded.partial_fit(X, y)
    clf.partial_fit(X, y)
    for a, b in zip(loaded.coefs_, clf.coefs_):
        np.testing.assert_array_equal(a, b)


def test_dropout_program_loads_from_the_disk_cache(digits):
    """A program whose arguments include a PRNG key loads from the compile cache (its key's
    dtype is not a NumPy dtype)."""
    X, y = digits
    kw = dict(hidden_layer_sizes=(5, 3), dropout=0.2, max_iter=1, random_state=0)
    MLPClassifier(**kw).fit(X, y)
    _programs.train_epochs.clear()
    traces = _programs.train_epochs.trace_count
    MLPClassifier(**kw).fit(X, y)
    assert _programs.train_epochs.trace_count == traces


# ---------------------------------------------------------------------------- optax names


def test_optax_solver_reads_well_in_repr_and_cv_results(digits):
    X, y = digits
    tx = optax.adamw(3e-4, weight_decay=0.01)
    clf = MLPClassifier(solver=tx, max_iter=2)
    text = repr(clf)
    assert "scale_by_adam(b1=0.9" in text and "add_decayed_weights(weight_decay=0.01)" in text
    assert "<function" not in text and "scale_by_adam" in clf._repr_html_()
    assert clf.get_params()["solver"] is tx  # the object given, outside a display
    search = GridSearchCV(MLPClassifier(max_iter=2, random_state=0),
                          {"solver": ["adam", tx]}, cv=2).fit(X, y)
    shown = search.cv_results_["param_solver"][1]
    assert "scale_by_adam" in repr(shown) and shown.init is tx.init
    assert search.cv_results_["params"][1]["solver"] is tx


def test_the_demo_runs_in_fast_mode():
    """The README's main job, cut down (``--fast``): its three workloads print their rows."""
    result = subprocess.run([sys.executable, "-m", "skmlp.demo", "--fast"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines()
            if line.strip().startswith(("skmlp,", "skmlp float32,"))]
    assert len(rows) >= 6 and all("score" in row for row in rows)
    for workload in ("digits, Pipeline", "one-hot (user, item) CSR", "GridSearchCV 4 candidates"):
        assert workload in result.stdout


def test_import_and_prediction_load_neither_jax_nor_optax(tmp_path):
    """``import skmlp`` and a fitted model's predictions are NumPy: a process that loads a
    pickled model to predict never imports JAX or optax; the first fit does."""
    from skmlp.ensemble import MLPEnsembleRegressor

    X, y = load_digits(return_X_y=True)
    X = X[:200] / 16.0
    models = [MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, batch_norm=True).fit(X, y[:200]),
              MLPRegressor(hidden_layer_sizes=(8,), max_iter=2).fit(X, y[:200] / 9.0),
              MLPEnsembleRegressor(MLPRegressor(max_iter=2), n_estimators=2).fit(X, y[:200]),
              GridSearchCV(MLPClassifier(max_iter=2), {"alpha": [1e-4, 1e-2]}, cv=2).fit(
                  X, y[:200])]
    path = tmp_path / "models.pkl"
    path.write_bytes(pickle.dumps((models, X, y[:200])))
    code = textwrap.dedent(f"""
        import pickle, sys
        import skmlp, skmlp.ensemble, skmlp.model_selection

        def loaded():
            return sorted(m for m in sys.modules if m.split(".")[0] in ("jax", "optax"))

        assert loaded() == [], loaded()
        models, X, y = pickle.loads(open({str(path)!r}, "rb").read())
        for model in models:
            model.predict(X)
            model.score(X, y)
            if hasattr(model, "predict_proba"):
                model.predict_proba(X)
        assert loaded() == [], loaded()
        models[0].fit(X, y)
        assert "jax" in sys.modules
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


def test_gpu_check_script_runs_its_code_on_the_cpu(tmp_path):
    """asv_bench/gpu_check.py is run by hand on a GPU machine; ``--smoke`` runs its every step
    here on the CPU (cut down), so the script a GPU session relies on cannot rot."""
    import json

    subprocess.run([sys.executable, str(ROOT / "asv_bench" / "gpu_check.py"), "--smoke",
                    "--out", str(tmp_path)], check=True, capture_output=True, text=True,
                   timeout=600)
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    checks = [row["check"] for row in report["rows"]]
    assert len(checks) == 9
    assert sum("parity" in c for c in checks) == 3 and sum("grid" in c for c in checks) == 2
    for row in report["rows"]:
        if "parity" in row["check"]:  # the CPU standing in for the GPU: the same program
            assert row["max_coef_diff"] == 0.0
        else:
            assert row["score"] == pytest.approx(row["sklearn_score"], abs=0.05)


def test_epoch_profile_script_runs(tmp_path):
    """asv_bench/profile_epoch.py (the performance page's bounds) captures a search's compiled
    stack through the trainer's internals: a change there must not leave it broken unseen. Its
    per-operation profiles, of the stack's step and of the single fit's, must each find the
    step's matrix products."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "asv_bench" / "profile_epoch.py"), "--case", "demo_grid",
         "--rounds", "1", "--epochs", "1", "--ops", "3"],
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, SKMLP_CACHE_DIR=str(tmp_path)))
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "a stack of 6 models (shape (3, 2))" in out
    assert len(re.findall(r"on [12] thread\(s\): \d+\.\d+ ms per model-epoch", out)) == 4
    shares = re.findall(r"one step of the (stack|single fit)'s epoch: .*?(\d+)% of it in "
                        r"matrix products", out)
    assert [name for name, _ in shares] == ["stack", "single fit"]
    assert all(0 < int(share) <= 100 for _, share in shares)
    assert len(re.findall(r"^ +\d+\.\d us +\d+\.\d%", out, re.M)) == 6


def test_readme_quick_start_runs(capsys):
    """The README's first code block is what a new user pastes: it must run as printed."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2 and "mlpclassifier__alpha" in printed[1]
