"""skmlp next to scikit-learn: run ``python -m skmlp.demo`` (``--fast``: the same three
workloads cut down to seconds, as the test suite runs them).

Three workloads, each fitted by scikit-learn's MLP and by skmlp with the same settings and
``random_state``, timed side by side (wall clock, fits only):

1. digits (ships with scikit-learn) in a ``Pipeline(StandardScaler, MLPClassifier)``;
2. a one-hot recommender table (user and item ids of a MovieLens-100k-shaped ratings table
   generated in code, ``OneHotEncoder`` output: CSR, 2 non-zeros a row), where skmlp trains
   sparse;
3. a 4 candidates x 3 folds grid search on digits: scikit-learn's ``GridSearchCV`` against
   skmlp's, which trains the 12 fits as one stack of models in one compiled program.

Imports and JAX's start-up happen before any timing, for both libraries. skmlp's first fit of a
network shape on a machine compiles its training program ("cold"); the compile cache keeps it
for every later process ("warm"), so each skmlp figure says which it was.
"""

import sys
import time
import warnings
from importlib import import_module

import jax
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmlp import MLPClassifier as SkmlpMLP
from skmlp import _programs
from skmlp.datasets import make_ratings
from skmlp.model_selection import GridSearchCV as StackedGridSearchCV

GRID = {"mlpclassifier__alpha": [1e-4, 1e-2], "mlpclassifier__learning_rate_init": [1e-3, 1e-2]}
# Workload sizes (epochs or iterations, ratings): the full demo, and --fast.
SIZES = {False: {"digits_epochs": 200, "ratings": 50_000, "lbfgs_iter": 10, "grid_epochs": 50},
         True: {"digits_epochs": 10, "ratings": 5_000, "lbfgs_iter": 3, "grid_epochs": 5}}


def _timed(fn):
    """Wall-clock seconds of ``fn()`` and whether skmlp compiled anything meanwhile."""
    traces = sum(p.trace_count for p in _programs.PROGRAMS)
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    return elapsed, sum(p.trace_count for p in _programs.PROGRAMS) > traces


def _row(name, sk_time, sk_score, runs):
    print(f"  {name}")
    print(f"    {'scikit-learn':<44}{sk_time:>8.2f} s{'':>9}score {sk_score:.3f}")
    for label, seconds, score in runs:
        print(f"    {label:<44}{seconds:>8.2f} s{sk_time / seconds:>7.1f}x  score {score:.3f}")


def _skmlp_runs(make, fit, score):
    """skmlp's default and float32 fits, the first of each labelled cold or warm."""
    runs = []
    for dtype in ("auto", "float32"):
        name = "skmlp" if dtype == "auto" else "skmlp float32"
        model = make(dtype)
        seconds, compiled = _timed(lambda: fit(model))
        runs.append((f"{name}, {'cold (compiled now)' if compiled else 'warm (compile cache)'}",
                     seconds, score(model)))
        if compiled:  # the same fit again: what every later process gets
            model = make(dtype)
            seconds, _ = _timed(lambda: fit(model))
            runs.append((f"{name}, warm", seconds, score(model)))
    return runs


def digits_pipeline(size):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    epochs = size["digits_epochs"]
    sk = make_pipeline(StandardScaler(), SklearnMLP(max_iter=epochs, random_state=0))
    sk_time, _ = _timed(lambda: sk.fit(X_train, y_train))
    runs = _skmlp_runs(
        lambda dtype: make_pipeline(StandardScaler(), SkmlpMLP(
            max_iter=epochs, random_state=0, compute_dtype=dtype)),
        lambda m: m.fit(X_train, y_train), lambda m: m.score(X_test, y_test))
    _row(f"digits, Pipeline(StandardScaler, MLP(100,)), {len(X_train)} images, adam, at most "
         f"{epochs} epochs (test accuracy)", sk_time, sk.score(X_test, y_test), runs)


def sparse_recommender(size):
    pairs, ratings = make_ratings(n_ratings=size["ratings"], random_state=0)
    X = OneHotEncoder().fit_transform(pairs).tocsr()
    y = ratings >= 4
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    kw = dict(solver="lbfgs", max_iter=size["lbfgs_iter"], random_state=0)
    sk = SklearnMLP(**kw)
    sk_time, _ = _timed(lambda: sk.fit(X_train, y_train))
    runs = _skmlp_runs(lambda dtype: SkmlpMLP(compute_dtype=dtype, **kw),
                       lambda m: m.fit(X_train, y_train), lambda m: m.score(X_test, y_test))
    _row(f"one-hot (user, item) CSR, {X_train.shape[0]}x{X.shape[1]}, lbfgs "
         f"{kw['max_iter']} iterations (test accuracy)", sk_time, sk.score(X_test, y_test), runs)


def grid_search(size):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    epochs = size["grid_epochs"]
    sk = GridSearchCV(make_pipeline(StandardScaler(), SklearnMLP(max_iter=epochs,
                                                                 random_state=0)), GRID, cv=3)
    sk_time, _ = _timed(lambda: sk.fit(X_train, y_train))
    runs = _skmlp_runs(
        lambda dtype: StackedGridSearchCV(make_pipeline(StandardScaler(), SkmlpMLP(
            max_iter=epochs, random_state=0, compute_dtype=dtype)), GRID, cv=3),
        lambda m: m.fit(X_train, y_train), lambda m: m.score(X_test, y_test))
    # skmlp's search trains these fits (40 MFLOP epochs) one by one, two at a time, on the
    # program of its refit, which is the digits fit's above: its default row is warm
    _row(f"digits, GridSearchCV 4 candidates x 3 folds, {epochs} epochs (skmlp's "
         "model_selection.GridSearchCV; test accuracy of the best)",
         sk_time, sk.score(X_test, y_test), runs)


def main(fast=False):
    size = SIZES[bool(fast)]
    # Imports and JAX's start-up are charged to no one: ``import skmlp`` leaves JAX, optax
    # and the training code to the first fit, so they are imported here.
    import_module("skmlp._training")
    jax.devices()
    print("skmlp next to scikit-learn: same estimators, same settings, fit times side by side")
    print("(ratios are scikit-learn's time over skmlp's; higher is better for skmlp).\n")
    digits_pipeline(size)
    sparse_recommender(size)
    grid_search(size)
    print("\ncold: the first fit of a network shape on this machine, which compiles its "
          "program;\nwarm: the program was compiled already (in this process, or in the "
          "compile cache,\n~/.cache/skmlp, that serves every later process).")
    print("skmlp trains float64 data in float64 by default and then reproduces "
          "scikit-learn's fit;\ncompute_dtype='float32' trades that for speed.")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        main(fast="--fast" in sys.argv[1:])
