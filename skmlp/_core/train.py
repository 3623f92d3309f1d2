"""The compiled training epoch: ``lax.scan`` over minibatches of a padded, on-device dataset.

Rows beyond the real samples are padding: weight 0 and ``mask`` 0. The epoch visits rows in
the ``order`` it is given (shuffled real rows first, padding last), so the last real minibatch
may be partial (as in scikit-learn) and minibatches made only of padding are skipped with
``lax.cond``: every sample counts once per epoch, and CV folds of slightly different sizes
share one compiled program. The order is drawn on the host, as scikit-learn draws it: a sort
inside the program would cost a third of its compile time.
"""

import contextlib
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from .activations import OUTPUT_ACTIVATIONS
from .losses import penalty, sample_losses
from .network import NetSpec, forward, take_rows
from .optim import make_optimizer


class TrainState(NamedTuple):
    params: Any
    model_state: Any
    opt_state: Any
    key: Any


class TrainSpec(NamedTuple):
    """Everything static about training: it selects code and shapes, never a tuned number."""

    net: NetSpec
    loss: str
    penalty: str = "l2"
    solver: str = "adam"
    nesterov: bool = True
    batch_size: int = 200
    score: str = "accuracy"  # validation score: 'accuracy' or 'r2'
    optimizer: Any = None  # a user's optax transformation, as an optim.CustomSolver


# Data up to this size (all arrays of one model's training set) are gathered once per epoch,
# which holds a second copy of them while the epoch runs: a 100 000 x 100 float64 table (80 MB)
# trains 12% faster so. Larger data (MNIST's 376 MB in float64) gather each step's rows.
PREGATHER_BYTES = 128 * 2**20


@contextlib.contextmanager
def inlined():
    """Trace jax.numpy's functions straight into the enclosing program.

    Each of them is a ``jit`` of its own (``inline=True``): its first call with an argument
    signature traces a sub-program that is then copied into the caller's. Under
    ``jax.disable_jit`` they bind their primitives directly, giving the same program (weights
    bit-identical) in less time: a cold digits fit's trace lost 0.04-0.05 s of its 0.2-0.3 s.
    This is scoped to the tracing thread and to code that has no loop of its own:
    ``lax.scan`` (and ``fori_loop``) run as Python loops under ``disable_jit``, so a scan must
    never be called inside this context; a user's optax transformation never is either.
    """
    with jax.disable_jit():
        yield


def _optimizer(spec, hparams):
    if spec.optimizer is not None:
        return spec.optimizer.tx
    return make_optimizer(spec.solver, hparams, spec.nesterov)


def objective(params, model_state, X, Y, w, mask, hparams, spec, key=None, train=True):
    """scikit-learn's minibatch loss: (sum_i w_i l_i + penalty) / sum_i w_i."""
    z, new_model_state = forward(params, model_state, X, spec.net, train=train, key=key,
                                 weight=w, hparams=hparams)
    losses = sample_losses(spec.loss, spec.net.out_activation, z, Y, hparams)
    sw = jnp.sum(w)
    value = (jnp.sum(w * losses) + penalty(params["coefs"], spec.penalty, hparams)) / sw
    return value, new_model_state


def _train_step(state, batch, hparams, spec):
    X, Y, w, mask = batch
    with inlined():
        key, sub = jax.random.split(state.key) if spec.net.dropout else (state.key, None)
        (value, model_state), grads = jax.value_and_grad(objective, has_aux=True)(
            state.params, state.model_state, X, Y, w, mask, hparams, spec, sub)
    tx = _optimizer(spec, hparams)
    # a built-in solver's update is this module's code; a user's may hold loops of its own
    with inlined() if spec.optimizer is None else contextlib.nullcontext():
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
    with inlined():
        params = optax.apply_updates(state.params, updates)
    return TrainState(params, model_state, opt_state, key), value


def train_epoch(state, data, order, hparams, spec, val_data=None, n_steps=None):
    """One pass over the data. Returns the new state and this epoch's figures (a NaN loss:
    the epoch diverged, and its state is to be discarded).

    ``data`` is ``(X, Y, w, mask)`` with a number of rows that is a multiple of
    ``spec.batch_size``; X is a dense array or ``SparseRows``. ``order`` is a permutation of
    the row indices, real rows first. ``n_steps``, when given, is the number of minibatches
    holding real rows: the others are skipped on that count instead of on their own
    contents (under ``vmap``, a predicate that does not depend on the batched data keeps
    ``lax.cond`` a branch instead of turning it into a select over the whole state, so a
    model stack's skipped steps cost nothing). The figures are ``loss``
    (scikit-learn's: batch losses weighted by real rows per batch) and, when ``val_data`` is
    given, ``val_score`` and ``val_loss``.
    """
    X, Y, w, mask = data
    n_batches = w.shape[0] // spec.batch_size
    pregather = sum(a.nbytes for a in jax.tree_util.tree_leaves(data)) <= PREGATHER_BYTES
    with inlined():
        batches = order.reshape(n_batches, spec.batch_size)
        if pregather:
            # Small data: one gather of the whole epoch in visiting order, then contiguous
            # minibatch slices (a gather of 200 rows per step cost 4x its bytes' worth on a
            # CPU).
            xs = jax.tree_util.tree_map(
                lambda a: a.reshape(n_batches, spec.batch_size, *a.shape[1:]),
                take_rows(data, order))
        else:  # large data: no second copy of it; each step gathers its own rows
            xs = batches
        # Real rows come first in ``order``: minibatch i holds min(batch, n - i * batch).
        n_rows = jnp.sum(mask)
        steps = jnp.arange(n_batches, dtype=jnp.int32)

    def step(state, xs):
        i, batch = xs
        with inlined():
            if not pregather:
                batch = take_rows(data, batch)
            n_real = jnp.clip(n_rows - i * spec.batch_size, 0, spec.batch_size)
            go = n_real > 0 if n_steps is None else i < n_steps

        def run(state):
            new_state, value = _train_step(state, batch, hparams, spec)
            with inlined():
                return new_state, value * n_real

        def skip(state):
            return state, jnp.zeros((), w.dtype)

        return jax.lax.cond(go, run, skip, state)

    new_state, weighted_losses = jax.lax.scan(step, state, (steps, xs))
    with inlined():
        loss = jnp.sum(weighted_losses) / n_rows
        # A diverged epoch (non-finite loss, or a last update that overflowed the parameters)
        # reports a NaN loss; the caller keeps the state it passed in and stops. One sum per
        # parameter array detects a non-finite entry (a sum of finite weights overflows only
        # for weights near the largest float, which have diverged too); a rollback here, a
        # select over the whole state, cost a third of this program's compile time.
        finite = jnp.isfinite(loss + sum(jnp.sum(p) for p in
                                         jax.tree_util.tree_leaves(new_state.params)))
        loss = jnp.where(finite, loss, jnp.nan)
    state = new_state
    metrics = {"loss": loss}
    if val_data is not None:
        metrics.update(evaluate(state.params, state.model_state, val_data, hparams, spec))
    return state, metrics


def train_epochs(state, data, orders, n_epochs, hparams, spec, val_data=None):
    """Up to ``orders.shape[0]`` epochs in one call: the first ``n_epochs`` (a runtime count),
    epoch ``i`` visiting rows in ``orders[i]`` (see ``train_epoch``).

    One call for many epochs spares the host a dispatch, a fetch of the figures and their
    bookkeeping per epoch: on two cores busy with two fits at once, that host work took a
    third of their time. The loop ends after an epoch that diverged (a NaN loss): the
    returned state is then that epoch's, to be discarded, and the state before it is the
    one of a call with ``n_epochs`` cut to the epochs before it. Returns the state and each
    epoch's figures (``train_epoch``'s, stacked; NaN for the epochs not run).
    """
    dtype = data[2].dtype
    names = ("loss",) if val_data is None else ("loss", "val_score", "val_loss")
    with inlined():
        figures = {k: jnp.full(orders.shape[:1], jnp.nan, dtype) for k in names}
        start = (jnp.zeros((), jnp.int32), state, figures, jnp.ones((), bool))

    def go_on(carry):
        i, _, _, finite = carry
        with inlined():
            return (i < n_epochs) & finite

    def epoch(carry):
        i, state, figures, _ = carry
        with inlined():
            order = orders[i]
        state, metrics = train_epoch(state, data, order, hparams, spec, val_data)
        with inlined():
            figures = {k: v.at[i].set(metrics[k].astype(dtype)) for k, v in figures.items()}
            return i + 1, state, figures, jnp.isfinite(metrics["loss"])

    _, state, figures, _ = jax.lax.while_loop(go_on, epoch, start)
    return state, figures


def _r2(P, Y, w):
    sw = jnp.sum(w)
    mean = jnp.sum(w[:, None] * Y, axis=0) / sw
    ss_res = jnp.sum(w[:, None] * (Y - P) ** 2, axis=0)
    ss_tot = jnp.sum(w[:, None] * (Y - mean) ** 2, axis=0)
    # scikit-learn's force_finite: a constant target scores 1 if predicted exactly, else 0.
    r2 = jnp.where(ss_tot > 0, 1.0 - ss_res / jnp.where(ss_tot > 0, ss_tot, 1.0),
                   jnp.where(ss_res > 0, 0.0, 1.0))
    return jnp.mean(r2)


def evaluate(params, model_state, data, hparams, spec):
    """Validation score (accuracy or R^2, NaN for non-finite predictions) and loss."""
    with inlined():
        return _evaluate(params, model_state, data, hparams, spec)


def _evaluate(params, model_state, data, hparams, spec):
    X, Y, w, mask = data
    z, _ = forward(params, model_state, X, spec.net)
    if spec.score == "accuracy":
        if spec.net.out_activation == "softmax":
            correct = jnp.argmax(z, axis=1) == jnp.argmax(Y, axis=1)
        else:  # binary or multilabel: subset accuracy at probability 0.5
            correct = jnp.all((z > 0) == (Y > 0.5), axis=1)
        score = jnp.sum(w * correct) / jnp.sum(w)
    else:
        P = OUTPUT_ACTIVATIONS[spec.net.out_activation](z)
        score = _r2(P, Y, w)
    finite = jnp.all(jnp.isfinite(z) | (mask[:, None] == 0))
    losses = sample_losses(spec.loss, spec.net.out_activation, z, Y, hparams)
    val_loss = jnp.sum(w * losses) / jnp.sum(w)
    return {"val_score": jnp.where(finite, score, jnp.nan), "val_loss": val_loss}


def full_batch_value_and_grad(params, model_state, data, hparams, spec):
    """Loss and gradient over the whole (padded) dataset, for full-batch L-BFGS.

    The data are visited in chunks of ``spec.batch_size`` rows (a ``lax.scan`` accumulating
    the weighted loss sum and its gradient): the same value as one pass, with memory bounded by
    a chunk, and 3x faster for sparse rows, whose gather and scatter-add run poorly on huge
    operands. Batch norm needs the full batch's statistics, so it always runs as one chunk.
    """
    X, Y, w, mask = data
    n_chunks = w.shape[0] // spec.batch_size
    if n_chunks == 1:
        # Batch norm normalizes with the full batch's statistics; dropout never runs here.
        with inlined():
            (value, _), grads = jax.value_and_grad(objective, has_aux=True)(
                params, model_state, X, Y, w, mask, hparams, spec, None, spec.net.batch_norm)
        return value, grads

    def chunk_loss_sum(params, chunk):
        Xc, Yc, wc = chunk
        z, _ = forward(params, model_state, Xc, spec.net)
        return jnp.sum(wc * sample_losses(spec.loss, spec.net.out_activation, z, Yc, hparams))

    def accumulate(total, chunk):
        with inlined():
            value, grads = jax.value_and_grad(chunk_loss_sum)(params, chunk)
            return jax.tree_util.tree_map(jnp.add, total, (value, grads)), None

    def chunks(a):
        return a.reshape(n_chunks, spec.batch_size, *a.shape[1:])

    with inlined():
        zero = (jnp.zeros((), w.dtype), jax.tree_util.tree_map(jnp.zeros_like, params))
        xs = jax.tree_util.tree_map(chunks, (X, Y, w))
    (loss_sum, grads), _ = jax.lax.scan(accumulate, zero, xs)
    with inlined():
        pen, pen_grads = jax.value_and_grad(
            lambda p: penalty(p["coefs"], spec.penalty, hparams))(params)
        sw = jnp.sum(w)
        grads = jax.tree_util.tree_map(lambda g, pg: (g + pg) / sw, grads, pen_grads)
        return (loss_sum + pen) / sw, grads
