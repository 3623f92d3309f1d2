"""optax GradientTransformations built from a static solver name and runtime hyperparameters.

The transformation is rebuilt inside the traced function from ``hparams`` (a pytree of
arrays), which is what ``optax.inject_hyperparams`` achieves, without keeping the numbers in
the optimizer state: a new learning rate or momentum is a new argument value, never a new
compile, and ``jax.vmap`` over ``hparams`` trains several settings at once.
"""

import functools
import hashlib
import types

import jax
import jax.numpy as jnp
import numpy as np
import optax


# Placeholder values used only to build a transformation for ``init`` (its state's
# structure does not depend on the numbers).
_INIT_HPARAMS = {
    "learning_rate": 1e-3, "momentum": 0.9, "beta_1": 0.9, "beta_2": 0.999,
    "epsilon": 1e-8, "weight_decay": 0.0,
}


def sklearn_sgd(learning_rate, momentum, nesterov):
    """scikit-learn's SGD: v <- momentum * v - lr * g; update v (or momentum * v - lr * g)."""
    return optax.chain(
        optax.scale_by_learning_rate(learning_rate),
        optax.trace(decay=momentum, nesterov=nesterov),
    )


def sklearn_adam(learning_rate, b1, b2, eps):
    """scikit-learn's Adam, which differs from ``optax.adam`` in where epsilon sits.

    update = -lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps); optax divides by
    sqrt(v_hat) + eps instead. Matching it keeps tuned scikit-learn settings (and fits) the same.
    """

    def init(params):
        zeros = optax.tree.zeros_like(params)
        return optax.ScaleByAdamState(count=jnp.zeros([], jnp.int32), mu=zeros,
                                      nu=optax.tree.zeros_like(params))

    def update(grads, state, params=None):
        mu = optax.tree.update_moment(grads, state.mu, b1, 1)
        nu = optax.tree.update_moment_per_elem_norm(grads, state.nu, b2, 2)
        count = optax.safe_increment(state.count)
        t = count.astype(jnp.result_type(learning_rate))
        step = learning_rate * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        updates = jax.tree_util.tree_map(lambda m, v: -step * m / (jnp.sqrt(v) + eps), mu, nu)
        return updates, optax.ScaleByAdamState(count=count, mu=mu, nu=nu)

    return optax.GradientTransformation(init, update)


def make_optimizer(solver, hparams, nesterov=False):
    """The optax transformation for a built-in solver name."""
    lr = hparams["learning_rate"]
    if solver == "sgd":
        return sklearn_sgd(lr, hparams["momentum"], nesterov)
    if solver == "adam":
        return sklearn_adam(lr, hparams["beta_1"], hparams["beta_2"], hparams["epsilon"])
    if solver == "adamw":
        return optax.adamw(lr, b1=hparams["beta_1"], b2=hparams["beta_2"],
                           eps=hparams["epsilon"], weight_decay=hparams["weight_decay"])
    if solver == "rmsprop":
        return optax.rmsprop(lr, eps=hparams["epsilon"], momentum=hparams["momentum"],
                             nesterov=nesterov)
    if solver == "adagrad":
        return optax.adagrad(lr, eps=hparams["epsilon"])
    raise ValueError(f"unknown solver {solver!r}")


def init_opt_state(solver, params, nesterov=False):
    hp = {k: jnp.asarray(v) for k, v in _INIT_HPARAMS.items()}
    return make_optimizer(solver, hp, nesterov).init(params)


# What each built-in solver's state starts at: optax.adagrad's accumulator starts at its
# ``initial_accumulator_value``; every other moment, trace and count starts at zero.
_INITIAL_FILL = {"adagrad": 0.1}


@functools.lru_cache(maxsize=64)
def _opt_state_layout(solver, nesterov, treedef, avals, x64):
    params = jax.tree_util.tree_unflatten(
        treedef, [jax.ShapeDtypeStruct(shape, dtype) for shape, dtype in avals])
    with jax.enable_x64(x64):
        shapes = jax.eval_shape(functools.partial(init_opt_state, solver, nesterov=nesterov),
                                params)
    leaves, structure = jax.tree_util.tree_flatten(shapes)
    return structure, tuple((leaf.shape, leaf.dtype) for leaf in leaves)


def initial_opt_state(solver, params, nesterov=False):
    """A built-in solver's initial state as NumPy arrays, without a compiled program.

    Its structure comes from tracing ``init_opt_state`` once per architecture (no compile);
    its values are constants (``_INITIAL_FILL``). Compiling ``init`` cost 0.1 s of a cold
    first fit for arrays NumPy fills in microseconds.
    """
    leaves, treedef = jax.tree_util.tree_flatten(params)
    avals = tuple((np.shape(leaf), np.dtype(leaf.dtype)) for leaf in leaves)
    structure, layout = _opt_state_layout(solver, nesterov, treedef, avals,
                                          bool(jax.config.jax_enable_x64))
    fill = _INITIAL_FILL.get(solver, 0)
    return jax.tree_util.tree_unflatten(structure, [
        np.full(shape, fill if np.issubdtype(dtype, np.floating) else 0, dtype)
        for shape, dtype in layout])


# ---------------------------------------------------------------- a user's optax object

# Libraries whose functions are named, not walked: their code is fixed by their version, which
# is part of every cache key.
_LIBRARY_PREFIXES = ("jax", "jaxlib", "optax", "chex", "numpy", "functools", "operator",
                     "builtins", "math", "typing")
_MAX_NODES = 5000


class _Unfingerprintable(Exception):
    pass


def _walk(obj, out, seen, budget):
    """Append a canonical description of ``obj`` to ``out``; raise when it has none."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _Unfingerprintable("too large")
    if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
        out.append(f"{type(obj).__name__}:{obj!r}")
        return
    if isinstance(obj, (np.ndarray, np.generic, jax.Array)):
        a = np.asarray(obj)
        out.append(f"array:{a.dtype}:{a.shape}:{hashlib.sha256(a.tobytes()).hexdigest()}")
        return
    if isinstance(obj, (types.ModuleType, type)):
        out.append(f"named:{getattr(obj, '__module__', '')}.{obj.__name__}")
        return
    if id(obj) in seen:  # a cycle or a shared node: its first description stands for it
        out.append(f"ref:{seen[id(obj)]}")
        return
    seen[id(obj)] = len(seen)
    if isinstance(obj, functools.partial):
        out.append("partial")
        for part in (obj.func, obj.args, obj.keywords):
            _walk(part, out, seen, budget)
        return
    if isinstance(obj, types.FunctionType):
        module = obj.__module__ or ""
        out.append(f"function:{module}.{obj.__qualname__}")
        # Values it closes over always count (optax keeps its hyperparameters there).
        for part in (obj.__defaults__, obj.__kwdefaults__):
            _walk(part, out, seen, budget)
        for cell in obj.__closure__ or ():
            _walk(cell.cell_contents, out, seen, budget)
        if module.split(".")[0] in _LIBRARY_PREFIXES:
            return  # its code is fixed by the library's version
        _walk_code(obj.__code__, out, seen, budget)
        for name in _global_names(obj.__code__):  # module-level helpers it calls
            if name in obj.__globals__:
                out.append(f"global:{name}")
                _walk(obj.__globals__[name], out, seen, budget)
        return
    if isinstance(obj, types.BuiltinFunctionType):
        out.append(f"builtin:{getattr(obj, '__module__', '')}.{obj.__qualname__}")
        return
    if isinstance(obj, (tuple, list)):  # NamedTuples (GradientTransformation) included
        out.append(f"seq:{type(obj).__module__}.{type(obj).__qualname__}:{len(obj)}")
        for item in obj:
            _walk(item, out, seen, budget)
        return
    if isinstance(obj, dict):
        out.append(f"dict:{len(obj)}")
        for k in sorted(obj, key=repr):
            _walk(k, out, seen, budget)
            _walk(obj[k], out, seen, budget)
        return
    raise _Unfingerprintable(type(obj).__qualname__)


def _walk_code(code, out, seen, budget):
    out.append(hashlib.sha256(code.co_code).hexdigest())
    out.append(repr((code.co_names, code.co_varnames, code.co_freevars, code.co_argcount)))
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _walk_code(const, out, seen, budget)
        else:
            _walk(const, out, seen, budget)


def _global_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return sorted(names)


def optax_fingerprint(tx):
    """A digest of an optax transformation's structure: its functions' code, the numbers and
    arrays they close over, and the user-defined helpers they call. Two transformations built
    by the same code with the same values (``optax.adam(1e-3)`` made twice, or a copy unpickled
    in a worker process) get the same digest and share one compiled program; None when the
    object holds something that has no faithful description (it is then keyed by identity)."""
    out = [optax.__version__]
    try:
        _walk(tx, out, {}, [_MAX_NODES])
    except (_Unfingerprintable, RecursionError, ValueError, TypeError):
        return None
    return hashlib.sha256("\n".join(out).encode()).hexdigest()[:32]


class CustomSolver:
    """A user's optax transformation as a static part of a training spec.

    Equal (and hashed alike) when the structures are identical, so a fresh but identical
    object compiles nothing new; by identity when the structure can't be described.
    """

    __slots__ = ("tx", "fingerprint")

    def __init__(self, tx):
        self.tx = tx
        self.fingerprint = optax_fingerprint(tx)

    def _key(self):
        return self.fingerprint if self.fingerprint is not None else ("id", id(self.tx))

    def __hash__(self):
        return hash(self._key())

    def __eq__(self, other):
        return isinstance(other, CustomSolver) and self._key() == other._key()

    def __repr__(self):
        return f"CustomSolver({self.fingerprint or 'identity'})"
