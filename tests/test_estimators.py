"""Behaviour of MLPClassifier / MLPRegressor as drop-in replacements for scikit-learn's."""

import inspect
import io
import pickle
import warnings
from contextlib import redirect_stdout

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import (load_digits, make_multilabel_classification, make_regression)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skmlp import MLPClassifier, MLPRegressor

ESTIMATORS = [MLPClassifier, MLPRegressor]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return MinMaxScaler().fit_transform(X)[:400], y[:400]


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=200, n_features=10, n_targets=1, noise=1.0,
                           random_state=0)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


def _assert_same_coefs(ours, theirs, rtol):
    """Weights equal to ``rtol`` of each array's largest entry."""
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert np.max(np.abs(a - b)) <= rtol * np.max(np.abs(b))


# ---------------------------------------------------------------------------- API


def test_parameters_match_scikit_learn():
    from sklearn.neural_network import MLPClassifier as SkC, MLPRegressor as SkR

    for ours, theirs in [(MLPClassifier, SkC), (MLPRegressor, SkR)]:
        sk_params = theirs().get_params()
        our_params = ours().get_params()
        for name, default in sk_params.items():
            assert name in our_params, name
            assert our_params[name] == default, name


@pytest.mark.parametrize("params, match", [
    ({"solver": "newton"}, "solver"),
    ({"alpha": -1.0}, "alpha"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"hidden_layer_sizes": (10, 0)}, "hidden_layer_sizes"),
    ({"momentum": 2.0}, "momentum"),
])
def test_invalid_parameters_raise_invalid_parameter_error(params, match, digits):
    X, y = digits
    with pytest.raises((InvalidParameterError, ValueError), match=match):
        MLPClassifier(**params).fit(X, y)


def test_fitted_attributes(digits):
    X, y = digits
    clf = _quiet(MLPClassifier(hidden_layer_sizes=(7, 5), max_iter=5, random_state=0).fit, X, y)
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 10 and clf.out_activation_ == "softmax"
    assert [c.shape for c in clf.coefs_] == [(64, 7), (7, 5), (5, 10)]
    assert [b.shape for b in clf.intercepts_] == [(7,), (5,), (10,)]
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 5 and clf.t_ == 5 * len(X)
    assert clf.loss_ == clf.loss_curve_[-1] and clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    np.testing.assert_array_equal(clf.classes_, np.arange(10))


def test_fitted_state_is_numpy_and_writable(digits):
    import jax

    X, y = digits
    clf = _quiet(MLPClassifier(max_iter=2, random_state=0).fit, X, y)
    leaves = jax.tree_util.tree_leaves(vars(clf))
    assert not any(isinstance(x, jax.Array) for x in leaves)
    assert all(c.flags.writeable for c in clf.coefs_ + clf.intercepts_)


# ---------------------------------------------------------------------------- maths


@pytest.mark.parametrize("loss, out", [("log_loss", "softmax"), ("binary_log_loss", "logistic"),
                                       ("squared_error", "identity"), ("poisson", "exp")])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_gradient_matches_finite_differences(loss, out, activation):
    import jax
    import jax.numpy as jnp

    from skmlp._core.network import NetSpec, init_params
    from skmlp._core.train import TrainSpec, objective

    rng = np.random.RandomState(0)
    n, d, k = 8, 4, 3
    with jax.enable_x64(True):
        X = jnp.asarray(rng.randn(n, d))
        if loss in ("log_loss",):
            Y = jnp.asarray(np.eye(k)[rng.randint(k, size=n)])
        elif loss == "binary_log_loss":
            Y = jnp.asarray(rng.randint(2, size=(n, k)).astype(float))
        else:
            Y = jnp.asarray(np.abs(rng.randn(n, k)))
        w = jnp.asarray(rng.randint(1, 4, size=n).astype(float))
        mask = jnp.ones(n)
        spec = TrainSpec(net=NetSpec((activation, activation), out), loss=loss)
        params, ms = init_params(np.random.RandomState(0), (d, 5, 4, k), dtype=np.float64)
        hp = {"alpha": jnp.asarray(0.3)}

        def f(p):
            return objective(p, ms, X, Y, w, mask, hp, spec, train=False)[0]

        grad = jax.grad(f)(params)
        leaves, treedef = jax.tree_util.tree_flatten(params)
        g_leaves = jax.tree_util.tree_leaves(grad)
        eps = 1e-6
        for li, (leaf, g) in enumerate(zip(leaves, g_leaves)):
            flat = np.asarray(leaf).ravel()
            for j in range(0, flat.size, max(1, flat.size // 5)):
                def at(delta):
                    x = flat.copy()
                    x[j] += delta
                    new = list(leaves)
                    new[li] = jnp.asarray(x.reshape(leaf.shape))
                    return float(f(jax.tree_util.tree_unflatten(treedef, new)))

                numeric = (at(eps) - at(-eps)) / (2 * eps)
                assert np.isclose(float(np.asarray(g).ravel()[j]), numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("Estimator, y_kind", [(MLPClassifier, "multiclass"),
                                               (MLPClassifier, "binary"),
                                               (MLPRegressor, "continuous")])
def test_loss_and_gradient_match_scikit_learn_backprop(Estimator, y_kind):
    """Same parameters, same data: our objective equals scikit-learn's _backprop."""
    import jax
    import jax.numpy as jnp
    from sklearn import neural_network as sknn

    rng = np.random.RandomState(0)
    X = rng.randn(30, 5)
    y = {"multiclass": rng.randint(3, size=30), "binary": rng.randint(2, size=30),
         "continuous": rng.randn(30)}[y_kind]
    sw = rng.randint(1, 4, size=30).astype(float)
    sk = getattr(sknn, Estimator.__name__)(hidden_layer_sizes=(6,), alpha=0.5, max_iter=1,
                                           solver="sgd", random_state=0)
    _quiet(sk.fit, X, y)
    ours = Estimator(hidden_layer_sizes=(6,), alpha=0.5, max_iter=1, solver="sgd",
                     random_state=0)
    _quiet(ours.fit, X, y)
    ours.coefs_ = [c.copy() for c in sk.coefs_]
    ours.intercepts_ = [b.copy() for b in sk.intercepts_]

    Y = sk._label_binarizer.transform(y) if y_kind != "continuous" else y.reshape(-1, 1)
    Y = Y.astype(float)
    layer_units = [5, 6, Y.shape[1]]
    activations = [X] + [None] * 2
    deltas = [None] * 2
    coef_grads = [np.empty((a, b)) for a, b in zip(layer_units[:-1], layer_units[1:])]
    intercept_grads = [np.empty(b) for b in layer_units[1:]]
    import inspect

    if "sample_weight" in inspect.signature(sk._backprop).parameters:
        sk_loss, sk_cg, sk_ig = sk._backprop(X, Y, sw, activations, deltas, coef_grads,
                                             intercept_grads)
    else:  # scikit-learn < 1.7 has no sample weights in its MLP: compare unit weights
        sw = np.ones_like(sw)
        sk_loss, sk_cg, sk_ig = sk._backprop(X, Y, activations, deltas, coef_grads,
                                             intercept_grads)

    from skmlp._core.train import objective
    from skmlp._predict import weight_tree

    with jax.enable_x64(True):
        params, ms = weight_tree(ours, np.float64)
        spec = ours._train_spec(ours._hidden_activations(1), (0.0,))._replace(batch_size=30)
        hp = {k: jnp.asarray(v)
              for k, v in dict(ours._hparams((0.0,)), learning_rate=0.1).items()}
        data = tuple(jnp.asarray(a) for a in (X, Y, sw, np.ones(30)))
        (value, _), grads = jax.value_and_grad(objective, has_aux=True)(
            params, ms, *data, hp, spec, None, False)
    assert np.isclose(float(value), sk_loss, rtol=1e-10)
    for ours_g, sk_g in zip(grads["coefs"] + grads["intercepts"], sk_cg + sk_ig):
        np.testing.assert_allclose(np.asarray(ours_g), sk_g, rtol=1e-9, atol=1e-12)


def test_sgd_step_matches_hand_computation():
    """One full-batch SGD step with Nesterov momentum, computed by hand."""
    import jax
    import jax.numpy as jnp

    from skmlp._core.optim import make_optimizer

    with jax.enable_x64(True):
        params = {"w": jnp.asarray([1.0, -2.0])}
        grads = {"w": jnp.asarray([0.5, 0.25])}
        hp = {"learning_rate": jnp.asarray(0.1), "momentum": jnp.asarray(0.9)}
        tx = make_optimizer("sgd", hp, nesterov=True)
        state = tx.init(params)
        updates, state = tx.update(grads, state, params)
        velocity = 0.9 * 0.0 - 0.1 * np.array([0.5, 0.25])  # scikit-learn's SGDOptimizer
        expected = 0.9 * velocity - 0.1 * np.array([0.5, 0.25])
        np.testing.assert_allclose(np.asarray(updates["w"]), expected)
        updates, state = tx.update(grads, state, params)
        velocity = 0.9 * velocity - 0.1 * np.array([0.5, 0.25])
        np.testing.assert_allclose(np.asarray(updates["w"]),
                                   0.9 * velocity - 0.1 * np.array([0.5, 0.25]))


def test_numpy_and_jax_activations_agree():
    import jax.numpy as jnp

    from skmlp._core.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
    from skmlp._predict import NUMPY_ACTIVATIONS

    x = np.linspace(-4, 4, 41).reshape(-1, 1) * np.ones((1, 3))
    for name, fn in {**HIDDEN_ACTIVATIONS, **OUTPUT_ACTIVATIONS}.items():
        np.testing.assert_allclose(NUMPY_ACTIVATIONS[name](x.copy()),
                                   np.asarray(fn(jnp.asarray(x, jnp.float32))),
                                   rtol=2e-5, atol=2e-6, err_msg=name)


def test_larger_alpha_shrinks_weights(digits):
    X, y = digits
    norms = []
    for alpha in (1e-5, 1.0, 10.0):
        clf = _quiet(MLPClassifier(alpha=alpha, max_iter=30, random_state=0).fit, X, y)
        norms.append(sum(np.sum(c**2) for c in clf.coefs_))
    assert norms[0] > norms[1] > norms[2]


# ---------------------------------------------------------------------------- training


def test_identical_coefs_for_fixed_random_state(digits):
    X, y = digits
    a = _quiet(MLPClassifier(max_iter=5, random_state=3).fit, X, y)
    b = _quiet(MLPClassifier(max_iter=5, random_state=3).fit, X, y)
    c = _quiet(MLPClassifier(max_iter=5, random_state=4).fit, X, y)
    for ca, cb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(ca, cb)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_random_state_none_gives_fresh_seed(digits):
    X, y = digits
    a = _quiet(MLPClassifier(max_iter=1).fit, X, y)
    b = _quiet(MLPClassifier(max_iter=1).fit, X, y)
    assert not np.array_equal(a.coefs_[0], b.coefs_[0])


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_equals_fit_without_shuffle(solver, regression):
    X, y = regression
    kw = dict(hidden_layer_sizes=(8,), solver=solver, batch_size=len(X), shuffle=False,
              random_state=1, learning_rate_init=0.01, tol=0.0)
    fitted = _quiet(MLPRegressor(max_iter=20, **kw).fit, X, y)
    partial = MLPRegressor(max_iter=20, **kw)
    for _ in range(20):
        partial.partial_fit(X, y)
    np.testing.assert_allclose(partial.predict(X), fitted.predict(X), rtol=1e-10)
    assert partial.n_iter_ == 1 and partial.t_ == 20 * len(X)


def test_partial_fit_classifier_needs_classes_and_rejects_unseen(digits):
    X, y = digits
    clf = MLPClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 5], y[y < 5], classes=np.arange(6))
    assert clf.out_activation_ == "softmax" and clf.n_outputs_ == 6
    before = [c.copy() for c in clf.coefs_]
    with pytest.raises(ValueError, match="classes not in"):
        clf.partial_fit(X, y)
    # the failed call left the model as it was
    for b, c in zip(before, clf.coefs_):
        np.testing.assert_array_equal(b, c)
    np.testing.assert_array_equal(clf.classes_, np.arange(6))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_lbfgs_has_no_partial_fit(Estimator):
    # scikit-learn's MLPRegressor(solver='lbfgs') wrongly offers partial_fit.
    assert not hasattr(Estimator(solver="lbfgs"), "partial_fit")
    assert hasattr(Estimator(solver="sgd"), "partial_fit")


def test_early_stopping_restores_best_parameters(digits):
    X, y = digits
    snapshots = []
    clf = MLPClassifier(early_stopping=True, n_iter_no_change=3, learning_rate_init=0.05,
                        max_iter=200, random_state=0,
                        callbacks=lambda est, fig: snapshots.append(
                            [c.copy() for c in est.coefs_]))
    _quiet(clf.fit, X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ == len(snapshots)
    assert clf.validation_loss_curve_ is not None and len(clf.validation_loss_curve_) == clf.n_iter_
    best_epoch = int(np.argmax(clf.validation_scores_))
    assert best_epoch < clf.n_iter_ - 1, "training should have gone past its best epoch"
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    for final, best in zip(clf.coefs_, snapshots[best_epoch]):
        np.testing.assert_array_equal(final, best)


def test_early_stopping_rejected_in_partial_fit(digits):
    X, y = digits
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=np.arange(10))


def test_validation_set_too_small():
    X, y = make_regression(n_samples=12, random_state=0)
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPRegressor(early_stopping=True, validation_fraction=0.05).fit(X, y)


def test_warm_start_continues_from_previous_solution(digits):
    X, y = digits
    clf = _quiet(MLPClassifier(max_iter=30, random_state=0).fit, X, y)
    first_curve = list(clf.loss_curve_)
    clf.set_params(warm_start=True, max_iter=5)
    _quiet(clf.fit, X, y)
    assert len(clf.loss_curve_) == 35 and clf.loss_curve_[:30] == first_curve
    assert clf.loss_curve_[30] < first_curve[0] / 2  # did not start from scratch
    with pytest.raises(ValueError, match="warm_start can only be used"):
        clf.fit(X[y < 5], y[y < 5])


def test_warm_start_with_changed_architecture_raises(digits):
    X, y = digits
    clf = _quiet(MLPClassifier(max_iter=2, warm_start=True, random_state=0).fit, X, y)
    clf.set_params(hidden_layer_sizes=(7,))
    with pytest.raises(ValueError, match="layer sizes"):
        clf.fit(X, y)


def test_convergence_warning_at_max_iter(digits):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        MLPClassifier(max_iter=2).fit(X, y)


def test_lbfgs_max_fun_warns_and_limits_calls(digits):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        clf = MLPClassifier(solver="lbfgs", max_fun=5, random_state=0).fit(X, y)
    assert clf.n_iter_ <= 5


def test_stopping_on_no_improvement(digits):
    from sklearn.neural_network import MLPClassifier as SkMLP

    X, y = digits
    kw = dict(max_iter=500, tol=10.0, n_iter_no_change=2, random_state=0)
    clf = MLPClassifier(**kw).fit(X, y)
    # epoch 1 sets best_loss_; the count must then exceed n_iter_no_change
    assert clf.n_iter_ == 4 == SkMLP(**kw).fit(X, y).n_iter_


def test_verbose_prints_progress(digits):
    X, y = digits
    out = io.StringIO()
    with redirect_stdout(out):
        MLPClassifier(max_iter=500, tol=10.0, n_iter_no_change=2, verbose=True,
                      random_state=0).fit(X, y)
    text = out.getvalue()
    assert "Iteration 1, loss = " in text
    assert "Training loss did not improve more than tol=10.000000 for 2 consecutive epochs. " \
           "Stopping." in text


def test_adaptive_learning_rate_divides_by_five(digits):
    X, y = digits
    out = io.StringIO()
    with redirect_stdout(out):
        clf = MLPClassifier(solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1,
                            max_iter=40, verbose=True, random_state=0).fit(X, y)
    assert "Setting learning rate to 0.000200" in out.getvalue()
    assert "Learning rate too small. Stopping." in out.getvalue()
    assert clf.n_iter_ < 40


def test_invscaling_schedule_follows_samples_seen():
    from skmlp._stopping import LearningRateSchedule

    sched = LearningRateSchedule("invscaling", 0.1, power_t=0.5)
    assert sched.learning_rate == 0.1
    sched.iteration_ends(99)
    assert np.isclose(sched.learning_rate, 0.1 / 100**0.5)


def test_divergence_stops_with_finite_parameters(regression):
    X, y = regression
    reg = MLPRegressor(solver="sgd", learning_rate_init=10.0, momentum=0.9, max_iter=50,
                       random_state=0)
    with pytest.warns(ConvergenceWarning, match="non-finite|became"):
        reg.fit(X * 1e3, y * 1e3)
    assert all(np.isfinite(c).all() for c in reg.coefs_ + reg.intercepts_)
    assert np.isfinite(reg.predict(X)).all()
    assert 1 <= reg.n_iter_ < 50
    # the parameters kept are exactly those of the last finite epoch: a fit stopped there
    last_finite = _quiet(MLPRegressor(solver="sgd", learning_rate_init=10.0, momentum=0.9,
                                      max_iter=reg.n_iter_, random_state=0).fit, X * 1e3, y * 1e3)
    for kept, expected in zip(reg.coefs_ + reg.intercepts_,
                              last_finite.coefs_ + last_finite.intercepts_):
        np.testing.assert_array_equal(kept, expected)


# ---------------------------------------------------------------------------- targets


def test_predict_proba_rows_sum_to_one(digits):
    X, y = digits
    clf = _quiet(MLPClassifier(max_iter=10, random_state=0).fit, X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))


def test_binary_classification_probabilities(digits):
    X, y = digits
    yb = y % 2
    clf = _quiet(MLPClassifier(max_iter=20, random_state=0).fit, X, yb)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, yb) > 0.9


def test_string_labels(digits):
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])
    clf = _quiet(MLPClassifier(max_iter=30, random_state=0).fit, X, names[y])
    pred = clf.predict(X)
    assert pred.dtype.kind == "U" and set(pred) <= set(names)
    assert clf.score(X, names[y]) > 0.9


def test_multilabel_classification():
    X, Y = make_multilabel_classification(n_samples=200, n_features=10, n_classes=4,
                                          random_state=0)
    X = StandardScaler().fit_transform(X)
    clf = _quiet(MLPClassifier(hidden_layer_sizes=(30,), max_iter=300, random_state=0).fit, X, Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 4
    assert clf.predict(X).shape == Y.shape and set(np.unique(clf.predict(X))) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and ((proba >= 0) & (proba <= 1)).all()
    sk = _quiet(SkMLPClassifier(hidden_layer_sizes=(30,), max_iter=300, random_state=0).fit,
                X, Y)  # float64: the same fit as scikit-learn's, to rounding
    _assert_same_coefs(clf, sk, 1e-10)
    assert clf.n_iter_ == sk.n_iter_ and clf.score(X, Y) == sk.score(X, Y)
    np.testing.assert_allclose(proba, sk.predict_proba(X), rtol=1e-10, atol=1e-12)
    clf2 = MLPClassifier(hidden_layer_sizes=(30,), random_state=0)
    clf2.partial_fit(X, Y, classes=np.arange(4))
    assert clf2.predict(X).shape == Y.shape


def _sklearn_stopping_epoch(curve, tol, n_iter_no_change):
    """The epoch at which scikit-learn's rule stops on a training-loss curve, or None."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(curve, 1):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            return epoch
    return None


def test_multi_output_regression():
    X, Y = make_regression(n_samples=150, n_features=6, n_targets=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    Y = StandardScaler().fit_transform(Y)
    # Where tol stops nothing, the fit is scikit-learn's, and the loss the summed one (without
    # a penalty: n_outputs times scikit-learn's mean over outputs).
    kw = dict(max_iter=60, tol=0, alpha=0.0, random_state=0)
    reg = _quiet(MLPRegressor(**kw).fit, X, Y)
    sk = _quiet(SkMLPRegressor(**kw).fit, X, Y)
    assert reg.n_outputs_ == 3 and reg.predict(X).shape == (150, 3)
    _assert_same_coefs(reg, sk, 1e-10)
    np.testing.assert_allclose(reg.loss_curve_, 3 * np.asarray(sk.loss_curve_), rtol=1e-10)
    # Where tol stops the fit, it compares that summed loss: the stated difference, applied by
    # scikit-learn's own rule to each library's curve.
    kw = dict(max_iter=300, alpha=0.0, random_state=0)
    reg = _quiet(MLPRegressor(**kw).fit, X, Y)
    sk = _quiet(SkMLPRegressor(**kw).fit, X, Y)
    n = min(reg.n_iter_, sk.n_iter_)
    np.testing.assert_allclose(reg.loss_curve_[:n], 3 * np.asarray(sk.loss_curve_[:n]),
                               rtol=1e-10)
    assert _sklearn_stopping_epoch(sk.loss_curve_, 1e-4, 10) == sk.n_iter_
    assert _sklearn_stopping_epoch(reg.loss_curve_, 1e-4, 10) == reg.n_iter_ != sk.n_iter_
    assert reg.score(X, Y) > 0.9


@pytest.mark.parametrize("Ours, Theirs, target", [
    (MLPClassifier, SkMLPClassifier, "classes"), (MLPRegressor, SkMLPRegressor, "values")])
def test_lbfgs_fit_is_scikit_learns(Ours, Theirs, target):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:400]
    y = y[:400] if target == "classes" else y[:400] / 9.0
    kw = dict(solver="lbfgs", hidden_layer_sizes=(20,), max_iter=50, random_state=0)
    ours = _quiet(Ours(**kw).fit, X, y)
    theirs = _quiet(Theirs(**kw).fit, X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)
    _assert_same_coefs(ours, theirs, 1e-6)


def test_poisson_regression_uses_exp_output():
    rng = np.random.RandomState(0)
    X = rng.rand(300, 3)
    y = rng.poisson(np.exp(X @ [1.0, -1.0, 0.5]))
    reg = _quiet(MLPRegressor(loss="poisson", max_iter=200, random_state=0).fit, X, y)
    assert reg.out_activation_ == "exp"
    assert (reg.predict(X) > 0).all()
    with pytest.raises(ValueError, match="non-negative"):
        reg.fit(X, -np.ones(300))


# ---------------------------------------------------------------------------- input types


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_coefs_keep_input_dtype(Estimator, dtype, digits):
    X, y = digits
    est = _quiet(Estimator(max_iter=2, random_state=0).fit, X.astype(dtype), y)
    assert all(c.dtype == dtype for c in est.coefs_ + est.intercepts_)
    assert est.predict(X.astype(dtype)).shape[0] == len(X)


def test_float32_compute_for_float64_data(digits):
    X, y = digits
    a = _quiet(MLPClassifier(max_iter=20, random_state=0, compute_dtype="float32").fit, X, y)
    b = _quiet(MLPClassifier(max_iter=20, random_state=0).fit, X, y)
    assert a.coefs_[0].dtype == np.float64
    # same seed, same start and shuffles: only rounding differs
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-4)
    assert not np.array_equal(a.coefs_[0], b.coefs_[0])


def test_integer_input(digits):
    X, y = load_digits(return_X_y=True)
    clf = _quiet(MLPClassifier(max_iter=5, random_state=0).fit, X[:300].astype(np.int64), y[:300])
    assert clf.coefs_[0].dtype == np.float64


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_matches_dense(fmt, digits):
    X, y = digits
    Xs = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    dense = _quiet(MLPClassifier(max_iter=10, random_state=0).fit, X, y)
    sparse = _quiet(MLPClassifier(max_iter=10, random_state=0).fit, Xs, y)
    for a, b in zip(dense.coefs_, sparse.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(sparse.predict_proba(Xs), dense.predict_proba(X), rtol=1e-10)


def test_pandas_feature_names(digits):
    import pandas as pd
    X, y = digits
    df = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    clf = _quiet(MLPClassifier(max_iter=5, random_state=0).fit, df, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    assert clf.predict(df).shape == (len(df),)
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df.rename(columns={"px0": "other"}))


def test_integer_sample_weights_equal_repeated_rows(digits):
    X, y = digits
    X, y = X[:60], y[:60]
    sw = np.random.RandomState(0).randint(0, 4, size=60)
    kw = dict(hidden_layer_sizes=(10,), max_iter=50, random_state=0, batch_size=500)
    weighted = _quiet(MLPClassifier(**kw).fit, X, y, sample_weight=sw)
    repeated = _quiet(MLPClassifier(**kw).fit, np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-7)


def test_sample_weight_changes_the_fit(digits):
    X, y = digits
    sw = np.where(y == 3, 50.0, 1.0)
    plain = _quiet(MLPClassifier(max_iter=20, random_state=0).fit, X, y)
    weighted = _quiet(MLPClassifier(max_iter=20, random_state=0).fit, X, y, sample_weight=sw)
    assert weighted.predict_proba(X)[:, 3].mean() > plain.predict_proba(X)[:, 3].mean()


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_raises(Estimator, bad, digits):
    X, y = digits
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        Estimator().fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_shape_mismatch_raises(Estimator, digits):
    X, y = digits
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Estimator().fit(X, y[:-1])
    with pytest.raises(ValueError, match="2D array"):
        Estimator().fit(X[:, 0], y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_feature_count_mismatch_at_predict(Estimator, digits):
    X, y = digits
    est = _quiet(Estimator(max_iter=2).fit, X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :10])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predict_before_fit_raises(Estimator, digits):
    X, _ = digits
    with pytest.raises(NotFittedError):
        Estimator().predict(X)


def test_too_few_samples():
    with pytest.raises(ValueError, match="minimum of 1 is required|0 sample"):
        MLPClassifier().fit(np.empty((0, 3)), np.empty(0))
    with pytest.raises(ValueError, match="minimum of 1 is required"):
        MLPRegressor().fit(np.ones((2, 0)), np.zeros(2))


# ---------------------------------------------------------------------------- persistence


def test_joblib_round_trip_then_partial_fit(tmp_path, digits):
    X, y = digits
    clf = MLPClassifier(random_state=0)
    clf.partial_fit(X, y, classes=np.arange(10))
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    clf.partial_fit(X, y)
    loaded.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.coefs_[0], clf.coefs_[0])


def test_pickle_loads_without_jax_arrays(digits):
    X, y = digits
    clf = _quiet(MLPClassifier(max_iter=2, random_state=0).fit, X, y)
    blob = pickle.dumps(clf)
    assert b"jaxlib" not in blob and b"ArrayImpl" not in blob
    np.testing.assert_array_equal(pickle.loads(blob).predict(X), clf.predict(X))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_float64_fit_reproduces_scikit_learn(Estimator, solver, digits):
    """Same seed, same data: scikit-learn's initial weights, shuffles, validation split and
    update rule, so the fitted weights agree to rounding."""
    from sklearn import neural_network as sknn

    X, y = digits
    kw = dict(solver=solver, max_iter=8, random_state=0, early_stopping=True,
              learning_rate="invscaling" if solver == "sgd" else "constant")
    ours = _quiet(Estimator(**kw).fit, X, y)
    theirs = _quiet(getattr(sknn, Estimator.__name__)(**kw).fit, X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)


def test_failed_refit_leaves_fitted_model_unchanged(digits):
    X, y = digits
    clf = _quiet(MLPClassifier(max_iter=5, random_state=0).fit, X, y)
    before = clf.predict_proba(X)
    state = {k: v for k, v in vars(clf).items()}
    clf.set_params(solver="lbfgs", dropout=0.3)  # conflicting settings: fails in fit
    with pytest.raises(ValueError, match="stochastic solver"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert set(vars(clf)) == set(state)


def test_failed_first_fit_leaves_model_unfitted():
    X, y = make_regression(n_samples=12, random_state=0)
    reg = MLPRegressor(early_stopping=True, validation_fraction=0.05)
    with pytest.raises(ValueError, match="validation set is too small"):
        reg.fit(X, y)  # raised after the initial weights were drawn
    assert not hasattr(reg, "coefs_")
    with pytest.raises(NotFittedError):
        reg.predict(X)


def test_a_solver_object_that_is_not_optax_is_refused():
    """The constraint checks an optax solver by its methods (optax need not be imported):
    an object with ``init`` and ``update`` that is no optax transformation is refused."""
    from types import SimpleNamespace

    fake = SimpleNamespace(init=len, update=len)
    with pytest.raises(ValueError, match="optax.GradientTransformation, got"):
        MLPClassifier(solver=fake).fit(np.eye(4), [0, 1, 0, 1])


@pytest.mark.parametrize("y, later", [
    (np.array([0, 1, 2, 1, 0]), np.array([2, 0])), (np.array(["b", "a", "b"]), None),
    (np.array([3.0, 7.0, 3.0]), np.array([7.0])), (np.array([True, False, True]), None),
    (np.array(["x", "y", "z"], dtype=object), None), (np.array([5, 5, 5]), None),
    (np.array([[1, 0], [0, 1], [1, 1]]), None)])
def test_targets_are_binarized_as_label_binarizer_does(y, later):
    # The classifier compares 1-D labels with classes_ instead of calling transform again.
    from sklearn.preprocessing import LabelBinarizer

    from skmlp._estimators import _binarize

    binarizer = LabelBinarizer().fit(y)
    for target in (y, later) if later is not None else (y,):
        got = _binarize(binarizer, target)
        assert got.dtype == bool
        np.testing.assert_array_equal(got, binarizer.transform(target).astype(bool))


def test_parameter_names_are_read_once_per_class_and_subclasses_keep_their_own():
    from sklearn.base import clone

    class Wider(MLPClassifier):
        def __init__(self, hidden_layer_sizes=(100,), extra=1, **kwargs):
            super().__init__(hidden_layer_sizes=hidden_layer_sizes, **kwargs)
            self.extra = extra

    assert "extra" in Wider(extra=3).get_params() and "extra" not in MLPClassifier().get_params()
    assert clone(Wider(extra=3, alpha=0.5)).get_params()["extra"] == 3
    names = MLPRegressor._get_param_names()
    names.append("mutated")  # a caller's copy: the class's names stay as they are
    assert "mutated" not in MLPRegressor._get_param_names()
    assert MLPRegressor._get_param_names() == sorted(
        p for p in inspect.signature(MLPRegressor.__init__).parameters if p != "self")
