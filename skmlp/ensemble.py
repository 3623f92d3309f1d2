"""Ensembles of skmlp MLPs trained as one model stack."""

from numbers import Integral
from typing import Self

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._estimators import MLPClassifier, MLPRegressor
from ._sklearn_compat import (DocLinkMixin, Interval, _check_sample_weight, _fit_context,
                              _num_samples)
from ._typing import ArrayLike, MatrixLike


class _BaseMLPEnsemble(DocLinkMixin, BaseEstimator):
    _parameter_constraints: dict = {
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "bootstrap": ["boolean"],
        "n_jobs": [None, Integral],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, n_estimators=10, bootstrap=False, n_jobs=None,
                 random_state=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.bootstrap = bootstrap
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _members(self, n_samples, sample_weight):
        """Member estimators with their own seeds, and their sample weights (bootstrap draws
        as integer weights, times ``sample_weight``)."""
        rs = check_random_state(self.random_state)
        base = clone(self.estimator if self.estimator is not None else self._default())
        seeds = rs.randint(np.iinfo(np.int32).max, size=self.n_estimators)
        members = []
        for seed in seeds:
            weight = sample_weight
            if self.bootstrap:
                counts = np.bincount(rs.randint(n_samples, size=n_samples),
                                     minlength=n_samples).astype(np.float64)
                weight = counts if sample_weight is None else counts * np.asarray(sample_weight)
            members.append((clone(base).set_params(random_state=int(seed)), weight))
        return members

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: MatrixLike, y: ArrayLike, sample_weight: ArrayLike | None = None
            ) -> Self:
        """Fit ``n_estimators`` members, as one model stack when their solver allows it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, given to every member (times its bootstrap counts).

        Returns
        -------
        self : object
            The fitted ensemble.
        """
        from ._stacking import fit_stacked, stackable  # the training path (JAX) starts here

        if sample_weight is not None:  # scikit-learn's checks and messages, before any draw
            sample_weight = _check_sample_weight(sample_weight, X)
        members = self._members(_num_samples(X), sample_weight)
        fits = [(est, X, y, w) for est, w in members]
        if all(stackable(est) for est, _ in members):
            results, _ = fit_stacked(fits, n_jobs=self.n_jobs)
        elif not members[0][0].callbacks:  # lbfgs or an optax object: a task per member
            results, _ = fit_stacked([], n_jobs=self.n_jobs, alone=fits)
        else:  # callbacks run in this process: one fit after another
            results = [est.fit(X, y, sample_weight=w) for est, w in members]
        for result in results:
            if isinstance(result, BaseException):
                raise result
        self.estimators_ = results
        first = results[0]
        self.n_features_in_ = first.n_features_in_
        if hasattr(first, "feature_names_in_"):
            self.feature_names_in_ = first.feature_names_in_
        return self

    def _mean_prediction(self, method, X):
        check_is_fitted(self)
        return np.mean([getattr(est, method)(X) for est in self.estimators_], axis=0)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MLPEnsembleClassifier(ClassifierMixin, _BaseMLPEnsemble):
    """An ensemble of skmlp MLP classifiers, trained as one model stack.

    The members are clones of ``estimator`` with their own ``random_state`` (drawn from this
    ensemble's), optionally trained on bootstrap samples (as integer sample weights). Their
    fits share one compiled program and train together; ``predict_proba`` averages the
    members' probabilities. Read more in :doc:`/search`.

    Parameters
    ----------
    estimator : MLPClassifier, default=None
        The member; None is ``MLPClassifier()``. With ``solver='lbfgs'``, an optax object or
        callbacks the members train one by one (as tasks of their own with ``n_jobs``, but for
        callbacks, which run in this process).
    n_estimators : int, default=10
        Number of members.
    bootstrap : bool, default=False
        Whether each member trains on a bootstrap sample of the rows.
    n_jobs : int, default=None
        Workers that train the members, under joblib's active backend
        (``parallel_config``): the stack is cut so every worker trains a part. None or 1, or
        the threading backend, trains in this process (on a CPU, the stack's two halves at
        once, on two threads).
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds and the bootstrap samples.

    Attributes
    ----------
    estimators_ : list of MLPClassifier
        The fitted members.
    classes_ : ndarray of shape (n_classes,) or list of ndarray
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit (only when X has string feature names).

    See Also
    --------
    MLPEnsembleRegressor : The same for regression.
    sklearn.ensemble.BaggingClassifier : Bagging of any classifier, one fit at a time.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skmlp import MLPClassifier
    >>> from skmlp.ensemble import MLPEnsembleClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> ens = MLPEnsembleClassifier(MLPClassifier(max_iter=50), n_estimators=4,
    ...                             random_state=0).fit(X, y)
    >>> ens.predict_proba(X[:2]).shape
    (2, 3)
    """

    _parameter_constraints: dict = {**_BaseMLPEnsemble._parameter_constraints,
                                    "estimator": [MLPClassifier, None]}

    def _default(self):
        return MLPClassifier()

    @property
    def classes_(self):
        check_is_fitted(self)
        return self.estimators_[0].classes_

    def predict_proba(self, X: MatrixLike) -> np.ndarray:
        """The members' mean class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The mean predicted probability of each class.
        """
        return self._mean_prediction("predict_proba", X)

    def predict(self, X: MatrixLike) -> np.ndarray:
        """The class of highest mean probability.

        For multilabel targets, each label whose mean probability exceeds one half.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            The predicted classes.
        """
        proba = self.predict_proba(X)
        binarizer = self.estimators_[0]._label_binarizer
        if binarizer.y_type_ == "multilabel-indicator":
            return binarizer.inverse_transform(proba)
        if binarizer.y_type_ == "binary":  # [1 - p, p], also when y held a single class
            return binarizer.inverse_transform(proba[:, 1])
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPEnsembleRegressor(RegressorMixin, _BaseMLPEnsemble):
    """An ensemble of skmlp MLP regressors, trained as one model stack.

    See :class:`MLPEnsembleClassifier`; ``predict`` averages the members' predictions. Read
    more in :doc:`/search`.

    Parameters
    ----------
    estimator : MLPRegressor, default=None
        The member; None is ``MLPRegressor()``.
    n_estimators : int, default=10
        Number of members.
    bootstrap : bool, default=False
        Whether each member trains on a bootstrap sample of the rows.
    n_jobs : int, default=None
        Workers that train the members, under joblib's active backend
        (``parallel_config``): the stack is cut so every worker trains a part. None or 1, or
        the threading backend, trains in this process (on a CPU, the stack's two halves at
        once, on two threads).
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds and the bootstrap samples.

    Attributes
    ----------
    estimators_ : list of MLPRegressor
        The fitted members.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit (only when X has string feature names).

    See Also
    --------
    MLPEnsembleClassifier : The same for classification.
    sklearn.ensemble.BaggingRegressor : Bagging of any regressor, one fit at a time.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skmlp import MLPRegressor
    >>> from skmlp.ensemble import MLPEnsembleRegressor
    >>> X, y = make_regression(n_samples=100, n_features=4, random_state=0)
    >>> ens = MLPEnsembleRegressor(MLPRegressor(max_iter=20), n_estimators=3,
    ...                            random_state=0).fit(X, y)
    >>> ens.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints: dict = {**_BaseMLPEnsemble._parameter_constraints,
                                    "estimator": [MLPRegressor, None]}

    def _default(self):
        return MLPRegressor()

    def predict(self, X: MatrixLike) -> np.ndarray:
        """The members' mean prediction.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The mean predicted values.
        """
        return self._mean_prediction("predict", X)
