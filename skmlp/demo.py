"""skmlp next to scikit-learn on the digits dataset: run ``python -m skmlp.demo``.

Both libraries fit the same ``Pipeline(StandardScaler, MLPClassifier)`` and a small
``GridSearchCV``; the script prints test accuracy and wall-clock fit times side by side.
"""

import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier as SkmlpMLP

GRID = {"mlpclassifier__alpha": [1e-4, 1e-2], "mlpclassifier__learning_rate_init": [1e-3, 1e-2]}


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    print(f"digits: {X_train.shape[0]} training and {X_test.shape[0]} test images, "
          f"{X.shape[1]} features, 10 classes\n")
    contenders = [
        ("scikit-learn", lambda **kw: SklearnMLP(**kw)),
        ("skmlp", lambda **kw: SkmlpMLP(**kw)),  # float64 data: the same fit as scikit-learn
        ("skmlp float32", lambda **kw: SkmlpMLP(compute_dtype="float32", **kw)),
    ]
    rows = []
    for name, mlp in contenders:
        pipe = make_pipeline(StandardScaler(), mlp(hidden_layer_sizes=(100,), random_state=0))
        _, first = _timed(lambda: pipe.fit(X_train, y_train))
        _, again = _timed(lambda: pipe.fit(X_train, y_train))
        acc = pipe.score(X_test, y_test)
        search = GridSearchCV(make_pipeline(StandardScaler(), mlp(max_iter=50, random_state=0)),
                              GRID, cv=3)
        _, grid_time = _timed(lambda: search.fit(X_train, y_train))
        rows.append((name, first, again, acc, grid_time, search.best_params_,
                     search.score(X_test, y_test)))

    print(f"{'library':<15}{'fit (1st)':>11}{'fit (2nd)':>11}{'test acc':>10}"
          f"{'grid 4x3 fit':>14}{'grid test acc':>15}")
    for name, first, again, acc, grid_time, _, grid_acc in rows:
        print(f"{name:<15}{first:>10.2f}s{again:>10.2f}s{acc:>10.3f}{grid_time:>13.2f}s"
              f"{grid_acc:>15.3f}")
    sk = rows[0]
    for name, first, again, _, grid_time, _, _ in rows[1:]:
        print(f"\n{name} vs scikit-learn: 1st fit {sk[1] / first:.1f}x, 2nd fit {sk[2] / again:.1f}x, "
              f"grid search {sk[4] / grid_time:.1f}x faster", end="")
    print("\n\nThe 1st skmlp fit includes compiling its training program unless an earlier run "
          "left it in the compile cache (~/.cache/skmlp).")
    print("skmlp trains float64 data in float64 by default and then reproduces scikit-learn's "
          "fit exactly; compute_dtype='float32' trades that for speed.")
    for name, *_, best, _ in rows:
        print(f"{name} best grid parameters: {best}")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        main()
