"""Many fits of skmlp MLPs trained as model stacks: the engine under the searches and the
ensembles.

``fit_stacked`` prepares each fit exactly as ``fit`` would (its own RandomState: initial
weights, validation split, shuffles), groups the fits that share a compiled program, cuts the
groups into stacks that fit in memory, and trains each stack as one program: in this process,
or as joblib tasks under the backend the user chose (loky processes on one machine, a Dask
cluster's workers), at least one stack per worker. A task is pure: prepared runs in, NumPy
results out, so a worker that dies can have its tasks rerun elsewhere. In this process, stacks
train in ``LANES`` threads at once (see ``lanes``).
"""

import concurrent.futures
import functools
import os
import threading
import time
import warnings
from collections import defaultdict

import jax
import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from joblib.parallel import get_active_backend

from . import _programs, _training
from ._base import _BaseMLP, shared_validation
from ._data import shared_padding
from ._optax_repr import is_optax
from ._prefitted import Pending

# A stack's host data, parameters and optimizer state stay under this many bytes; a larger
# group is split into several stacks.
STACK_MAX_BYTES = 1 << 30

# Stacks trained at once in this process on a CPU, each driven by a thread of its own. One
# stack's epoch keeps a 2-core CPU about 1.65 cores busy: XLA runs a program's operations one
# after another, and the small ones (a 9 x 5 digits stack's per-model output layer, its
# elementwise updates) use one core. A second program running meanwhile fills the gaps: the 9 x 5
# digits stack cut in two stacks that train on two threads runs its epochs 1.2-1.45x faster than
# the whole stack on one (40 against 50-60 ms; within one program, independent halves
# ran no faster, as XLA's CPU runtime gave them no concurrency).
LANES = 2
# Lanes cut a stack between the members of its groups (each half then holds a copy of all the
# groups' data) only when that copy is at most this large; else between groups, or not at all.
LANE_COPY_MAX_BYTES = 128 * 2**20
# How often the calling thread wakes while lanes train, to run a Ctrl-C's handler.
LANE_POLL_S = 0.01
# Stacks of one program that differ by a group or a member are padded to one shape unless the
# padding's models would do more arithmetic than this; a second program then costs less. A
# program compiles in about a core-second (trace, lowering and XLA), which is this much lanes'
# arithmetic on a 2-core CPU: the 9 x 5 digits grid's halves (5 x 5, 5 x 4; 8 GFLOP of padding)
# searched 0.4 s faster warm at their own shapes and 0.5 s slower cold (one more compile); the
# 9 x 5 grid on 15,000 synthetic rows, (100, 100), 30 epochs (220 GFLOP) 9% faster warm.
PAD_BELOW_FLOPS = 2e10
# Fits whose epoch does at least this much float64 arithmetic (a float32 flop counts half)
# train one by one in the lanes, not in stacks. On this 2-core CPU, two lanes of single fits
# tie with two lanes of stacks warm at the digits grids' 40 MFLOP epochs (the 9 x 5 grid 3.59
# against 3.61 s; the README's 4 x 3 grid 1.04 against 1.04 s, 1.11 s padded to its refit's
# rows: medians of alternating rounds in one process) and win on larger ones (the 9 x 5 grid
# on 15,000 synthetic rows, 1.45 GFLOP epochs: 45.2 against 62.2 s). Cold, a search compiles
# one single-fit program, shared with its refit, in place of a stack's (twice the compile,
# and 0.3-0.5 s of tracing through the double vmap) and the refit's: the README grid 1.64
# against 2.67 s (alternating fresh processes). Smaller epochs stay in stacks, which share the
# host's per-epoch work: digits (32,) (21 MFLOP) searched 1.34x faster in stacks, the 9 x 5
# grid in float32 1.5x.
ALONE_MIN_EPOCH_FLOPS = 3e7


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


def lanes():
    """How many stacks train at once in this process: ``LANES`` on a CPU with that many cores
    for this process, else one (a GPU, one core, or ``OMP_NUM_THREADS=1``: a process asked to
    keep to one thread, as joblib's workers are). The count decides how a search's stacks are
    cut, so it depends on nothing that varies from one run to the next on a machine."""
    if os.environ.get("OMP_NUM_THREADS") == "1":
        return 1
    if getattr(_programs._default_device(), "platform", None) != "cpu":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this platform (macOS, Windows)
        cores = os.cpu_count() or 1
    return max(1, min(LANES, cores))


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


def _epoch_flops(run):
    """A model's arithmetic in one epoch: forward (2) and backward (4) flops per row and
    parameter."""
    n_params = sum(np.size(leaf) for leaf in jax.tree_util.tree_leaves(run.state.params))
    return 6 * run.n_samples * n_params


def _flops(run):
    """A model's training arithmetic, at most (a padding model's in its stack): every epoch
    it may run."""
    return run.rules.max_iter * _epoch_flops(run)


def _alone_in_lanes(chunks):
    """Whether this process's stacks would train faster as single fits in the lanes: on a
    CPU with more than one lane, for fits whose epochs are large enough
    (``ALONE_MIN_EPOCH_FLOPS``, a float32 flop counting half)."""
    return lanes() > 1 and all(
        _epoch_flops(run) * np.dtype(run.dtype).itemsize / 8 >= ALONE_MIN_EPOCH_FLOPS
        for chunk in chunks for _, run in chunk)


def _cost(chunk):
    """A stack's work, roughly: its models' flops, weighted by their width (a float64 flop
    costs two float32 ones)."""
    return sum(_flops(run) * np.dtype(run.dtype).itemsize for _, run in chunk)


def _halves(chunk, copy_limit=None):
    """A stack cut in two stacks that are each still a stack, as evenly as it goes: between
    its data-sharing groups, or between the members of every group (which keeps the groups,
    so each half still shares its data, and each holds a copy of it: only when the stack's data
    are at most ``copy_limit`` bytes, if given); None when neither cut is allowed."""
    groups = _training.share_groups([run for _, run in chunk])
    cuts = []
    if len(groups) > 1:
        cut = len(groups) // 2
        cuts.append(([chunk[i] for g in groups[:cut] for i in g],
                     [chunk[i] for g in groups[cut:] for i in g]))
    run = chunk[0][1]
    copy = len(groups) * _nbytes((run.data, run.val_data))
    if len(groups[0]) > 1 and (copy_limit is None or copy <= copy_limit):
        cut = len(groups[0]) // 2
        cuts.append(([chunk[i] for g in groups for i in g[:cut]],
                     [chunk[i] for g in groups for i in g[cut:]]))
    return min(cuts, key=lambda halves: max(map(_cost, halves))) if cuts else None


def _balance(chunks, n_workers, copy_limit=None):
    """Cut the costliest stacks in two until every worker has one (or nothing is left to cut);
    ``copy_limit`` as for ``_halves``."""
    chunks = list(chunks)
    while len(chunks) < n_workers:
        chunk = max(chunks, key=_cost)
        halves = _halves(chunk, copy_limit) if len(chunk) > 1 else None
        if halves is None:
            break
        chunks.remove(chunk)
        chunks.extend(halves)
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


def _train_chunk(runs, interrupt, shape=None):
    """Train one stack (padded to ``shape``); per run, ``(history, weights)`` or the exception
    its fit raised, and the stack's training seconds."""
    began = time.perf_counter()
    states = _training.train(runs, interrupt, shape)
    outcome = []
    for run, state in zip(runs, states):
        try:
            outcome.append((run.history, run.result(state)))
        except Exception as exc:  # the fit's own error, for scikit-learn's error_score
            outcome.append(exc)
    return outcome, time.perf_counter() - began


def _even_shapes(stacks):
    """Each stack's padded shape ``(G, M)`` for ``_training.train``: stacks of one program whose
    shapes differ by one group or by one member of each group (the halves of an odd count, cut
    by ``_balance``) are padded to the larger, so that they run one compiled program instead
    of two (a 9 x 5 grid's halves are 5 x 5 and 5 x 4, an ensemble of 5's are 3 x 1 and
    2 x 1), unless the padding's models would cost more arithmetic than ``PAD_BELOW_FLOPS``:
    then a second program costs less."""
    shapes = [_training.stack_shape(runs) for runs in stacks]
    programs = defaultdict(list)
    for k, runs in enumerate(stacks):
        programs[runs[0].signature()].append(k)
    for ks in programs.values():
        groups = {shapes[k][0] for k in ks}
        members = {shapes[k][1] for k in ks}
        if ((len(groups) == 1 and max(members) - min(members) == 1)
                or (len(members) == 1 and max(groups) - min(groups) == 1)):
            padded = (max(groups), max(members))
            for k in ks:
                slots = padded[0] * padded[1] - shapes[k][0] * shapes[k][1]
                if slots * max(map(_flops, stacks[k])) < PAD_BELOW_FLOPS:
                    shapes[k] = padded
    return shapes


def _train_in_lanes(stacks, interrupt):
    """``_train_chunk`` of each stack, ``lanes()`` of them at once on threads of their own; in
    order. What one raises (it has no fit to charge it to) is raised here once every stack has
    ended: the others finish their training (a Ctrl-C stops them all at their epoch's end).

    Stacks of one program whose shapes differ a little are padded to one shape by
    ``_even_shapes``, so the smaller stack runs a program compiled already or compiled once
    for both."""
    n_lanes = min(lanes(), len(stacks))
    shapes = _even_shapes(stacks)
    if n_lanes <= 1:
        return [_train_chunk(runs, interrupt, shape) for runs, shape in zip(stacks, shapes)]
    pool = concurrent.futures.ThreadPoolExecutor(n_lanes, thread_name_prefix="skmlp-lane")
    try:
        futures = [pool.submit(_train_chunk, runs, interrupt, shape)
                   for runs, shape in zip(stacks, shapes)]
        # Wait in short slices: Python runs a signal handler in the main thread only between
        # its own steps, and a Ctrl-C that lands on a lane's thread would otherwise wait for
        # every stack to finish before it stopped any.
        while concurrent.futures.wait(futures, timeout=LANE_POLL_S).not_done:
            pass
    except BaseException:  # a second Ctrl-C: the lanes stop at their epoch's end, unwaited
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return [future.result() for future in futures]


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


class RefitAhead(Pending):
    """A search's refit trained on a helper thread while scikit-learn's loop scores the fits
    (on two cores, one runs the loop's Python, the other the refit's program), then handed to
    scikit-learn's own refit ``fit`` through the registry.

    The fit is prepared here, on the calling thread, as ``fit`` prepares it (its validation
    and its warnings); the helper thread only trains it, keeping the trainer's warnings for
    ``take`` to issue. ``take``, on the thread of scikit-learn's refit, waits for the
    training under its own Ctrl-C handling, as ``train_alone`` does, and completes the fit
    there: the estimator ends as its own ``fit`` would leave it, bit for bit. ``cancel`` stops
    the training after its running call (a search that ends without taking it).
    """

    def __init__(self, est, X, y, sample_weight):
        began = time.perf_counter()
        est._validate_params()  # what fit's _fit_context does
        self.est = est
        self.run = est._prepare_run(X, y, sample_weight)
        self.run.deferred_warnings = []
        self.cancelled = self.taken = False
        self.interrupt = None  # take's Ctrl-C handling, once it waits
        self.waited = 0.0
        self._state = self._error = None
        self._thread = threading.Thread(target=self._train, name="skmlp-refit", daemon=True)
        self.seconds = time.perf_counter() - began  # with the training's, once it ends
        self._thread.start()

    @property
    def requested(self):
        """The training's interrupt: cancelled, or a Ctrl-C while ``take`` waits."""
        return self.cancelled or (self.interrupt is not None and self.interrupt.requested)

    def _train(self):
        began = time.perf_counter()
        try:
            (self._state,) = _training.train([self.run], self)
        except BaseException as exc:  # noqa: BLE001 - raised by take, on the taker's thread
            self._error = exc
        self.seconds += time.perf_counter() - began

    def take(self):
        self.taken = True
        began = time.perf_counter()
        with _training.DeferredInterrupt() as interrupt:
            self.interrupt = interrupt
            while self._thread.is_alive():  # in slices: a Ctrl-C's handler runs meanwhile
                self._thread.join(LANE_POLL_S)
        self.waited = time.perf_counter() - began
        run = self.run
        run.issue_deferred_warnings()
        if self._error is not None:
            raise self._error
        self.est._complete_run(run, _training.alone_result(run, self._state,
                                                          interrupt.requested))
        return self.est

    def cancel(self):
        self.cancelled = True
        self._thread.join()


def fit_stacked(fits, n_jobs=None, alone=(), meanwhile=None, rows=None):
    """Train fits ``(estimator, X, y, sample_weight)`` in model stacks, and the fits ``alone``
    (the same shape; fits that don't stack) one by one, in this process or as joblib tasks
    (see ``dispatched_workers``).

    ``meanwhile(runs)``, given the prepared runs of ``fits`` when the stacks train in this
    process (never when they train as tasks elsewhere), returns None or a task that then runs
    on a thread of its own, alongside the stacks, and is waited for before this returns; what
    either raises is ignored. Before that, ``meanwhile([run], cached_only=True)`` runs on a
    helper thread as soon as the first fit is prepared, while the others are: it loads what
    the compile cache holds of what ``meanwhile`` would compile (0.06 s for the 9 x 5 digits
    grid's program, no longer ahead of its lanes).

    ``rows``, ``(n_rows, batch_size)`` or None: fits that train alone in this process's lanes
    (see ``_alone_in_lanes``) on dense data, with that batch size and no validation split, are
    padded to ``n_rows`` rows, so that they run the program a later fit of that many padded
    rows runs (a search's refit), compiled once for all of them.

    Returns, for ``fits`` then ``alone``, the fitted estimator (the one given, now fitted) or
    the exception its fit raised, and the seconds of training charged to it (its stack's time
    over its size).
    """
    alone = list(alone)
    results = [None] * (len(fits) + len(alone))
    seconds = [0.0] * len(results)
    groups = defaultdict(list)
    n_workers = dispatched_workers(n_jobs)
    early = None
    # a fold's candidates validate its data once, and share its padded copies
    with shared_validation(), shared_padding():
        for i, (est, X, y, sample_weight) in enumerate(fits):
            try:
                est._validate_params()  # what fit's _fit_context does
                run = est._prepare_run(X, y, sample_weight)
            except Exception as exc:  # scikit-learn's loop would meet the same error
                results[i] = exc
                continue
            groups[run.signature()].append((i, run))
            if early is None and meanwhile is not None and n_workers <= 1:
                early = threading.Thread(
                    target=_quietly, args=(functools.partial(meanwhile, cached_only=True), [run]),
                    name="skmlp-meanwhile", daemon=True)
                early.start()
        members = [member for program in groups.values() for member in program]
        alone_in_lanes = n_workers <= 1 and bool(members) and _alone_in_lanes([members])
        if alone_in_lanes and rows is not None:
            for _, run in members:
                if run.val_data is None and run.spec.batch_size == rows[1]:
                    run.pad_rows(rows[0])
    if alone_in_lanes:
        # single fits, the longest first (no stacks: their data-sharing groups, a hash of
        # every fit's data, are never looked for)
        chunks = sorted(([member] for member in members), key=_cost, reverse=True)
    else:
        chunks = [chunk for program in groups.values() for chunk in _chunks(program)]
        if n_workers > 1 and chunks:  # a stack for every worker the fits alone leave free
            chunks = _balance(chunks, max(1, n_workers - len(alone)))
        elif chunks:  # a stack for every lane of this process
            chunks = _balance(chunks, lanes(), LANE_COPY_MAX_BYTES)
    for chunk in chunks:
        _share_data(chunk)

    if early is not None:
        early.join()
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
            outcomes = _train_in_lanes([[run for _, run in chunk] for chunk in chunks],
                                       interrupt)
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
