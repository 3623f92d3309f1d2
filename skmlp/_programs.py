"""The compiled programs skmlp runs, defined once at module level.

Static arguments are hashable descriptions of code and shapes (``TrainSpec``); every number a
user tunes is an array argument, so one compiled program per architecture serves every
learning rate, alpha, momentum and fold of a grid search. Each executable is looked up in this
process, then in the per-machine compile cache, and compiled only when both miss.
"""

import collections
import concurrent.futures
import contextlib
import contextvars
import functools
import gc
import inspect
import os
import re
import sys
import threading
import time

import jax
import numpy as np

from . import _compile_cache
from ._core import train


_REPORT = contextvars.ContextVar("skmlp_report_compiles", default=False)


@contextlib.contextmanager
def fitting(verbose=False, written=True):
    """The context of a fit's work with programs. With ``verbose``, say on stdout when a
    program is compiled or loaded from the compile cache, and how long it took (a verbose fit's
    first epoch is otherwise silent). With ``written``, the programs compiled meanwhile are on
    disk on exit: they are written on helper threads (``_compile_cache.store_soon``). A fit's
    preparation leaves them to its training, which ends the fit: a search prepares its fits
    while its refit's program compiles on another thread."""
    token = _REPORT.set(bool(verbose))
    try:
        yield
    finally:
        _REPORT.reset(token)
        if written:
            _compile_cache.wait_for_stores()


_GC_LOCK = threading.Lock()
# Both read and written under _GC_LOCK: the pauses in progress (one per thread tracing a
# program), and whether the collector was on when the first of them began.
_gc_pauses = 0
_gc_resume = False


@contextlib.contextmanager
def _gc_paused():
    """Hold Python's cyclic garbage collector off while a program is traced and lowered.

    A trace allocates hundreds of thousands of short-lived objects. Those alive at a young
    collection are promoted, and enough of them trip the collector's rule for a full
    collection, which walks every object the process holds: after importing scikit-learn and
    JAX about 200,000, 0.1-0.27 s on this project's 2-core machines. One landed inside a cold
    fit's trace; pausing the collector for the trace avoids it (the trace's garbage is
    reference-counted away, and what is left is collected young once the collector runs again):
    the cold digits fit 1.19 -> 1.11 s and the cold README grid 2.85 -> 2.61 s (medians of 5
    alternating fresh processes). The pause is counted across threads (the collector is
    switched process-wide), and a collector the user had switched off stays off.
    """
    global _gc_pauses, _gc_resume
    with _GC_LOCK:
        if _gc_pauses == 0:
            _gc_resume = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_resume:
                gc.enable()


def _default_device():
    device = jax.config.jax_default_device
    if isinstance(device, str):  # a platform name such as 'cpu'
        return jax.devices(device)[0]
    return device if device is not None else jax.devices()[0]


def _aval(x):
    if hasattr(x, "dtype"):  # NumPy and JAX arrays: the cheap, common case
        return (x.shape, x.dtype, getattr(x, "weak_type", False))
    return (np.shape(x), np.result_type(x), True)  # a Python scalar is weakly typed


class Program:
    """A jitted function; the single place where skmlp's programs are compiled.

    ``trace_count`` counts traces (each is a compile unless the compile cache serves it), so
    tests can assert that a new learning rate, alpha or fold size compiles nothing. Executables
    are kept in a least-recently-used table of ``max_executables`` entries, so a process that
    fits many architectures (or many distinct optax objects) holds a bounded number of them.
    Each executable is lowered through a jit of its own, so that JAX's caches, keyed on the
    jitted function, free it (and a user's optax object, a static argument of ~5 MB) when the
    table drops it; one shared jit kept every executable alive, and a long session's memory
    and code mappings grew with each architecture until the kernel's map limit crashed it.
    """

    max_executables = 32

    def __init__(self, fun, static_argnames=(), donate_argnames=(), cpu_dense_options=None,
                 cpu_small_step_options=None):
        self.name = fun.__name__
        self.static_argnames = tuple(static_argnames)
        self.donate_argnames = tuple(donate_argnames)
        # XLA options for dense data of one floating-point type, by that type; and the ones
        # that replace them where a minibatch step's arrays are small (``_small_steps``)
        self.cpu_dense_options = {np.dtype(k): dict(v)
                                  for k, v in (cpu_dense_options or {}).items()}
        self.cpu_small_step_options = {np.dtype(k): dict(v)
                                       for k, v in (cpu_small_step_options or {}).items()}
        self.trace_count = 0
        self._fun = fun
        self._signature = inspect.signature(fun)
        self._executables = collections.OrderedDict()
        # Programs being compiled, by key: a thread that needs one waits for it instead of
        # compiling it again (a search compiles its refit's program while its stacks train).
        self._pending = {}
        self._lock = threading.Lock()

    def _make_jit(self):
        @functools.wraps(self._fun)
        def traced(*args, **kwargs):
            self.trace_count += 1  # runs only while tracing, never in the compiled program
            return self._fun(*args, **kwargs)

        return jax.jit(traced, static_argnames=self.static_argnames,
                       donate_argnames=self.donate_argnames)

    def clear(self):
        """Forget every executable held in this process."""
        self._executables.clear()

    def __call__(self, *args, **kwargs):
        executable, dynamic = self._resolve(args, kwargs)
        return executable(**dynamic)

    def executable(self, *args, **kwargs):
        """The compiled function for arguments shaped like these, to call with the dynamic
        (non-static) arguments by keyword. A training loop resolves it once per fit instead of
        hashing the argument signature every epoch."""
        return self._resolve(args, kwargs)[0]

    def lower_ahead(self, *args, cached_only=False, **kwargs):
        """Trace and lower the program for arguments shaped like these now, and return what
        compiles it (to call on another thread; a thread that needs the program meanwhile waits
        for that compile), or None when the program is held already or loads from the compile
        cache (it is then held). With ``cached_only``, only that load: None either way."""
        key, dynamic, static = self._key(args, kwargs)
        with self._lock:
            if key in self._executables or key in self._pending:
                return None
        compiled = self._load(key, dynamic, static)
        if compiled is not None:
            self._hold(key, compiled)
            return None
        if cached_only:
            return None
        lowered = self._lower(key, dynamic, static)

        def compile_now():
            with self._lock:
                if key in self._executables or key in self._pending:
                    return  # compiled meanwhile by a thread that could not wait for this one
                pending = self._pending[key] = concurrent.futures.Future()
            self._settle(key, pending, lambda: self._compile(key, dynamic, static, lowered))

        return compile_now

    def _key(self, args, kwargs):
        bound = self._signature.bind(*args, **kwargs)
        static = {k: v for k, v in bound.arguments.items() if k in self.static_argnames}
        dynamic = {k: v for k, v in bound.arguments.items() if k not in self.static_argnames}
        leaves, treedef = jax.tree_util.tree_flatten(dynamic)
        avals = tuple(map(_aval, leaves))
        signature = (tuple(sorted(static.items())), treedef, avals,
                     bool(jax.config.jax_enable_x64))
        return (signature, _default_device()), dynamic, static

    def _resolve(self, args, kwargs):
        key, dynamic, static = self._key(args, kwargs)
        with self._lock:
            compiled = self._executables.get(key)
            if compiled is not None:
                self._executables.move_to_end(key)
                return compiled, dynamic
            pending = self._pending.get(key)
            mine = pending is None
            if mine:
                pending = self._pending[key] = concurrent.futures.Future()
        if not mine:  # another thread compiles this very program: wait for it
            try:
                return pending.result(), dynamic
            except Exception:  # noqa: BLE001 - its failure is ours to meet: try it here
                return self._resolve(args, kwargs)
        return self._settle(key, pending,
                            lambda: self._load_or_compile(key, dynamic, static)), dynamic

    def _settle(self, key, pending, make):
        """Make the executable a pending key waits for; hold it, and wake the waiters."""
        try:
            compiled = make()
        except BaseException as exc:
            with self._lock:
                del self._pending[key]
            pending.set_exception(exc)
            raise
        with self._lock:
            del self._pending[key]
        self._hold(key, compiled)
        pending.set_result(compiled)
        return compiled

    def _hold(self, key, compiled):
        with self._lock:
            self._executables[key] = compiled
            self._executables.move_to_end(key)
            while len(self._executables) > self.max_executables:
                self._executables.popitem(last=False)

    @staticmethod
    def _on_disk(static):
        # A user's optax object without a structural fingerprint has no identity that another
        # process could recognise: it is compiled in memory only.
        return _compile_cache.compile_cache_enabled() and all(
            getattr(getattr(v, "optimizer", None), "fingerprint", "") is not None
            for v in static.values())

    def _load(self, key, dynamic, static):
        """The executable from the compile cache, or None."""
        if not self._on_disk(static):
            return None
        start = time.perf_counter()
        compiled = _compile_cache.load(_compile_cache.entry_key(self.name, *key))
        if compiled is not None and not _accepts(compiled, dynamic):
            compiled = None  # a valid program for other arguments: rebuilt, never fatal
        if compiled is not None and _REPORT.get():
            print(f"Loaded the compiled program {self.name} from the compile cache in "
                  f"{time.perf_counter() - start:.2f} s")
        return compiled

    def _lower(self, key, dynamic, static):
        if _REPORT.get():
            device = key[1]
            print(f"Compiling {self.name} for this architecture and device "
                  f"({getattr(device, 'platform', device)})...", end="", flush=True)
        with _gc_paused():
            return self._make_jit().lower(**dynamic, **static)

    def _compile(self, key, dynamic, static, lowered, start=None):
        start = time.perf_counter() if start is None else start
        options = self._compiler_options(key[1], dynamic, static)
        while True:
            try:
                compiled = lowered.compile(options) if options else lowered.compile()
                break
            except jax.errors.JaxRuntimeError as exc:
                # an XLA that does not know an option (older or newer than skmlp's): the
                # program compiles with the others, and XLA's default for that one
                unknown = re.search(r"compile option: '([^']+)'", str(exc))
                if not options or unknown is None or unknown.group(1) not in options:
                    raise
                options = {k: v for k, v in options.items() if k != unknown.group(1)}
        use_disk = self._on_disk(static)
        if _REPORT.get():
            where = (f"; cached in {_compile_cache.compile_cache_dir()}" if use_disk
                     else "; not cached on disk")
            print(f" done in {time.perf_counter() - start:.2f} s{where}")
            sys.stdout.flush()
        if use_disk:
            _compile_cache.store_soon(_compile_cache.entry_key(self.name, *key), compiled)
        return compiled

    def _load_or_compile(self, key, dynamic, static):
        start = time.perf_counter()
        compiled = self._load(key, dynamic, static)
        if compiled is None:
            compiled = self._compile(key, dynamic, static, self._lower(key, dynamic, static),
                                     start)
        return compiled

    def _compiler_options(self, device, dynamic, static=None):
        """XLA options for this compile on a CPU: ``_CPU_OPTIONS``, and ``cpu_dense_options``'
        entry for the program's data type when its data are dense arrays of that one type
        (``cpu_small_step_options``' where its minibatch steps are small). None (XLA's
        defaults) on other devices."""
        if getattr(device, "platform", None) != "cpu":
            return None
        dtypes = {np.dtype(getattr(x, "dtype", object))
                  for x in jax.tree_util.tree_leaves(dynamic.get("data"))}
        dtype = dtypes.pop() if len(dtypes) == 1 else None
        dense = self.cpu_dense_options.get(dtype, {})
        if dtype in self.cpu_small_step_options and _small_steps(dynamic, static):
            dense = self.cpu_small_step_options[dtype]
        return {**_CPU_OPTIONS, **dense}


# A minibatch step is small when its widest array (the batch's rows times the widest of the
# input and the layers) holds at most this many numbers: the digits (100,) network's 200 x 100.
SMALL_STEP_NUMBERS = 2**15


def _small_steps(dynamic, static):
    """Whether a training program's minibatch steps are small (``SMALL_STEP_NUMBERS``)."""
    spec = (static or {}).get("spec")
    state, data = dynamic.get("state"), dynamic.get("data")
    if spec is None or state is None or not data:
        return False
    widths = [np.shape(data[0])[-1]] + [np.shape(w)[-1] for w in state.params["coefs"]]
    return spec.batch_size * max(widths) <= SMALL_STEP_NUMBERS


def _accepts(compiled, dynamic):
    """Whether an executable's input signature is that of these (keyword) arguments."""
    leaves, treedef = jax.tree_util.tree_flatten(((), dynamic))
    if compiled.in_tree != treedef:
        return False
    infos = jax.tree_util.tree_leaves(compiled.args_info)
    return len(infos) == len(leaves) and all(
        tuple(info.shape) == tuple(np.shape(x))
        and info.dtype == (x.dtype if hasattr(x, "dtype") else np.result_type(x))
        for info, x in zip(infos, leaves))


def train_epoch_stack(state, data, order, hparams, active, spec, val_data=None, n_steps=None):
    """One epoch of G x M models of one architecture: ``train.train_epoch`` vmapped twice.

    The outer axis (G) runs over groups with their own data and row order; the inner axis (M)
    over the members of a group, which share both (candidates of one CV fold with one
    ``random_state`` draw the same shuffles). ``state``, ``hparams`` and ``active`` are
    (G, M, ...); ``data``, ``order`` and ``val_data`` are (G, ...). Sharing makes a step's
    gather one per group and its first layer one wide matrix product instead of M small ones.
    A model whose ``active`` entry is False keeps its state (it has stopped; removing it would
    change shapes and recompile). ``n_steps`` (when every group has that many minibatches of
    real rows) lets the members skip padding minibatches outright (see ``train_epoch``).
    """

    def group(state, data, order, hparams, val_data):
        def member(state, hparams):
            return train.train_epoch(state, data, order, hparams, spec, val_data, n_steps)

        return jax.vmap(member)(state, hparams)

    new_state, metrics = jax.vmap(group)(state, data, order, hparams, val_data)

    # A stopped model keeps its state, and so does a model whose epoch diverged (NaN loss).
    with train.inlined():
        keep = active & jax.numpy.isfinite(metrics["loss"])

        def keep_stopped(new, old):
            return jax.numpy.where(keep.reshape(keep.shape + (1,) * (new.ndim - 2)), new, old)

        return jax.tree_util.tree_map(keep_stopped, new_state, state), metrics


# No program's state is donated: the host keeps the state it passes in, a single fit's to go
# back to when the epoch diverges, a stack's to train from again when the epoch dispatched
# ahead of it is dropped (see ``_training._Stack``; a stack's program keeps each diverged or
# stopped model's state itself).
#
# On a CPU, every program compiles with LLVM's lighter optimisation level: 10% less compile
# time (0.28 -> 0.24 s for the digits epoch, 0.57 -> 0.53 s for a 9 x 5 stack), the same run
# time and bit-identical weights (XLA allows no floating-point reassociation either way).
#
# LLVM compiles a program's kernels in parts, one per task of a pool with a thread per core.
# XLA cuts every program into 32 parts, and each part costs its own set-up; with four parts
# per core (8 on 2 cores) the digits epoch compiled in 0.60 s against 0.66 s (medians of 16
# alternating compiles in one process), with the same code: a cold digits fit took 1.46 s
# against 1.57 s (medians of ten alternating fresh processes) and the cold README grid 3.43 s
# against 3.61 s (six, each faster; this project's 2-core machine in its slow phase).
def _codegen_parts():
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(32, 4 * (cores or 8))


_CPU_OPTIONS = {"xla_backend_optimization_level": 1,
                "xla_cpu_parallel_codegen_split_count": _codegen_parts()}
# A dense float64 epoch on a CPU compiles 30% faster and runs 10-20% faster with two XLA
# options (measured on the digits (100,) network, 2 cores): XLA's older loop emitters, which
# compile faster and run as fast on these small fusions, and YNNPACK for matrix products only
# (its reductions, 20 us for a 200x100 column sum, are slower than XLA's own loops). A stack
# gains as much on the README's 4 x 3 grid (cold 1.61 -> 1.41 s, warm 0.87 -> 0.83 s) and runs
# as fast on the 9 x 5 one. The reductions' summation order changes the weights in the last
# bit (1e-16), and runs stay bit-identical to each other.
_CPU_FLOAT64_OPTIONS = {
    "xla_cpu_use_fusion_emitters": False,
    "xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT",
}
# A single fit's dense float32 epochs take the older loop emitters alone: XLA's newer ones
# compiled the digits epoch in 1.45 s against 0.95 s (a cold float32 digits fit: 2.08 s against
# 1.59 s, medians of six alternating fresh processes) and ran it 0-6% faster in-process (four
# runs); they ran the 15000 x 100 (100, 100) and MNIST (500, 500) epochs within 3% either way,
# and the whole warm digits fit within noise. YNNPACK's matrix products, which float64 also
# takes, made no float32 epoch faster (MNIST's 4% slower). A float32 stack keeps XLA's defaults:
# the older emitters ran its 9 x 5 digits epochs 9% slower (one in-process alternating run), and
# with YNNPACK's products as well the warm float32 9 x 5 search was no faster (3.17 s against
# 3.30 s, medians of seven alternating processes, lanes 2.64 s against 2.68 s). Sparse epochs
# keep XLA's defaults too: the older emitters compiled the MovieLens-shaped one-hot epoch in
# 0.9 s against 1.7 s, but ran it 40% slower.
_CPU_FLOAT32_OPTIONS = {"xla_cpu_use_fusion_emitters": False}
# A single fit's float64 epochs also keep XLA's reductions whole: its CPU compiler splits each
# sum of over 32 numbers into partial sums of 32 (``tree_reduction_rewriter``, for float32's
# accuracy), two kernels that fuse with nothing, each compiled by LLVM on its own. The digits
# epoch had nine such sums (the penalty, the batch loss, the divergence check): without the
# split it compiles in 0.59 s against 0.72 s and a cold digits fit takes 1.53 s against 1.63 s
# (medians of eight alternating fresh processes, this project's 2-core machine in its slow
# phase), the epochs run as fast and the weights are bit-identical (the losses reported differ
# in the last bit). A float64 stack keeps the split: without it, a 5 x 5 digits (32,) stack
# compiled in 0.91 s against 0.84 s (medians of six alternating compiles in one process) and
# ran its epochs as fast. Float32 keeps it for the accuracy of its long sums (a validation
# set's loss).
_FIT_PASSES_OFF = "tree_reduction_rewriter"
_CPU_FLOAT64_FIT_OPTIONS = {**_CPU_FLOAT64_OPTIONS, "xla_disable_hlo_passes": _FIT_PASSES_OFF}
# Nor are a single fit's small float64 steps (``SMALL_STEP_NUMBERS``) cut in parts for the
# threads (``cpu-parallel-task-assigner``): their loops are too short to gain from two threads,
# and a search's lanes run two fits at once on two cores. The warm 9 x 5 search, which trains
# its fits alone in the lanes, took 4.19 s against 4.39 s (medians of seven alternating
# processes); a cold digits fit's epochs took 0.61 s against 0.65 s after a compile 0.04 s
# longer (eight fresh processes, 1.43 s against 1.42 s in all), with bit-identical weights.
# Larger steps keep the parts: MNIST's (500, 500) epoch ran 8% slower without them (200 x 784
# inputs), the 15000 x 100 (100, 100) one as fast (200 x 100). So does float32: its digits
# epoch ran 10% slower without them (one process, alternating).
_CPU_FLOAT64_SMALL_STEP_OPTIONS = {
    **_CPU_FLOAT64_FIT_OPTIONS,
    "xla_disable_hlo_passes": _FIT_PASSES_OFF + ",cpu-parallel-task-assigner"}
train_epochs = Program(train.train_epochs, static_argnames=("spec",),
                       cpu_dense_options={np.float64: _CPU_FLOAT64_FIT_OPTIONS,
                                          np.float32: _CPU_FLOAT32_OPTIONS},
                       cpu_small_step_options={np.float64: _CPU_FLOAT64_SMALL_STEP_OPTIONS})
train_epoch_stack = Program(train_epoch_stack, static_argnames=("spec",),
                            cpu_dense_options={np.float64: _CPU_FLOAT64_OPTIONS})
full_batch_value_and_grad = Program(train.full_batch_value_and_grad, static_argnames=("spec",))

PROGRAMS = (train_epochs, train_epoch_stack, full_batch_value_and_grad)


@_compile_cache.on_clear
def _clear_programs():
    for program in PROGRAMS:
        program.clear()
