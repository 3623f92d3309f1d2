"""The scikit-learn layer's shared base: parameters, constraints, validation, weights, the
description of a fit, and the fitted attributes (the classes themselves are in
``_estimators``).

Importing it imports neither JAX nor optax: a process that loads a fitted model and predicts
(NumPy, ``_predict``) never needs them; the first fit imports the trainer.

It describes a fit; the trainer (``_training``) runs it, over the compiled programs of
``_programs``, and hands back NumPy results that are copied onto the estimator once. NumPy
prediction lives in ``_predict``, the callbacks in ``_callbacks``, the summary table in
``_display``.
"""

import contextlib
import contextvars
import copy
import functools
from numbers import Integral, Real
from typing import Any, NamedTuple, Self

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _callbacks, _predict
from ._core.formulas import HIDDEN_ACTIVATION_NAMES, STOCHASTIC_SOLVERS
from ._data import check_sparse_structure, choose_layout, one_hot_frame_as_csr
from ._display import ModelSummary, model_summary
from ._optax_repr import displaying, is_displaying, is_optax
from ._prefitted import CALLBACK_ATTRIBUTES, KNOWN_SCORE, known_score, take_prefitted
from ._sklearn_compat import (CallbackSupportMixin, DocLinkMixin, HasMethods, Interval, Options,
                              StrOptions, _check_sample_weight, _fit_context)
from ._typing import ArrayLike, MatrixLike

_BUILTIN_SOLVERS = {"lbfgs", *STOCHASTIC_SOLVERS}
_WEIGHT_INITS = {"auto", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                 "lecun_normal"}
_BN_MOMENTUM = 0.9

# A training record's fields (``_training.History``) and the fitted attributes holding them.
_HISTORY_ATTRIBUTES = {
    "n_iter": "n_iter_", "t": "t_", "loss": "loss_", "loss_curve": "loss_curve_",
    "validation_scores": "validation_scores_",
    "validation_loss_curve": "validation_loss_curve_",
    "best_validation_score": "best_validation_score_", "best_loss": "best_loss_",
    "no_improvement_count": "_no_improvement_count", "schedule": "_lr_schedule",
    "best_weights": "_best_weights", "opt_state": "_optimizer_state",
}
_LBFGS_HISTORY = ("n_iter", "t", "loss")  # L-BFGS records no curves


# While open (``shared_validation``): validated inputs by estimator class, loss and the identity
# of the X and y arrays, with the attributes their validation set.
_VALIDATED: contextvars.ContextVar = contextvars.ContextVar("skmlp_validated", default=None)


@contextlib.contextmanager
def shared_validation():
    """Within this context, fresh estimators of one class and loss that are fitted on the very
    same X and y arrays (a search's candidates of one CV fold) validate them once: the others
    take the validated arrays and a copy of the attributes that validation set
    (``n_features_in_``, ``classes_``, the label binarizer). The caller keeps the arrays alive
    while the context is open (they are known by identity). A 9 x 5 grid validated each fold
    nine times: 0.12 s of preparation became 0.085 s."""
    token = _VALIDATED.set({})
    try:
        yield
    finally:
        _VALIDATED.reset(token)


def _validate_once(est, X, y, incremental, reset):
    """``est._validate_input``, shared within ``shared_validation`` where that is exact: dense
    NumPy X and y (no feature names), a fresh estimator, a first pass."""
    memo = _VALIDATED.get()
    if (memo is None or incremental or not reset or type(X) is not np.ndarray
            or type(y) is not np.ndarray or hasattr(est, "n_features_in_")
            or hasattr(est, "classes_") or not isinstance(est.loss, str)):
        return est._validate_input(X, y, incremental, reset)
    key = (type(est), est.loss, id(X), id(y))
    if key in memo:
        out, changed = memo[key]
        vars(est).update(copy.deepcopy(changed))
        return out
    before = dict(vars(est))
    out = est._validate_input(X, y, incremental, reset)
    changed = {k: v for k, v in vars(est).items() if k not in before or before[k] is not v}
    if all(k in vars(est) for k in before):  # validation only added or replaced attributes
        memo[key] = (out, copy.deepcopy(changed))
    return out


def _restore_on_error(method):
    """A failed or interrupted fit or partial_fit leaves the estimator exactly as it was.

    Errors can surface after new weights were drawn (a setting that conflicts with the data, a
    validation set that is too small, a callback that raises, Ctrl-C while compiling); restoring
    keeps a previously fitted model usable and an unfitted one unfitted. Everything but the
    constructor parameters and scikit-learn's callback contexts is deep-copied first: training
    mutates objects in place (the learning-rate schedule, the optimizer state), and those must
    roll back too.
    """

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        kept = {*self._get_param_names(), *CALLBACK_ATTRIBUTES}  # held, not copied
        before = {k: v if k in kept else copy.deepcopy(v) for k, v in vars(self).items()}
        try:
            return method(self, *args, **kwargs)
        except BaseException:  # KeyboardInterrupt too
            vars(self).clear()
            vars(self).update(before)
            raise

    return guarded


def _training():
    """The trainer (and with it JAX), imported by the first fit."""
    from . import _training

    return _training


class _KnownScoreMixin:
    """``score`` as scikit-learn's classifier and regressor mixins compute it, but for a score
    a search computed already on the same data (``known_score``)."""

    def score(self, X: MatrixLike, y: ArrayLike, sample_weight: ArrayLike | None = None
              ) -> float:
        """Return the model's score on the given test data and targets.

        The mean accuracy for a classifier (the subset accuracy for multilabel targets), the
        coefficient of determination :math:`R^2` for a regressor, as scikit-learn's
        ``ClassifierMixin.score`` and ``RegressorMixin.score`` compute them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels or values for `X`.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Mean accuracy, or :math:`R^2`, of ``self.predict(X)`` with respect to `y`.
        """
        known = known_score(self, X, y, sample_weight)
        if known is not None:
            return known
        # a mixin: the next class in an estimator's MRO is ClassifierMixin or RegressorMixin
        return super().score(X, y, sample_weight=sample_weight)  # type: ignore[misc]


class _FitCall(NamedTuple):
    """One validated call of fit or partial_fit, as the trainer needs it."""

    X: Any  # laid out for training (dense, or CSR for the sparse layout)
    y: Any  # 2-D encoded targets
    y_raw: Any  # the targets as given (callbacks see these)
    sample_weight: Any
    random_state: np.random.RandomState
    layout: str
    activations: tuple  # one per hidden layer
    dropout: tuple  # one rate per hidden layer
    context: Any  # the sklearn.callback fit task, or None


@functools.lru_cache(maxsize=None)
def _param_names(cls):
    return tuple(super(_BaseMLP, cls)._get_param_names())


class _BaseMLP(DocLinkMixin, CallbackSupportMixin, BaseEstimator):
    """Shared implementation of MLPClassifier and MLPRegressor."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(HIDDEN_ACTIVATION_NAMES)), list, tuple],
        # an optax.GradientTransformation (checked by its methods: optax isn't imported yet)
        "solver": [StrOptions(_BUILTIN_SOLVERS), HasMethods(["init", "update"])],
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

    @classmethod
    def _get_param_names(cls):
        # scikit-learn reads them from __init__'s signature on every get_params (0.25 ms: a
        # search's clones, keys and checks call it hundreds of times); a class's signature
        # does not change, so each class reads it once.
        return list(_param_names(cls))

    def get_params(self, deep: bool = True) -> dict:
        params = super().get_params(deep=deep)
        if is_displaying() and is_optax(params.get("solver")):  # a readable stand-in
            from ._optax_repr import readable

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

    def _hidden_activations(self, n_hidden):
        activations = _predict.per_layer(self.activation, n_hidden, "activation")
        for a in activations:
            if a not in HIDDEN_ACTIVATION_NAMES:
                raise ValueError(f"Unknown activation {a!r}; choose from "
                                 f"{sorted(HIDDEN_ACTIVATION_NAMES)}.")
        return activations

    def _dropout_rates(self, n_hidden):
        rates = tuple(float(r) for r in _predict.per_layer(self.dropout, n_hidden, "dropout"))
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

    def _loss_hparams(self):
        """The loss's own runtime hyperparameters (every model carries the same keys)."""
        return {"huber_delta": 1.0}

    def _train_spec(self, activations, dropout):
        """The static description of training, for hidden ``activations`` and ``dropout``
        rates (the trainer sets the batch size)."""
        from ._core.network import NetSpec
        from ._core.optim import CustomSolver
        from ._core.train import TrainSpec

        solver = self.solver
        return TrainSpec(
            net=NetSpec(activations=activations, out_activation=self.out_activation_,
                        batch_norm=bool(self.batch_norm), dropout=any(dropout)),
            loss=self._loss_name(),
            penalty=self.penalty,
            solver="custom" if is_optax(solver) else solver,
            # only the momentum solvers read it: elsewhere it must not split the compile cache
            nesterov=bool(self.nesterovs_momentum) and solver in ("sgd", "rmsprop"),
            score="accuracy" if is_classifier(self) else "r2",
            optimizer=CustomSolver(solver) if is_optax(solver) else None,
        )

    def _hparams(self, dropout):
        """The runtime hyperparameters (a stochastic fit's schedule replaces the rate)."""
        hp = {
            "learning_rate": self.learning_rate_init,
            "alpha": 0.0 if self.solver == "adamw" else self.alpha,
            "weight_decay": self.alpha,
            "l1_ratio": self.l1_ratio,
            "momentum": self.momentum,
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "bn_momentum": _BN_MOMENTUM,
            **self._loss_hparams(),
        }
        if any(dropout):
            hp["dropout"] = np.asarray(dropout)
        return hp

    def _rules(self):
        """What the parameters say about the training loop."""
        return _training().Rules(
            max_iter=self.max_iter, tol=self.tol, n_iter_no_change=self.n_iter_no_change,
            shuffle=self.shuffle, verbose=self.verbose, batch_size=self.batch_size,
            early_stopping=self.early_stopping, validation_fraction=self.validation_fraction,
            stratify=is_classifier(self) and self.n_outputs_ == 1,
            learning_rate=self.learning_rate, learning_rate_init=self.learning_rate_init,
            power_t=self.power_t, warmup_epochs=self.warmup_epochs, max_fun=self.max_fun)

    def _resolve_compute_dtype(self, X):
        """'auto' trains in X's dtype, as scikit-learn does; float64 runs under scoped x64."""
        if self.compute_dtype == "auto":
            return np.dtype(X.dtype)
        return np.dtype(self.compute_dtype)

    def _check_custom_solver(self):
        """An optax transformation brings its own learning rate: skmlp's schedule cannot
        reach inside it, so asking for one is an error rather than a silent no-op."""
        if isinstance(self.solver, str):
            return
        if not is_optax(self.solver):  # the constraint checks methods only: optax may be absent
            raise ValueError(f"solver must be one of {sorted(_BUILTIN_SOLVERS)} or an "
                             f"optax.GradientTransformation, got {self.solver!r}.")
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

    # ------------------------------------------------------------------ fitted state

    def _initialize(self, layer_units, dtype, random_state):
        self.n_outputs_ = layer_units[-1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._output_activation()
        from ._core.network import init_params

        params, model_state = init_params(
            random_state, layer_units, scheme=self.weight_init,
            sklearn_factor=self._sklearn_init_factor(), batch_norm=bool(self.batch_norm),
            dtype=np.float64)
        self._set_weights((params, model_state), dtype)
        self._adopt_history(_training().History.start(self._is_stochastic(),
                                                      self.early_stopping))

    def _set_weights(self, weights, dtype):
        """Fitted state is NumPy: writable arrays in the dtype of X."""
        for name, value in _predict.weight_attributes(*weights, dtype).items():
            setattr(self, name, value)

    def _history(self):
        """The training record of earlier calls, for the trainer to continue."""
        record = {field: copy.copy(getattr(self, attr, None))
                  for field, attr in _HISTORY_ATTRIBUTES.items()}
        return _training().History(**record)

    def _adopt_history(self, history):
        fields = _HISTORY_ATTRIBUTES if self._is_stochastic() else _LBFGS_HISTORY
        for field in fields:
            setattr(self, _HISTORY_ATTRIBUTES[field], getattr(history, field))

    def _show_epoch(self, history, weights):
        """Put a running fit's record and this epoch's weights on the estimator (for the
        callbacks, which are handed the estimator)."""
        self._adopt_history(history)
        self._set_weights(weights, self.coefs_[0].dtype)

    # ------------------------------------------------------------------ a fit, described

    def _describe(self, X, y, sample_weight, incremental):
        """Validate a call of fit or partial_fit and set the estimator up for it (targets,
        initial weights on a first pass); returns what the trainer needs as a ``_FitCall``."""
        hidden_sizes = self._hidden_sizes()
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        frame, X = X, one_hot_frame_as_csr(X)
        if X is None:  # not a one-hot DataFrame
            frame, X = None, frame
        X, y, y_raw = _validate_once(self, X, y, incremental, reset=first_pass)
        if frame is not None:  # its column names, as scikit-learn keeps them
            validate_data(self, frame, reset=first_pass, skip_check_array=True)
        check_sparse_structure(X)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype)
        sample_weight = self._apply_class_weight(y_raw, sample_weight, incremental)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        layer_units = [X.shape[1], *hidden_sizes, y.shape[1]]
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
        context = _callbacks.begin_fit(
            self, (1 if incremental else self.max_iter) if self._is_stochastic() else 0,
            X, y_raw, sample_weight)
        # One RandomState drawn in scikit-learn's order (initial weights, validation split,
        # epoch shuffles), so a seed starts and shuffles as scikit-learn's MLP does.
        random_state = check_random_state(self.random_state)
        # a name, not an np.dtype: a fitted model holds only plain values and arrays (skops)
        self._train_dtype = self._resolve_compute_dtype(X).name
        X, layout = choose_layout(X, self.input_layout)
        # per-layer settings, checked before any weight is drawn
        activations = self._hidden_activations(len(hidden_sizes))
        dropout = self._dropout_rates(len(hidden_sizes))
        if first_pass:
            self._initialize(layer_units, X.dtype, random_state)
        self.input_layout_ = layout
        return _FitCall(X, y, y_raw, sample_weight, random_state, layout, activations, dropout,
                        context)

    def _prepare_run(self, X, y, sample_weight=None, incremental=False):
        """A stochastic fit up to its first epoch, as a ``_training.Run`` (alone, or for a
        model stack to train); ``_complete_run`` takes its result."""
        call = self._describe(X, y, sample_weight, incremental)
        dtype = np.dtype(self._train_dtype)
        callbacks = _callbacks.callback_list(self.callbacks)
        listener = None
        if callbacks or call.context is not None:
            listener = _callbacks.EpochListener(
                self, self._show_epoch, callbacks, call.context, call.X, call.y_raw,
                call.X.dtype, custom_rate=is_optax(self.solver))
        return _training().prepare(
            X=call.X, y=call.y, sample_weight=call.sample_weight,
            random_state=call.random_state, incremental=incremental, layout=call.layout,
            spec=self._train_spec(call.activations, call.dropout), rules=self._rules(),
            dtype=dtype, out_dtype=call.X.dtype, weights=_predict.weight_tree(self, dtype),
            hparams=self._hparams(call.dropout),
            history=self._history(), listener=listener)

    def _complete_run(self, run, weights):
        """Copy a finished run's record and weights onto the estimator, once."""
        self._adopt_history(run.history)
        self._set_weights(weights, run.out_dtype)
        if run.listener is not None:
            _callbacks.end_fit(self, run.listener.context, run.listener.X, run.listener.y)

    def _fit(self, X, y, sample_weight=None, incremental=False):
        vars(self).pop(KNOWN_SCORE, None)  # a search's score of the weights this fit replaces
        if self._is_stochastic():
            run = self._prepare_run(X, y, sample_weight, incremental)
            self._complete_run(run, _training().train_alone(run))
            return self
        call = self._describe(X, y, sample_weight, incremental)
        dtype = np.dtype(self._train_dtype)
        weights, self.loss_, self.n_iter_ = _training().fit_lbfgs(
            X=call.X, y=call.y, sample_weight=call.sample_weight, layout=call.layout,
            spec=self._train_spec(call.activations, call.dropout), rules=self._rules(),
            dtype=dtype, weights=_predict.weight_tree(self, dtype),
            hparams=self._hparams(call.dropout))
        self._set_weights(weights, call.X.dtype)
        _callbacks.end_fit(self, call.context, call.X, call.y_raw)
        return self

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
        if take_prefitted(self, X, y, sample_weight):  # trained already, in a model stack
            _callbacks.replay(self, X, y, sample_weight)
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
            csr = one_hot_frame_as_csr(X)
            if csr is not None:  # a one-hot DataFrame: its names checked, its bytes read once
                validate_data(self, X, reset=False, skip_check_array=True)
            X = validate_data(self, X if csr is None else csr, accept_sparse=["csr", "csc"],
                              reset=False)
            check_sparse_structure(X)
        return _predict.forward(self, X)

    def summary(self) -> ModelSummary:
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
        return model_summary(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
