"""skmlp against scikit-learn, side by side: ``python asv_bench/compare.py``.

Every fit runs in its own fresh Python process (imports and data loading excluded from the
timing, compilation included), the two libraries alternate, and each figure is the median of
the repeats; ratios are scikit-learn's time over skmlp's (higher is better for skmlp). Inputs
are float64 arrays. skmlp appears twice where it matters: with its default
``compute_dtype='auto'`` (trains float64 data in float64, like scikit-learn) and with
``compute_dtype='float32'``; "cold" runs start from an empty compile cache, "warm" ones from a
cache that an earlier process filled.

The MNIST case times an epoch as the difference between fits of different lengths (one-off
work of a fit cancels out) and reports its training FLOP rate against the float32
matrix-multiply rate measured in the same run; it reads ``$SKMLP_DATA`` (default
``../shared/data``) and is skipped when that is absent. ``--quick`` runs one repeat of the
small cases only.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# ----------------------------------------------------------------------------- problems


def _digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


def _synthetic():
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(n_samples=20000, n_features=100, n_informative=50,
                               n_classes=5, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, train_size=15000, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


def _mnist():
    sys.path.insert(0, HERE)
    from benchmarks.datafiles import load_idx_dataset

    X_train, y_train, X_test, y_test = load_idx_dataset("mnist")
    return X_train.astype(np.float64), y_train, X_test.astype(np.float64), y_test


def mlp_epoch_flops(n_samples, layer_units):
    """Training FLOPs of one epoch: forward, weight gradients, and input gradients of every
    layer but the first (2 FLOPs per multiply-add)."""
    pairs = list(zip(layer_units[:-1], layer_units[1:]))
    macs = sum(a * b for a, b in pairs)
    return n_samples * 2 * (2 * macs + sum(a * b for a, b in pairs[1:]))


def _status_mb(field):
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def _sparse_problem(case):
    sys.path.insert(0, HERE)
    from benchmarks import sparse_data

    if case == "adult":
        return sparse_data.adult_onehot()
    return sparse_data.movielens_like("dummies" if case == "ml_dummies" else "csr")


SPARSE_CASES = {
    # case: (label, solver, early_stopping)
    "ml_lbfgs": ("MovieLens-shaped one-hot CSR, lbfgs, per iteration", "lbfgs", False),
    "ml_adam": ("MovieLens-shaped one-hot CSR, adam + early stop, per epoch", "adam", True),
    "ml_dummies": ("MovieLens-shaped pd.get_dummies (bool), lbfgs, per iter", "lbfgs", False),
    "adult": ("Adult OneHot+Scaler CSR (108 cols), adam, per epoch", "adam", False),
}


def run_sparse_case(case, library, dtype):
    """Fit time per iteration and memory: what the fit adds to resident memory (peak during
    the fit minus the level before it, after imports, JAX's start-up and the data) and the
    process's total peak during the fit."""
    import gc

    if library == "skmlp":
        import jax
        jax.devices()  # JAX's runtime start-up belongs to the import, not to the fit
    X, X_test, y, y_test = _sparse_problem(case)
    _, solver, early = SPARSE_CASES[case]
    est = _estimator(library, dtype, solver=solver, early_stopping=early, max_iter=10,
                     random_state=0)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:  # restart the kernel's peak-RSS counter
        f.write("5")
    base = _status_mb("VmRSS")
    start = time.perf_counter()
    est.fit(X, y)
    fit = time.perf_counter() - start
    peak = _status_mb("VmHWM")
    out = {"fit_s": fit, "iter_s": fit / est.n_iter_, "added_mb": peak - base,
           "peak_mb": peak, "score": est.score(X_test, y_test)}
    if library == "skmlp":
        out["sparse"] = float(est.input_layout_ == "sparse")
    return out


def _estimator(library, dtype, **params):
    if library.startswith("sklearn"):
        from sklearn.neural_network import MLPClassifier
        return MLPClassifier(**params)
    from skmlp import MLPClassifier
    return MLPClassifier(compute_dtype=dtype, **params)


# ----------------------------------------------------------------------------- one case


def run_case(case, library, dtype):
    """Runs in a fresh worker process; returns a dict of figures."""
    warnings.simplefilter("ignore")
    fixed = dict(random_state=0, tol=0.0)
    if library.startswith("skmlp"):
        # Imports are not fit time, for either library: ``import skmlp`` leaves JAX and optax
        # to the first fit, so they are imported here, with JAX's start-up.
        import jax

        import skmlp._training  # noqa: F401
        jax.devices()
    if case in ("digits", "synthetic"):
        X, y, X_test, y_test = _digits() if case == "digits" else _synthetic()
        epochs = 200 if case == "digits" else 30
        sizes = (100,) if case == "digits" else (100, 100)
        est = _estimator(library, dtype, hidden_layer_sizes=sizes, max_iter=epochs,
                         n_iter_no_change=epochs, **fixed)
        start = time.perf_counter()
        est.fit(X, y)
        fit = time.perf_counter() - start
        return {"fit_s": fit, "score": est.score(X_test, y_test), "epochs": est.n_iter_}
    if case in ("grid", "grid_synth", "demo_grid"):
        from sklearn.datasets import load_digits
        from sklearn.model_selection import GridSearchCV, train_test_split
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if case == "demo_grid":  # the README demo's search: defaults, 4 candidates x 3 folds
            X, y = load_digits(return_X_y=True)
            X, _, y, _ = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
            grid = {"mlpclassifier__alpha": [1e-4, 1e-2],
                    "mlpclassifier__learning_rate_init": [1e-3, 1e-2]}
            pipe = make_pipeline(StandardScaler(), _estimator(library, dtype, max_iter=50,
                                                              random_state=0))
            if library == "skmlp-stacked":
                from skmlp.model_selection import GridSearchCV as StackedGridSearchCV
                search = StackedGridSearchCV(pipe, grid, cv=3)
            else:
                search = GridSearchCV(pipe, grid, cv=3)
            start = time.perf_counter()
            search.fit(X, y)
            return {"fit_s": time.perf_counter() - start, "score": search.best_score_}
        if case == "grid":
            X, y = load_digits(return_X_y=True)
            sizes, epochs = (64,), 50
        else:  # the synthetic problem's 15000 training rows
            X, y, _, _ = _synthetic()
            sizes, epochs = (100, 100), 30
        grid = {"mlpclassifier__alpha": [1e-5, 1e-3, 1e-1],
                "mlpclassifier__learning_rate_init": [1e-3, 3e-3, 1e-2]}
        pipe = make_pipeline(StandardScaler(), _estimator(
            library, dtype, hidden_layer_sizes=sizes, max_iter=epochs, n_iter_no_change=epochs,
            **fixed))
        if library == "skmlp-stacked":
            from skmlp.model_selection import GridSearchCV as StackedGridSearchCV
            search = StackedGridSearchCV(pipe, grid, cv=5)
        else:
            search = GridSearchCV(pipe, grid, cv=5, n_jobs=2 if library == "sklearn-jobs2" else None)
        start = time.perf_counter()
        search.fit(X, y)
        fit = time.perf_counter() - start
        out = {"fit_s": fit, "score": search.best_score_}
        if library.startswith("skmlp"):
            from skmlp import _programs
            out["compiles"] = (_programs.train_epochs.trace_count
                               + _programs.train_epoch_stack.trace_count)
        return out
    if case in SCALE_CASES:
        return run_scale_case(case, library)
    if case == "predict":
        X, y, X_test, _ = _synthetic()
        est = _estimator(library, dtype, hidden_layer_sizes=(100, 100), max_iter=2, **fixed)
        est.fit(X, y)
        big = np.tile(X_test, (2, 1))[:10000]
        one = X_test[:1]
        times = {}
        for name, data, reps in (("predict_1_s", one, 2000), ("predict_10000_s", big, 50)):
            est.predict(data)
            start = time.perf_counter()
            for _ in range(reps):
                est.predict(data)
            times[name] = (time.perf_counter() - start) / reps
        return times
    if case == "mnist":
        X, y, X_test, y_test = _mnist()
        kw = dict(hidden_layer_sizes=(500, 500), n_iter_no_change=100, **fixed)
        if library == "skmlp":  # load or compile the program first: this case times epochs
            _estimator(library, dtype, max_iter=1, **kw).fit(X, y)
        # An epoch's cost is the difference between fits of different lengths: the one-off
        # work of a fit (input validation, conversion, transfer) cancels out.
        short, long_ = (1, 2) if library == "sklearn" else (1, 4)
        times = {}
        for epochs in (short, long_):
            est = _estimator(library, dtype, max_iter=epochs, **kw)
            start = time.perf_counter()
            est.fit(X, y)
            times[epochs] = time.perf_counter() - start
        return {"epoch_s": (times[long_] - times[short]) / (long_ - short),
                "fit_overhead_s": times[short] - (times[long_] - times[short]) / (long_ - short),
                "score": est.score(X_test, y_test),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if case in SPARSE_CASES:
        return run_sparse_case(case, library, dtype)
    if case == "ensemble":  # the target is relative to one member's fit: both in one process
        from skmlp.ensemble import MLPEnsembleClassifier

        X, y, X_test, y_test = _digits()
        kw = dict(hidden_layer_sizes=(100,), max_iter=200, n_iter_no_change=200, **fixed)
        out = {}
        for name, est in (("member_s", _estimator(library, dtype, **kw)),
                          ("fit_s", MLPEnsembleClassifier(_estimator(library, dtype, **kw),
                                                          n_estimators=10, random_state=0))):
            start = time.perf_counter()
            est.fit(X, y)
            out[name] = time.perf_counter() - start
        out["score"] = est.score(X_test, y_test)
        return out
    raise ValueError(case)


# Searches on several workers: digits 9x5 (the stacked grid) and a tutorial-style lbfgs grid
# of 4 architectures x 3 folds on one-hot ratings. Variants: "<library>-j<n_jobs>" and
# "skmlp-dask" (a 2-worker LocalCluster, its start-up timed apart).
SCALE_CASES = {"scale": "GridSearchCV 9x5 digits (64,) 50 ep",
               "lbfgs_grid": "lbfgs GridSearchCV 4 archs x 3 folds, one-hot ratings, 15 it"}


def _scale_problem(case, library):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    fixed = dict(random_state=0, tol=0.0)
    if case == "scale":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        grid = {"mlpclassifier__alpha": [1e-5, 1e-3, 1e-1],
                "mlpclassifier__learning_rate_init": [1e-3, 3e-3, 1e-2]}
        est = make_pipeline(StandardScaler(), _estimator(
            library, "auto", hidden_layer_sizes=(64,), max_iter=50, n_iter_no_change=50,
            **fixed))
        return est, grid, X, y, 5
    from skmlp.datasets import make_ratings

    pairs, ratings = make_ratings(n_ratings=30_000, random_state=0)
    X, y = OneHotEncoder().fit_transform(pairs).tocsr(), ratings >= 4
    grid = {"hidden_layer_sizes": [(16,), (64,), (128,), (64, 32)]}
    return _estimator(library, "auto", solver="lbfgs", max_iter=15, **fixed), grid, X, y, 3


def run_scale_case(case, library):
    """Two searches in one process (the first also starts the worker pool), and one fit of the
    grid's first candidate alone (the per-fit speed-up the search should keep)."""
    from joblib import parallel_config
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, ParameterGrid

    name, _, jobs = library.partition("-")
    est, grid, X, y, cv = _scale_problem(case, name)
    Search = GridSearchCV
    if name == "skmlp":
        from skmlp.model_selection import GridSearchCV as Search
    out = {}
    config, cluster = {}, None
    if jobs == "dask":
        from distributed import Client, LocalCluster

        start = time.perf_counter()
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
        client = Client(cluster)
        out["cluster_start_s"] = time.perf_counter() - start
        config = {"backend": "dask"}
    n_jobs = None if jobs in ("j1", "dask") else int(jobs[1:])
    for key in ("first_s", "fit_s"):
        search = Search(clone(est), grid, cv=cv, n_jobs=n_jobs)
        start = time.perf_counter()
        with parallel_config(**config):
            search.fit(X, y)
        out[key] = time.perf_counter() - start
    out["score"] = search.best_score_
    if cluster is not None:
        client.close()
        cluster.close()
    single = clone(est).set_params(**ParameterGrid(grid)[0])
    single.fit(X, y)  # compiles (skmlp), then the timed fit
    single = clone(single)
    start = time.perf_counter()
    single.fit(X, y)
    out["single_s"] = time.perf_counter() - start
    return out


def gemm_rate(n=2048, reps=5):
    """The machine's float32 matrix-multiply rate (FLOP/s), measured now."""
    a = np.random.RandomState(0).rand(n, n).astype(np.float32)
    a @ a
    start = time.perf_counter()
    for _ in range(reps):
        a @ a
    return reps * 2 * n**3 / (time.perf_counter() - start)


# ----------------------------------------------------------------------------- driver


def worker(case, library, dtype, cache_dir):
    env = dict(os.environ, SKMLP_CACHE_DIR=cache_dir, PYTHONWARNINGS="ignore")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", case, library, dtype]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{case}/{library} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(case, variants, repeats, warm_dir):
    """Median figures per variant; variants alternate within each repeat."""
    results = {v: [] for v in variants}
    for r in range(repeats):
        ordered = variants if r % 2 == 0 else variants[::-1]
        for variant in ordered:
            library, dtype, cache = variant
            cache_dir = warm_dir if cache == "warm" else tempfile.mkdtemp(prefix="skmlp-cold-")
            results[variant].append(worker(case, library, dtype, cache_dir))
    return {v: {k: statistics.median(run[k] for run in runs) for k in runs[0]}
            for v, runs in results.items()}


def _adult_available():
    sys.path.insert(0, HERE)
    from benchmarks import sparse_data

    return (sparse_data._data_dir() / "adult" / "adult.data").exists()


def _mnist_available():
    sys.path.insert(0, HERE)
    from benchmarks.datafiles import data_dir

    return (data_dir() / "mnist" / "train-images-idx3-ubyte.gz").exists()


def _scale_rows(case, res, variants):
    """Each variant against scikit-learn's n_jobs=1 and n_jobs=2 searches (second search of
    the process: the worker pool is up), with the first search and the per-fit ratio."""
    sk1, sk2 = res[variants[0]], res[variants[1]]
    single = sk1["single_s"] / res[variants[2]]["single_s"]
    rows = [(f"{SCALE_CASES[case]}: scikit-learn n_jobs=2 vs n_jobs=1", sk1["fit_s"],
             sk2["fit_s"], sk1["fit_s"] / sk2["fit_s"], sk2["score"], sk1["score"],
             f"first search {sk2['first_s']:.2f} s (starts the workers)")]
    for variant in variants[2:]:
        r = res[variant]
        extra = (f"vs sklearn n_jobs=2: {sk2['fit_s'] / r['fit_s']:.2f}x; first search "
                 f"{r['first_s']:.2f} s")
        if "cluster_start_s" in r:
            extra += f"; cluster start {r['cluster_start_s']:.2f} s (not in the time)"
        if case == "lbfgs_grid":
            extra += f"; one fit alone {single:.2f}x"
        rows.append((f"{SCALE_CASES[case]}: skmlp {variant[0].split('-')[1]}", sk1["fit_s"],
                     r["fit_s"], sk1["fit_s"] / r["fit_s"], r["score"], sk1["score"], extra))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one repeat, small cases only")
    parser.add_argument("--csv", metavar="PATH",
                        help="also write the table as CSV (docs/_static/benchmarks.csv feeds "
                             "the performance page's plots)")
    parser.add_argument("--update", action="store_true",
                        help="with --csv: replace only the measured cases' rows of that file")
    parser.add_argument("--cases", default="digits,demo_grid,synthetic,grid,grid_synth,scale,"
                                           "lbfgs_grid,"
                                           "ensemble,predict,mnist,ml_lbfgs,ml_adam,ml_dummies,"
                                           "adult")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    cases = args.cases.split(",")
    if args.quick:
        cases = [c for c in cases if c not in ("mnist", "grid_synth")]
    warm_dir = tempfile.mkdtemp(prefix="skmlp-warm-")
    sk = ("sklearn", "-", "-")
    rows = []
    tags = {}  # row index -> (case, compute dtype, compile cache)

    def add(label, case, variant, results, key="fit_s", extra=""):
        ours, theirs = results[variant][key], results[sk][key]
        score = results[variant].get("score")
        rows.append((label, theirs, ours, theirs / ours, score, results[sk].get("score"), extra))
        tags[len(rows) - 1] = (case, variant[1], variant[2])

    for case in cases:
        if case == "mnist" and not _mnist_available():
            print("MNIST not found (set SKMLP_DATA): skipping the MNIST case")
            continue
        if case == "adult" and not _adult_available():
            print("Adult not found (set SKMLP_DATA): skipping the Adult case")
            continue
        if case == "digits":
            variants = [sk, ("skmlp", "auto", "warm"), ("skmlp", "float32", "warm"),
                        ("skmlp", "float32", "cold"), ("skmlp", "auto", "cold")]
        elif case == "predict":
            variants = [sk, ("skmlp", "auto", "warm")]
        elif case == "grid":  # the default first: what a user gets
            variants = [sk, ("skmlp-stacked", "auto", "warm"), ("skmlp-stacked", "float32", "warm"),
                        ("skmlp-stacked", "auto", "cold"), ("sklearn-jobs2", "-", "-"),
                        ("skmlp", "auto", "warm")]
        elif case == "demo_grid":
            variants = [sk, ("skmlp-stacked", "auto", "warm"), ("skmlp-stacked", "float32", "warm"),
                        ("skmlp-stacked", "auto", "cold")]
        elif case == "grid_synth":
            variants = [sk, ("skmlp-stacked", "auto", "warm"), ("skmlp-stacked", "float32", "warm")]
        elif case == "ensemble":
            variants = [("skmlp", "auto", "warm"), ("skmlp", "float32", "warm")]
        elif case in SCALE_CASES:  # default settings only: n_jobs and backends are the point
            variants = [("sklearn-j1", "-", "-"), ("sklearn-j2", "-", "-"),
                        ("skmlp-j1", "auto", "warm"), ("skmlp-j2", "auto", "warm"),
                        ("skmlp-dask", "auto", "warm")]
        elif case in SPARSE_CASES:  # the default first: what a user gets
            variants = [sk, ("skmlp", "auto", "warm"), ("skmlp", "float32", "warm")]
        else:
            variants = [sk, ("skmlp", "float32", "warm"), ("skmlp", "auto", "warm")]
        for variant in variants:  # fill the warm cache; not timed
            if variant[2] == "warm" and case != "mnist":
                worker(case, variant[0], variant[1], warm_dir)
        print(f"measuring {case} ({repeats} alternating repeats)...", flush=True)
        res = measure(case, variants, repeats, warm_dir)
        if case in SCALE_CASES:
            for row, variant in zip(_scale_rows(case, res, variants), variants[1:]):
                rows.append(row)
                tags[len(rows) - 1] = (case, variant[0], "warm")
            continue
        if case == "predict":
            v = ("skmlp", "auto", "warm")
            add("predict 1 row", case, v, res, "predict_1_s")
            add("predict 10000 rows", case, v, res, "predict_10000_s")
            continue
        if case in SPARSE_CASES:
            for variant in variants[1:]:
                r, s = res[variant], res[sk]
                extra = (f"{'sparse' if r['sparse'] else 'dense'} path; fit adds "
                         f"{r['added_mb']:.0f} MB vs {s['added_mb']:.0f} MB "
                         f"({r['added_mb'] / max(s['added_mb'], 1):.2f}x); peak "
                         f"{r['peak_mb']:.0f} vs {s['peak_mb']:.0f} MB "
                         f"({r['peak_mb'] / s['peak_mb']:.2f}x)")
                add(f"{SPARSE_CASES[case][0]}, {variant[1]}, {variant[2]} cache", case,
                    variant, res, "iter_s", extra)
            continue
        for variant in (variants if case == "ensemble" else variants[1:]):
            _, dtype, cache = variant
            if case == "grid" and variant[0] == "sklearn-jobs2":
                add("GridSearchCV 9x5 digits: scikit-learn n_jobs=2 (vs n_jobs=1)", case,
                    variant, res)
                continue
            if case == "ensemble":
                r = res[variant]
                rows.append((f"10-member ensemble / one member's fit (digits, (100,)), {dtype}",
                             r["member_s"], r["fit_s"], r["member_s"] / r["fit_s"], r["score"],
                             None, f"ensemble = {r['fit_s'] / r['member_s']:.2f}x one fit"))
                tags[len(rows) - 1] = (case, dtype, cache)
                continue
            label = {"digits": "digits 1347x64 (100,) 200 ep",
                     "synthetic": "synthetic 15000x100 (100,100) 30 ep",
                     "grid": ("GridSearchCV 9x5 digits (64,) 50 ep, " + (
                         "skmlp's stacked search" if variant[0] == "skmlp-stacked" else
                         "skmlp in scikit-learn's search")),
                     "grid_synth": "GridSearchCV 9x5 synthetic 15000x100 (100,100) 30 ep",
                     "demo_grid": "README demo: GridSearchCV 4x3 digits (100,) 50 ep",
                     "mnist": "MNIST 60000x784 (500,500) per epoch"}[case]
            extra = ""
            if case in ("grid", "grid_synth"):
                extra = f"{int(res[variant]['compiles'])} compile(s) in 46 fits"
            if case == "mnist":
                rate = gemm_rate()
                flops = mlp_epoch_flops(60000, [784, 500, 500, 10]) / res[variant]["epoch_s"]
                extra = (f"{flops / 1e9:.0f} GFLOP/s = {flops / rate:.0%} of f32 GEMM "
                         f"({rate / 1e9:.0f}); peak RSS {res[variant]['peak_rss_mb']:.0f} MB vs "
                         f"{res[sk]['peak_rss_mb']:.0f} MB")
            add(f"{label}, {dtype}, {cache} cache", case, variant, res,
                "epoch_s" if case == "mnist" else "fit_s", extra)

    print()
    header = (f"{'case (skmlp compute dtype, compile cache)':<62}{'sklearn s':>10}{'skmlp s':>10}"
              f"{'ratio':>8}{'score':>8}{'sk score':>9}  notes")
    print(header)
    print("-" * len(header))
    for label, theirs, ours, ratio, score, sk_score, extra in rows:
        s = "" if score is None else f"{score:.3f}"
        t = "" if sk_score is None else f"{sk_score:.3f}"
        unit = 1e3 if ours < 0.01 else 1
        fmt = ".3f" if unit == 1 else ".3f"
        theirs_s = f"{theirs * unit:{fmt}}" + ("ms" if unit > 1 else "")
        ours_s = f"{ours * unit:{fmt}}" + ("ms" if unit > 1 else "")
        print(f"{label:<62}{theirs_s:>10}{ours_s:>10}{ratio:>7.2f}x{s:>8}{t:>9}  {extra}")
    if args.csv:
        write_csv(args.csv, rows, tags, update=args.update)
    return rows


CSV_FIELDS = ["case", "dtype", "cache", "label", "sklearn_s", "skmlp_s", "ratio", "score",
              "sklearn_score", "notes", "machine"]


def write_csv(path, rows, tags, update=False):
    """The table as CSV, one row per measurement, with the case and skmlp's settings apart
    (``dtype`` auto is the default: float64 data trains in float64). ``update``: keep the
    file's rows of the cases not measured now, in their place."""
    import csv
    import platform

    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    new = []
    for i, (label, theirs, ours, ratio, score, sk_score, extra) in enumerate(rows):
        case, dtype, cache = tags.get(i, ("", "", ""))
        new.append(dict(zip(CSV_FIELDS, [
            case, dtype, cache, label, f"{theirs:.6g}", f"{ours:.6g}", f"{ratio:.2f}",
            "" if score is None else f"{score:.4f}",
            "" if sk_score is None else f"{sk_score:.4f}", extra, machine])))
    out = new
    if update and os.path.exists(path):
        measured = {r["case"] for r in new}
        out, placed = [], set()
        for old in csv.DictReader(open(path, newline="")):
            if old["case"] not in measured:
                out.append(old)
            elif old["case"] not in placed:
                placed.add(old["case"])
                out += [r for r in new if r["case"] == old["case"]]
        out += [r for r in new if r["case"] not in placed]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(out)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(run_case(*sys.argv[2:5])))
    else:
        main()
