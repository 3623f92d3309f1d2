"""skmlp's GPU check, in one go (about 5 minutes): ``python asv_bench/gpu_check.py [--out DIR]``.

Run it on a machine whose JAX sees a GPU (``pip install "skmlp[gpu]"``); without one it says
so and exits 0. It measures, each against the same machine's CPU:

1. **Parity**: the same fit (digits, ``(100,)``, adam, 30 epochs, ``random_state=0``) on the
   GPU and on the CPU, in float64 and in float32; the largest difference in ``coefs_`` and in
   ``predict_proba``, and the test accuracies.
2. **TF32**: JAX's default float32 matrix-multiply precision on a GPU may use TF32 (10-bit
   mantissas). The float32 GPU fit again under ``jax.default_matmul_precision('highest')``:
   what TF32 does to parity, and what it saves in time.
3. **Speed**, each against scikit-learn on this machine's CPU:
   - the digits 9x5 grid (``(64,)``, 50 epochs) as skmlp's stacked ``GridSearchCV``;
   - one MNIST epoch of a ``(500, 500)`` network (``$SKMLP_DATA`` or ``../shared/data``;
     when absent, a generated problem of MNIST's shape, labelled as such);
   - the course workload's one-hot ``lbfgs`` fit, 10 iterations, on ``make_ratings`` data.
4. **Peak device memory** of each GPU step (``memory_stats()['peak_bytes_in_use']``).

Everything is printed as a table and written to ``DIR/gpu_check.json`` (default: the current
directory; on the ``device`` machine pass ``--out $OUT``).
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# Sizes: the check, and ``--smoke`` (the same code on this machine's CPU as the "GPU", cut
# down to seconds, so the script is exercised where no GPU is).
SIZES = {False: {"mnist_rows": None, "ratings": 100_000, "grid": 3, "cv": 5},
         True: {"mnist_rows": 2000, "ratings": 5000, "grid": 2, "cv": 2}}
SIZE = SIZES[False]


def _gpu():
    import jax

    try:
        return jax.devices("gpu")[0]
    except RuntimeError:
        return None


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _peak_mb(device):
    stats = device.memory_stats() or {}
    return stats.get("peak_bytes_in_use", 0) / 2**20


def _digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


def _mnist():
    sys.path.insert(0, HERE)
    try:
        from benchmarks.datafiles import load_idx_dataset

        X, y, X_test, y_test = load_idx_dataset("mnist")
        return X.astype(np.float64), y, X_test.astype(np.float64), y_test, "MNIST"
    except (FileNotFoundError, OSError):
        from sklearn.datasets import make_classification

        X, y = make_classification(n_samples=70000, n_features=784, n_informative=100,
                                   n_classes=10, random_state=0)
        return X[:60000], y[:60000], X[60000:], y[60000:], "generated 60000x784 (no MNIST)"


def parity(cpu, gpu, rows):
    import jax

    from skmlp import MLPClassifier

    X, y, X_test, y_test = _digits()
    kw = dict(max_iter=30, random_state=0, tol=0.0, n_iter_no_change=30)
    fits = {}
    for dtype in ("float64", "float32"):
        for where, device, matmul in (("cpu", cpu, None), ("gpu", gpu, None),
                                      ("gpu highest", gpu, "highest")):
            if matmul and dtype == "float64":
                continue
            with jax.default_device(device), (jax.default_matmul_precision(matmul) if matmul
                                              else _nothing()):
                model = MLPClassifier(compute_dtype=dtype, **kw)
                model.fit(X, y)  # compile, not timed
                model = MLPClassifier(compute_dtype=dtype, **kw)
                _, seconds = _timed(lambda: model.fit(X, y))
            fits[dtype, where] = (model, seconds)
        ref, ref_s = fits[dtype, "cpu"]
        for where in ("gpu", "gpu highest"):
            if (dtype, where) not in fits:
                continue
            model, seconds = fits[dtype, where]
            coef = max(np.max(np.abs(a - b)) for a, b in zip(model.coefs_, ref.coefs_))
            proba = np.max(np.abs(model.predict_proba(X_test) - ref.predict_proba(X_test)))
            rows.append({
                "check": f"parity digits 30 epochs, {dtype}, {where} vs cpu",
                "cpu_s": ref_s, "gpu_s": seconds, "max_coef_diff": float(coef),
                "max_proba_diff": float(proba), "gpu_accuracy": model.score(X_test, y_test),
                "cpu_accuracy": ref.score(X_test, y_test)})


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def grid(cpu, gpu, rows):
    import jax
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV
    from sklearn.neural_network import MLPClassifier as SkMLP
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skmlp import MLPClassifier
    from skmlp.model_selection import GridSearchCV as StackedGridSearchCV

    X, y = load_digits(return_X_y=True)
    param_grid = {"mlpclassifier__alpha": [1e-5, 1e-3, 1e-1][:SIZE["grid"]],
                  "mlpclassifier__learning_rate_init": [1e-3, 3e-3, 1e-2][:SIZE["grid"]]}
    kw = dict(hidden_layer_sizes=(64,), max_iter=50, n_iter_no_change=50, tol=0.0,
              random_state=0)
    sk = GridSearchCV(make_pipeline(StandardScaler(), SkMLP(**kw)), param_grid, cv=SIZE["cv"],
                      n_jobs=-1)
    _, sk_s = _timed(lambda: sk.fit(X, y))
    for dtype in ("float64", "float32"):
        with jax.default_device(gpu):
            def search():
                return StackedGridSearchCV(make_pipeline(StandardScaler(), MLPClassifier(
                    compute_dtype=dtype, **kw)), param_grid, cv=SIZE["cv"]).fit(X, y)

            _, cold = _timed(search)
            ours, warm = _timed(search)
        rows.append({"check": f"digits {len(sk.cv_results_['params'])}x{SIZE['cv']} grid, stacked, {dtype} (sklearn n_jobs=-1 on CPU)",
                     "sklearn_s": sk_s, "gpu_s": warm, "gpu_cold_s": cold,
                     "ratio": sk_s / warm, "score": ours.best_score_,
                     "sklearn_score": sk.best_score_, "peak_mb": _peak_mb(gpu)})


def mnist_epoch(cpu, gpu, rows):
    import jax
    from sklearn.neural_network import MLPClassifier as SkMLP

    from skmlp import MLPClassifier

    X, y, X_test, y_test, name = _mnist()
    if SIZE["mnist_rows"]:
        X, y, name = X[:SIZE["mnist_rows"]], y[:SIZE["mnist_rows"]], f"{name}, first rows"
    kw = dict(hidden_layer_sizes=(500, 500), n_iter_no_change=100, tol=0.0, random_state=0)

    def epoch(make):
        # an epoch is the difference between fits of 1 and 3 epochs: fixed costs cancel
        times = {}
        for n in (1, 3):
            model = make(n)
            _, times[n] = _timed(lambda: model.fit(X, y))
        return (times[3] - times[1]) / 2, model

    sk_epoch, sk = epoch(lambda n: SkMLP(max_iter=n, **kw))
    for dtype in ("float64", "float32"):
        with jax.default_device(gpu):
            MLPClassifier(max_iter=1, compute_dtype=dtype, **kw).fit(X, y)  # compile
            ours_epoch, ours = epoch(lambda n: MLPClassifier(max_iter=n, compute_dtype=dtype,
                                                             **kw))
        rows.append({"check": f"{name} (500, 500) epoch, {dtype}", "sklearn_s": sk_epoch,
                     "gpu_s": ours_epoch, "ratio": sk_epoch / ours_epoch,
                     "score": ours.score(X_test, y_test), "sklearn_score": sk.score(X_test, y_test),
                     "peak_mb": _peak_mb(gpu)})


def ratings_lbfgs(cpu, gpu, rows):
    import jax
    from sklearn.neural_network import MLPClassifier as SkMLP
    from sklearn.preprocessing import OneHotEncoder

    from skmlp import MLPClassifier
    from skmlp.datasets import make_ratings

    pairs, ratings = make_ratings(n_ratings=SIZE["ratings"], random_state=0)
    X = OneHotEncoder().fit_transform(pairs).tocsr()
    y = ratings >= 4
    kw = dict(solver="lbfgs", max_iter=10, random_state=0)
    sk, sk_s = _timed(lambda: SkMLP(**kw).fit(X, y))
    for dtype in ("float64", "float32"):
        with jax.default_device(gpu):
            MLPClassifier(compute_dtype=dtype, **kw).fit(X, y)  # compile
            ours, seconds = _timed(lambda: MLPClassifier(compute_dtype=dtype, **kw).fit(X, y))
        rows.append({"check": f"one-hot ratings {X.shape[0]}x{X.shape[1]} lbfgs 10 it, {dtype}",
                     "sklearn_s": sk_s, "gpu_s": seconds, "ratio": sk_s / seconds,
                     "score": ours.score(X, y), "sklearn_score": sk.score(X, y),
                     "peak_mb": _peak_mb(gpu)})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for gpu_check.json")
    parser.add_argument("--smoke", action="store_true",
                        help="run the script's code on the CPU, cut down to seconds")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import jax

    global SIZE
    SIZE = SIZES[args.smoke]
    gpu = jax.devices("cpu")[0] if args.smoke else _gpu()
    if gpu is None:
        print("gpu_check: JAX sees no GPU on this machine; nothing to check.")
        return 0
    cpu = jax.devices("cpu")[0]
    rows = []
    began = time.perf_counter()
    for step in (parity, grid, mnist_epoch, ratings_lbfgs):
        step(cpu, gpu, rows)
        print(json.dumps(rows[-1]), flush=True)
    report = {"device": str(gpu), "device_kind": gpu.device_kind, "cpu_cores": os.cpu_count(),
              "jax": jax.__version__, "seconds": time.perf_counter() - began, "rows": rows}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "gpu_check.json"), "w") as f:
        json.dump(report, f, indent=1)
    print()
    for row in rows:
        print(" | ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in row.items()))
    print(f"\n{gpu.device_kind}; {report['seconds']:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
