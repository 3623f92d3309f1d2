"""The host-side trainer: drives a stack of K >= 1 models of one architecture through epochs.

A single ``fit`` is a stack of one; a batched grid search or an ensemble is a stack of many. Each
model keeps exactly what it would have had alone: its own RandomState stream (shuffles), its own
stopping (tol, n_iter_no_change, early stopping, the 'adaptive' learning rate, max_iter), decided
here from the K figures each epoch returns. A stopped model is frozen by the ``active`` mask of
the compiled program while the others go on. Stacks are sharded over all local devices along
the model axis.
"""

import hashlib
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _programs
from ._core.train import TrainState
from ._data import stack
from ._stopping import update_no_improvement

NON_FINITE_MESSAGE = ("Solver produced non-finite parameter weights. The input data may "
                      "contain large values and need to be preprocessed.")


class Run:
    """One model's training on the host: its estimator, data, state, schedule and stopping.

    The fitted attributes (``n_iter_``, ``loss_curve_``, ``validation_scores_``, ...) are
    written to ``est`` as epochs complete, exactly as a single fit writes them.
    """

    def __init__(self, est, *, spec, dtype, data, val_data, state, hparams, random_state,
                 n_samples, n_rows, incremental, best, callbacks):
        self.est = est
        self.spec = spec
        self.dtype = dtype
        self.data = data
        self.val_data = val_data
        self.state = state
        self.hparams = hparams
        self.random_state = random_state
        self.n_samples = n_samples
        self.incremental = incremental
        self.best = best
        self.callbacks = callbacks
        self.sample_idx = np.arange(n_samples, dtype=np.int32)
        self.padding_idx = np.arange(n_samples, n_rows, dtype=np.int32)
        self.active = True
        self.error = None
        self.skl_ctx = self.fit_X = self.fit_y = self._epoch_ctx = None

    def watch(self, skl_ctx, X, y):
        """Report each epoch to scikit-learn's callbacks (``sklearn.callback``) under the
        fit's root context ``skl_ctx`` (None: nobody is listening), with the fit's X and y."""
        self.skl_ctx, self.fit_X, self.fit_y = skl_ctx, X, y

    def begin_epoch(self):
        if self.skl_ctx is not None:
            self._epoch_ctx = self.skl_ctx.subcontext(task_name="epoch")
            self._epoch_ctx.call_on_fit_task_begin(estimator=self.est, X=self.fit_X,
                                                   y=self.fit_y)

    def _end_epoch_callbacks(self, host_state):
        """True when a ``sklearn.callback`` asks to stop. A callback that wants the model of
        this epoch (``fitted_estimator``) gets a copy holding this epoch's weights (none when
        ``host_state`` is None)."""
        epoch_ctx, self._epoch_ctx = self._epoch_ctx, None
        if epoch_ctx is None:
            return False
        est = self.est
        rebuild = None if host_state is None else (
            lambda: est._fitted_arrays(*host_state(), self.out_dtype))
        return epoch_ctx.call_on_fit_task_end(estimator=est, X=self.fit_X, y=self.fit_y,
                                              reconstruction_attributes=rebuild)

    def signature(self):
        """What must agree for runs to share one stack (and one compiled program)."""
        return (self.spec, np.dtype(self.dtype), _shapes(self.data), _shapes(self.val_data),
                _shapes(self.state), tuple(sorted(self.hparams)))

    def next_order(self):
        """This epoch's row order: shuffled real rows (the model's own RandomState), padding."""
        if self.est.shuffle:  # sklearn.utils.shuffle's draw, without its input checks
            perm = np.arange(self.n_samples)
            self.random_state.shuffle(perm)
            self.sample_idx = self.sample_idx[perm]
        return np.concatenate([self.sample_idx, self.padding_idx])

    def end_epoch(self, figures, host_state):
        """Book an epoch's figures; returns False when this model stops here.

        ``host_state()`` gives this model's (params, model_state) as host arrays (fetched
        lazily: only early stopping's improvements and callbacks need them).
        """
        est = self.est
        loss = float(figures["loss"])
        if not np.isfinite(loss):  # the program kept the last finite state
            self._end_epoch_callbacks(None)  # an epoch that learned nothing: no model to show
            if est.n_iter_ == 0:  # nothing finite learned: the fit fails
                self.error = ValueError(NON_FINITE_MESSAGE)
                return False
            warnings.warn(
                f"The training loss became {loss} in epoch {est.n_iter_ + 1}; training stopped "
                f"and the parameters from the last finite epoch were kept. Scale the inputs "
                f"(StandardScaler) or lower learning_rate_init (now {est.learning_rate_init}).",
                ConvergenceWarning)
            return False
        lr = est._lr_schedule.learning_rate
        est.n_iter_ += 1
        est.loss_ = loss
        est.t_ += self.n_samples
        est.loss_curve_.append(loss)
        if est.verbose:
            print("Iteration %d, loss = %.8f" % (est.n_iter_, loss))
        early_stopping = self.val_data is not None
        if early_stopping:
            score = float(figures["val_score"])
            est.validation_scores_.append(score)
            est.validation_loss_curve_.append(float(figures["val_loss"]))
            if est.verbose:
                print("Validation score: %f" % score)
            est._no_improvement_count, est.best_validation_score_, improved = (
                update_no_improvement(est._no_improvement_count, est.best_validation_score_,
                                      score, est.tol, True))
            if improved:  # a host copy: the device state is donated to the next epoch
                self.best = host_state()
        else:
            est._no_improvement_count, est.best_loss_, _ = update_no_improvement(
                est._no_improvement_count, est.best_loss_, loss, est.tol, False)
        est._lr_schedule.iteration_ends(est.t_)

        if self.callbacks and est._run_callbacks(self.callbacks, host_state(), figures, lr):
            return False
        if self._end_epoch_callbacks(host_state):
            return False
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if early_stopping else "Training loss"
            msg = ("%s did not improve more than tol=%f for %d consecutive epochs."
                   % (what, est.tol, est.n_iter_no_change))
            if est._lr_schedule.trigger_stopping(msg, est.verbose):
                return False
            est._no_improvement_count = 0
        if self.incremental:
            return False
        if est.n_iter_ == est.max_iter:
            warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                          "optimization hasn't converged yet." % est.max_iter,
                          ConvergenceWarning)
            return False
        return True


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


def train(runs, interrupt):
    """Train ``runs`` (one stack: equal ``signature()``) until each stops; ``interrupt`` (an
    object with ``requested``) ends training after the running epoch.

    Returns the final state of each run (host arrays for a stack; for a stack of one, device
    arrays: the caller fetches what it needs).
    """
    return _Stack(runs).train(interrupt)


def _share_key(run):
    """Runs with equal keys see the same rows in the same order every epoch: the same padded
    data and validation data, and RandomStates in the same state (computed once per run,
    before its first epoch)."""
    if getattr(run, "_share", None) is not None:
        return run._share
    digest = hashlib.sha1()
    for leaf in jax.tree_util.tree_leaves((run.data, run.val_data)):
        digest.update(np.ascontiguousarray(leaf).view(np.uint8))
    rs = run.random_state.get_state()
    digest.update(rs[1].tobytes())
    digest.update(repr((rs[2:], run.n_samples, bool(run.est.shuffle))).encode())
    run._share = digest.digest()
    return run._share


def _groups(runs):
    """Runs as G groups of M that share data and row order, or K groups of one when the
    sharing groups differ in size."""
    by_key = {}
    for i, run in enumerate(runs):
        by_key.setdefault(_share_key(run), []).append(i)
    groups = list(by_key.values())
    if len({len(g) for g in groups}) != 1:
        return [[i] for i in range(len(runs))]
    return groups


class _Stack:
    """Runs laid out for one compiled epoch: a stack of one runs ``train_epoch`` itself (a
    single fit's program, unchanged); a larger stack runs ``train_epoch_stack`` over G groups
    of M members. One host loop drives both, through ``_at`` and ``_call``."""

    def __init__(self, runs):
        self.runs = runs
        self.single = len(runs) == 1
        self.groups = [[0]] if self.single else _groups(runs)
        self.members = [[runs[i] for i in g] for g in self.groups]
        self.dtype = runs[0].dtype
        self.sharding = None if self.single else _model_sharding(len(self.groups))

    def _put(self, tree):
        if self.sharding is not None:
            return jax.device_put(tree, self.sharding)
        return jax.device_put(tree)

    def _lay(self, per_run, per_group=False):
        """A per-run (or per-group) host value laid out for the program."""
        if self.single:
            return per_run(self.runs[0])
        if per_group:
            return stack([per_run(m[0]) for m in self.members])
        return _stack_state([_stack_state([per_run(r) for r in m]) for m in self.members])

    def _at(self, tree, g, j):
        return tree if self.single else jax.tree_util.tree_map(lambda a: a[g, j], tree)

    def train(self, interrupt):
        runs, members, dtype = self.runs, self.members, self.dtype
        data = self._put(self._lay(lambda r: r.data, per_group=True))
        val_data = None if runs[0].val_data is None else self._put(
            self._lay(lambda r: r.val_data, per_group=True))
        rates = self._rates()
        hp = self._put(self._lay(lambda r: {k: np.asarray(v, dtype)
                                            for k, v in r.hparams.items()}))
        state = self._put(self._lay(lambda r: r.state))
        active = np.ones((len(members), len(members[0])), bool)
        orders = np.stack([np.concatenate([m[0].sample_idx, m[0].padding_idx])
                           for m in members])
        call = self._executable(state, data, orders, hp, active, val_data)
        while active.any() and not interrupt.requested:
            new_rates = self._rates()
            if not np.array_equal(new_rates, rates):
                rates = new_rates
                hp = dict(hp, learning_rate=self._put(rates[0, 0] if self.single else rates))
            for g, m in enumerate(members):
                for j, r in enumerate(m):
                    if active[g, j]:
                        r.begin_epoch()
                # every active member draws (its stream stays its own); the draws agree
                drawn = [r.next_order() for j, r in enumerate(m) if active[g, j]]
                if drawn:
                    orders[g] = drawn[0]
            state, figures = call(state, data, orders, hp, active, val_data)
            figures = jax.device_get(figures)
            fetched = {}

            def host_state(g, j, held=state):
                if "all" not in fetched:
                    fetched["all"] = jax.device_get((held.params, held.model_state))
                return self._at(fetched["all"], g, j)

            for g, m in enumerate(members):
                for j, r in enumerate(m):
                    if active[g, j]:
                        mine = self._at(figures, g, j)
                        active[g, j] = r.active = r.end_epoch(
                            mine, lambda g=g, j=j: host_state(g, j))
        if self.single:
            return [state]
        host = jax.device_get(state)
        out = [None] * len(runs)
        for g, group in enumerate(self.groups):
            for j, i in enumerate(group):
                out[i] = TrainState(*(self._at(part, g, j) for part in host))
        return out

    def _rates(self):
        return np.array([[r.est._lr_schedule.learning_rate for r in m] for m in self.members],
                        self.dtype)

    def _executable(self, state, data, orders, hp, active, val_data):
        """The compiled epoch, resolved once (shapes are fixed for the whole training), as
        ``call(state, data, orders, hparams, active, val_data)``."""
        spec = self.runs[0].spec
        if self.single:
            run_epoch = _programs.train_epoch.executable(
                state=state, data=data, order=orders[0], hparams=hp, spec=spec,
                val_data=val_data)

            def call(state, data, orders, hp, active, val_data):
                return run_epoch(state=state, data=data, order=orders[0], hparams=hp,
                                 val_data=val_data)

            return call
        # Groups with equally many minibatches of real rows (CV folds of one bucket, a
        # grid's candidates) skip their padding minibatches on a count they share.
        real = {-(-m[0].n_samples // spec.batch_size) for m in self.members}
        n_steps = np.int32(real.pop()) if len(real) == 1 else None
        run_epoch = _programs.train_epoch_stack.executable(
            state=state, data=data, order=orders, hparams=hp, active=active, spec=spec,
            val_data=val_data, n_steps=n_steps)

        def call(state, data, orders, hp, active, val_data):
            return run_epoch(state=state, data=data, order=orders, hparams=hp, active=active,
                             val_data=val_data, n_steps=n_steps)

        return call
