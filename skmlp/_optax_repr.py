"""Readable names for optax transformations, for reprs and ``cv_results_``.

An optax object prints as ``GradientTransformationExtraArgs(init=<function chain.<locals>...>,
...)``. ``describe`` reads its structure instead (the factory that built each part and the
hyperparameters it closes over): ``optax.adam(1e-3)`` reads
``chain(scale_by_adam(b1=0.9, b2=0.999, eps=1e-08, ...), scale(step_size=-0.001))``.
``Readable`` is the same transformation (same ``init`` and ``update``) with that repr; it
stands in for the user's object only where skmlp displays it.
"""

import contextlib
import contextvars
import functools
import sys
import types

import numpy as np

_MAX_DEPTH = 8


def is_optax(obj):
    """Whether ``obj`` is an optax transformation, without importing optax: none can exist
    before optax was imported."""
    optax = sys.modules.get("optax")
    return optax is not None and isinstance(obj, optax.GradientTransformation)


def _closure(fn):
    return dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__ or ())))


def _value(v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return repr(v)
    if isinstance(v, (int, float, np.integer, np.floating)) or (
            isinstance(v, np.ndarray) and v.ndim == 0):
        return f"{float(v):g}" if not isinstance(v, (int, np.integer)) else str(int(v))
    if isinstance(v, types.FunctionType):  # a schedule or a user function
        return v.__qualname__.split(".<locals>")[0]
    return None


def _describe(init, update, depth):
    if not isinstance(init, types.FunctionType) or depth > _MAX_DEPTH:
        return type(init).__name__
    inits = _closure(init)
    updates = _closure(update) if isinstance(update, types.FunctionType) else {}
    wrapped = {**inits, **updates}.get("tx")
    if is_optax(wrapped):  # a wrapper of one transformation
        return _describe(wrapped.init, wrapped.update, depth + 1)
    name = init.__qualname__.split(".<locals>")[0]
    if "<locals>" not in init.__qualname__ or name == "init_empty_state":  # stateless
        name = getattr(update, "__qualname__", name).split(".<locals>")[0]
    if "init_fns" in inits and "update_fns" in updates:  # optax.chain and its relatives
        parts = [_describe(i, u, depth + 1)
                 for i, u in zip(inits["init_fns"], updates["update_fns"])]
        return f"{name}({', '.join(parts)})"
    args = {}
    for var, v in {**inits, **updates}.items():
        if is_optax(v):
            args[var] = _describe(v.init, v.update, depth + 1)
            continue
        text = _value(v)
        if text is not None and text != "None" and not var.startswith("_"):
            args.setdefault(var, text)
    return f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})"


def describe(tx):
    """A readable description of an optax transformation's structure."""
    try:
        return _describe(tx.init, tx.update, 0)
    except Exception:  # never let a repr fail
        return type(tx).__name__


@functools.cache
def _readable_class():
    import optax

    class Readable(optax.GradientTransformationExtraArgs):
        """An optax transformation (the same ``init`` and ``update``) that prints readably."""

        def __repr__(self):
            return describe(self)

    Readable.__module__, Readable.__qualname__ = __name__, "Readable"
    return Readable


def __getattr__(name):  # ``Readable`` is built on first use (pickles find it here too)
    if name == "Readable":
        return _readable_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def readable(tx):
    return _readable_class()(tx.init, tx.update)


_DISPLAYING = contextvars.ContextVar("skmlp_displaying", default=False)


@contextlib.contextmanager
def displaying():
    """While displaying an estimator, ``get_params`` shows optax solvers readably."""
    token = _DISPLAYING.set(True)
    try:
        yield
    finally:
        _DISPLAYING.reset(token)


def is_displaying():
    return _DISPLAYING.get()
