"""``MLPClassifier`` and ``MLPRegressor``: scikit-learn's parameters, targets and methods over
the shared base in ``_base``."""

from collections.abc import Sequence
from numbers import Real
from typing import Any, Literal, Self

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import _BaseMLP, _KnownScoreMixin, _restore_on_error
from ._sklearn_compat import (Interval, StrOptions, _check_partial_fit_first_call,
                              _fit_context)
from ._typing import (ArrayLike, Callback, MatrixLike, OutputActivation, RandomState, Solver,
                      WeightInit)


def _binarize(binarizer, y):
    """``binarizer.transform(y)`` as booleans. The labels of a 1-D ``y`` are checked already
    (by the binarizer's fit, or against ``classes_``), so a comparison with the classes gives
    the same matrix: ``transform`` checked the target's type again, 2 ms of every fit."""
    classes = binarizer.classes_
    if y.ndim == 1 and not binarizer.sparse_output:
        if binarizer.y_type_ == "multiclass":
            return y[:, None] == classes[None, :]
        if binarizer.y_type_ == "binary" and len(classes) == 2:
            return (y == classes[1])[:, None]
    return binarizer.transform(y).astype(bool)


class MLPClassifier(_KnownScoreMixin, ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier, trained by compiled JAX programs.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`: the same
    parameters, defaults, fitted attributes and methods, plus the extras listed below.
    Read more in the :doc:`User Guide </user_guide>`; :ref:`differences` lists every
    deliberate difference from scikit-learn.

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
    n_iter_no_change : int or np.inf, default=10
        Maximum number of epochs to not meet ``tol`` improvement; ``np.inf`` never stops on
        it.
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
        ``figures`` is a dict with ``'epoch'`` (epochs done), ``'loss'`` (the epoch's training
        loss) and ``'learning_rate'`` (None for an optax solver), plus
        ``'validation_score'`` and ``'validation_loss'`` with ``early_stopping``. The
        estimator holds that epoch's weights, so ``predict`` works inside a callback.
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
        n_iter_no_change: int | float = 10,  # an int, or np.inf
        max_fun: int = 15000,
        class_weight: dict[Any, float] | Literal['balanced'] | None = None,
        dropout: float | Sequence[float] = 0.0,
        batch_norm: bool = False,
        penalty: Literal['l2', 'l1', 'elasticnet'] = "l2",
        l1_ratio: float = 0.15,
        weight_init: WeightInit = "auto",
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
        return X, _binarize(binarizer, y), y

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


class MLPRegressor(_KnownScoreMixin, RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, trained by compiled JAX programs.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`: the same
    parameters, defaults, fitted attributes and methods, plus the extras listed below.
    Read more in the :doc:`User Guide </user_guide>`; :ref:`differences` lists every
    deliberate difference from scikit-learn.

    Parameters
    ----------
    loss : {'squared_error', 'poisson', 'absolute_error', 'huber'}, default='squared_error'
        The loss function. For several outputs the squared error is summed over outputs,
        matching the gradient scikit-learn uses.
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
    n_iter_no_change : int or np.inf, default=10
        Maximum number of epochs to not meet ``tol`` improvement; ``np.inf`` never stops on
        it.
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
    weight_init : {'auto', 'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', \
'lecun_normal'}, default='auto'
        Weight initialisation; 'auto' is scikit-learn's scheme.
    warmup_epochs : int, default=0
        Epochs of linear learning-rate warm-up.
    callbacks : callable or list of callables, default=None
        Called after each epoch as ``callback(estimator, figures)``; returning True stops.
        ``figures`` is a dict with ``'epoch'`` (epochs done), ``'loss'`` (the epoch's training
        loss) and ``'learning_rate'`` (None for an optax solver), plus
        ``'validation_score'`` and ``'validation_loss'`` with ``early_stopping``. The
        estimator holds that epoch's weights, so ``predict`` works inside a callback.
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
        loss: Literal['squared_error', 'poisson', 'absolute_error', 'huber'] = "squared_error",
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
        n_iter_no_change: int | float = 10,  # an int, or np.inf
        max_fun: int = 15000,
        huber_delta: float = 1.0,
        output_activation: OutputActivation = None,
        dropout: float | Sequence[float] = 0.0,
        batch_norm: bool = False,
        penalty: Literal['l2', 'l1', 'elasticnet'] = "l2",
        l1_ratio: float = 0.15,
        weight_init: WeightInit = "auto",
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

    def _loss_hparams(self):
        return {"huber_delta": self.huber_delta}

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
