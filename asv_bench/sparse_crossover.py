"""Where sparse training stops paying: ``python asv_bench/sparse_crossover.py``.

Times one training epoch (adam, one hidden layer of 100 units, batch 200, float64 as the
default path trains float64 data) on random data whose rows hold ``k`` non-zeros out of 1000
features, with ``input_layout='sparse'`` and ``'dense'``, in this process after one warm-up
fit each. ``skmlp._data.SPARSE_MAX_FILL`` (the padded fill below which 'auto' trains sparse)
was chosen from this table. ``--csv PATH`` also writes it as CSV (the user guide renders
``docs/_static/sparse_crossover.csv``).
"""

import csv
import sys

import time
import warnings

import numpy as np
import scipy.sparse as sp

from skmlp import MLPClassifier

N, D = 20000, 1000


def epoch_seconds(X, y, layout, epochs=(1, 3)):
    times = []
    for n in epochs:
        est = MLPClassifier(max_iter=n, tol=0, n_iter_no_change=100, random_state=0,
                            input_layout=layout)
        start = time.perf_counter()
        est.fit(X, y)
        times.append(time.perf_counter() - start)
    return (times[1] - times[0]) / (epochs[1] - epochs[0])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out = argv[argv.index("--csv") + 1] if "--csv" in argv else None
    rows = []
    warnings.simplefilter("ignore")
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, N)
    print(f"{'fill':>7}{'k':>6}{'sparse s':>10}{'dense s':>9}{'dense/sparse':>14}")
    for k in (1, 4, 16, 32, 64, 128):
        cols = np.argsort(rng.rand(N, D), axis=1)[:, :k]
        X = sp.csr_matrix((rng.rand(N * k), cols.ravel(), np.arange(0, N * k + 1, k)),
                          shape=(N, D))
        for layout in ("sparse", "dense"):  # warm-up: compile or load
            MLPClassifier(max_iter=1, random_state=0, input_layout=layout).fit(X, y)
        ts = epoch_seconds(X, y, "sparse")
        td = epoch_seconds(X, y, "dense")
        print(f"{k / D:>7.3f}{k:>6}{ts:>10.3f}{td:>9.3f}{td / ts:>13.2f}x")
        rows.append([f"{k / D:.1%} ({k} / row)", f"{ts:.3f}", f"{td:.3f}", f"{td / ts:.2f}"])
    if out:
        with open(out, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["padded fill", "sparse epoch (s)", "dense epoch (s)", "ratio"])
            writer.writerows(rows)


if __name__ == "__main__":
    main()
