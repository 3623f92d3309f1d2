"""Many fits of skmlp MLPs trained as model stacks: the engine under the searches and the
ensembles.

``fit_stacked`` prepares each fit exactly as ``fit`` would (its own RandomState: initial
weights, validation split, shuffles), groups the fits that share a compiled program, cuts the
groups into stacks that fit in memory, and trains each stack as one program: in this process,
or as joblib tasks under the backend the user chose (loky processes on one machine, a Dask
cluster's workers), at least one stack per worker. A task is pure: prepared runs in, NumPy
results out, so a worker that dies can have its tasks rerun elsewhere.
"""

import os
import threading
import time
import warnings
from collections import defaultdict

import jax
from joblib import Parallel, delayed, effective_n_jobs
from joblib.parallel import get_active_backend

from . import _training
from ._base import _BaseMLP
from ._optax_repr import is_optax

# A stack's host data, parameters and optimizer state stay under this many bytes; a larger
# group is split into several stacks.
STACK_MAX_BYTES = 1 << 30


def stackable(est):
    """Whether an estimator's fit can train in a model stack."""
    return (isinstance(est, _BaseMLP) and est._is_stochastic()
            and not is_optax(est.solver)
            and not est.callbacks and not getattr(est, "_skl_callbacks", None)
            and not est.warm_start)


def dispatched_workers(n_jobs):
    """How many joblib workers training is sent to: 1 (train in this process) for ``n_jobs``
    None or 1 and for the threading and sequential backends, else the active backend's
    effective number of jobs (loky processes, a Dask cluster's workers)."""
    backend, _ = get_active_backend()
    if type(backend).__name__ in ("ThreadingBackend", "SequentialBackend"):
        return 1
    return max(1, effective_n_jobs(n_jobs))


def _nbytes(tree):
    return sum(getattr(x, "nbytes", 0) for x in jax.tree_util.tree_leaves(tree))


def _chunks(members):
    """A program's runs ``(index, run)`` split into stacks of at most ``STACK_MAX_BYTES``.

    Runs that see the same rows in the same order (the candidates of one CV fold) share one
    copy of the data in a stack, so stacks are cut on those groups' boundaries and cost their
    groups' data plus each model's state: parameters, gradients and two optimizer moments, and
    a second copy of the parameters and moments (an epoch's input state is kept while it
    runs, to train from again should the epoch dispatched ahead of the host be dropped).
    Groups of unequal sizes train as independent models, each with its own copy of the data.
    """
    groups = [[members[i] for i in g]
              for g in _training.share_groups([run for _, run in members])]
    run = members[0][1]
    data = _nbytes((run.data, run.val_data))
    state = 7 * _nbytes(run.state.params)
    per_group = max(1, (STACK_MAX_BYTES - data) // max(state, 1))  # members a stack can hold
    pieces = [g[start:start + per_group] for g in groups
              for start in range(0, len(g), per_group)]
    chunks, current, used = [], [], 0
    for piece in pieces:
        cost = data + state * len(piece)
        if current and (used + cost > STACK_MAX_BYTES or len(piece) != len(current[0])):
            chunks.append(current)
            current, used = [], 0
        current.append(piece)
        used += cost
    chunks.append(current)
    return [[m for piece in chunk for m in piece] for chunk in chunks]


def _cost(chunk):
    """A stack's work, roughly: models x epochs x rows x parameters."""
    return sum(run.rules.max_iter * run.n_samples * _nbytes(run.state.params)
               for _, run in chunk)


def _halves(chunk):
    """A stack cut in two stacks that are each still a stack, as evenly as it goes: between
    its data-sharing groups, or between the members of every group (which keeps the groups,
    so each half still shares its data)."""
    groups = _training.share_groups([run for _, run in chunk])
    cuts = []
    if len(groups) > 1:
        cut = len(groups) // 2
        cuts.append(([chunk[i] for g in groups[:cut] for i in g],
                     [chunk[i] for g in groups[cut:] for i in g]))
    if len(groups[0]) > 1:
        cut = len(groups[0]) // 2
        cuts.append(([chunk[i] for g in groups for i in g[:cut]],
                     [chunk[i] for g in groups for i in g[cut:]]))
    return min(cuts, key=lambda halves: max(map(_cost, halves)))


def _balance(chunks, n_workers):
    """Cut the costliest stacks in two until every worker has one (or nothing is left to cut)."""
    chunks = list(chunks)
    while len(chunks) < n_workers:
        chunk = max(chunks, key=_cost)
        if len(chunk) < 2:
            break
        chunks.remove(chunk)
        chunks.extend(_halves(chunk))
    return sorted(chunks, key=_cost, reverse=True)  # the longest tasks first


def _share_data(chunk):
    """Runs that see the same rows hold one copy of them (sent once with a task)."""
    for group in _training.share_groups([run for _, run in chunk]):
        first = chunk[group[0]][1]
        for i in group[1:]:
            chunk[i][1].data, chunk[i][1].val_data = first.data, first.val_data


def _quietly(task, *args):
    """Run a helper thread's task; its failure changes nothing (the work is done again where
    it is needed, and fails there if it must)."""
    try:
        return task(*args)
    except Exception:  # noqa: BLE001 - see above
        return None


def _train_chunk(runs, interrupt):
    """Train one stack; per run, ``(history, weights)`` or the exception its fit raised, and
    the stack's training seconds."""
    began = time.perf_counter()
    states = _training.train(runs, interrupt)
    outcome = []
    for run, state in zip(runs, states):
        try:
            outcome.append((run.history, run.result(state)))
        except Exception as exc:  # the fit's own error, for scikit-learn's error_score
            outcome.append(exc)
    return outcome, time.perf_counter() - began


def _backend_started():
    """Whether JAX's backends exist in this process already (XLA has read its flags)."""
    try:
        from jax._src import xla_bridge

        return bool(xla_bridge._backends)
    except Exception:  # another JAX layout: assume started, change nothing
        return True


def _limit_threads():
    """In a worker given one core by joblib (loky sets OMP_NUM_THREADS=1 there, as it does
    for BLAS), XLA's matrix products run single-threaded, so workers don't oversubscribe the
    machine. Only before the process's first JAX computation: a running backend is left as it
    is (and the flag must never change under one)."""
    if os.environ.get("OMP_NUM_THREADS") != "1" or _backend_started():
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()


def _train_chunk_task(runs):
    """A joblib task: one stack trained in a worker."""
    _limit_threads()
    with _training.DeferredInterrupt() as interrupt:
        return _train_chunk(runs, interrupt)


def _fit_alone(est, X, y, sample_weight):
    """One fit that doesn't stack: the fitted estimator or its error, and its seconds."""
    began = time.perf_counter()
    try:
        est.fit(X, y, sample_weight=sample_weight)
    except Exception as exc:  # the fit's own error, for scikit-learn's error_score
        return exc, time.perf_counter() - began
    return est, time.perf_counter() - began


def _fit_task(est, X, y, sample_weight):
    """A joblib task: one fit that doesn't stack, trained in a worker."""
    _limit_threads()
    return _fit_alone(est, X, y, sample_weight)


def fit_stacked(fits, n_jobs=None, alone=(), meanwhile=None):
    """Train fits ``(estimator, X, y, sample_weight)`` in model stacks, and the fits ``alone``
    (the same shape; fits that don't stack) one by one, in this process or as joblib tasks
    (see ``dispatched_workers``).

    ``meanwhile(runs)``, given the prepared runs of ``fits`` when the stacks train in this
    process (never when they train as tasks elsewhere), returns None or a task that then runs
    on a thread of its own, alongside the stacks, and is waited for before this returns; what
    either raises is ignored.

    Returns, for ``fits`` then ``alone``, the fitted estimator (the one given, now fitted) or
    the exception its fit raised, and the seconds of training charged to it (its stack's time
    over its size).
    """
    alone = list(alone)
    results = [None] * (len(fits) + len(alone))
    seconds = [0.0] * len(results)
    groups = defaultdict(list)
    for i, (est, X, y, sample_weight) in enumerate(fits):
        try:
            est._validate_params()  # what fit's _fit_context does
            run = est._prepare_run(X, y, sample_weight)
        except Exception as exc:  # scikit-learn's loop would meet the same error
            results[i] = exc
            continue
        groups[run.signature()].append((i, run))
    chunks = [chunk for members in groups.values() for chunk in _chunks(members)]
    n_workers = dispatched_workers(n_jobs)
    if n_workers > 1 and chunks:  # a stack for every worker the fits alone leave free
        chunks = _balance(chunks, max(1, n_workers - len(alone)))
    for chunk in chunks:
        _share_data(chunk)

    helper = None
    if meanwhile is not None and n_workers <= 1 and chunks:
        task = _quietly(meanwhile, [run for chunk in chunks for _, run in chunk])
        if task is not None:
            helper = threading.Thread(target=_quietly, args=(task,), name="skmlp-meanwhile",
                                      daemon=True)
            helper.start()
    with _training.DeferredInterrupt() as interrupt:
        if n_workers > 1:
            tasks = [delayed(_train_chunk_task)([run for _, run in chunk]) for chunk in chunks]
            tasks += [delayed(_fit_task)(*fit) for fit in alone]
            outcomes = Parallel(n_jobs=n_jobs)(tasks)
        else:
            outcomes = [_train_chunk([run for _, run in chunk], interrupt) for chunk in chunks]
            outcomes += [_fit_alone(*fit) for fit in alone]
        if helper is not None:
            helper.join()
    for chunk, (outcome, elapsed) in zip(chunks, outcomes):
        for (i, run), result in zip(chunk, outcome):
            seconds[i] = elapsed / len(chunk)
            if isinstance(result, BaseException):
                results[i] = result
                continue
            run.history, weights = result
            try:
                fits[i][0]._complete_run(run, weights)
                results[i] = fits[i][0]
            except Exception as exc:
                results[i] = exc
    for k, (result, elapsed) in enumerate(outcomes[len(chunks):]):
        results[len(fits) + k], seconds[len(fits) + k] = result, elapsed
    if interrupt.requested:
        warnings.warn("Training interrupted by user: every model stack stopped at its current "
                      "epoch, and the truncated models are used as they are. Press Ctrl-C "
                      "again to stop at once.")
    return results, seconds
