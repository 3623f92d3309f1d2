"""Many fits of skmlp MLPs trained as model stacks, and the registry that hands the results to
scikit-learn's own fitting code.

``fit_stacked`` prepares each fit exactly as ``fit`` would (its own RandomState: initial
weights, validation split, shuffles), groups the fits that share a compiled program, and trains
each group as one stack. A search then registers the fitted models under a key made of the
estimator's parameters and a hash of its training data; when scikit-learn's ``_fit_and_score``
calls ``fit`` with that very estimator and data, ``take_prefitted`` gives it the stacked result
instead of training again. Any fit not in the registry trains as usual.
"""

import contextlib
import time
from collections import defaultdict

import jax
import joblib
import numpy as np
import optax

from .. import _programs, _training

# A stack's host data, parameters and optimizer state stay under this many bytes; a larger
# group is split into several stacks.
STACK_MAX_BYTES = 1 << 30

_registries: list = []
_CALLBACK_ATTRIBUTES = {"_skl_callbacks", "_parent_callback_ctx", "_callback_fit_ctx",
                        "_skl_callbacks_to_teardown"}


def stackable(est):
    """Whether an estimator's fit can train in a model stack."""
    from .._estimators import _BaseMLP

    return (isinstance(est, _BaseMLP) and est._is_stochastic()
            and not isinstance(est.solver, optax.GradientTransformation)
            and not est.callbacks and not getattr(est, "_skl_callbacks", None)
            and not est.warm_start)


def fit_key(est, X, y, sample_weight):
    """Identifies a fit: the estimator's class and parameters, and its training data."""
    params = sorted((k, repr(v)) for k, v in est.get_params(deep=False).items())
    return joblib.hash((type(est).__qualname__, params, X, y, sample_weight))


@contextlib.contextmanager
def registry():
    """A registry of prefitted models, consulted by ``fit`` while the context is open."""
    entries = {}
    _registries.append(entries)
    try:
        yield entries
    finally:
        _registries.remove(entries)


def take_prefitted(est, X, y, sample_weight):
    """If a stack already trained this fit, give ``est`` its fitted state and return True."""
    if not _registries:
        return False
    try:
        key = fit_key(est, X, y, sample_weight)
    except Exception:  # unhashable data or parameters: an ordinary fit
        return False
    for entries in reversed(_registries):
        if key in entries:
            # handed over once (no copy): a second identical fit misses and trains as usual
            result = entries.pop(key)
            if isinstance(result, BaseException):
                raise result
            # The fitted state only: scikit-learn's callbacks and their contexts, which a
            # search propagates to ``est`` just before this fit, stay ``est``'s own.
            vars(est).update({k: v for k, v in vars(result).items()
                              if k not in _CALLBACK_ATTRIBUTES})
            return True
    return False


def _nbytes(tree):
    return sum(getattr(x, "nbytes", 0) for x in jax.tree_util.tree_leaves(tree))


def _chunks(members):
    """A program's runs ``(index, run)`` split into stacks of at most ``STACK_MAX_BYTES``.

    Runs that see the same rows in the same order (the candidates of one CV fold) share one
    copy of the data in a stack, so stacks are cut on those groups' boundaries and cost their
    groups' data plus each model's state (parameters, gradients and two optimizer moments).
    Groups of unequal sizes train as independent models, each with its own copy of the data.
    """
    by_key = defaultdict(list)
    for i, run in members:
        by_key[_training._share_key(run)].append((i, run))
    groups = list(by_key.values())
    run = members[0][1]
    data = _nbytes((run.data, run.val_data))
    state = 4 * _nbytes(run.state.params)
    if len({len(g) for g in groups}) != 1:  # independent models
        groups = [[m] for m in members]
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


def fit_stacked(fits):
    """Train fits ``(estimator, X, y, sample_weight)`` in model stacks.

    Returns, per fit, the fitted estimator (the one given, now fitted) or the exception its fit
    raised, and the seconds of stack training charged to it (its stack's time over its size).
    """
    from .._estimators import _DeferredInterrupt

    results = [None] * len(fits)
    seconds = [0.0] * len(fits)
    groups = defaultdict(list)
    for i, (est, X, y, sample_weight) in enumerate(fits):
        try:
            est._validate_params()  # what fit's _fit_context does
            run = est._fit(X, y, sample_weight, plan=True)
        except Exception as exc:  # scikit-learn's loop would meet the same error
            results[i] = exc
            continue
        groups[run.signature()].append((i, run))

    with _DeferredInterrupt() as interrupt:
        for members in groups.values():
            for chunk in _chunks(members):
                runs = [run for _, run in chunk]
                began = time.perf_counter()
                with jax.enable_x64(np.dtype(runs[0].dtype) == np.float64), \
                        _programs.report_compiles(any(run.est.verbose for run in runs)):
                    states = _training.train(runs, interrupt)
                    for (i, run), state in zip(chunk, states):
                        try:
                            run.est._finish_stochastic(run, state, interrupt.requested)
                            results[i] = run.est
                        except Exception as exc:
                            results[i] = exc
                share = (time.perf_counter() - began) / len(chunk)
                for i, _ in chunk:
                    seconds[i] = share
    return results, seconds
