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

from .. import _training

# A stack's host data, parameters and optimizer state stay under this many bytes; a larger
# group is split into several stacks.
STACK_MAX_BYTES = 1 << 30

_registries = []


def stackable(est):
    """Whether an estimator's fit can train in a model stack."""
    from .._estimators import _BaseMLP

    return (isinstance(est, _BaseMLP) and est._is_stochastic()
            and not isinstance(est.solver, optax.GradientTransformation)
            and not est.callbacks and not est.warm_start)


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
            vars(est).update(vars(result))
            return True
    return False


def _nbytes(tree):
    return sum(getattr(x, "nbytes", 0) for x in jax.tree_util.tree_leaves(tree))


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
            per_model = _nbytes((members[0][1].data, members[0][1].val_data,
                                 members[0][1].state)) * 3
            size = max(1, STACK_MAX_BYTES // max(per_model, 1))
            for start in range(0, len(members), size):
                chunk = members[start:start + size]
                runs = [run for _, run in chunk]
                began = time.perf_counter()
                with jax.enable_x64(np.dtype(runs[0].dtype) == np.float64):
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
