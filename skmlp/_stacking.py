"""Many fits of skmlp MLPs trained as model stacks: the engine under the searches and the
ensembles.

``fit_stacked`` prepares each fit exactly as ``fit`` would (its own RandomState: initial
weights, validation split, shuffles), groups the fits that share a compiled program, cuts the
groups into stacks that fit in memory, and trains each stack as one program.
"""

import time
import warnings
from collections import defaultdict

import jax
import optax

from . import _training
from ._base import _BaseMLP

# A stack's host data, parameters and optimizer state stay under this many bytes; a larger
# group is split into several stacks.
STACK_MAX_BYTES = 1 << 30


def stackable(est):
    """Whether an estimator's fit can train in a model stack."""
    return (isinstance(est, _BaseMLP) and est._is_stochastic()
            and not isinstance(est.solver, optax.GradientTransformation)
            and not est.callbacks and not getattr(est, "_skl_callbacks", None)
            and not est.warm_start)


def _nbytes(tree):
    return sum(getattr(x, "nbytes", 0) for x in jax.tree_util.tree_leaves(tree))


def _chunks(members):
    """A program's runs ``(index, run)`` split into stacks of at most ``STACK_MAX_BYTES``.

    Runs that see the same rows in the same order (the candidates of one CV fold) share one
    copy of the data in a stack, so stacks are cut on those groups' boundaries and cost their
    groups' data plus each model's state (parameters, gradients and two optimizer moments).
    Groups of unequal sizes train as independent models, each with its own copy of the data.
    """
    groups = [[members[i] for i in g]
              for g in _training.share_groups([run for _, run in members])]
    run = members[0][1]
    data = _nbytes((run.data, run.val_data))
    state = 4 * _nbytes(run.state.params)
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
    results = [None] * len(fits)
    seconds = [0.0] * len(fits)
    groups = defaultdict(list)
    for i, (est, X, y, sample_weight) in enumerate(fits):
        try:
            est._validate_params()  # what fit's _fit_context does
            run = est._prepare_run(X, y, sample_weight)
        except Exception as exc:  # scikit-learn's loop would meet the same error
            results[i] = exc
            continue
        groups[run.signature()].append((i, run))

    with _training.DeferredInterrupt() as interrupt:
        for members in groups.values():
            for chunk in _chunks(members):
                began = time.perf_counter()
                states = _training.train([run for _, run in chunk], interrupt)
                for (i, run), state in zip(chunk, states):
                    est = fits[i][0]
                    try:
                        est._complete_run(run, run.result(state))
                        results[i] = est
                    except Exception as exc:
                        results[i] = exc
                share = (time.perf_counter() - began) / len(chunk)
                for i, _ in chunk:
                    seconds[i] = share
    if interrupt.requested:
        warnings.warn("Training interrupted by user: every model stack stopped at its current "
                      "epoch, and the truncated models are used as they are. Press Ctrl-C "
                      "again to stop at once.")
    return results, seconds
