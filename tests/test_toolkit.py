"""Beyond scikit-learn: the training toolkit (dropout, batch norm, penalties, losses, ...)."""

import re
import warnings

import jax
import numpy as np
import optax
import pytest
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_absolute_error, recall_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import MinMaxScaler

from skmlp import MLPClassifier, MLPRegressor, _programs
from skmlp._core.activations import HIDDEN_ACTIVATIONS


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return MinMaxScaler().fit_transform(X)[:600], y[:600]


def _fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


# ---------------------------------------------------------------------------- activations


@pytest.mark.parametrize("activation", sorted(HIDDEN_ACTIVATIONS))
def test_every_activation_trains(activation, digits):
    X, y = digits
    clf = _fit(MLPClassifier(hidden_layer_sizes=(32,), activation=activation, max_iter=40,
                             learning_rate_init=3e-3, random_state=0), X, y)
    assert clf.score(X, y) > 0.8


def test_one_activation_per_hidden_layer(digits):
    X, y = digits
    mixed = _fit(MLPClassifier(hidden_layer_sizes=(20, 20), activation=["relu", "tanh"],
                               max_iter=5, random_state=0), X, y)
    relu = _fit(MLPClassifier(hidden_layer_sizes=(20, 20), activation="relu", max_iter=5,
                              random_state=0), X, y)
    assert not np.allclose(mixed.predict_proba(X), relu.predict_proba(X))
    # prediction applies tanh on the second layer: check by hand
    h = np.maximum(X @ mixed.coefs_[0] + mixed.intercepts_[0], 0)
    h = np.tanh(h @ mixed.coefs_[1] + mixed.intercepts_[1])
    z = h @ mixed.coefs_[2] + mixed.intercepts_[2]
    expected = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(mixed.predict_proba(X), expected / expected.sum(1, keepdims=True))
    with pytest.raises(ValueError, match="activation has 3 entries"):
        MLPClassifier(hidden_layer_sizes=(20, 20), activation=["relu"] * 3).fit(X, y)


# ---------------------------------------------------------------------------- dropout


def test_dropout_changes_training_but_not_prediction(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(64,), max_iter=40, random_state=0)
    plain = _fit(MLPClassifier(**kw), X, y)
    dropped = _fit(MLPClassifier(dropout=0.5, **kw), X, y)
    again = _fit(MLPClassifier(dropout=0.5, **kw), X, y)
    assert not np.allclose(plain.coefs_[0], dropped.coefs_[0])
    np.testing.assert_array_equal(dropped.coefs_[0], again.coefs_[0])  # reproducible masks
    # at predict time dropout is off: the model predicts as a dropout-free one of equal weights
    twin = _fit(MLPClassifier(**dict(kw, max_iter=1)), X, y)
    twin.coefs_ = [c.copy() for c in dropped.coefs_]
    twin.intercepts_ = [b.copy() for b in dropped.intercepts_]
    np.testing.assert_array_equal(dropped.predict_proba(X), twin.predict_proba(X))
    assert dropped.score(X, y) > 0.8


def test_dropout_is_inverted_and_masks_units():
    import jax.numpy as jnp

    from skmlp._core.network import NetSpec, forward

    params = {"coefs": [jnp.eye(4, dtype=jnp.float32), jnp.ones((4, 1), jnp.float32)],
              "intercepts": [jnp.zeros(4), jnp.zeros(1)]}
    X = jnp.ones((5000, 4), jnp.float32)
    spec = NetSpec(("identity",), "identity", dropout=True)
    z, _ = forward(params, {}, X, spec, train=True, key=jax.random.key(0, impl="rbg"),
                   weight=jnp.ones(5000), hparams={"dropout": jnp.asarray([0.25])})
    # each of 4 units survives with p=0.75 and is scaled by 1/0.75: the mean output is kept
    assert abs(float(z.mean()) - 4.0) < 0.05
    levels = np.asarray(z).ravel() * 0.75  # k surviving units, each scaled by 1/0.75
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-5)


def test_dropout_per_layer_and_validation(digits):
    X, y = digits
    clf = _fit(MLPClassifier(hidden_layer_sizes=(32, 16), dropout=[0.1, 0.0], max_iter=3,
                             random_state=0), X, y)
    assert clf.n_layers_ == 4
    with pytest.raises(ValueError, match="stochastic solver"):
        MLPClassifier(dropout=0.2, solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="dropout has 1 entries"):
        MLPClassifier(hidden_layer_sizes=(8, 8), dropout=[0.1]).fit(X, y)


def test_grid_over_dropout_rates_compiles_once(digits):
    X, y = digits
    search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(24,), max_iter=3, random_state=0),
                          {"dropout": [0.1, 0.3, 0.5]}, cv=3, refit=False)
    _fit(MLPClassifier(hidden_layer_sizes=(24,), dropout=0.2, max_iter=1, random_state=0),
         X[:400], y[:400])  # fold-sized training set: compiles the program
    before = _programs.train_epochs.trace_count
    _fit(search, X, y)
    assert _programs.train_epochs.trace_count == before


# ---------------------------------------------------------------------------- batch norm


def test_batch_norm_running_statistics_move_and_are_used(digits):
    X, y = digits
    clf = _fit(MLPClassifier(hidden_layer_sizes=(16,), batch_norm=True, max_iter=20,
                             random_state=0), X, y)
    assert [m.shape for m in clf.batch_norm_means_] == [(16,)]
    assert np.abs(clf.batch_norm_means_[0]).max() > 0.05  # moved from their initial 0
    assert np.abs(clf.batch_norm_vars_[0] - 1).max() > 0.05  # and 1
    before = clf.predict_proba(X)
    clf.batch_norm_means_[0] += 1.0
    assert not np.allclose(clf.predict_proba(X), before)
    # running means track the real pre-activation means
    pre = X @ clf.coefs_[0] + clf.intercepts_[0]
    np.testing.assert_allclose(clf.batch_norm_means_[0] - 1.0, pre.mean(0), atol=0.2)


def test_padding_rows_do_not_change_batch_statistics():
    import jax.numpy as jnp

    from skmlp._core.network import NetSpec, forward, init_params

    rng = np.random.RandomState(0)
    params, state = init_params(rng, (3, 5, 2), batch_norm=True, dtype=np.float32)
    X = rng.randn(7, 3).astype(np.float32)
    spec = NetSpec(("relu",), "identity", batch_norm=True)
    hp = {"bn_momentum": jnp.asarray(0.9)}
    z, s = forward(params, state, X, spec, train=True, weight=jnp.ones(7), hparams=hp)
    padded = np.vstack([X, 1e3 * rng.randn(5, 3).astype(np.float32)])
    weight = jnp.asarray(np.r_[np.ones(7), np.zeros(5)].astype(np.float32))
    zp, sp = forward(params, state, padded, spec, train=True, weight=weight, hparams=hp)
    np.testing.assert_allclose(np.asarray(zp[:7]), np.asarray(z), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(sp["bn_mean"][0]), np.asarray(s["bn_mean"][0]),
                               rtol=1e-5)
    np.testing.assert_allclose(np.asarray(sp["bn_var"][0]), np.asarray(s["bn_var"][0]),
                               rtol=1e-5)


def test_batch_norm_trains_unscaled_inputs():
    X, y = make_classification(n_samples=1500, n_features=20, n_informative=10, n_classes=3,
                               random_state=0)
    X = X * np.logspace(-2, 3, 20)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    kw = dict(hidden_layer_sizes=(64, 64), max_iter=40, random_state=0)
    plain = _fit(MLPClassifier(**kw), X_train, y_train)
    normed = _fit(MLPClassifier(batch_norm=True, **kw), X_train, y_train)
    assert normed.score(X_test, y_test) > plain.score(X_test, y_test) + 0.05


def test_batch_norm_with_lbfgs_uses_full_batch_statistics(digits):
    X, y = digits
    clf = _fit(MLPClassifier(hidden_layer_sizes=(16,), batch_norm=True, solver="lbfgs",
                             max_iter=50, random_state=0), X, y)
    pre = X @ clf.coefs_[0] + clf.intercepts_[0]
    np.testing.assert_allclose(clf.batch_norm_means_[0], pre.mean(0), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(clf.batch_norm_vars_[0], pre.var(0), rtol=1e-5, atol=1e-8)
    assert clf.score(X, y) > 0.95


# ---------------------------------------------------------------------------- penalties


def test_l1_drives_more_weights_to_zero_than_l2(digits):
    X, y = digits
    zeros = {}
    for penalty in ("l1", "l2"):
        clf = _fit(MLPClassifier(hidden_layer_sizes=(32,), penalty=penalty, alpha=0.05,
                                 max_iter=150, random_state=0), X, y)
        zeros[penalty] = np.mean(np.abs(clf.coefs_[0]) < 1e-3)
    assert zeros["l1"] > 2 * zeros["l2"]


def test_elasticnet_penalty_mixes_l1_and_l2():
    import jax.numpy as jnp

    from skmlp._core.losses import penalty

    W = [jnp.asarray([[1.0, -2.0]]), jnp.asarray([[3.0]])]
    hp = {"alpha": jnp.asarray(0.5), "l1_ratio": jnp.asarray(0.25)}
    l1, l2 = 6.0, 14.0
    assert np.isclose(float(penalty(W, "l2", hp)), 0.5 * 0.5 * l2)
    assert np.isclose(float(penalty(W, "l1", hp)), 0.5 * l1)
    assert np.isclose(float(penalty(W, "elasticnet", hp)), 0.5 * (0.25 * l1 + 0.5 * 0.75 * l2))


# ---------------------------------------------------------------------------- losses


def test_huber_beats_squared_error_with_outliers():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, size=(500, 1))
    y = np.sin(X[:, 0]) + 0.1 * rng.randn(500)
    bad = rng.rand(500) < 0.1
    y[bad] += rng.choice([-1, 1], bad.sum()) * rng.uniform(4, 8, bad.sum())
    X_test = np.linspace(-3, 3, 200).reshape(-1, 1)
    errors = {}
    for loss in ("squared_error", "huber"):
        reg = _fit(MLPRegressor(loss=loss, hidden_layer_sizes=(32, 32), max_iter=200,
                                learning_rate_init=3e-3, random_state=0), X, y)
        errors[loss] = mean_absolute_error(np.sin(X_test[:, 0]), reg.predict(X_test))
    assert errors["huber"] < 0.7 * errors["squared_error"]


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_robust_losses_fit_clean_data(loss):
    X, y = make_regression(n_samples=300, n_features=5, noise=1.0, random_state=0)
    y = y / y.std()
    reg = _fit(MLPRegressor(loss=loss, max_iter=300, random_state=0), X, y)
    assert reg.score(X, y) > 0.95


def test_huber_loss_formula():
    import jax.numpy as jnp

    from skmlp._core.losses import sample_losses

    z = jnp.asarray([[0.0], [0.5], [3.0]])
    y = jnp.zeros((3, 1))
    got = sample_losses("huber", "identity", z, y, {"huber_delta": jnp.asarray(1.0)})
    np.testing.assert_allclose(np.asarray(got), [0.0, 0.125, 2.5])


@pytest.mark.parametrize("out, check", [("relu", lambda p: (p >= 0).all()),
                                        ("softplus", lambda p: (p > 0).all()),
                                        ("logistic", lambda p: ((p > 0) & (p < 1)).all()),
                                        ("tanh", lambda p: ((p > -1) & (p < 1)).all())])
def test_output_activation_bounds_predictions(out, check):
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3)
    y = 1 / (1 + np.exp(-X[:, 0]))
    reg = _fit(MLPRegressor(output_activation=out, max_iter=50, random_state=0), X, y)
    assert reg.out_activation_ == out
    assert check(reg.predict(rng.randn(500, 3) * 10))


# ---------------------------------------------------------------------------- solvers


@pytest.mark.parametrize("solver, lr", [("adamw", 3e-3), ("rmsprop", 3e-3), ("adagrad", 0.05)])
def test_extra_solvers_train(solver, lr, digits):
    X, y = digits
    clf = _fit(MLPClassifier(solver=solver, learning_rate_init=lr, max_iter=40,
                             random_state=0), X, y)
    assert clf.score(X, y) > 0.9
    clf.partial_fit(X, y)  # optimizer state carries over


def test_adamw_decays_weights_decoupled(digits):
    X, y = digits
    norms = [np.sum(_fit(MLPClassifier(solver="adamw", alpha=a, max_iter=30, random_state=0),
                         X, y).coefs_[0] ** 2) for a in (0.0, 5.0)]
    assert norms[1] < 0.8 * norms[0]


def test_optax_transformation_as_solver(digits):
    X, y = digits
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(0.05, momentum=0.9))
    clf = _fit(MLPClassifier(solver=tx, max_iter=30, random_state=0), X, y)
    assert clf.score(X, y) > 0.9
    clone_fit = _fit(MLPClassifier(solver=tx, max_iter=30, random_state=0), X, y)
    np.testing.assert_array_equal(clf.coefs_[0], clone_fit.coefs_[0])
    clf.partial_fit(X, y)


# ---------------------------------------------------------------------------- schedules


def test_cosine_schedule_and_warmup():
    from skmlp._stopping import LearningRateSchedule

    cos = LearningRateSchedule("cosine", 0.1, max_iter=10)
    rates = []
    for t in range(10):
        rates.append(cos.learning_rate)
        cos.iteration_ends(t)
    assert rates[0] == 0.1 and all(a > b for a, b in zip(rates, rates[1:]))
    assert np.isclose(rates[5], 0.05)
    warm = LearningRateSchedule("constant", 0.1, warmup_epochs=4)
    ramp = []
    for t in range(6):
        ramp.append(warm.learning_rate)
        warm.iteration_ends(t)
    np.testing.assert_allclose(ramp, [0.02, 0.04, 0.06, 0.08, 0.1, 0.1])


@pytest.mark.parametrize("schedule", ["invscaling", "adaptive", "cosine"])
def test_schedules_apply_to_adam(schedule, digits):
    X, y = digits
    seen = []
    clf = MLPClassifier(solver="adam", learning_rate=schedule, max_iter=5, random_state=0,
                        callbacks=lambda est, fig: seen.append(fig["learning_rate"]))
    _fit(clf, X, y)
    if schedule == "adaptive":
        assert seen == [1e-3] * 5  # no stall in 5 epochs
    else:
        assert seen[0] == 1e-3 and seen[-1] < seen[0]


# ---------------------------------------------------------------------------- class weights


def test_balanced_class_weight_raises_minority_recall():
    X, y = make_classification(n_samples=2000, n_features=10, weights=[0.95, 0.05],
                               class_sep=0.5, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    recalls = {}
    for cw in (None, "balanced"):
        clf = _fit(MLPClassifier(class_weight=cw, max_iter=100, random_state=0), X_train,
                   y_train)
        recalls[cw] = recall_score(y_test, clf.predict(X_test))
    assert recalls["balanced"] > recalls[None] + 0.1


def test_class_weight_dict_equals_sample_weight(digits):
    X, y = digits
    kw = dict(max_iter=5, random_state=0)
    cw = _fit(MLPClassifier(class_weight={3: 5.0}, **kw), X, y)
    sw = _fit(MLPClassifier(**kw), X, y, sample_weight=np.where(y == 3, 5.0, 1.0))
    np.testing.assert_allclose(cw.coefs_[0], sw.coefs_[0])
    with pytest.raises(ValueError, match="partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=np.arange(10))


# ---------------------------------------------------------------------------- init, callbacks


@pytest.mark.parametrize("scheme, stat", [("he_normal", lambda w, i, o: np.sqrt(2 / i)),
                                          ("lecun_normal", lambda w, i, o: np.sqrt(1 / i)),
                                          ("glorot_normal", lambda w, i, o: np.sqrt(2 / (i + o)))])
def test_weight_init_schemes(scheme, stat):
    from skmlp._core.network import init_params

    params, _ = init_params(np.random.RandomState(0), (400, 300, 2), scheme=scheme)
    w = params["coefs"][0]
    assert np.isclose(w.std(), stat(w, 400, 300), rtol=0.02)
    assert np.all(params["intercepts"][0] == 0)


def test_auto_init_is_scikit_learns():
    from sklearn.neural_network import MLPClassifier as SkMLP

    from skmlp._core.network import init_params

    X, y = np.random.RandomState(1).randn(20, 4), np.arange(20) % 3
    sk = _fit(SkMLP(hidden_layer_sizes=(5,), max_iter=1, random_state=7), X, y)
    ours, _ = init_params(np.random.RandomState(7), (4, 5, 3), dtype=np.float64)
    sk._random_state = np.random.RandomState(7)
    expected = [sk._init_coef(4, 5, np.float64), sk._init_coef(5, 3, np.float64)]
    for (w, b), ew, eb in zip(expected, ours["coefs"], ours["intercepts"]):
        np.testing.assert_array_equal(w, ew)
        np.testing.assert_array_equal(b, eb)


def test_callback_stops_at_epoch_k(digits):
    X, y = digits
    seen = []

    def stop_at_three(est, figures):
        seen.append(figures)
        return figures["epoch"] == 3

    clf = MLPClassifier(max_iter=50, random_state=0, early_stopping=True,
                        callbacks=[stop_at_three]).fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3
    assert [f["epoch"] for f in seen] == [1, 2, 3]
    assert {"loss", "learning_rate", "validation_score", "validation_loss"} <= set(seen[0])


# ---------------------------------------------------------------------------- summary


@pytest.mark.parametrize("kw", [{}, {"batch_norm": True, "dropout": 0.2},
                                {"activation": ["gelu", "tanh"]}])
def test_summary_total_equals_parameter_count(kw, digits):
    X, y = digits
    clf = _fit(MLPClassifier(hidden_layer_sizes=(20, 10), max_iter=2, random_state=0, **kw),
               X, y)
    text = clf.summary()
    n_params = sum(a.size for a in clf.coefs_ + clf.intercepts_)
    n_fixed = 0
    if kw.get("batch_norm"):
        n_params += sum(a.size for a in clf.batch_norm_scales_ + clf.batch_norm_shifts_)
        n_fixed = sum(a.size for a in clf.batch_norm_means_ + clf.batch_norm_vars_)

    def count(label):
        return int(re.search(rf"^{label} params: ([\d,]+)$", text, re.M).group(1)
                   .replace(",", ""))

    assert count("Trainable") == n_params
    assert count("Non-trainable") == n_fixed
    assert count("Total") == n_params + n_fixed
    layer_rows = re.findall(r"^(?:input|hidden \d|output)\s.*?([\d,]+)$", text, re.M)
    assert sum(int(n.replace(",", "")) for n in layer_rows) == n_params + n_fixed
    assert "hidden 2" in text and "softmax" in text


def test_summary_displays_as_the_table(digits):
    """Echoed in a REPL (repr) or a notebook (HTML, IPython's pretty printer), the summary
    shows its lines, not a quoted string with escaped newlines."""
    X, y = digits
    text = _fit(MLPClassifier(hidden_layer_sizes=(5,), max_iter=1, random_state=0), X, y
                ).summary()
    assert isinstance(text, str)
    assert repr(text) == str(text) and "\\n" not in repr(text)
    assert text._repr_html_().startswith("<pre>") and "Total params" in text._repr_html_()
