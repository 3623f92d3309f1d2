"""ONNX export (skl2onnx converters registered by ``skmlp.onnx``): onnxruntime's outputs equal
``predict`` / ``predict_proba`` for every configuration a fitted model can have."""

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_multilabel_classification, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import onnxruntime

from skmlp import MLPClassifier, MLPRegressor
from skmlp.onnx import to_onnx

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ACTIVATIONS = ["identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu",
               "softplus", "silu"]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X[:300]), y[:300]


def _run(model, X, dtype=np.float32):
    onx = to_onnx(model, X[:1].astype(dtype))
    session = onnxruntime.InferenceSession(onx.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X.astype(dtype)})


def _check_classifier(model, X, dtype=np.float32):
    label, proba = _run(model, X, dtype)
    expected = model.predict_proba(X.astype(dtype))
    tol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(proba, expected, atol=tol, rtol=tol)
    # labels agree wherever the top two probabilities are not a float32 tie
    np.testing.assert_array_equal(label, model.predict(X.astype(dtype)))


def test_every_hidden_activation(digits):
    """One network with every hidden activation, one per layer (one compile, not ten)."""
    X, y = digits
    model = MLPClassifier(hidden_layer_sizes=(12,) * len(ACTIVATIONS), activation=ACTIVATIONS,
                          max_iter=5, random_state=0).fit(X, y)
    _check_classifier(model, X)
    for activation in ("relu", "gelu"):  # and as the single activation of every layer
        model = MLPClassifier(hidden_layer_sizes=(12, 8), activation=activation, max_iter=5,
                              random_state=0).fit(X, y)
        _check_classifier(model, X)


@pytest.mark.parametrize("kw", [
    {"activation": ["gelu", "tanh", "selu"]},
    {"batch_norm": True},
    {"batch_norm": True, "activation": ["relu", "silu", "elu"], "dropout": [0.2, 0.0, 0.3]},
    {"dropout": 0.5},
])
def test_per_layer_activations_batch_norm_and_dropout(kw, digits):
    """Batch norm is folded into the preceding layer; dropout is absent at inference."""
    X, y = digits
    model = MLPClassifier(hidden_layer_sizes=(12, 10, 8), max_iter=5, random_state=0,
                          **kw).fit(X, y)
    _check_classifier(model, X)


def test_float64_models_export_in_double(digits):
    X, y = digits
    model = MLPClassifier(hidden_layer_sizes=(16,), batch_norm=True, max_iter=5,
                          random_state=0).fit(X, y)
    _check_classifier(model, X, np.float64)


def test_binary_string_labels_and_multilabel(digits):
    X, y = digits
    names = np.array(["even", "odd"])[y % 2]
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, names)
    _check_classifier(model, X)
    assert _run(model, X)[0].dtype.kind in "OU"

    Xm, Ym = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(Xm, Ym)
    label, proba = _run(model, Xm)
    np.testing.assert_allclose(proba, model.predict_proba(Xm.astype(np.float32)), atol=1e-5)
    np.testing.assert_array_equal(label, model.predict(Xm.astype(np.float32)))


@pytest.mark.parametrize("kw", [{}, {"loss": "poisson"},
                                {"output_activation": "softplus", "batch_norm": True,
                                 "activation": ["tanh", "gelu"]}])
def test_regressors(kw):
    X, y = make_regression(n_samples=200, n_features=6, n_targets=2, random_state=0)
    y = np.abs(y) / 100 if kw.get("loss") == "poisson" else y / 100
    model = MLPRegressor(hidden_layer_sizes=(10, 6), max_iter=40, random_state=0, **kw)
    for target in (y, y[:, 0]):  # several outputs, one output
        model.fit(X, target)
        (pred,) = _run(model, X)
        expected = model.predict(X.astype(np.float32))
        np.testing.assert_allclose(pred.reshape(expected.shape), expected, rtol=1e-4,
                                   atol=1e-5)


def test_pipeline_converts(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=20,
                                                         batch_norm=True, random_state=0))
    pipe.fit(X, y)
    label, proba = _run(pipe, X)
    np.testing.assert_allclose(proba, pipe.predict_proba(X.astype(np.float32)), atol=1e-5)


def test_unconvertible_configurations_raise_clearly(digits):
    X, y = digits
    with pytest.raises(ValueError, match="not fitted"):
        to_onnx(MLPClassifier(), X[:1].astype(np.float32))
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="target_opset"):
        to_onnx(model, X[:1].astype(np.float32), target_opset=8)


def test_ensembles_average_their_members(digits):
    from skmlp.ensemble import MLPEnsembleClassifier, MLPEnsembleRegressor

    X, y = digits
    ens = MLPEnsembleClassifier(MLPClassifier(hidden_layer_sizes=(8,), max_iter=5,
                                              batch_norm=True), n_estimators=3,
                                random_state=0).fit(X, y)
    _check_classifier(ens, X)
    Xr, yr = make_regression(n_samples=100, n_features=5, random_state=0)
    reg = MLPEnsembleRegressor(MLPRegressor(hidden_layer_sizes=(6,), max_iter=5),
                               n_estimators=2, random_state=0).fit(Xr, yr / 100)
    (pred,) = _run(reg, Xr)
    np.testing.assert_allclose(pred.ravel(), reg.predict(Xr.astype(np.float32)), rtol=1e-4,
                               atol=1e-5)
