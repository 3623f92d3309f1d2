"""Fit time against problem size, skmlp against scikit-learn: ``python asv_bench/size_scaling.py``.

A synthetic 5-class problem with 100 features and a (100, 100) network, 10 epochs of adam, for
growing numbers of rows. Each fit runs in this one process after a warm-up fit of each library
(skmlp's programs are compiled or loaded first, so the figures are of training, not of
compiling); the libraries alternate and each figure is the median of 3. Writes
``docs/_static/size_scaling.csv`` (rows, library, seconds) for the performance page's plot.
"""

import csv
import pathlib
import statistics
import time
import warnings

from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLP

from skmlp import MLPClassifier

SIZES = (1000, 3000, 10000, 30000, 100000)
OUT = pathlib.Path(__file__).resolve().parents[1] / "docs" / "_static" / "size_scaling.csv"


def main():
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = make_classification(n_samples=max(SIZES), n_features=100, n_informative=50,
                               n_classes=5, random_state=0)
    kw = dict(hidden_layer_sizes=(100, 100), max_iter=10, tol=0.0, random_state=0)
    makers = {"scikit-learn": lambda: SklearnMLP(**kw),
              "skmlp (float64, default)": lambda: MLPClassifier(**kw),
              "skmlp (float32)": lambda: MLPClassifier(compute_dtype="float32", **kw)}
    for make in makers.values():
        make().fit(X[:500], y[:500])  # warm-up: imports, JAX start-up, compile or load
    rows = []
    for n in SIZES:
        times = {name: [] for name in makers}
        for repeat in range(3):
            order = list(makers) if repeat % 2 == 0 else list(makers)[::-1]
            for name in order:
                start = time.perf_counter()
                makers[name]().fit(X[:n], y[:n])
                times[name].append(time.perf_counter() - start)
        for name, ts in times.items():
            rows.append((n, name, statistics.median(ts)))
        base = statistics.median(times["scikit-learn"])
        print(f"{n:>7} rows: " + ", ".join(
            f"{name} {statistics.median(ts):.3f} s ({base / statistics.median(ts):.2f}x)"
            for name, ts in times.items()), flush=True)
    OUT.parent.mkdir(exist_ok=True)
    with open(OUT, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["rows", "library", "seconds"])
        writer.writerows(rows)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
