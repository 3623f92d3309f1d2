"""The host-side trainer: drives a stack of K >= 1 models of one architecture through epochs.

A single ``fit`` is a stack of one; a batched grid search or an ensemble is a stack of many. Each
model keeps exactly what it would have had alone: its own RandomState stream (shuffles), its own
stopping (tol, n_iter_no_change, early stopping, the 'adaptive' learning rate, max_iter), decided
here from the K sets of metrics each epoch returns. A stopped model is frozen by the ``active``
mask of the compiled program while the others go on. Stacks are sharded over all local devices
along the model axis.

The trainer knows no estimator. A ``Run`` is built by ``prepare`` from plain values: the
``Rules`` (what the estimator's parameters say about the loop), the ``History`` carried from an
earlier call, the weights and the data. It owns its ``History`` while it trains; whoever
prepared it copies the result back once, at the end. Someone who wants to hear about each epoch
(callbacks, progress bars) passes a ``listener``.
"""

import dataclasses
import functools
import hashlib
import signal
import threading
import time
import warnings
import weakref

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from . import _programs
from ._core import lbfgs, optim
from ._core.network import forward
from ._core.train import TrainState
from ._data import (bucket, device_arrays, hparams_to_device, n_padded_rows, padded_arrays,
                    stack)
from ._sklearn_compat import _check_optimize_result, lbfgs_print_options
from ._stopping import LearningRateSchedule, update_no_improvement

NON_FINITE_MESSAGE = ("Solver produced non-finite parameter weights. The input data may "
                      "contain large values and need to be preprocessed.")
_LBFGS_SPARSE_CHUNK = 512  # rows per chunk of L-BFGS's sparse full-batch gradient


@dataclasses.dataclass(frozen=True)
class Rules:
    """What a model's settings say about its training loop (scikit-learn's names)."""

    max_iter: int = 200
    tol: float = 1e-4
    n_iter_no_change: float = 10
    shuffle: bool = True
    verbose: bool | int = False
    batch_size: str | int = "auto"
    early_stopping: bool = False
    validation_fraction: float = 0.1
    stratify: bool = False  # a stratified validation split (single-output classifiers)
    learning_rate: str = "constant"
    learning_rate_init: float = 0.001
    power_t: float = 0.5
    warmup_epochs: int = 0
    max_fun: int = 15000


@dataclasses.dataclass
class History:
    """A model's training record: what one call hands the next (warm start, ``partial_fit``)
    and what the caller copies into its fitted attributes when training ends."""

    n_iter: int = 0
    t: int = 0  # samples seen
    loss: float | None = None
    loss_curve: list | None = None
    validation_scores: list | None = None
    validation_loss_curve: list | None = None
    best_validation_score: float | None = None
    best_loss: float | None = None
    no_improvement_count: int = 0
    schedule: LearningRateSchedule | None = None
    best_weights: tuple | None = None  # early stopping's best (params, model_state), host
    opt_state: list | None = None  # the optimizer state's leaves, as plain arrays

    @classmethod
    def start(cls, stochastic=True, early_stopping=False):
        """The record before a first epoch."""
        if not stochastic:
            return cls()
        if early_stopping:
            return cls(loss_curve=[], validation_scores=[], validation_loss_curve=[],
                       best_validation_score=-np.inf)
        return cls(loss_curve=[], best_loss=np.inf)


def precision(dtype):
    """JAX's scope for training in ``dtype``: float64 runs under a scoped x64, never a
    global switch."""
    return jax.enable_x64(np.dtype(dtype) == np.float64)


class DeferredInterrupt:
    """Ctrl-C during the epoch loop ends training after the running call (an epoch, or a
    single fit's short epochs: see ``CHUNK_EPOCHS``).

    A KeyboardInterrupt raised between a call and the assignment of its result would lose the
    state that the program was computing. Instead the first SIGINT is recorded and the loop
    stops when the running call ends, with the model of the last completed epoch, as
    scikit-learn's ("Training interrupted by user."); a second SIGINT interrupts at once. Only
    the main thread can own signal handlers; elsewhere nothing changes.

    Contexts nest: a search holds one around its whole fit, and each stack or fit inside holds
    its own. A first SIGINT marks the innermost and every enclosing context; any later SIGINT,
    in this context or in one opened later inside an enclosing one (the refit of a search that
    was interrupted), raises KeyboardInterrupt. Should that exception be lost (a signal that
    lands inside a garbage-collection callback is reported as "Exception ignored"), leaving the
    context raises it instead.
    """

    def __init__(self):
        self.requested = False
        self._again = False  # a second SIGINT arrived
        self._previous = None
        self._parent = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                current = signal.getsignal(signal.SIGINT)
                parent = getattr(current, "__self__", None)
                self._parent = parent if isinstance(parent, DeferredInterrupt) else None
                self._previous = signal.signal(signal.SIGINT, self._handle)
            except ValueError:  # an embedded interpreter that forbids it
                self._previous = None
        return self

    def _chain(self):
        context = self
        while context is not None:
            yield context
            context = context._parent

    def _handle(self, signum, frame):
        if any(c.requested for c in self._chain()):
            for context in self._chain():
                context._again = True
            previous = self._previous
            while isinstance(getattr(previous, "__self__", None), DeferredInterrupt):
                previous = previous.__self__._previous
            if callable(previous) and previous is not signal.default_int_handler:
                return previous(signum, frame)
            raise KeyboardInterrupt
        for context in self._chain():
            context.requested = True

    def __exit__(self, exc_type, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if self._again and exc_type is None:
            raise KeyboardInterrupt
        return False


class Run:
    """One model's training on the host: its data, state, rules and history.

    ``listener`` (optional) hears each epoch: ``begin_epoch()``, then
    ``end_epoch(history, metrics, learning_rate, fetch_weights)``, which returns True to stop
    (``fetch_weights`` is None for an epoch that learned nothing finite).
    """

    def __init__(self, *, spec, dtype, out_dtype, data, val_data, state, hparams, random_state,
                 n_samples, n_rows, incremental, rules, history, listener=None):
        self.spec = spec
        self.dtype = dtype
        self.out_dtype = out_dtype  # the dtype of the fitted arrays (X's)
        self.data = data
        self.val_data = val_data
        self.state = state
        self.hparams = hparams
        self.random_state = random_state
        self.n_samples = n_samples
        self.incremental = incremental
        self.rules = rules
        self.history = history
        self.listener = listener
        self.sample_idx = np.arange(n_samples, dtype=np.int32)
        self.padding_idx = np.arange(n_samples, n_rows, dtype=np.int32)
        self.error = None
        # None: the trainer's warnings are issued as they arise; a list: they are kept there,
        # as (message, category), for the thread that takes the fit to issue (a refit trained
        # on a helper thread: warnings' filters are process-wide, not thread-safe)
        self.deferred_warnings = None
        self._share = None

    def signature(self):
        """What must agree for runs to share one stack (and one compiled program)."""
        return self.model_signature() + (_shapes(self.data), _shapes(self.val_data))

    def model_signature(self):
        """What must agree for runs to run one program on their data, whatever its shape:
        the signature but for the data's shapes."""
        return (self.spec, np.dtype(self.dtype), _shapes(self.state), tuple(sorted(self.hparams)))

    def share_key(self):
        """Runs with equal keys see the same rows in the same order every epoch: the same
        padded data and validation data, and RandomStates in the same state (computed once,
        before the first epoch)."""
        if self._share is None:
            digest = hashlib.sha1()
            for leaf in jax.tree_util.tree_leaves((self.data, self.val_data)):
                digest.update(np.ascontiguousarray(leaf).view(np.uint8))
            rs = self.random_state.get_state()
            digest.update(rs[1].tobytes())
            digest.update(repr((rs[2:], self.n_samples, bool(self.rules.shuffle))).encode())
            self._share = digest.digest()
        return self._share

    def pad_rows(self, n_rows):
        """Pad dense training data with rows of weight 0 up to ``n_rows``, so that this run
        trains on the program of a fit with that many padded rows (a search's refit). Nothing
        it learns changes: padding rows come last in every epoch's order, and minibatches of
        padding only are skipped."""
        X, Y, w, _ = self.data
        if n_rows <= X.shape[0] or not isinstance(X, np.ndarray):
            return
        n = self.n_samples  # the real rows, re-padded as ``prepare`` pads them
        self.data = padded_arrays(X[:n], Y[:n], w[:n], n_rows, X.dtype)
        self.padding_idx = np.arange(self.n_samples, n_rows, dtype=np.int32)
        self._share = None

    def next_order(self):
        """This epoch's row order: shuffled real rows (the model's own RandomState), padding."""
        if self.rules.shuffle:  # sklearn.utils.shuffle's draw, without its input checks
            perm = np.arange(self.n_samples)
            self.random_state.shuffle(perm)
            self.sample_idx = self.sample_idx[perm]
        return np.concatenate([self.sample_idx, self.padding_idx])

    def begin_epoch(self):
        if self.listener is not None:
            self.listener.begin_epoch()

    def end_epoch(self, metrics, fetch_weights):
        """Book an epoch's metrics; returns False when this model stops here.

        ``fetch_weights()`` gives this model's (params, model_state) as host arrays (fetched
        lazily: only early stopping's improvements and listeners need them).
        """
        rules, history, listener = self.rules, self.history, self.listener
        loss = float(metrics["loss"])
        if not np.isfinite(loss):  # the epoch diverged: its state is not kept
            if listener is not None:  # an epoch that learned nothing: no model to show
                listener.end_epoch(history, metrics, None, None)
            if history.n_iter == 0:  # nothing finite learned: the fit fails
                self.error = ValueError(NON_FINITE_MESSAGE)
                return False
            self._warn(
                f"The training loss became {loss} in epoch {history.n_iter + 1}; training "
                f"stopped and the parameters from the last finite epoch were kept. Scale the "
                f"inputs (StandardScaler) or lower learning_rate_init (now "
                f"{rules.learning_rate_init}).", ConvergenceWarning)
            return False
        learning_rate = history.schedule.learning_rate
        history.n_iter += 1
        history.loss = loss
        history.t += self.n_samples
        history.loss_curve.append(loss)
        if rules.verbose:
            print("Iteration %d, loss = %.8f" % (history.n_iter, loss))
        early_stopping = self.val_data is not None
        if early_stopping:
            score = float(metrics["val_score"])
            history.validation_scores.append(score)
            history.validation_loss_curve.append(float(metrics["val_loss"]))
            if rules.verbose:
                print("Validation score: %f" % score)
            history.no_improvement_count, history.best_validation_score, improved = (
                update_no_improvement(history.no_improvement_count,
                                      history.best_validation_score, score, rules.tol, True))
            if improved:  # a host copy: the device state is replaced by the next epoch's
                history.best_weights = fetch_weights()
        else:
            history.no_improvement_count, history.best_loss, _ = update_no_improvement(
                history.no_improvement_count, history.best_loss, loss, rules.tol, False)
        history.schedule.iteration_ends(history.t)

        if listener is not None and listener.end_epoch(history, metrics, learning_rate,
                                                       fetch_weights):
            return False
        if history.no_improvement_count > rules.n_iter_no_change:
            what = "Validation score" if early_stopping else "Training loss"
            msg = ("%s did not improve more than tol=%f for %d consecutive epochs."
                   % (what, rules.tol, rules.n_iter_no_change))
            if history.schedule.trigger_stopping(msg, rules.verbose):
                return False
            history.no_improvement_count = 0
        if self.incremental:
            return False
        if history.n_iter == rules.max_iter:
            self._warn("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                       "optimization hasn't converged yet." % rules.max_iter,
                       ConvergenceWarning)
            return False
        return True

    def _warn(self, message, category):
        if self.deferred_warnings is None:
            warnings.warn(message, category)
        else:
            self.deferred_warnings.append((message, category))

    def issue_deferred_warnings(self):
        """Issue, on this thread, the warnings kept in ``deferred_warnings``."""
        for message, category in self.deferred_warnings or ():
            warnings.warn(message, category)
        self.deferred_warnings = None

    def result(self, state, interrupted=False):
        """The trained ``(params, model_state)`` as host arrays (early stopping's best when it
        kept one); the optimizer state goes to the history. Raises the run's error."""
        if self.error is not None:
            raise self.error
        if interrupted:
            warnings.warn("Training interrupted by user.")
        with precision(self.dtype):
            self.history.opt_state = [np.asarray(a) for a in jax.tree_util.tree_leaves(
                jax.device_get(state.opt_state))]
            if self.val_data is not None:
                return self.history.best_weights
            return jax.device_get((state.params, state.model_state))


def _validation_split(X, y, sample_weight, random_state, rules):
    stratify = y if rules.stratify else None
    if sample_weight is None:
        X_train, X_val, y_train, y_val = train_test_split(
            X, y, random_state=random_state, test_size=rules.validation_fraction,
            stratify=stratify)
        sw_train = sw_val = None
    else:
        X_train, X_val, y_train, y_val, sw_train, sw_val = train_test_split(
            X, y, sample_weight, random_state=random_state,
            test_size=rules.validation_fraction, stratify=stratify)
    if X_val.shape[0] < 2:
        raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                         "or the size of your dataset.")
    return X_train, y_train, sw_train, X_val, y_val, sw_val


def _batch_size(setting, n_samples):
    if setting == "auto":
        return min(200, n_samples)
    if setting > n_samples:
        warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                      "going to be clipped")
    return int(np.clip(setting, 1, n_samples))


def _initial_opt_state(spec, params, traced=False):
    """The optimizer's initial state: a user's optax transformation's own ``init``, else the
    built-in solver's (NumPy arrays; ``traced``: for its structure only)."""
    if spec.optimizer is not None:
        return spec.optimizer.tx.init(params)
    if traced:
        return optim.init_opt_state(spec.solver, params, spec.nesterov)
    return optim.initial_opt_state(spec.solver, params, spec.nesterov)


def prepare(*, X, y, sample_weight, random_state, incremental, layout, spec, rules, dtype,
            out_dtype, weights, hparams, history, listener=None):
    """Everything a stochastic fit needs before its first epoch, as a ``Run``: the validation
    split, padded host arrays, the initial training state and the learning-rate schedule.

    ``weights`` is ``(params, model_state)`` in ``dtype``; ``hparams`` the runtime
    hyperparameters but the learning rate, which the schedule gives; ``history`` the record of
    earlier calls (its optimizer state and schedule carry over when ``incremental``).
    """
    with precision(dtype), _programs.fitting(bool(rules.verbose), written=False):
        val_data = None
        if rules.early_stopping:
            X, y, sample_weight, X_val, y_val, sw_val = _validation_split(
                X, y, sample_weight, random_state, rules)
            val_data = padded_arrays(X_val, y_val, sw_val, bucket(X_val.shape[0]), dtype,
                                     layout)
        n_samples = X.shape[0]
        batch_size = _batch_size(rules.batch_size, n_samples)
        spec = spec._replace(batch_size=batch_size)
        params, model_state = weights
        # The optimizer state is kept as a plain list of arrays (no optax types in a fitted
        # model, so skops can load it without trusting them); the structure is rebuilt here.
        saved = history.opt_state if incremental else None
        structure = None if saved is None else jax.tree_util.tree_structure(jax.eval_shape(
            functools.partial(_initial_opt_state, spec, traced=True), params))
        if saved is None or len(saved) != structure.num_leaves:
            history.schedule = LearningRateSchedule(
                rules.learning_rate, rules.learning_rate_init, rules.power_t, rules.max_iter,
                rules.warmup_epochs)
            opt_state = jax.device_get(_initial_opt_state(spec, params))
        else:
            opt_state = jax.tree_util.tree_unflatten(structure, [
                a.astype(dtype) if np.issubdtype(a.dtype, np.floating) else a for a in saved])
        n_rows = n_padded_rows(n_samples, batch_size)
        data = padded_arrays(X, y, sample_weight, n_rows, dtype, layout)
        key = None
        if spec.net.dropout:  # drawn only when needed: the default keeps scikit-learn's draws
            # threefry: its bits do not change under vmap, so a stacked model draws its own
            seed = random_state.randint(np.iinfo(np.int32).max)
            key = jax.random.key(seed, impl="threefry2x32")
        if rules.early_stopping and history.best_weights is None:
            history.best_weights = weights
        history.n_iter = 0
        return Run(spec=spec, dtype=dtype, out_dtype=out_dtype, data=data, val_data=val_data,
                   state=TrainState(params, model_state, opt_state, key),
                   hparams=dict(hparams, learning_rate=history.schedule.learning_rate),
                   random_state=random_state, n_samples=n_samples, n_rows=n_rows,
                   incremental=incremental, rules=rules, history=history, listener=listener)


def fit_lbfgs(*, X, y, sample_weight, layout, spec, rules, dtype, weights, hparams):
    """Full-batch L-BFGS (scipy's, over the compiled loss and gradient).

    Returns the trained ``(params, model_state)`` as host arrays, the final loss and the
    number of iterations.
    """
    with precision(dtype), _programs.fitting(bool(rules.verbose)):
        n_samples = X.shape[0]
        if layout == "sparse" and not spec.net.batch_norm:  # see full_batch_value_and_grad
            chunk = min(_LBFGS_SPARSE_CHUNK, n_samples)
            n_rows = n_padded_rows(n_samples, chunk)
        else:
            n_rows = chunk = bucket(n_samples)
        spec = spec._replace(batch_size=chunk)
        data = device_arrays(X, y, sample_weight, n_rows, dtype, layout)
        hp = hparams_to_device(hparams, dtype)
        params, model_state = weights

        def value_and_grad(p):
            return _programs.full_batch_value_and_grad(p, model_state, data, hp, spec)

        iprint = 1 if rules.verbose is True or rules.verbose >= 1 else -1
        new_params, loss, result = lbfgs.minimize(
            value_and_grad, params, max_iter=rules.max_iter, max_fun=rules.max_fun,
            tol=rules.tol, extra_options=lbfgs_print_options(iprint))
        if new_params is None:  # nothing finite learned: the fit fails
            raise ValueError(NON_FINITE_MESSAGE)
        if loss != result.fun:
            warnings.warn(f"The training loss became {result.fun} in L-BFGS; the finite "
                          f"parameters of lowest loss ({loss:.6g}) were kept. Scale the inputs "
                          f"(StandardScaler) or raise alpha.", ConvergenceWarning)
        n_iter = _check_optimize_result("lbfgs", result, rules.max_iter)
        if spec.net.batch_norm:
            model_state = _full_batch_statistics(new_params, model_state, data, hp, spec)
        return jax.device_get((new_params, model_state)), loss, n_iter


def _full_batch_statistics(params, model_state, data, hp, spec):
    """Running statistics = the full training set's, for the full-batch solver."""
    X, _, w, _ = data
    hp = dict(hp, bn_momentum=np.zeros((), hp["bn_momentum"].dtype))
    _, state = forward(params, model_state, X, spec.net, train=True, weight=w, hparams=hp)
    return state


def train_alone(run):
    """Train one run under Ctrl-C handling; returns its result (see ``Run.result``)."""
    with DeferredInterrupt() as interrupt:
        (state,) = train([run], interrupt)
    return alone_result(run, state, interrupt.requested)


def alone_result(run, state, interrupted):
    """A fit's result once it trained alone (``train_alone``, or on a helper thread), or its
    error; ``interrupted``: a Ctrl-C ended its training."""
    if interrupted and run.history.n_iter == 0 and run.error is None:
        # Ctrl-C before the first epoch ended (while the program compiled): nothing was
        # trained, so the fit stops as any interrupted call does, leaving the model as it was.
        raise KeyboardInterrupt
    return run.result(state, interrupted)


def lower_ahead(run, cached_only=False):
    """Trace and lower now the epoch program that training ``run`` alone will use, and return
    what compiles it (for another thread: a search compiles its refit's program while its own
    stack is traced), or None when that program is held or cached already (it is then loaded).
    With ``cached_only``, only that load."""
    with precision(run.dtype):
        state, data, orders, hp, _, val_data = _Stack([run]).inputs()
        return _programs.train_epochs.lower_ahead(
            state=state, data=data, orders=orders, n_epochs=np.int32(1), hparams=hp,
            spec=run.spec, val_data=val_data, cached_only=cached_only)


def _shapes(tree):
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return treedef, tuple((np.shape(x), np.result_type(x).str) for x in leaves
                          if not jax.dtypes.issubdtype(getattr(x, "dtype", None),
                                                       jax.dtypes.prng_key))


def _stack_state(states):
    def leaf(*xs):
        if any(isinstance(x, jax.Array) for x in xs):  # PRNG keys
            return jnp.stack(xs)
        return np.stack(xs)

    return jax.tree_util.tree_map(leaf, *states)


def _model_sharding(k):
    """Sharding of a (K, ...) stack over all local devices, or None on one device."""
    devices = jax.local_devices()
    if len(devices) < 2 or k % len(devices):
        return None
    mesh = jax.sharding.Mesh(np.array(devices), ("models",))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("models"))


def share_groups(runs):
    """Indices of ``runs`` as G groups of M that share data and row order, or K groups of one
    when the sharing groups differ in size (a stack's groups must be equal). A single run is
    its own group, without a hash of its data."""
    if len(runs) == 1:
        return [[0]]
    by_key = {}
    for i, run in enumerate(runs):
        by_key.setdefault(run.share_key(), []).append(i)
    groups = list(by_key.values())
    if len({len(g) for g in groups}) != 1:
        return [[i] for i in range(len(runs))]
    return groups


def _steady_rate(run, epochs=1):
    """Whether a run's learning rate can change only by the host's decision, and none of the
    next ``epochs`` epochs is its last by count."""
    schedule = run.history.schedule
    return (not run.incremental and schedule.kind in ("constant", "adaptive")
            and schedule.warmup_epochs <= schedule.epoch
            and run.history.n_iter + epochs < run.rules.max_iter)


def _safe_epochs(run):
    """How many of a run's next epochs can neither stop it nor change its learning rate when
    booked, whatever their figures (but a divergence): none without ``_steady_rate`` or with a
    listener; else those before its last by count and before enough epochs without
    improvement could add up to more than ``n_iter_no_change``."""
    if not _steady_rate(run) or run.listener is not None:
        return 0
    history, rules = run.history, run.rules
    return max(0, int(min(rules.max_iter - history.n_iter - 1,
                          rules.n_iter_no_change - history.no_improvement_count)))


def _steady(run):
    """Whether a run can neither stop nor change its learning rate at the epoch being booked,
    whatever that epoch's figures (but a divergence)."""
    return _safe_epochs(run) > 0


def stack_shape(runs):
    """A stack's model axes ``(G, M)``: groups that share data and row order, members each."""
    groups = share_groups(runs)
    return len(groups), len(groups[0])


def train(runs, interrupt, shape=None):
    """Train ``runs`` (one stack: equal ``signature()``) until each stops; ``interrupt`` (an
    object with ``requested``) ends training after the running call. ``shape``, at least
    ``stack_shape(runs)`` on both axes, pads the stack to that many groups and members (see
    ``_Stack``).

    Returns the final state of each run (host arrays for a stack; for a stack of one, device
    arrays: the caller fetches what it needs).
    """
    with precision(runs[0].dtype), \
            _programs.fitting(any(run.rules.verbose for run in runs)):
        return _Stack(runs, shape).train(interrupt)


# A single fit's epochs shorter than this (wall time, dispatch to dispatch) are dispatched one
# call ahead of the host's bookkeeping; a longer epoch dispatched in vain at the end would cost
# more than the bookkeeping it hides.
AHEAD_BELOW_S = 0.05
# A stack's epochs go ahead only when no member can stop or change its learning rate at the
# epoch being booked (an epoch is then dispatched in vain only after a divergence or a Ctrl-C),
# and when shorter than this: the stack's bookkeeping (every member's figures and shuffle, 2.7
# ms an epoch for the 9 x 5 digits grid) is what it hides.
STACK_AHEAD_BELOW_S = 1.0
# A single fit trains up to this many epochs per call when none of them but the last can stop
# it or change its learning rate (see ``train.train_epochs``). Per epoch, the host's dispatch,
# fetch of the loss and bookkeeping cost a digits (64,) fit about 0.7 ms of CPU beside its 2 ms
# epoch: on two cores training two fits at once (a search's lanes), 45 such fits of 50 epochs
# trained in 2.70 s against 3.84 s one epoch a call (medians of 5; 2.98 s at 5 epochs a call,
# 2.69 s at 25), with bit-identical losses. Only epochs shorter than ``CHUNK_BELOW_S`` (the
# last one's wall time) are chunked: a Ctrl-C, which stops training when a call ends, then waits
# half a second at most.
CHUNK_EPOCHS = 10
CHUNK_BELOW_S = 0.05
# The last epoch time measured with each compiled program, by program: a later fit on it
# starts with several epochs a call and a call dispatched ahead, where its first call would
# otherwise train one epoch while the host waits for it (its time unknown). A search's lanes
# train 45 fits on one program. Only the number of epochs a call depends on it, never a
# figure or a weight.
_EPOCH_S: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class _Ahead:
    """A call dispatched ahead (a stack's epoch, a single fit's epochs): its results, the models
    it trained, how many epochs, and how to undo their row-order draws.

    ``members`` are the stack's groups of runs and ``active`` which of them train. A group's
    runs share one row order (``Run.share_key``): their RandomStates are in one state, taken
    once per group (``get_state`` copies the generator's 2.5 kB; once per model it was 2.4 ms
    of host time an epoch for the 9 x 5 digits grid, which trains in 60 ms)."""

    def __init__(self, members, active):
        self.active = active.copy()
        self.runs, self._drawn = [], []
        for group, on in zip(members, active):
            runs = [run for run, a in zip(group, on) if a]
            if runs:
                rng_state = runs[0].random_state.get_state()
                self.runs += runs
                self._drawn += [(rng_state, run.sample_idx) for run in runs]
        self.state = self.metrics = self.orders = None
        self.n = 1

    def discard(self):
        """Forget this epoch (its program still runs, and its results are dropped) and put the
        runs' RandomStates and row orders back as they were before its draws."""
        for run, (rng_state, sample_idx) in zip(self.runs, self._drawn):
            run.random_state.set_state(rng_state)
            run.sample_idx = sample_idx


class _Stack:
    """Runs laid out for one compiled program: a stack of one runs ``train_epochs`` (a single
    fit's program: up to ``CHUNK_EPOCHS`` epochs a call); a larger stack runs
    ``train_epoch_stack`` over G groups of M members, an epoch a call. One host loop drives
    both, through ``_model``, ``_chunk``, ``_draw`` and ``_executable``.

    A ``shape`` larger than the runs' own pads the stack with copies of its last member in each
    group and of its last group, which train as stopped models (``active`` False from the start:
    computed, never booked), so that stacks cut from one (see ``_stacking.lanes``) run one
    compiled program: a cut 9 x 5 grid trains as 5 x 5 and 5 x 4 + 1."""

    def __init__(self, runs, shape=None):
        self.runs = runs
        self.single = len(runs) == 1 and shape in (None, (1, 1))
        self.groups = [[0]] if self.single else share_groups(runs)
        self.members = [[runs[i] for i in g] for g in self.groups]
        self.shape = (len(self.members), len(self.members[0])) if shape is None else shape
        if self.shape[0] < len(self.members) or self.shape[1] < len(self.members[0]):
            raise ValueError(f"a stack of shape {self.shape} cannot hold "
                             f"{len(self.members)} x {len(self.members[0])} models")
        self.dtype = runs[0].dtype
        self.sharding = None if self.single else _model_sharding(self.shape[0])

    def _to_device(self, tree):
        if self.sharding is not None:
            return jax.device_put(tree, self.sharding)
        return jax.device_put(tree)

    def _laid_out(self):
        """The runs by group, padded to ``self.shape`` with copies of the last of each."""
        n_groups, n_members = self.shape
        rows = [m + [m[-1]] * (n_members - len(m)) for m in self.members]
        return rows + [rows[-1]] * (n_groups - len(rows))

    def _stacked(self, per_run, per_group=False):
        """A per-run (or per-group) host value, stacked along the (G, M) model axes."""
        if self.single:
            return per_run(self.runs[0])
        if per_group:
            return stack([per_run(m[0]) for m in self._laid_out()])
        return _stack_state([_stack_state([per_run(r) for r in m]) for m in self._laid_out()])

    def _model(self, tree, g, j):
        """Model (g, j)'s slice of a stacked value."""
        return tree if self.single else jax.tree_util.tree_map(lambda a: a[g, j], tree)

    def inputs(self):
        """The first epoch's inputs, on the device: ``(state, data, orders, hparams, active,
        val_data)``."""
        runs, members, dtype = self.runs, self.members, self.dtype
        data = self._to_device(self._stacked(lambda r: r.data, per_group=True))
        val_data = None if runs[0].val_data is None else self._to_device(
            self._stacked(lambda r: r.val_data, per_group=True))
        hp = self._to_device(self._stacked(lambda r: {k: np.asarray(v, dtype)
                                                      for k, v in r.hparams.items()}))
        state = self._to_device(self._stacked(lambda r: r.state))
        active = np.zeros(self.shape, bool)
        active[:len(members), :len(members[0])] = True  # the padding never trains
        orders = np.stack([np.concatenate([m[0].sample_idx, m[0].padding_idx])
                           for m in self._laid_out()])
        if self.single:  # a row order per epoch of a call
            orders = np.repeat(orders, CHUNK_EPOCHS, axis=0)
        return state, data, orders, hp, active, val_data

    def train(self, interrupt):
        runs, members = self.runs, self.members
        state, data, orders, hp, active, val_data = self.inputs()
        rates = self._rates()
        call, program = self._executable(state, data, orders, hp, active, val_data)
        ahead = None  # the next call, dispatched before this one's figures came back
        # The last epoch's time, figures to figures: at first, the last one measured with
        # this compiled program (see ``_EPOCH_S``).
        epoch_s, last = _EPOCH_S.get(program, np.inf), time.perf_counter()
        while active.any() and not interrupt.requested:
            new_rates = self._rates()
            if not np.array_equal(new_rates, rates):
                rates = new_rates
                hp = dict(hp, learning_rate=self._to_device(rates[0, 0] if self.single
                                                            else rates))
                if ahead is not None:  # dispatched with the old rate
                    ahead.discard()
                    ahead = None
            for g, m in enumerate(members):
                for j, r in enumerate(m):
                    if active[g, j]:
                        r.begin_epoch()
            previous = state
            if ahead is None:
                n = self._chunk(epoch_s)
                orders = orders.copy()  # a new array: a running call may still read the last
                self._draw(orders, active, n)  # every active member draws its own stream
                state, metrics = call(state, data, orders, hp, active, val_data, n)
            else:
                state, metrics, orders, n = ahead.state, ahead.metrics, ahead.orders, ahead.n
            ahead = self._dispatch_ahead(call, state, data, orders, hp, active, val_data,
                                         epoch_s, n)
            metrics = jax.device_get(metrics)
            now = time.perf_counter()
            epoch_s, last = (now - last) / n, now
            _EPOCH_S[program] = epoch_s
            fetched = {}

            def fetch_weights(g, j, held=state):
                if "all" not in fetched:
                    fetched["all"] = jax.device_get((held.params, held.model_state))
                return self._model(fetched["all"], g, j)

            if self.single:
                run, kept = runs[0], 0  # kept: the epochs booked with a finite loss
                for i in range(n):
                    figures = {k: v[i] for k, v in metrics.items()}
                    active[0, 0] = run.end_epoch(figures, lambda: fetch_weights(0, 0))
                    kept += bool(np.isfinite(figures["loss"]))
                    if not active[0, 0]:
                        break
                if kept < n:  # it stopped early (a divergence): the state after ``kept``
                    state = previous if kept == 0 else call(
                        previous, data, orders, hp, active, val_data, kept)[0]
            else:
                for g, m in enumerate(members):
                    for j, r in enumerate(m):
                        if active[g, j]:
                            active[g, j] = r.end_epoch(
                                self._model(metrics, g, j),
                                lambda g=g, j=j: fetch_weights(g, j))
            if ahead is not None and not np.array_equal(active, ahead.active):
                ahead.discard()  # it trained a model that has stopped since: train it again
                ahead = None
        if ahead is not None:
            ahead.discard()
        if self.single:
            return [state]
        host = jax.device_get(state)
        out = [None] * len(runs)
        for g, group in enumerate(self.groups):
            for j, i in enumerate(group):
                out[i] = TrainState(*(self._model(part, g, j) for part in host))
        return out

    def _chunk(self, epoch_s, after=0):
        """How many epochs the next call trains, ``after`` that many more were dispatched,
        the last epoch having taken ``epoch_s``: for a single fit without a validation split
        (whose improvements keep each epoch's weights) and with short epochs (see
        ``CHUNK_BELOW_S``), its epochs that cannot stop it nor change its rate whatever their
        figures, and one more, up to ``CHUNK_EPOCHS``; else one."""
        run = self.runs[0]
        if not self.single or run.val_data is not None or epoch_s > CHUNK_BELOW_S:
            return 1
        return min(CHUNK_EPOCHS, max(_safe_epochs(run) - after, 0) + 1)

    def _draw(self, orders, active, n):
        """Draw the row orders of the next ``n`` epochs into ``orders``: a single fit's, one
        per epoch; a stack's (``n`` is 1), one per group (its active members draw alike)."""
        if self.single:
            for i in range(n):
                orders[i] = self.runs[0].next_order()
            return
        for g, m in enumerate(self.members):
            drawn = [r.next_order() for r, on in zip(m, active[g]) if on]
            if drawn:
                orders[g] = drawn[0]

    def _dispatch_ahead(self, call, state, data, orders, hp, active, val_data, epoch_s, n):
        """Dispatch the next call now, while the host books the ``n`` epochs of this one. A
        single fit goes ahead when epochs are short (their host bookkeeping, 0.2-0.3 ms, is
        then a sixth of an epoch on digits) and the learning rate can only change by the
        host's decision, with ``_chunk(epoch_s, after=n)`` epochs; a stack when no member can
        stop or change its rate at this epoch either (see ``STACK_AHEAD_BELOW_S``). The next
        call's row orders are drawn now; ``_Ahead.discard`` puts the RandomStates back when a
        model stops instead or a rate changes, so no draw or number differs from one epoch at
        a time."""
        runs = [r for m, a in zip(self.members, active) for r, on in zip(m, a) if on]
        if self.single:
            if epoch_s > AHEAD_BELOW_S or not _steady_rate(runs[0], n):
                return None
        elif epoch_s > STACK_AHEAD_BELOW_S or not all(_steady(r) for r in runs):
            return None
        ahead = _Ahead(self.members, active)
        ahead.n = self._chunk(epoch_s, after=n)
        ahead.orders = orders.copy()
        self._draw(ahead.orders, active, ahead.n)
        ahead.state, ahead.metrics = call(state, data, ahead.orders, hp, active, val_data,
                                          ahead.n)
        return ahead

    def _rates(self):
        return np.array([[r.history.schedule.learning_rate for r in m] for m in self._laid_out()],
                        self.dtype)

    def _executable(self, state, data, orders, hp, active, val_data):
        """The compiled program, resolved once (shapes are fixed for the whole training), as
        ``call(state, data, orders, hparams, active, val_data, n)``: ``n`` epochs (a stack's
        call trains one); and the compiled program itself."""
        spec = self.runs[0].spec
        if self.single:
            run_epochs = _programs.train_epochs.executable(
                state=state, data=data, orders=orders, n_epochs=np.int32(1), hparams=hp,
                spec=spec, val_data=val_data)

            def call(state, data, orders, hp, active, val_data, n):
                return run_epochs(state=state, data=data, orders=orders, n_epochs=np.int32(n),
                                  hparams=hp, val_data=val_data)

            return call, run_epochs
        # Groups with equally many minibatches of real rows (CV folds of one bucket, a
        # grid's candidates) skip their padding minibatches on a count they share.
        real = {-(-m[0].n_samples // spec.batch_size) for m in self.members}
        n_steps = np.int32(real.pop()) if len(real) == 1 else None
        run_epoch = _programs.train_epoch_stack.executable(
            state=state, data=data, order=orders, hparams=hp, active=active, spec=spec,
            val_data=val_data, n_steps=n_steps)

        def call(state, data, orders, hp, active, val_data, n):
            return run_epoch(state=state, data=data, order=orders, hparams=hp, active=active,
                             val_data=val_data, n_steps=n_steps)

        return call, run_epoch
