"""The compiled programs skmlp runs, defined once at module level.

Static arguments are hashable descriptions of code and shapes (``TrainSpec``); every number a
user tunes is an array argument, so one compiled program per architecture serves every
learning rate, alpha, momentum and fold of a grid search. Each executable is looked up in this
process, then in the per-machine compile cache, and compiled only when both miss.
"""

import functools
import inspect

import jax
import numpy as np

from . import _compile_cache
from ._core import optim, train


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
    tests can assert that a new learning rate, alpha or fold size compiles nothing.
    """

    def __init__(self, fun, static_argnames=(), donate_argnames=()):
        self.name = fun.__name__
        self.static_argnames = tuple(static_argnames)
        self.trace_count = 0
        self._signature = inspect.signature(fun)
        self._executables = {}

        @functools.wraps(fun)
        def traced(*args, **kwargs):
            self.trace_count += 1  # runs only while tracing, never in the compiled program
            return fun(*args, **kwargs)

        self._jit = jax.jit(traced, static_argnames=self.static_argnames,
                            donate_argnames=tuple(donate_argnames))

    def __call__(self, *args, **kwargs):
        executable, dynamic = self._resolve(args, kwargs)
        return executable(**dynamic)

    def executable(self, *args, **kwargs):
        """The compiled function for arguments shaped like these, to call with the dynamic
        (non-static) arguments by keyword. A training loop resolves it once per fit instead of
        hashing the argument signature every epoch."""
        return self._resolve(args, kwargs)[0]

    def _resolve(self, args, kwargs):
        bound = self._signature.bind(*args, **kwargs)
        static = {k: v for k, v in bound.arguments.items() if k in self.static_argnames}
        dynamic = {k: v for k, v in bound.arguments.items() if k not in self.static_argnames}
        if any(getattr(v, "optimizer", None) is not None for v in static.values()):
            # a user's optax object is hashable but has no stable identity across processes
            return functools.partial(self._jit, **static), dynamic
        leaves, treedef = jax.tree_util.tree_flatten(dynamic)
        device = _default_device()
        signature = (tuple(sorted(static.items())), treedef, tuple(map(_aval, leaves)),
                     bool(jax.config.jax_enable_x64))
        compiled = self._executables.get((signature, device))
        if compiled is None:
            compiled = self._load_or_compile(signature, device, dynamic, static)
            self._executables[(signature, device)] = compiled
        return compiled, dynamic

    def _load_or_compile(self, signature, device, dynamic, static):
        use_disk = _compile_cache.compile_cache_enabled()
        path = _compile_cache.entry_path(self.name, signature, device) if use_disk else None
        compiled = _compile_cache.load(path) if use_disk else None
        if compiled is None:
            compiled = self._jit.lower(**dynamic, **static).compile()
            if use_disk:
                _compile_cache.store(path, compiled)
        return compiled


# ``state`` is donated: each epoch replaces it, so XLA may update parameters in place.
train_epoch = Program(train.train_epoch, static_argnames=("spec",), donate_argnames=("state",))
init_opt_state = Program(optim.init_opt_state, static_argnames=("solver", "nesterov"))
full_batch_value_and_grad = Program(train.full_batch_value_and_grad, static_argnames=("spec",))

PROGRAMS = (train_epoch, init_opt_state, full_batch_value_and_grad)
