"""Fashion-MNIST: skmlp with dropout and batch norm next to scikit-learn's MLP.

Run ``python asv_bench/fashion_mnist.py``. Both train on the 60000 training images and are
scored on the 10000 test images (``$SKMLP_DATA``, default ``../shared/data``). scikit-learn's
MLP cannot drop out or normalize; it gets the same architecture with early stopping and its
default L2 penalty, which is its best recipe for this problem.
"""

import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SklearnMLP

from benchmarks.datafiles import load_idx_dataset
from skmlp import MLPClassifier

SIZES = (512, 256)


def main():
    try:
        X_train, y_train, X_test, y_test = load_idx_dataset("fashion-mnist")
    except FileNotFoundError as exc:
        print(f"Fashion-MNIST not found ({exc}); set SKMLP_DATA")
        return 0
    X_train, X_test = X_train.astype(np.float64), X_test.astype(np.float64)
    runs = [
        ("skmlp, dropout 0.2 + batch norm, float32",
         MLPClassifier(SIZES, dropout=0.2, batch_norm=True, compute_dtype="float32",
                       learning_rate_init=1e-3, learning_rate="cosine", max_iter=40,
                       batch_size=256, random_state=0)),
        ("scikit-learn, early stopping",
         SklearnMLP(SIZES, early_stopping=True, max_iter=40, batch_size=256, random_state=0)),
    ]
    print(f"Fashion-MNIST: {len(X_train)} training / {len(X_test)} test images, MLP {SIZES}")
    for name, model in runs:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        acc = model.score(X_test, y_test)
        print(f"{name:<44} test accuracy {acc:.4f}  epochs {model.n_iter_:>3}  "
              f"fit {seconds:7.1f} s  ({seconds / model.n_iter_:.2f} s/epoch)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
