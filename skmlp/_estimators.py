"""scikit-learn-facing estimators: parameters, validation, targets, stopping, fitted attributes.

This is the only module that knows scikit-learn. Training itself runs in the compiled
programs of ``_programs`` over the pure functions of ``_core``.
"""

import copy
import functools
import signal
import threading
import warnings
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, Literal, Self

import jax
import numpy as np
import optax
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _programs, _training
from ._core import lbfgs, network, optim
from ._core.activations import HIDDEN_ACTIVATIONS
from ._core.network import BN_EPSILON, NetSpec
from ._core.optim import STOCHASTIC_SOLVERS, CustomSolver
from ._core.train import TrainSpec, TrainState
from ._data import (bucket, choose_layout, device_arrays, hparams_to_device, n_padded_rows,
                    padded_arrays)
from ._optax_repr import displaying, is_displaying, readable
from ._sklearn_compat import (CallbackSupportMixin, DocLinkMixin, Interval, Options,
                              StrOptions, _check_optimize_result, _check_partial_fit_first_call,
                              _check_sample_weight, _fit_context, callback_context,
                              lbfgs_print_options)
from ._stopping import LearningRateSchedule
from ._typing import ArrayLike, Callback, MatrixLike, RandomState, Solver

_BUILTIN_SOLVERS = {"lbfgs", *STOCHASTIC_SOLVERS}
_WEIGHT_INITS = {"auto", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                 "lecun_normal"}
_BN_MOMENTUM = 0.9
_LBFGS_SPARSE_CHUNK = 512  # rows per chunk of L-BFGS's sparse full-batch gradient


def _np_leaky_relu(x):
    return np.where(x > 0, x, 0.01 * x)


def _np_elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def _np_selu(x):
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def _np_gelu(x):
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)).astype(x.dtype))


def _np_softmax(x):
    x -= x.max(axis=1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=1, keepdims=True)
    return x


# NumPy twins of _core.activations for the host-side prediction path (tests keep them equal).
# They may overwrite their argument, as scikit-learn's do: prediction owns its buffers.
NUMPY_ACTIVATIONS = {
    "identity": lambda x: x,
    "logistic": lambda x: expit(x, out=x),
    "tanh": lambda x: np.tanh(x, out=x),
    "relu": lambda x: np.maximum(x, 0, out=x),
    "leaky_relu": _np_leaky_relu,
    "elu": _np_elu,
    "selu": _np_selu,
    "gelu": _np_gelu,
    "softplus": lambda x: np.logaddexp(0, x, out=x),
    "silu": lambda x: x * expit(x),
    "softmax": _np_softmax,
    "exp": lambda x: np.exp(x, out=x),
}


def _restore_on_error(method):
    """A failed or interrupted fit or partial_fit leaves the estimator exactly as it was.

    Errors can surface after new weights were drawn (a setting that conflicts with the data, a
    validation set that is too small, a callback that raises, Ctrl-C while compiling); restoring
    keeps a previously fitted model usable and an unfitted one unfitted. Everything but the
    constructor parameters is deep-copied first: training mutates objects in place (the
    learning-rate schedule, the optimizer state), and those must roll back too.
    """

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        params = self._get_param_names()
        before = {k: v if k in params else copy.deepcopy(v) for k, v in vars(self).items()}
        try:
            return method(self, *args, **kwargs)
        except BaseException:  # KeyboardInterrupt too
            vars(self).clear()
            vars(self).update(before)
            raise

    return guarded


class _DeferredInterrupt:
    """Ctrl-C during the epoch loop ends training after the running epoch.

    The epoch's state is donated to the compiled program, so a KeyboardInterrupt raised between
    the call and the assignment of its result would leave nothing valid to return. Instead the
    first SIGINT is recorded and the loop stops at the next epoch boundary with the model of the
    last completed epoch, as scikit-learn's ("Training interrupted by user."); a second SIGINT
    interrupts at once (and the estimator is restored to its state before the call). Only the
    main thread can own signal handlers; elsewhere nothing changes.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.signal(signal.SIGINT, self._handle)
            except ValueError:  # an embedded interpreter that forbids it
                self._previous = None
        return self

    def _handle(self, signum, frame):
        if self.requested:
            if callable(self._previous):
                return self._previous(signum, frame)
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


class ModelSummary(str):
    """The text of ``summary()``: a ``str`` that shows itself, not its quoted repr, when a
    REPL or notebook echoes it."""

    def __repr__(self):
        return str(self)

    def _repr_pretty_(self, printer, cycle):  # IPython's plain-text display
        printer.text(str(self))

    def _repr_html_(self):
        import html

        return f"<pre>{html.escape(str(self))}</pre>"


def _end_callbacks(est, skl_ctx, X, y):
    """End a fit's root ``sklearn.callback`` task: ``est`` is fitted, nothing to rebuild."""
    if skl_ctx is not None:
        skl_ctx.call_on_fit_task_end(estimator=est, X=X, y=y, reconstruction_attributes={})


def _is_optax(solver):
    return isinstance(solver, optax.GradientTransformation)


def _per_layer(value, n_hidden, name):
    """A scalar or string for every hidden layer, or a sequence with one per layer."""
    if isinstance(value, (str, Real)):
        return (value,) * n_hidden
    value = tuple(value)
    if len(value) != n_hidden:
        raise ValueError(f"{name} has {len(value)} entries but the network has {n_hidden} "
                         f"hidden layers; give one value or one per hidden layer.")
    return value


class _BaseMLP(DocLinkMixin, CallbackSupportMixin, BaseEstimator):
    """Shared implementation of MLPClassifier and MLPRegressor."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS)), list, tuple],
        "solver": [StrOptions(_BUILTIN_SOLVERS), optax.GradientTransformation],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive", "cosine"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), list, tuple],
        "batch_norm": ["boolean"],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "weight_init": [StrOptions(_WEIGHT_INITS)],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "callbacks": [list, tuple, callable, None],
        "compute_dtype": [StrOptions({"auto", "float32", "float64"})],
        "input_layout": [StrOptions({"auto", "sparse", "dense"})],
    }

    def __init__(self, hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate,
                 learning_rate_init, power_t, max_iter, loss, shuffle, random_state, tol,
                 verbose, warm_start, momentum, nesterovs_momentum, early_stopping,
                 validation_fraction, beta_1, beta_2, epsilon, n_iter_no_change, max_fun,
                 dropout, batch_norm, penalty, l1_ratio, weight_init, warmup_epochs, callbacks,
                 compute_dtype, input_layout):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.weight_init = weight_init
        self.warmup_epochs = warmup_epochs
        self.callbacks = callbacks
        self.compute_dtype = compute_dtype
        self.input_layout = input_layout

    # ------------------------------------------------------------------ display

    def get_params(self, deep: bool = True) -> dict:
        params = super().get_params(deep=deep)
        if is_displaying() and _is_optax(params.get("solver")):  # a readable stand-in
            params["solver"] = readable(params["solver"])
        return params

    def __repr__(self, N_CHAR_MAX=700):
        with displaying():
            return super().__repr__(N_CHAR_MAX)

    def _repr_html_inner(self):
        with displaying():
            return super()._repr_html_inner()

    def _repr_mimebundle_(self, **kwargs):
        with displaying():
            return super()._repr_mimebundle_(**kwargs)

    # ------------------------------------------------------------------ configuration

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = [int(s) for s in sizes]
        if any(s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return sizes

    def _is_stochastic(self):
        return self.solver != "lbfgs"

    def _net_spec(self, n_hidden):
        activations = _per_layer(self.activation, n_hidden, "activation")
        for a in activations:
            if a not in HIDDEN_ACTIVATIONS:
                raise ValueError(f"Unknown activation {a!r}; choose from "
                                 f"{sorted(HIDDEN_ACTIVATIONS)}.")
        rates = self._dropout_rates(n_hidden)
        return NetSpec(activations=activations, out_activation=self.out_activation_,
                       batch_norm=bool(self.batch_norm), dropout=any(r > 0 for r in rates))

    def _dropout_rates(self, n_hidden):
        rates = tuple(float(r) for r in _per_layer(self.dropout, n_hidden, "dropout"))
        if any(not 0.0 <= r < 1.0 for r in rates):
            raise ValueError(f"dropout rates must be in [0, 1), got {rates}.")
        if any(rates) and not self._is_stochastic():
            raise ValueError("dropout needs a stochastic solver; solver='lbfgs' minimises a "
                             "deterministic full-batch loss.")
        return rates

    def _sklearn_init_factor(self):
        # scikit-learn uses factor 2 instead of 6 when the (single) activation is logistic.
        return 2.0 if self.activation == "logistic" else 6.0

    def _loss_name(self):
        if self.loss == "log_loss" and self.out_activation_ == "logistic":
            return "binary_log_loss"
        return self.loss

    def _train_spec(self, n_hidden, batch_size):
        solver = self.solver
        return TrainSpec(
            net=self._net_spec(n_hidden),
            loss=self._loss_name(),
            penalty=self.penalty,
            solver="custom" if _is_optax(solver) else solver,
            # only the momentum solvers read it: elsewhere it must not split the compile cache
            nesterov=bool(self.nesterovs_momentum) and solver in ("sgd", "rmsprop"),
            batch_size=int(batch_size),
            score="accuracy" if is_classifier(self) else "r2",
            optimizer=CustomSolver(solver) if _is_optax(solver) else None,
        )

    def _hparams(self, n_hidden, learning_rate):
        hp = {
            "learning_rate": learning_rate,
            "alpha": 0.0 if self.solver == "adamw" else self.alpha,
            "weight_decay": self.alpha,
            "l1_ratio": self.l1_ratio,
            "momentum": self.momentum,
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "bn_momentum": _BN_MOMENTUM,
            "huber_delta": getattr(self, "huber_delta", 1.0),
        }
        rates = self._dropout_rates(n_hidden)
        if any(rates):
            hp["dropout"] = np.asarray(rates)
        return hp

    def _resolve_compute_dtype(self, X):
        """'auto' trains in X's dtype, as scikit-learn does; float64 runs under scoped x64."""
        if self.compute_dtype == "auto":
            return np.dtype(X.dtype)
        return np.dtype(self.compute_dtype)

    # ------------------------------------------------------------------ fitting

    def _initialize(self, y, layer_units, dtype, random_state):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._output_activation()
        params, model_state = network.init_params(
            random_state, layer_units, scheme=self.weight_init,
            sklearn_factor=self._sklearn_init_factor(), batch_norm=bool(self.batch_norm),
            dtype=np.float64)
        self._best_params = None  # early stopping's best (params, model_state), as NumPy
        self._set_params_from_tree(params, model_state, dtype)
        if self._is_stochastic():
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.validation_loss_curve_ = None
                self.best_validation_score_ = None

    def _param_tree(self, dtype):
        """coefs_ and friends as the pytree the core trains, in the compute dtype."""
        params = {"coefs": [np.asarray(c, dtype) for c in self.coefs_],
                  "intercepts": [np.asarray(b, dtype) for b in self.intercepts_]}
        model_state = {}
        if self.batch_norm:
            params["bn_scale"] = [np.asarray(s, dtype) for s in self.batch_norm_scales_]
            params["bn_shift"] = [np.asarray(s, dtype) for s in self.batch_norm_shifts_]
            model_state = {"bn_mean": [np.asarray(m, dtype) for m in self.batch_norm_means_],
                           "bn_var": [np.asarray(v, dtype) for v in self.batch_norm_vars_]}
        return params, model_state

    @staticmethod
    def _fitted_arrays(params, model_state, dtype):
        """The fitted-attribute arrays of a training state: writable NumPy arrays in the
        dtype of X."""
        def conv(arrays):
            return [np.array(a, dtype=dtype) for a in arrays]

        attrs = {"coefs_": conv(params["coefs"]), "intercepts_": conv(params["intercepts"])}
        if "bn_scale" in params:
            attrs.update(batch_norm_scales_=conv(params["bn_scale"]),
                         batch_norm_shifts_=conv(params["bn_shift"]),
                         batch_norm_means_=conv(model_state["bn_mean"]),
                         batch_norm_vars_=conv(model_state["bn_var"]))
        return attrs

    def _set_params_from_tree(self, params, model_state, dtype):
        """Fitted state is NumPy: writable arrays in the dtype of X."""
        for name, value in self._fitted_arrays(params, model_state, dtype).items():
            setattr(self, name, value)

    def _fit(self, X, y, sample_weight=None, incremental=False, plan=False):
        """Fit; with ``plan=True`` (a stochastic, non-incremental fit only) stop before the
        first epoch and return the ``_training.Run`` instead, for a model stack to train."""
        hidden_sizes = self._hidden_sizes()
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y, y_raw = self._validate_input(X, y, incremental, reset=first_pass)
        n_samples, n_features = X.shape
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        sample_weight = self._apply_class_weight(y_raw, sample_weight, incremental)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        layer_units = [n_features, *hidden_sizes, y.shape[1]]
        if not first_pass:
            expected = [c.shape[0] for c in self.coefs_] + [self.coefs_[-1].shape[1]]
            if expected != layer_units:
                raise ValueError(
                    f"The network has layer sizes {expected} but this call needs {layer_units}: "
                    "hidden_layer_sizes, the number of features or of outputs changed since the "
                    "last fit. Set warm_start=False to start afresh.")
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        self._check_custom_solver()
        # scikit-learn's callbacks (sklearn.callback): one subtask per epoch, or none for
        # L-BFGS, whose iterations run inside scipy.
        skl_ctx = callback_context(
            self, (1 if incremental else self.max_iter) if self._is_stochastic() else 0)
        if skl_ctx is not None:
            skl_ctx.call_on_fit_task_begin(
                estimator=self, X=X, y=y_raw,
                metadata=None if sample_weight is None else {"sample_weight": sample_weight})

        # One RandomState drawn in scikit-learn's order (initial weights, validation split,
        # epoch shuffles), so a seed starts and shuffles as scikit-learn's MLP does.
        random_state = check_random_state(self.random_state)
        # a name, not an np.dtype: a fitted model holds only plain values and arrays (skops)
        self._train_dtype = self._resolve_compute_dtype(X).name
        X, layout = choose_layout(X, self.input_layout)
        _per_layer(self.activation, len(hidden_sizes), "activation")
        self._dropout_rates(len(hidden_sizes))  # per-layer settings, before any weight is drawn
        with jax.enable_x64(self._train_dtype == "float64"), \
                _programs.report_compiles(bool(self.verbose)):
            if first_pass:
                self._initialize(y, layer_units, X.dtype, random_state)
            self.input_layout_ = layout
            if plan:
                run = self._prepare_stochastic(X, y, sample_weight, random_state, False,
                                               layout)
                run.watch(skl_ctx, X, y_raw)
                return run
            if self._is_stochastic():
                self._fit_stochastic(X, y, sample_weight, random_state, incremental, layout,
                                     (skl_ctx, X, y_raw))
            else:
                self._fit_lbfgs(X, y, sample_weight, layout)
                _end_callbacks(self, skl_ctx, X, y_raw)
        return self

    def _fit_lbfgs(self, X, y, sample_weight, layout):
        n_hidden = len(self.coefs_) - 1
        dtype = np.dtype(self._train_dtype)
        n_samples = X.shape[0]
        if layout == "sparse" and not self.batch_norm:  # see full_batch_value_and_grad
            chunk = min(_LBFGS_SPARSE_CHUNK, n_samples)
            n_rows = n_padded_rows(n_samples, chunk)
        else:
            n_rows = chunk = bucket(n_samples)
        spec = self._train_spec(n_hidden, batch_size=chunk)
        data = device_arrays(X, y, sample_weight, n_rows, dtype, layout)
        hp = hparams_to_device(self._hparams(n_hidden, self.learning_rate_init), dtype)
        params, model_state = self._param_tree(dtype)

        def value_and_grad(p):
            return _programs.full_batch_value_and_grad(p, model_state, data, hp, spec)

        iprint = 1 if self.verbose is True or self.verbose >= 1 else -1
        new_params, loss, result = lbfgs.minimize(
            value_and_grad, params, max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol,
            extra_options=lbfgs_print_options(iprint))
        if new_params is None:  # nothing finite learned: fail, and restore
            raise ValueError(_training.NON_FINITE_MESSAGE)
        if loss != result.fun:
            warnings.warn(f"The training loss became {result.fun} in L-BFGS; the finite "
                          f"parameters of lowest loss ({loss:.6g}) were kept. Scale the inputs "
                          f"(StandardScaler) or raise alpha.", ConvergenceWarning)
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = loss
        if self.batch_norm:
            model_state = self._full_batch_statistics(new_params, model_state, data, hp, spec)
        self._set_params_from_tree(new_params, jax.device_get(model_state), X.dtype)

    @staticmethod
    def _full_batch_statistics(params, model_state, data, hp, spec):
        """Running statistics = the full training set's, for the full-batch solver."""
        from ._core.network import forward

        X, _, w, _ = data
        hp = dict(hp, bn_momentum=np.zeros((), hp["bn_momentum"].dtype))
        _, state = forward(params, model_state, X, spec.net, train=True, weight=w, hparams=hp)
        return state

    def _validation_split(self, X, y, sample_weight, random_state):
        should_stratify = is_classifier(self) and self.n_outputs_ == 1
        stratify = y if should_stratify else None
        if sample_weight is None:
            X_train, X_val, y_train, y_val = train_test_split(
                X, y, random_state=random_state, test_size=self.validation_fraction,
                stratify=stratify)
            sw_train = sw_val = None
        else:
            X_train, X_val, y_train, y_val, sw_train, sw_val = train_test_split(
                X, y, sample_weight, random_state=random_state,
                test_size=self.validation_fraction, stratify=stratify)
        if X_val.shape[0] < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                             "or the size of your dataset.")
        return X_train, y_train, sw_train, X_val, y_val, sw_val

    def _fit_stochastic(self, X, y, sample_weight, random_state, incremental, layout,
                        watched=(None, None, None)):
        run = self._prepare_stochastic(X, y, sample_weight, random_state, incremental, layout)
        run.watch(*watched)
        with _DeferredInterrupt() as interrupt:
            (state,) = _training.train([run], interrupt)
        self._finish_stochastic(run, state, interrupt.requested)

    def _prepare_stochastic(self, X, y, sample_weight, random_state, incremental, layout):
        """Everything a stochastic fit needs before its first epoch, as a ``_training.Run``:
        the validation split, padded host arrays, the initial training state and schedule."""
        n_hidden = len(self.coefs_) - 1
        dtype = np.dtype(self._train_dtype)
        early_stopping = self.early_stopping
        if early_stopping:
            X, y, sample_weight, X_val, y_val, sw_val = self._validation_split(
                X, y, sample_weight, random_state)
            val_data = padded_arrays(X_val, y_val, sw_val, bucket(X_val.shape[0]), dtype,
                                     layout)
        else:
            val_data = None
        n_samples = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                              "going to be clipped")
            batch_size = int(np.clip(self.batch_size, 1, n_samples))

        spec = self._train_spec(n_hidden, batch_size)
        params, model_state = self._param_tree(dtype)
        def init_opt_state(params, compiled=True):
            if spec.optimizer is not None:
                return spec.optimizer.tx.init(params)
            if not compiled:  # traced, for its structure only
                return optim.init_opt_state(spec.solver, params, spec.nesterov)
            return _programs.init_opt_state(params=params, solver=spec.solver,
                                            nesterov=spec.nesterov)

        # The optimizer state is kept as a plain list of arrays (no optax types in a fitted
        # model, so skops can load it without trusting them); the structure is rebuilt here.
        saved = getattr(self, "_optimizer_state", None) if incremental else None
        structure = None if saved is None else jax.tree_util.tree_structure(
            jax.eval_shape(functools.partial(init_opt_state, compiled=False), params))
        if saved is None or len(saved) != structure.num_leaves:
            self._lr_schedule = LearningRateSchedule(
                self.learning_rate, self.learning_rate_init, self.power_t, self.max_iter,
                self.warmup_epochs)
            opt_state = jax.device_get(init_opt_state(params))
        else:
            opt_state = jax.tree_util.tree_unflatten(structure, [
                a.astype(dtype) if np.issubdtype(a.dtype, np.floating) else a for a in saved])
        n_rows = n_padded_rows(n_samples, batch_size)
        data = padded_arrays(X, y, sample_weight, n_rows, dtype, layout)
        key = None
        if spec.net.dropout:  # drawn only when needed: the default path keeps scikit-learn's draws
            # threefry: its bits do not change under vmap, so a stacked model draws its own masks
            seed = random_state.randint(np.iinfo(np.int32).max)
            key = jax.random.key(seed, impl="threefry2x32")
        best = self._best_params
        if early_stopping and best is None:
            best = (params, model_state)
        self.n_iter_ = 0
        run = _training.Run(
            self, spec=spec, dtype=dtype, data=data, val_data=val_data,
            state=TrainState(params, model_state, opt_state, key),
            hparams=self._hparams(n_hidden, self._lr_schedule.learning_rate),
            random_state=random_state, n_samples=n_samples, n_rows=n_rows,
            incremental=incremental, best=best, callbacks=self._callback_list())
        run.out_dtype = X.dtype  # fitted attributes are in the dtype of X
        return run

    def _finish_stochastic(self, run, state, interrupted):
        """Fitted attributes from a run's final state (or its error)."""
        if run.error is not None:
            raise run.error
        if interrupted:
            warnings.warn("Training interrupted by user.")
        self._optimizer_state = [np.asarray(a) for a in
                                 jax.tree_util.tree_leaves(jax.device_get(state.opt_state))]
        params, model_state = state.params, state.model_state
        if run.val_data is not None:
            self._best_params = run.best
            params, model_state = run.best
        self._set_params_from_tree(jax.device_get(params), jax.device_get(model_state),
                                   run.out_dtype)
        _end_callbacks(self, run.skl_ctx, run.fit_X, run.fit_y)

    def _replay_callbacks(self, X, y, sample_weight):
        """Report a fit that a model stack already trained to scikit-learn's callbacks (a
        search propagates them only now): its epochs, then the fitted model."""
        skl_ctx = callback_context(self, self.n_iter_)
        if skl_ctx is None:
            return
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        skl_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
        for _ in range(self.n_iter_):
            epoch = skl_ctx.subcontext(task_name="epoch")
            epoch.call_on_fit_task_begin(estimator=self, X=X, y=y)
            epoch.call_on_fit_task_end(estimator=self, X=X, y=y)
        _end_callbacks(self, skl_ctx, X, y)

    def _check_custom_solver(self):
        """An optax transformation brings its own learning rate: skmlp's schedule cannot
        reach inside it, so asking for one is an error rather than a silent no-op."""
        if not _is_optax(self.solver):
            return
        asked = []
        if self.learning_rate != "constant":
            asked.append(f"learning_rate={self.learning_rate!r}")
        if self.warmup_epochs:
            asked.append(f"warmup_epochs={self.warmup_epochs}")
        if asked:
            raise ValueError(
                f"{' and '.join(asked)} cannot be applied to a custom optax solver, which "
                f"sets its own learning rate. Build the schedule into the transformation "
                f"instead, e.g. optax.adam(optax.schedules.warmup_cosine_decay_schedule(...)),"
                f" or use a built-in solver name such as solver='adam'.")

    def _callback_list(self):
        cb = self.callbacks
        if cb is None:
            return []
        return [cb] if callable(cb) else list(cb)

    def _run_callbacks(self, callbacks, host_state, metrics, lr):
        """Run user callbacks after an epoch; True when any asks to stop.

        ``host_state`` is this epoch's ``(params, model_state)`` as host arrays."""
        params, model_state = host_state
        self._set_params_from_tree(params, model_state, self.coefs_[0].dtype)
        # A custom optax solver applies its own rate, which skmlp cannot see.
        figures = {"epoch": self.n_iter_, "loss": self.loss_,
                   "learning_rate": None if _is_optax(self.solver) else lr}
        if "val_score" in metrics:
            figures["validation_score"] = float(metrics["val_score"])
            figures["validation_loss"] = float(metrics["val_loss"])
        stop = False
        for callback in callbacks:
            stop = bool(callback(self, figures)) or stop
        return stop

    def _apply_class_weight(self, y_raw, sample_weight, incremental):
        return sample_weight

    @_fit_context(prefer_skip_nested_validation=True)
    @_restore_on_error
    def fit(self, X: MatrixLike, y: ArrayLike, sample_weight: ArrayLike | None = None
            ) -> Self:
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Returns a trained MLP model.
        """
        from .model_selection._stacked import take_prefitted

        if take_prefitted(self, X, y, sample_weight):  # trained already, in a model stack
            self._replay_callbacks(X, y, sample_weight)
            return self
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self):
        if not self._is_stochastic():
            raise AttributeError("partial_fit is only available for stochastic optimizers. "
                                 "%s is not stochastic." % self.solver)
        return True

    # ------------------------------------------------------------------ prediction

    def _forward_pass_fast(self, X, check_input=True):
        """Predictions after the output activation, computed with NumPy on the host."""
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        n_hidden = self.n_layers_ - 2
        activations = _per_layer(self.activation, n_hidden, "activation")
        h = X
        for i in range(n_hidden):
            h = safe_sparse_dot(h, self.coefs_[i])
            h += self.intercepts_[i]
            if self.batch_norm:
                h = (h - self.batch_norm_means_[i]) / np.sqrt(self.batch_norm_vars_[i] + BN_EPSILON)
                h = h * self.batch_norm_scales_[i] + self.batch_norm_shifts_[i]
            h = NUMPY_ACTIVATIONS[activations[i]](h)
        h = safe_sparse_dot(h, self.coefs_[-1])
        h += self.intercepts_[-1]
        return NUMPY_ACTIVATIONS[self.out_activation_](h)

    def summary(self) -> "ModelSummary":
        """The layers as a table: output widths and parameter counts, with the totals.

        Trainable parameters are those training updates (weights, biases, batch-norm scales
        and shifts); non-trainable ones are batch norm's running means and variances, counted
        apart as Keras's ``model.summary()`` does.

        Returns
        -------
        table : ModelSummary
            A ``str`` (one row per layer, then the totals) that displays as the table when
            echoed in a REPL or notebook.
        """
        check_is_fitted(self)
        n_hidden = self.n_layers_ - 2
        activations = _per_layer(self.activation, n_hidden, "activation")
        rates = _per_layer(self.dropout, n_hidden, "dropout")
        rows = [("input", "", self.coefs_[0].shape[0], 0, 0)]
        for i in range(self.n_layers_ - 1):
            n_params = self.coefs_[i].size + self.intercepts_[i].size
            n_fixed = 0
            if i < n_hidden:
                extra = [activations[i]]
                if self.batch_norm:
                    n_params += self.batch_norm_scales_[i].size + self.batch_norm_shifts_[i].size
                    n_fixed = self.batch_norm_means_[i].size + self.batch_norm_vars_[i].size
                    extra.append("batch norm")
                if rates[i]:
                    extra.append(f"dropout {rates[i]:g}")
                name, detail = f"hidden {i + 1}", ", ".join(extra)
            else:
                name, detail = "output", self.out_activation_
            rows.append((name, detail, self.coefs_[i].shape[1], n_params + n_fixed, n_fixed))
        trainable = sum(r[3] - r[4] for r in rows)
        fixed = sum(r[4] for r in rows)
        table = [("layer", "activation", "width", "parameters")]
        table += [(n, d, str(w), f"{p:,}") for n, d, w, p, _ in rows]
        widths = [max(len(r[j]) for r in table) for j in range(4)]

        def fmt(r):
            return (f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  "
                    f"{r[3]:>{widths[3]}}").rstrip()

        rule = "-" * (sum(widths) + 6)
        lines = [f"{type(self).__name__}", fmt(table[0]), rule, *map(fmt, table[1:]), rule,
                 f"Total params: {trainable + fixed:,}",
                 f"Trainable params: {trainable:,}",
                 f"Non-trainable params: {fixed:,}"]
        return ModelSummary("\n".join(lines))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier, trained by compiled JAX programs.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: the same
    parameters, defaults, fitted attributes and methods, plus the extras listed below.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element represents the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', 'elu', 'selu', \
'gelu', 'softplus', 'silu'} or list of those, default='relu'
        Activation of the hidden layers; a list gives one per hidden layer.
    solver : {'lbfgs', 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'} or \
optax.GradientTransformation, default='adam'
        The solver for weight optimization. An optax transformation is used as given (its
        own learning rate and schedule apply; ``learning_rate_init`` is then ignored, and
        ``learning_rate`` other than 'constant' or ``warmup_epochs`` > 0 raise a ValueError:
        build the schedule into the transformation with ``optax.schedules``).
    alpha : float, default=0.0001
        Strength of the weight penalty (see ``penalty``); for 'adamw' the decoupled weight
        decay instead.
    batch_size : int or 'auto', default='auto'
        Size of minibatches for stochastic optimizers; 'auto' is ``min(200, n_samples)``.
    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine'}, default='constant'
        Learning rate schedule for every stochastic solver (scikit-learn applies it to
        'sgd' only).
    learning_rate_init : float, default=0.001
        The initial learning rate.
    power_t : float, default=0.5
        The exponent for inverse scaling learning rate.
    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations ('lbfgs').
    shuffle : bool, default=True
        Whether to shuffle samples in each epoch.
    random_state : int, RandomState instance, default=None
        Determines weight initialisation, shuffling, dropout and the validation split.
    tol : float, default=1e-4
        Tolerance for the optimization.
    verbose : bool, default=False
        Whether to print progress messages to stdout.
    warm_start : bool, default=False
        Reuse the solution of the previous call to fit as initialization.
    momentum : float, default=0.9
        Momentum for 'sgd' (and 'rmsprop').
    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum.
    early_stopping : bool, default=False
        Whether to stop when the validation score is not improving.
    validation_fraction : float, default=0.1
        The proportion of training data to set aside as validation set.
    beta_1 : float, default=0.9
        Exponential decay rate for the first moment estimates in adam.
    beta_2 : float, default=0.999
        Exponential decay rate for the second moment estimates in adam.
    epsilon : float, default=1e-8
        Value for numerical stability in adam.
    n_iter_no_change : int, default=10
        Maximum number of epochs to not meet ``tol`` improvement.
    max_fun : int, default=15000
        Maximum number of loss function calls ('lbfgs' only).
    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.
    dropout : float or list of float, default=0.0
        Inverted-dropout rate after each hidden activation, while training only.
    batch_norm : bool, default=False
        Batch normalization before each hidden activation.
    penalty : {'l2', 'l1', 'elasticnet'}, default='l2'
        The weight penalty scaled by ``alpha``.
    l1_ratio : float, default=0.15
        The L1 share of the 'elasticnet' penalty.
    weight_init : {'auto', 'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', \
'lecun_normal'}, default='auto'
        Weight initialisation; 'auto' is scikit-learn's scheme.
    warmup_epochs : int, default=0
        Epochs of linear learning-rate warm-up.
    callbacks : callable or list of callables, default=None
        Called after each epoch as ``callback(estimator, figures)``; returning True stops.
    compute_dtype : {'auto', 'float32', 'float64'}, default='auto'
        Precision of training. 'auto' trains in the dtype of ``X`` as scikit-learn does
        (float64 data under a scoped ``jax.enable_x64``, never a global switch);
        'float32' trains float64 data in float32, up to twice as fast on large layers.
    input_layout : {'auto', 'sparse', 'dense'}, default='auto'
        How training lays out ``X``. 'sparse' keeps only each row's non-zeros (the first
        layer then costs O(nnz x width), and the dense matrix is never built); 'dense' uses
        the full matrix. 'auto' trains sparse when a row's non-zeros, padded to the longest
        row, fill at most 4% of the features (one-hot and bag-of-words data, sparse or a
        mostly-zero dense table), dense otherwise. The result is the same either way.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output.
    loss_ : float
        The current loss computed with the loss function.
    best_loss_ : float or None
        The minimum loss reached by the solver throughout fitting.
    loss_curve_ : list of shape (``n_iter_``,)
        The loss at the end of each training epoch.
    validation_scores_ : list of shape (``n_iter_``,) or None
        The score at each epoch on the validation set (early stopping only).
    validation_loss_curve_ : list of shape (``n_iter_``,) or None
        The loss at each epoch on the validation set (early stopping only).
    best_validation_score_ : float or None
        The best validation score (early stopping only).
    t_ : int
        The number of training samples seen by the solver during fitting.
    coefs_ : list of shape (n_layers - 1,)
        The ith element is the weight matrix of layer i.
    intercepts_ : list of shape (n_layers - 1,)
        The ith element is the bias vector of layer i + 1.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit (only when X has string feature names).
    n_iter_ : int
        The number of iterations the solver has run.
    n_layers_ : int
        Number of layers.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Name of the output activation function.
    input_layout_ : {'sparse', 'dense'}
        The layout the last fit trained on (see ``input_layout``).
    batch_norm_scales_, batch_norm_shifts_ : list of ndarray
        Learned batch-norm scale and shift per hidden layer (``batch_norm=True`` only).
    batch_norm_means_, batch_norm_vars_ : list of ndarray
        Running batch-norm statistics used at predict time (``batch_norm=True`` only).

    See Also
    --------
    MLPRegressor : Multi-layer perceptron regressor.
    sklearn.neural_network.MLPClassifier : The NumPy implementation this one mirrors.

    Notes
    -----
    Training runs in the dtype of ``X`` by default (``compute_dtype='auto'``); pass
    ``compute_dtype='float32'`` to train float64 data in float32. ``coefs_`` are always
    returned in the dtype of ``X``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skmlp import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(20,), max_iter=500, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        solver: Solver = "adam",
        alpha: float = 0.0001,
        batch_size: int | Literal['auto'] = "auto",
        learning_rate: Literal['constant', 'invscaling', 'adaptive', 'cosine'] = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: RandomState = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        class_weight: dict[Any, float] | Literal['balanced'] | None = None,
        dropout: float | Sequence[float] = 0.0,
        batch_norm: bool = False,
        penalty: Literal['l2', 'l1', 'elasticnet'] = "l2",
        l1_ratio: float = 0.15,
        weight_init: str = "auto",
        warmup_epochs: int = 0,
        callbacks: Callback | Sequence[Callback] | None = None,
        compute_dtype: Literal['auto', 'float32', 'float64'] = "auto",
        input_layout: Literal['auto', 'sparse', 'dense'] = "auto",
    ) -> None:
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            loss="log_loss", shuffle=shuffle, random_state=random_state, tol=tol,
            verbose=verbose, warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
            dropout=dropout, batch_norm=batch_norm, penalty=penalty, l1_ratio=l1_ratio,
            weight_init=weight_init, warmup_epochs=warmup_epochs, callbacks=callbacks,
            compute_dtype=compute_dtype, input_layout=input_layout)
        self.class_weight = class_weight

    def _output_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            binarizer = LabelBinarizer().fit(y)
        else:
            binarizer = self._label_binarizer
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {classes}.")
        # Only now, with the input known good, does the estimator change.
        self._label_binarizer = binarizer
        self.classes_ = binarizer.classes_
        return X, binarizer.transform(y).astype(bool), y

    def _apply_class_weight(self, y_raw, sample_weight, incremental):
        if self.class_weight is None:
            return sample_weight
        if incremental and self.class_weight == "balanced":
            raise ValueError("class_weight 'balanced' is not supported for partial_fit: the "
                             "class frequencies of the whole dataset are unknown. Pass a dict.")
        cw = compute_sample_weight(self.class_weight, y_raw)
        return cw if sample_weight is None else cw * sample_weight

    def predict(self, X: MatrixLike) -> np.ndarray:
        """Predict using the multi-layer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    @_restore_on_error
    def partial_fit(self, X: MatrixLike, y: ArrayLike, sample_weight: ArrayLike | None = None,
                    classes: ArrayLike | None = None) -> Self:
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit; required in the first call.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        if _check_partial_fit_first_call(self, classes):
            binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                binarizer.fit(y)
            else:
                binarizer.fit(classes)
            self._label_binarizer = binarizer
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_log_proba(self, X: MatrixLike) -> np.ndarray:
        """Return the log of probability estimates.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            The predicted log-probability of the sample for each class in the model.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X: MatrixLike) -> np.ndarray:
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The predicted probability of the sample for each class in the model.
        """
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, trained by compiled JAX programs.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`; see
    :class:`MLPClassifier` for the parameters both share.

    Parameters
    ----------
    loss : {'squared_error', 'poisson', 'absolute_error', 'huber'}, default='squared_error'
        The loss function. For several outputs the squared error is summed over outputs,
        matching the gradient scikit-learn uses.
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element represents the number of neurons in the ith hidden layer.
    activation : str or list of str, default='relu'
        Activation of the hidden layers (see :class:`MLPClassifier`).
    solver : {'lbfgs', 'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'} or \
optax.GradientTransformation, default='adam'
        The solver for weight optimization.
    alpha : float, default=0.0001
        Strength of the weight penalty.
    batch_size : int or 'auto', default='auto'
        Size of minibatches for stochastic optimizers.
    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine'}, default='constant'
        Learning rate schedule for the stochastic solvers.
    learning_rate_init : float, default=0.001
        The initial learning rate.
    power_t : float, default=0.5
        The exponent for inverse scaling learning rate.
    max_iter : int, default=200
        Maximum number of epochs or iterations.
    shuffle : bool, default=True
        Whether to shuffle samples in each epoch.
    random_state : int, RandomState instance, default=None
        Determines initialisation, shuffling, dropout and the validation split.
    tol : float, default=1e-4
        Tolerance for the optimization.
    verbose : bool, default=False
        Whether to print progress messages to stdout.
    warm_start : bool, default=False
        Reuse the solution of the previous call to fit as initialization.
    momentum : float, default=0.9
        Momentum for 'sgd' (and 'rmsprop').
    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum.
    early_stopping : bool, default=False
        Whether to stop when the validation score is not improving.
    validation_fraction : float, default=0.1
        The proportion of training data to set aside as validation set.
    beta_1 : float, default=0.9
        Exponential decay rate for the first moment estimates in adam.
    beta_2 : float, default=0.999
        Exponential decay rate for the second moment estimates in adam.
    epsilon : float, default=1e-8
        Value for numerical stability in adam.
    n_iter_no_change : int, default=10
        Maximum number of epochs to not meet ``tol`` improvement.
    max_fun : int, default=15000
        Maximum number of loss function calls ('lbfgs' only).
    huber_delta : float, default=1.0
        Where the 'huber' loss turns from quadratic to linear.
    output_activation : {'relu', 'softplus', 'logistic', 'tanh'} or None, default=None
        Output activation for bounded or positive targets; None is the identity ('exp' for
        the Poisson loss).
    dropout : float or list of float, default=0.0
        Inverted-dropout rate after each hidden activation, while training only.
    batch_norm : bool, default=False
        Batch normalization before each hidden activation.
    penalty : {'l2', 'l1', 'elasticnet'}, default='l2'
        The weight penalty scaled by ``alpha``.
    l1_ratio : float, default=0.15
        The L1 share of the 'elasticnet' penalty.
    weight_init : str, default='auto'
        Weight initialisation (see :class:`MLPClassifier`).
    warmup_epochs : int, default=0
        Epochs of linear learning-rate warm-up.
    callbacks : callable or list of callables, default=None
        Called after each epoch as ``callback(estimator, figures)``; returning True stops.
    compute_dtype : {'auto', 'float32', 'float64'}, default='auto'
        Precision of training; 'auto' follows the dtype of ``X``.
    input_layout : {'auto', 'sparse', 'dense'}, default='auto'
        How training lays out ``X``: only its non-zeros ('sparse'), the full matrix ('dense'),
        or whichever is cheaper ('auto'; see :class:`MLPClassifier`).

    Attributes
    ----------
    loss_ : float
        The current loss computed with the loss function.
    best_loss_ : float or None
        The minimum loss reached by the solver throughout fitting.
    loss_curve_ : list of shape (``n_iter_``,)
        The loss at the end of each training epoch.
    validation_scores_ : list of shape (``n_iter_``,) or None
        The R^2 at each epoch on the validation set (early stopping only).
    validation_loss_curve_ : list of shape (``n_iter_``,) or None
        The loss at each epoch on the validation set (early stopping only).
    best_validation_score_ : float or None
        The best validation score (early stopping only).
    t_ : int
        The number of training samples seen by the solver during fitting.
    coefs_ : list of shape (n_layers - 1,)
        The ith element is the weight matrix of layer i.
    intercepts_ : list of shape (n_layers - 1,)
        The ith element is the bias vector of layer i + 1.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit (only when X has string feature names).
    n_iter_ : int
        The number of iterations the solver has run.
    n_layers_ : int
        Number of layers.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Name of the output activation function.
    input_layout_ : {'sparse', 'dense'}
        The layout the last fit trained on (see ``input_layout``).
    batch_norm_scales_, batch_norm_shifts_ : list of ndarray
        Learned batch-norm scale and shift per hidden layer (``batch_norm=True`` only).
    batch_norm_means_, batch_norm_vars_ : list of ndarray
        Running batch-norm statistics used at predict time (``batch_norm=True`` only).

    See Also
    --------
    MLPClassifier : Multi-layer perceptron classifier.
    sklearn.neural_network.MLPRegressor : The NumPy implementation this one mirrors.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skmlp import MLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    >>> reg = MLPRegressor(max_iter=50, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson", "absolute_error", "huber"})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "output_activation": [StrOptions({"relu", "softplus", "logistic", "tanh"}), None],
    }

    def __init__(
        self,
        loss: Literal['squared_error', 'poisson', 'huber'] = "squared_error",
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        solver: Solver = "adam",
        alpha: float = 0.0001,
        batch_size: int | Literal['auto'] = "auto",
        learning_rate: Literal['constant', 'invscaling', 'adaptive', 'cosine'] = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: RandomState = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        huber_delta: float = 1.0,
        output_activation: str | None = None,
        dropout: float | Sequence[float] = 0.0,
        batch_norm: bool = False,
        penalty: Literal['l2', 'l1', 'elasticnet'] = "l2",
        l1_ratio: float = 0.15,
        weight_init: str = "auto",
        warmup_epochs: int = 0,
        callbacks: Callback | Sequence[Callback] | None = None,
        compute_dtype: Literal['auto', 'float32', 'float64'] = "auto",
        input_layout: Literal['auto', 'sparse', 'dense'] = "auto",
    ) -> None:
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            loss=loss, shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun, dropout=dropout, batch_norm=batch_norm, penalty=penalty,
            l1_ratio=l1_ratio, weight_init=weight_init, warmup_epochs=warmup_epochs,
            callbacks=callbacks, compute_dtype=compute_dtype, input_layout=input_layout)
        self.huber_delta = huber_delta
        self.output_activation = output_activation

    def _output_activation(self):
        if self.output_activation is not None:
            return self.output_activation
        return "exp" if self.loss == "poisson" else "identity"

    def predict(self, X: MatrixLike) -> np.ndarray:
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             y_numeric=True, dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError("loss='poisson' requires non-negative y.")
        return X, y, y

    # scikit-learn forgets to call _check_solver here, so its lbfgs regressor offers
    # partial_fit; this one does not.
    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    @_restore_on_error
    def partial_fit(self, X: MatrixLike, y: ArrayLike, sample_weight: ArrayLike | None = None
                    ) -> Self:
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)
