"""Where a search's compiled epoch spends its time: ``python asv_bench/profile_epoch.py``.

The performance page's bounds come from this script. It runs a search briefly to capture
the compiled epoch of its first model stack (with that stack's inputs, as the trainer passes
them) and of a single fit on one fold's data. Then it reports:

- **model-epoch times**: the stack's epoch, and a single fit's epoch, over the number of models
  each trains, alone and on two threads at once (the search's two lanes);
- with ``--ops N``, the N costliest operations of one minibatch step of each epoch, from
  a profile of XLA's CPU runtime (``jax.profiler``; its Perfetto trace is parsed here), with
  the share that matrix products take.

Cases: ``grid`` (the stacked 9x5 digits grid of compare.py: (64,), 9 candidates x 5 folds) and
``demo_grid`` (the README's 4x3 grid: (100,), 4 candidates x 3 folds). Times alternate between
the arrangements within each round, and the medians over rounds are printed, as this project's
machines are shared and their speed drifts within minutes.
"""

import argparse
import collections
import glob
import gzip
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import warnings

BATCH_SIZE = 200  # both cases' (scikit-learn's default: min(200, n_samples))
CASES = {  # hidden layers, grid, folds, demo split (the README's 75% training rows)
    "grid": ((64,), {"alpha": [1e-5, 1e-3, 1e-1], "learning_rate_init": [1e-3, 3e-3, 1e-2]},
             5, False),
    "demo_grid": ((100,), {"alpha": [1e-4, 1e-2], "learning_rate_init": [1e-3, 1e-2]}, 3, True),
}


def capture(case):
    """The first model stack's compiled epoch and one fold's single-fit epoch, each as
    ``(models, call, inputs)``."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedKFold, train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skmlp import MLPClassifier, _stacking, _training
    from skmlp.model_selection import GridSearchCV

    sizes, grid, folds, demo = CASES[case]
    X, y = load_digits(return_X_y=True)
    if demo:
        X, _, y, _ = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    captured = []
    original = _training._Stack._executable

    def keep(stack, state, data, orders, hp, active, val_data):
        call, program = original(stack, state, data, orders, hp, active, val_data)
        # the trainer changes orders and active in place: every model trains in the copies
        captured.append((stack.single, int(active.size), call,
                         (state, data, orders.copy(), hp, np.ones_like(active), val_data)))
        return call, program

    _training._Stack._executable = keep
    # the search's fits as a stack, even where they would train alone (see fit_stacked)
    alone_min, _stacking.ALONE_MIN_EPOCH_FLOPS = _stacking.ALONE_MIN_EPOCH_FLOPS, float("inf")
    try:
        est = MLPClassifier(hidden_layer_sizes=sizes, max_iter=2, random_state=0, tol=0.0)
        GridSearchCV(make_pipeline(StandardScaler(), est),
                     {f"mlpclassifier__{k}": v for k, v in grid.items()}, cv=folds).fit(X, y)
        train, _ = next(StratifiedKFold(folds).split(X, y))
        MLPClassifier(hidden_layer_sizes=sizes, max_iter=2, random_state=0, tol=0.0).fit(
            StandardScaler().fit_transform(X[train]), y[train])
    finally:
        _training._Stack._executable = original
        _stacking.ALONE_MIN_EPOCH_FLOPS = alone_min
    stack = next(c for c in captured if not c[0])
    single = [c for c in captured if c[0]][-1]
    return stack[1:], single[1:]


def run_epochs(entry, epochs):
    import jax

    _, call, inputs = entry
    state = inputs[0]
    for _ in range(epochs):  # one epoch a call, a single fit's too (its fits chunk epochs)
        state, _ = call(state, *inputs[1:], 1)
    jax.block_until_ready(state)


def per_model_epoch(entry, epochs, threads):
    """Seconds per model-epoch, with ``threads`` copies of the epochs running at once."""
    workers = [threading.Thread(target=run_epochs, args=(entry, epochs))
               for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return (time.perf_counter() - start) / (epochs * threads * entry[0])


def op_profile(label, entry, epochs, top):
    """The costliest operations of one minibatch step of ``label``'s epoch, from a profile of
    ``epochs`` epochs."""
    import jax

    _, _, inputs = entry
    steps_per_epoch = inputs[2].shape[-1] // BATCH_SIZE  # the row order's length over a batch
    with tempfile.TemporaryDirectory() as where:
        with jax.profiler.trace(where, create_perfetto_trace=True):
            run_epochs(entry, epochs)
        path = glob.glob(os.path.join(where, "**", "perfetto_trace.json.gz"), recursive=True)[0]
        with gzip.open(path) as f:
            trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    enclosing = ("ThunkExecutor", "$", "PjitFunction", "Threadpool", "while", "cond",
                 "Slinky", "Transpose::", "CommonPjRt")
    total = collections.Counter()
    for e in events:
        if e.get("ph") == "X" and not e["name"].startswith(enclosing):
            total[e["name"]] += e["dur"]
    steps = epochs * steps_per_epoch
    step_us = sum(total.values()) / steps
    dots = sum(t for name, t in total.items() if name.startswith(("ynn_fusion", "dot"))) / steps
    print(f"  one step of the {label}'s epoch: {step_us / 1e3:.2f} ms of operations, "
          f"{100 * dots / step_us:.0f}% of it in matrix products")
    for name, t in total.most_common(top):
        print(f"  {t / steps:9.1f} us  {100 * t / steps / step_us:4.1f}%  {name}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), default="grid")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5, help="stack epochs per timing")
    parser.add_argument("--ops", type=int, default=0, metavar="N",
                        help="also print the N costliest operations of a step")
    args = parser.parse_args(argv)
    if args.ops:  # read when XLA's CPU backend starts: before this process's first computation
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + " --xla_cpu_enable_xprof_traceme=true").strip()
    warnings.simplefilter("ignore")
    import numpy as np

    from skmlp import _training

    stack, single = capture(args.case)
    print(f"{args.case}: a stack of {stack[0]} models "
          f"(shape {stack[2][4].shape}), and a single fit on one fold")
    with _training.precision(np.float64):
        for entry, epochs in ((stack, 1), (single, 3)):
            run_epochs(entry, epochs)  # first calls: warm up, untimed
        rows = collections.defaultdict(list)
        single_epochs = args.epochs * stack[0]
        for r in range(args.rounds):
            order = [("stack", stack, args.epochs), ("single fit", single, single_epochs)]
            for name, entry, epochs in (order if r % 2 == 0 else order[::-1]):
                for threads in (1, 2):
                    rows[name, threads].append(per_model_epoch(entry, epochs, threads))
        for (name, threads), times in rows.items():
            print(f"  {name:10s} on {threads} thread(s): "
                  f"{1e3 * statistics.median(times):.2f} ms per model-epoch "
                  f"(median of {len(times)})")
        if args.ops:
            op_profile("stack", stack, args.epochs, args.ops)
            op_profile("single fit", single, single_epochs, args.ops)


if __name__ == "__main__":
    sys.exit(main())
