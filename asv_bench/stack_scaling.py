"""Per-model epoch time of a model stack as it grows: ``python asv_bench/stack_scaling.py``.

K models of digits' (64,) network, adam, batch 200, trained as one stack for a fixed number of
epochs, in two arrangements: "shared" (one fold and one random_state, as the candidates of one
CV fold in a grid over learning rate and alpha: the stack shares rows and order) and
"independent" (each model its own seed: its own shuffles). Times are of the compiled epochs
alone (the first fit of each size loads or compiles its program and is not timed).
"""

import sys
import time
import warnings

from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier
from skmlp._stacking import fit_stacked

EPOCHS = (5, 25)


def per_model_epoch(k, shared, dtype):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)

    def fits(epochs):
        return [(MLPClassifier(hidden_layer_sizes=(64,), max_iter=epochs, tol=0,
                               n_iter_no_change=100, alpha=1e-4 * (i + 1),
                               random_state=0 if shared else i, compute_dtype=dtype),
                 X, y, None) for i in range(k)]

    fit_stacked(fits(1))
    times = []
    for epochs in EPOCHS:
        start = time.perf_counter()
        fit_stacked(fits(epochs))
        times.append(time.perf_counter() - start)
    return (times[1] - times[0]) / (EPOCHS[1] - EPOCHS[0]) / k


def main():
    warnings.simplefilter("ignore")
    dtype = sys.argv[1] if len(sys.argv) > 1 else "auto"
    print(f"compute_dtype={dtype}: ms per model-epoch (digits, (64,), adam)")
    print(f"{'K':>4}{'shared':>10}{'independent':>13}")
    for k in (1, 4, 16, 64):
        shared = per_model_epoch(k, True, dtype)
        independent = per_model_epoch(k, False, dtype)
        print(f"{k:>4}{shared * 1e3:>10.2f}{independent * 1e3:>13.2f}")


if __name__ == "__main__":
    main()
