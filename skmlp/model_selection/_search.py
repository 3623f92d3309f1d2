"""GridSearchCV and RandomizedSearchCV whose candidate x fold fits train as model stacks."""

import warnings

import numpy as np
from joblib import parallel_config
from joblib.parallel import get_active_backend
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GridSearchCV as _SkGridSearchCV
from sklearn.model_selection import ParameterGrid, ParameterSampler, check_cv
from sklearn.model_selection import RandomizedSearchCV as _SkRandomizedSearchCV
from sklearn.pipeline import Pipeline

from .._base import _BaseMLP
from .._optax_repr import is_optax, readable
from .._prefitted import EarlierSteps, fit_key, register, registry, remember_score
from .._sklearn_compat import DocLinkMixin, _num_samples, _safe_indexing


# Training data up to this size have their refit's program compiled while the stacks'
# program is traced (see ``_refit_compiler``), from stand-in data of the same shape.
REFIT_AHEAD_MAX_BYTES = 32 * 2**20
# A Pipeline's earlier steps fitted in scikit-learn's loop are kept for the fold's other
# candidates (``EarlierSteps``) up to this many bytes of inputs and outputs in all.
EARLIER_STEPS_MAX_BYTES = 128 * 2**20


def _steps(est):
    """A ``Pipeline``'s earlier steps (or None when it has only one step) and its final
    estimator; for any other estimator, None and itself.

    The earlier steps are the Pipeline with its final step passed through: fitting them fits
    each through the Pipeline's ``memory``, as its own ``fit`` does (a search's
    ``EarlierSteps`` then keeps them for scikit-learn's loop)."""
    if not isinstance(est, Pipeline):
        return None, est
    name, final = est.steps[-1]
    if len(est.steps) == 1:
        return None, final
    prefix = est[:-1]
    prefix.steps = [*prefix.steps, (name, "passthrough")]
    return prefix, final


def _weight_key(est):
    """The fit parameter that carries an estimator's (or its Pipeline's last step's) sample
    weight."""
    return f"{est.steps[-1][0]}__sample_weight" if isinstance(est, Pipeline) else "sample_weight"


class _StackedSearchMixin(DocLinkMixin):
    """Trains every stackable candidate x fold fit in model stacks before scikit-learn's own
    search loop runs; that loop then finds each fit done (see ``_prefitted``), so scoring,
    ``cv_results_``, ``refit``, ``error_score`` and everything else are scikit-learn's."""

    def fit(self, X, y=None, **params):
        """Run fit with all sets of parameters, stacking the fits that share a program.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training vectors.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Target relative to X.
        **params : dict of str -> object
            Parameters passed to the ``fit`` method of the estimator (``sample_weight``, or
            ``<step>__sample_weight`` for a Pipeline), the CV splitter (``groups``) and the
            scorer, as in scikit-learn.

        Returns
        -------
        self : object
            Instance of fitted estimator.
        """
        from .._training import DeferredInterrupt  # the training path (JAX) starts here

        before = dict(vars(self))
        self._stack_inputs = (X, y, params)
        self._stack_seconds = {}
        self._stack_ahead = None
        try:
            # The first Ctrl-C stops every model stack at its current epoch and the search
            # goes on with the truncated models; a second stops the search at once.
            # Workers share this process's registry: threads, never processes.
            # The stacks train under the backend the user chose (see _train_stacks); then
            # scikit-learn's loop, which finds every fit done, scores in this process's
            # threads, where the registry is.
            self._user_backend = get_active_backend()[0]
            user_estimator = self.estimator
            with DeferredInterrupt(), registry() as self._stack_registry, \
                    parallel_config(backend="threading"):
                try:
                    self.estimator = self._with_earlier_steps(user_estimator)
                    super().fit(X, y, **params)
                finally:
                    self.estimator = user_estimator
                    if self._stack_ahead is not None and not self._stack_ahead.taken:
                        self._stack_ahead.cancel()  # a failed search, or another refit
            if isinstance(getattr(self, "best_estimator_", None), Pipeline) and isinstance(
                    self.best_estimator_.memory, EarlierSteps):
                self.best_estimator_.set_params(memory=user_estimator.memory)
            self._charge_stack_time()
            self._charge_refit_time()
            self._readable_solvers()
        except BaseException:  # a failed search is the search it was (scikit-learn's too)
            vars(self).clear()
            vars(self).update(before)
            raise
        finally:
            for name in ("_stack_inputs", "_stack_registry", "_stack_seconds",
                         "_user_backend", "_stack_ahead", "_stack_folds"):
                vars(self).pop(name, None)
        return self

    def _candidates(self):
        raise NotImplementedError

    def _with_earlier_steps(self, est):
        """The estimator scikit-learn's loop clones for each fit: a Pipeline without a
        ``memory`` of its own gets an ``EarlierSteps`` for this search (its earlier steps are
        fitted once per fold and set of their parameters, not once per candidate); any other
        estimator is returned as it is."""
        if (isinstance(est, Pipeline) and est.memory is None and len(est.steps) > 1
                and not getattr(self, "_skl_callbacks", None)):
            return clone(est).set_params(memory=EarlierSteps(EARLIER_STEPS_MAX_BYTES))
        return est

    def _readable_solvers(self):
        """``cv_results_``'s ``param_*solver`` columns show optax solvers by their structure
        (the same transformations, printing readably); ``params`` keeps the objects given."""
        for key, column in getattr(self, "cv_results_", {}).items():
            if key.startswith("param_") and key.endswith("solver"):
                for i, value in enumerate(column):
                    if is_optax(value):
                        column[i] = readable(value)

    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        candidates = list(self._candidates())  # drawn once: the stacks and the loop agree
        self._train_stacks(candidates)
        self._stack_ahead = self._refit_ahead(candidates)

        def evaluate(_, **kwargs):
            return evaluate_candidates(candidates, **kwargs)

        kwargs = {} if callback_ctx is None else {"callback_ctx": callback_ctx}
        super()._run_search(evaluate, **kwargs)

    def _fold_fits(self, candidates, alone):
        """The (candidate, fold) fits of skmlp MLPs trained before scikit-learn's loop, as
        ``((candidate, fold), estimator, X, y, weight, stacks)``: those that stack, and with
        ``alone`` those that don't (trained one by one as tasks) but for fits with callbacks,
        which run in scikit-learn's loop.

        Each fold's training rows are indexed once, for all its candidates, and a Pipeline's
        earlier steps are fitted once per (fold, their parameters). A fit whose preparation
        fails here (a step that raises, a sample weight of the wrong length) is left to
        scikit-learn's loop, which meets the same error and applies ``error_score``.
        """
        from .._stacking import stackable

        X, y, params = self._stack_inputs
        groups = params.get("groups")
        fit_params = {k: v for k, v in params.items() if k != "groups"}
        # the splitter scikit-learn's fit checks (public check_cv: the same object it builds)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))
        rows, prefixes, fits = {}, {}, []
        # for _refit_ahead: the splits, and each fit's fitted earlier steps (None: none)
        self._stack_folds = {"splits": splits, "prefixes": {}, "fitted": {}}
        for ci, candidate in enumerate(candidates):
            est = clone(self.estimator).set_params(**clone(candidate, safe=False))
            prefix, final = _steps(est)
            weight_key = _weight_key(est)
            stacks = stackable(final)
            if set(fit_params) - {weight_key} or not isinstance(final, _BaseMLP) or not (
                    stacks or (alone and not final.callbacks)):
                continue  # scikit-learn's loop fits it
            prefix_key = None if prefix is None else repr(
                sorted((k, repr(v)) for k, v in prefix.get_params(deep=True).items()))
            for fi, (train, _) in enumerate(splits):
                try:
                    X_train, y_train, weight = self._fold_rows(rows, fi, train, weight_key)
                    fitted = None
                    if prefix is not None:
                        key = (fi, prefix_key)
                        if key not in prefixes:
                            step = clone(prefix)
                            prefixes[key] = (step, step.fit_transform(X_train, y_train))
                        fitted, X_train = prefixes[key]
                except Exception:  # noqa: BLE001 - scikit-learn's loop reports it
                    continue
                self._stack_folds["prefixes"][ci, fi] = fitted
                fits.append(((ci, fi), clone(final), X_train, y_train, weight, stacks))
        return fits

    def _fold_rows(self, rows, fold, train, weight_key):
        """A fold's training rows (X, y and the sample weight), indexed once per fold."""
        if (fold, weight_key) not in rows:
            X, y, params = self._stack_inputs
            weight = params.get(weight_key)
            if weight is not None and _num_samples(weight) != _num_samples(X):
                raise ValueError("sample_weight has the wrong length")
            rows[fold, weight_key] = (
                _safe_indexing(X, train), _safe_indexing(y, train),
                None if weight is None else _safe_indexing(weight, train))
        return rows[fold, weight_key]

    def _train_stacks(self, candidates):
        """Train the candidate x fold fits of skmlp MLPs: the stacks, in this process for
        ``n_jobs`` None or 1 or threads, else as joblib tasks under the user's backend, with
        the fits that don't stack as tasks of their own."""
        from .._stacking import dispatched_workers, fit_stacked

        with parallel_config(backend=self._user_backend):
            n_workers = dispatched_workers(self.n_jobs)
            alone = n_workers > 1 and not getattr(self, "_skl_callbacks", None)
            fits = self._fold_fits(candidates, alone)
            fits = [f for f in fits if f[-1]] + [f for f in fits if not f[-1]]
            keys = [fit_key(mlp, X, y, w) for _, mlp, X, y, w, _ in fits]  # before fitting
            data = [(X, y, w) for _, _, X, y, w, _ in fits]
            stacked = [f[1:5] for f in fits if f[-1]]
            results, seconds = fit_stacked(stacked, n_jobs=self.n_jobs,
                                           alone=[f[1:5] for f in fits if not f[-1]],
                                           meanwhile=self._refit_compiler(stacked),
                                           rows=self._refit_rows(stacked))
        self._stack_folds["refit_shape"] = self._refit_shape(stacked)
        curves = {}
        for (where, *_), key, fit_data, result, sec in zip(fits, keys, data, results, seconds):
            register(self._stack_registry, key, result, fit_data)
            self._stack_seconds[where] = sec
            if not isinstance(result, BaseException):
                self._stack_folds["fitted"][where] = result
            if not isinstance(result, BaseException) and hasattr(result, "loss_curve_"):
                curves.setdefault(where[0], {})[where[1]] = (
                    list(result.loss_curve_), list(result.validation_loss_curve_ or []) or None,
                    list(result.validation_scores_ or []) or None)
        # Per candidate, per fold: (loss, validation loss, validation score) curves, or None
        # for a candidate scikit-learn's loop fitted (it keeps no estimator).
        self.loss_curves_ = [
            [curves[ci][fi] for fi in sorted(curves[ci])] if ci in curves else None
            for ci in range(len(candidates))]

    def _refit_ahead(self, candidates):
        """Start the refit on a helper thread now, to train while scikit-learn's loop scores
        the fits (``RefitAhead``), when the candidate scikit-learn will refit is known already:
        with the default scoring, every candidate x fold fit trained here, and data small and
        dense (``_refit_shape``: an earlier step is fitted on all of X here, and again in
        scikit-learn's refit). The candidate is the one scikit-learn's ranking picks from the
        same scores: each fold's fitted model scoring its test rows, means over folds, the
        first best. Registered under the refit's key and data, it is what scikit-learn's refit
        takes; should that refit differ (another candidate, other data), it trains as usual.
        Returns the ``RefitAhead``, or None.
        """
        from .._stacking import RefitAhead

        X, y, params = self._stack_inputs
        folds = self._stack_folds
        n_splits = len(folds["splits"])
        if (self.refit is not True or self.scoring is not None
                or getattr(self, "_skl_callbacks", None)
                or set(params) - {"groups", _weight_key(self.estimator)}
                or folds.get("refit_shape") is None
                or len(folds["fitted"]) != len(candidates) * n_splits):
            return None
        try:
            scores = self._fold_scores(len(candidates), n_splits)
            means = np.average(scores, axis=1)  # as scikit-learn's ranking averages them
            if not np.all(np.isfinite(means)):
                return None
            est = clone(self.estimator).set_params(
                **clone(candidates[int(np.argmax(means))], safe=False))
            prefix, final = _steps(est)
            if final.verbose:
                return None  # its epochs' lines would print amid the loop's
            weight = params.get(_weight_key(est))
            X_fit = X if prefix is None else clone(prefix).fit_transform(X, y)
            key = fit_key(final, X_fit, y, weight)
            ahead = RefitAhead(final, X_fit, y, weight)
        except Exception:  # noqa: BLE001 - scikit-learn's loop and refit meet it themselves
            return None
        register(self._stack_registry, key, ahead, (X_fit, y, weight))
        return ahead

    def _fold_scores(self, n_candidates, n_splits):
        """Each fit's score on its fold's test rows, as the default scorer gives it (the
        estimator's ``score``), as a (candidates, splits) array."""
        X, y, _ = self._stack_inputs
        folds, tests = self._stack_folds, {}
        scores = np.empty((n_candidates, n_splits))
        for (ci, fi), est in folds["fitted"].items():
            prefix = folds["prefixes"][ci, fi]
            if (fi, id(prefix)) not in tests:
                test = folds["splits"][fi][1]
                X_test = _safe_indexing(X, test)
                tests[fi, id(prefix)] = (X_test if prefix is None else prefix.transform(X_test),
                                         _safe_indexing(y, test))
            X_test, y_test = tests[fi, id(prefix)]
            if is_classifier(est):  # accuracy_score's arithmetic, without its input checks
                # float arrays are what predict's checks would pass on unchanged
                checked = isinstance(X_test, np.ndarray) and X_test.dtype in (np.float32,
                                                                               np.float64)
                correct = np.asarray(est._predict(X_test, check_input=not checked)
                                     == np.asarray(y_test))
                scores[ci, fi] = np.average(correct.all(axis=1) if correct.ndim > 1
                                            else correct)
                # accuracy_score's mean of the same booleans, bit for bit, for 1-D labels
                exact = isinstance(y_test, np.ndarray) and y_test.ndim == 1
            else:
                scores[ci, fi] = est.score(X_test, y_test)
                exact = True
            if exact:  # the loop's score of this fit's test rows: not computed twice
                remember_score(est, X_test, y_test, float(scores[ci, fi]))
        return scores

    def _charge_refit_time(self):
        """A refit trained ahead: ``refit_time_`` is its own time, not the wait for it."""
        ahead = self._stack_ahead
        if ahead is not None and ahead.taken and hasattr(self, "refit_time_"):
            self.refit_time_ += ahead.seconds - ahead.waited

    def _refit_compiler(self, stacked):
        """For ``fit_stacked``'s ``meanwhile``: what lowers the refit's program, then compiles
        it on a helper thread; or None when that program can't be told in advance.

        When every stacked fit runs one program (the candidates differ only in runtime
        hyperparameters: rates, penalties, momenta, dropout rates) and every fold's training
        data are dense arrays of one width, the refit (on all of X) runs that architecture on
        arrays of a known shape, which stand-in data of that shape lower: the compile then
        runs on a second thread while the stack's program is traced, in Python on one core
        (the cold README grid, 1.79 -> 1.69 s). A wrong guess (an earlier step whose output
        width differs on all of X) only compiles a program nobody uses; the numbers never
        depend on it."""
        shape = self._refit_shape(stacked)
        if shape is None:
            return None
        n_samples, width = shape
        X, y, params = self._stack_inputs
        estimator, fold_X, _, _ = stacked[0]
        weight = params.get(_weight_key(self.estimator))

        def compile_refit(runs, cached_only=False):
            from .. import _training

            # runs: every prepared fit, or with cached_only the first (its program, if cached)
            if len({run.model_signature() for run in runs}) != 1 or any(
                    not isinstance(run.data[0], np.ndarray) for run in runs):
                return None  # several programs, or sparse ones (shaped by the data's non-zeros)
            est = clone(estimator).set_params(random_state=0, input_layout="dense")
            est._validate_params()
            ones = np.ones((n_samples, width), fold_X.dtype)
            return _training.lower_ahead(est._prepare_run(ones, y, weight), cached_only)

        return compile_refit

    def _refit_shape(self, stacked):
        """The refit's training data shape ``(n_samples, width)`` when its program can be told
        in advance (see ``_refit_compiler``), else None."""
        if not self.refit or not stacked:
            return None
        widths = {X.shape[1] if isinstance(X, np.ndarray) and X.ndim == 2 else None
                  for _, X, _, _ in stacked}
        if len(widths) != 1 or None in widths:
            return None
        n_samples, width = _num_samples(self._stack_inputs[0]), widths.pop()
        if n_samples * width * stacked[0][1].dtype.itemsize > REFIT_AHEAD_MAX_BYTES:
            return None  # the compile is a small part of such a fit: no stand-in copies
        return n_samples, width

    def _refit_rows(self, stacked):
        """For ``fit_stacked``'s ``rows``: the refit's padded rows and batch size, which the
        fold fits that train alone take on, so that they and the refit run one program (the
        cold README grid 1.97 s against 2.33 s at the folds' own rows, medians of six
        alternating fresh processes; warm, its fits skip two minibatches of padding an epoch,
        1.11 s against 1.04 s)."""
        shape = self._refit_shape(stacked)
        if shape is None:
            return None
        from .._data import n_padded_rows
        from .._training import _batch_size

        with warnings.catch_warnings():  # a batch size clipped to the rows: the refit says so
            warnings.simplefilter("ignore")
            batch_size = _batch_size(stacked[0][0].batch_size, shape[0])
        return n_padded_rows(shape[0], batch_size), batch_size

    def _charge_stack_time(self):
        """Each stacked fit's ``fit_time`` is its share of its stack's training time."""
        if not self._stack_seconds or not hasattr(self, "cv_results_"):
            return
        n_candidates = len(self.cv_results_["params"])
        for ci in range(n_candidates):
            times = [t for (c, _), t in self._stack_seconds.items() if c == ci]
            if len(times) == self.n_splits_:
                self.cv_results_["mean_fit_time"][ci] = np.mean(times)
                self.cv_results_["std_fit_time"][ci] = np.std(times)


class GridSearchCV(_StackedSearchMixin, _SkGridSearchCV):
    """Exhaustive search over a parameter grid, training the fits of skmlp MLPs as model stacks.

    A drop-in for :class:`sklearn.model_selection.GridSearchCV`: the same parameters,
    attributes and results. The candidate x fold fits of an skmlp MLP (or of a ``Pipeline``
    ending in one, whose earlier steps are fitted per fold first) are grouped by compiled program
    (parameters such as ``hidden_layer_sizes``, ``activation``, ``solver`` or ``batch_size``
    separate groups; learning rates, penalties, momenta, dropout rates and folds do not) and each
    group trains as one program over a stack of models (in this process on a CPU with two or
    more cores, fits with large epochs train one by one instead, two at a time, on the refit's
    program). Every model is the one a separate fit would give: its own ``random_state`` draws
    and its own stopping. Fits that can't be stacked (another estimator, ``solver='lbfgs'``, an
    optax object, callbacks, warm start, fit parameters other than sample weights) run in
    scikit-learn's own loop.

    ``mean_fit_time`` of a stacked candidate is its share of its stacks' training time. Read
    more in :doc:`/search` and, for ``n_jobs`` and Dask clusters, :doc:`/scaling`.

    Parameters
    ----------
    estimator : estimator object
        An skmlp MLP, a ``Pipeline`` ending in one, or any scikit-learn estimator.
    param_grid : dict or list of dictionaries
        See :class:`sklearn.model_selection.GridSearchCV`.
    scoring : str, callable, list, tuple or dict, default=None
        See :class:`sklearn.model_selection.GridSearchCV`.
    n_jobs : int, default=None
        Workers that train the fits, under joblib's active backend (``parallel_config``):
        the stacks are cut so every worker gets one, and fits that don't stack are tasks of
        their own. None or 1, or the threading backend, trains every stack in this process
        (each already uses every core). Scoring runs in this process's threads.
    refit : bool, str, or callable, default=True
        See :class:`sklearn.model_selection.GridSearchCV`.
    cv : int, cross-validation generator or an iterable, default=None
        See :class:`sklearn.model_selection.GridSearchCV`.
    verbose : int
        See :class:`sklearn.model_selection.GridSearchCV`.
    pre_dispatch : int, or str, default='2*n_jobs'
        See :class:`sklearn.model_selection.GridSearchCV`.
    error_score : 'raise' or numeric, default=np.nan
        See :class:`sklearn.model_selection.GridSearchCV`.
    return_train_score : bool, default=False
        See :class:`sklearn.model_selection.GridSearchCV`.

    Attributes
    ----------
    cv_results_, best_estimator_, best_score_, best_params_, best_index_, scorer_,
    n_splits_, refit_time_, multimetric_ :
        As in :class:`sklearn.model_selection.GridSearchCV`.
    loss_curves_ : list
        Per candidate (in ``cv_results_`` order), a list with one
        ``(loss_curve, validation_loss_curve, validation_scores)`` tuple per fold (the last
        two None without early stopping), or None for a candidate fitted in scikit-learn's
        loop. :meth:`skmlp.LossCurveDisplay.from_estimator` plots them.

    See Also
    --------
    RandomizedSearchCV : Sampled candidates, stacked the same way.
    sklearn.model_selection.GridSearchCV : The search this one is a drop-in for.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skmlp import MLPClassifier
    >>> from skmlp.model_selection import GridSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GridSearchCV(MLPClassifier(max_iter=20, random_state=0),
    ...                       {"alpha": [1e-4, 1e-2], "learning_rate_init": [1e-3, 1e-2]},
    ...                       cv=3).fit(X, y)
    >>> len(search.cv_results_["params"])
    4
    """

    def _candidates(self):
        return ParameterGrid(self.param_grid)


class RandomizedSearchCV(_StackedSearchMixin, _SkRandomizedSearchCV):
    """Randomized search over parameters, training the fits of skmlp MLPs as model stacks.

    A drop-in for :class:`sklearn.model_selection.RandomizedSearchCV`; see
    :class:`GridSearchCV` for how fits are stacked. The candidates are drawn once, so a
    ``random_state`` of None or a RandomState instance works as in scikit-learn. Read more in
    :doc:`/search`.

    Parameters
    ----------
    estimator : estimator object
        An skmlp MLP, a ``Pipeline`` ending in one, or any scikit-learn estimator.
    param_distributions : dict or list of dicts
        See :class:`sklearn.model_selection.RandomizedSearchCV`.
    n_iter : int, default=10
        Number of parameter settings that are sampled.
    scoring : str, callable, list, tuple or dict, default=None
        See :class:`sklearn.model_selection.RandomizedSearchCV`.
    n_jobs : int, default=None
        Workers that train the fits, under joblib's active backend (``parallel_config``):
        the stacks are cut so every worker gets one, and fits that don't stack are tasks of
        their own. None or 1, or the threading backend, trains every stack in this process
        (each already uses every core). Scoring runs in this process's threads.
    refit : bool, str, or callable, default=True
        See :class:`sklearn.model_selection.RandomizedSearchCV`.
    cv : int, cross-validation generator or an iterable, default=None
        See :class:`sklearn.model_selection.RandomizedSearchCV`.
    verbose : int
        See :class:`sklearn.model_selection.RandomizedSearchCV`.
    pre_dispatch : int, or str, default='2*n_jobs'
        See :class:`sklearn.model_selection.RandomizedSearchCV`.
    random_state : int, RandomState instance or None, default=None
        Sampling of the candidates.
    error_score : 'raise' or numeric, default=np.nan
        See :class:`sklearn.model_selection.RandomizedSearchCV`.
    return_train_score : bool, default=False
        See :class:`sklearn.model_selection.RandomizedSearchCV`.

    Attributes
    ----------
    cv_results_, best_estimator_, best_score_, best_params_, best_index_, scorer_,
    n_splits_, refit_time_, multimetric_ :
        As in :class:`sklearn.model_selection.RandomizedSearchCV`.
    loss_curves_ : list
        Per candidate (in ``cv_results_`` order), a list with one
        ``(loss_curve, validation_loss_curve, validation_scores)`` tuple per fold (the last
        two None without early stopping), or None for a candidate fitted in scikit-learn's
        loop. :meth:`skmlp.LossCurveDisplay.from_estimator` plots them.

    See Also
    --------
    GridSearchCV : Every combination of a parameter grid, stacked the same way.
    sklearn.model_selection.RandomizedSearchCV : The search this one is a drop-in for.

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_iris
    >>> from skmlp import MLPClassifier
    >>> from skmlp.model_selection import RandomizedSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> search = RandomizedSearchCV(
    ...     MLPClassifier(max_iter=20, random_state=0),
    ...     {"alpha": loguniform(1e-5, 1e-1), "learning_rate_init": loguniform(1e-4, 1e-1)},
    ...     n_iter=6, cv=3, random_state=0).fit(X, y)
    >>> len(search.cv_results_["params"]), len(search.loss_curves_[0])
    (6, 3)
    """

    def _candidates(self):
        return ParameterSampler(self.param_distributions, self.n_iter,
                                random_state=self.random_state)
