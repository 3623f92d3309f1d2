"""ONNX export of fitted skmlp models, through skl2onnx (``pip install "skmlp[onnx]"``).

Importing this module registers converters for :class:`~skmlp.MLPClassifier`,
:class:`~skmlp.MLPRegressor` and the ensembles of :mod:`skmlp.ensemble` (the members' mean)
with skl2onnx, so ``skl2onnx.to_onnx`` converts them, alone or inside a ``Pipeline``. The
graph is the model's inference path:

* every hidden activation (per-layer lists included) and every output activation;
* batch normalization folded into the weights and biases of the layer before it;
* no dropout (it acts only while training).

:func:`to_onnx` is ``skl2onnx.to_onnx`` with skmlp's defaults: plain probability tensors
(no ZipMap) and the input type taken from the sample ``X``. Do not register scikit-learn's own
MLP converters for skmlp models: they know neither batch norm nor skmlp's activations and give
wrong probabilities for such models.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

try:
    import skl2onnx
    from skl2onnx.common.data_types import (DoubleTensorType, FloatTensorType, Int64TensorType,
                                            StringTensorType, guess_numpy_type,
                                            guess_proto_type)
    from skl2onnx.common.shape_calculator import calculate_linear_regressor_output_shapes
    from skl2onnx.proto import onnx_proto
except ImportError as error:  # pragma: no cover - depends on the optional extra
    raise ImportError("skmlp.onnx needs skl2onnx: pip install 'skmlp[onnx]' (skl2onnx and "
                      "onnxruntime).") from error

from ._core.formulas import SELU_ALPHA, SELU_SCALE
from ._estimators import MLPClassifier, MLPRegressor
from ._predict import folded_layers
from .ensemble import MLPEnsembleClassifier, MLPEnsembleRegressor

#: The lowest ONNX opset the converters emit (``Erf``, for the exact GELU, needs opset 9).
MIN_OPSET = 9


class _Graph:
    """A thin helper over skl2onnx's scope and container."""

    def __init__(self, scope, container, proto_dtype, np_dtype):
        self.scope, self.container = scope, container
        self.proto_dtype, self.np_dtype = proto_dtype, np_dtype

    def const(self, value, name="c", proto_dtype=None, dtype=None):
        value = np.asarray(value)
        if value.dtype.kind not in "OUS":
            value = value.astype(dtype or self.np_dtype)
        var = self.scope.get_unique_variable_name(name)
        if value.dtype.kind in "OU":
            self.container.add_initializer(var, onnx_proto.TensorProto.STRING, value.shape,
                                           [str(v).encode() for v in value.ravel()])
        else:
            self.container.add_initializer(var, proto_dtype or self.proto_dtype, value.shape,
                                           value.ravel().tolist())
        return var

    def node(self, op, inputs, output=None, **attrs):
        output = output or self.scope.get_unique_variable_name(op.lower())
        self.container.add_node(op, inputs, output,
                                name=self.scope.get_unique_operator_name(op), **attrs)
        return output

    def activation(self, x, name, output=None):
        if name == "identity":
            return self.node("Identity", [x], output)
        simple = {"logistic": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "softplus": "Softplus",
                  "exp": "Exp"}
        if name in simple:
            return self.node(simple[name], [x], output)
        if name == "leaky_relu":
            return self.node("LeakyRelu", [x], output, alpha=0.01)
        if name == "elu":
            return self.node("Elu", [x], output, alpha=1.0)
        if name == "selu":
            return self.node("Selu", [x], output, alpha=SELU_ALPHA, gamma=SELU_SCALE)
        if name == "softmax":
            return self.node("Softmax", [x], output, axis=1)
        if name == "silu":
            return self.node("Mul", [x, self.node("Sigmoid", [x])], output)
        if name == "gelu":  # exact: x * (1 + erf(x / sqrt 2)) / 2
            erf = self.node("Erf", [self.node("Mul", [x, self.const(1 / np.sqrt(2.0))])])
            half = self.node("Mul", [x, self.const(0.5)])
            return self.node("Mul", [half, self.node("Add", [erf, self.const(1.0)])], output)
        raise ValueError(f"skmlp's ONNX export has no conversion of activation {name!r}.")

    def network(self, est, x, output=None):
        """The forward pass; returns the output activation's tensor (named ``output``)."""
        layers = folded_layers(est, self.np_dtype)
        for i, (W, b, activation) in enumerate(layers):
            z = self.node("Add", [self.node("MatMul", [x, self.const(W, "coef")]),
                                  self.const(b, "intercept")])
            x = self.activation(z, activation, output if i == len(layers) - 1 else None)
        return x


def _graph(scope, operator, container):
    est = operator.raw_operator
    check_is_fitted(est)
    if container.target_opset < MIN_OPSET:
        raise ValueError(f"skmlp's ONNX export needs target_opset >= {MIN_OPSET}, got "
                         f"{container.target_opset}.")
    x_type = operator.inputs[0].type
    if not isinstance(x_type, (FloatTensorType, DoubleTensorType)):  # integer input: float32
        x_type = FloatTensorType()
    return est, _Graph(scope, container, guess_proto_type(x_type), guess_numpy_type(x_type))


def _input(g, operator):
    """The graph's input, cast to the compute type when it is given as integers."""
    x = operator.inputs[0]
    if isinstance(x.type, (FloatTensorType, DoubleTensorType)):
        return x.full_name
    return g.node("Cast", [x.full_name], to=g.proto_dtype)


def _is_multilabel(est):
    return est._label_binarizer.y_type_ == "multilabel-indicator"


def _members(est):
    """The MLPs whose outputs a model averages: an ensemble's members, or the MLP itself."""
    return list(est.estimators_) if hasattr(est, "estimators_") else [est]


def _probabilities(g, mlp, x):
    if mlp.out_activation_ == "logistic" and not _is_multilabel(mlp):  # binary: [1 - p, p]
        p = g.network(mlp, x)
        return g.node("Concat", [g.node("Sub", [g.const(np.ones((1, 1))), p]), p], axis=1)
    return g.network(mlp, x)


def _mean(g, outputs, name):
    """The members' mean as a sum times 1/K (onnxruntime has no double ``Mean``)."""
    if len(outputs) == 1:
        return g.node("Identity", outputs, name)
    return g.node("Mul", [g.node("Sum", outputs), g.const(1.0 / len(outputs))], name)


def _convert_classifier(scope, operator, container):
    est, g = _graph(scope, operator, container)
    members = _members(est)
    x = _input(g, operator)
    label, proba = operator.outputs[0].full_name, operator.outputs[1].full_name
    _mean(g, [_probabilities(g, m, x) for m in members], proba)
    if _is_multilabel(members[0]):
        g.node("Cast", [g.node("Greater", [proba, g.const(0.5)])], label,
               to=onnx_proto.TensorProto.INT64)
        return
    index = g.node("ArgMax", [proba], axis=1, keepdims=0)
    classes = est.classes_
    if classes.dtype.kind in "OUS":
        g.node("Gather", [g.const(classes.astype(str), "classes"), index], label, axis=0)
    else:
        g.node("Gather", [g.const(classes.astype(np.int64), "classes",
                                  onnx_proto.TensorProto.INT64, np.int64), index], label, axis=0)


def _classifier_shapes(operator):
    est = operator.raw_operator
    multilabel = _is_multilabel(_members(est)[0])
    n = operator.inputs[0].get_first_dimension()
    tensor = DoubleTensorType if isinstance(operator.inputs[0].type, DoubleTensorType) else (
        FloatTensorType)
    if multilabel:
        operator.outputs[0].type = Int64TensorType([n, len(est.classes_)])
    elif est.classes_.dtype.kind in "OUS":
        operator.outputs[0].type = StringTensorType([n])
    else:
        operator.outputs[0].type = Int64TensorType([n])
    operator.outputs[1].type = tensor([n, len(est.classes_)])


def _convert_regressor(scope, operator, container):
    est, g = _graph(scope, operator, container)
    x = _input(g, operator)
    _mean(g, [g.network(m, x) for m in _members(est)], operator.outputs[0].full_name)


def _regressor_shapes(operator):
    calculate_linear_regressor_output_shapes(operator)
    n = operator.inputs[0].get_first_dimension()
    tensor = DoubleTensorType if isinstance(operator.inputs[0].type, DoubleTensorType) else (
        FloatTensorType)
    operator.outputs[0].type = tensor([n, _members(operator.raw_operator)[0].n_outputs_])


def register():
    """Register skmlp's converters with skl2onnx (done on import of this module)."""
    skl2onnx.update_registered_converter(
        MLPClassifier, "SkmlpMLPClassifier", _classifier_shapes, _convert_classifier,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]})
    skl2onnx.update_registered_converter(
        MLPRegressor, "SkmlpMLPRegressor", _regressor_shapes, _convert_regressor)
    skl2onnx.update_registered_converter(
        MLPEnsembleClassifier, "SkmlpMLPEnsembleClassifier", _classifier_shapes,
        _convert_classifier, options={"zipmap": [True, False, "columns"], "nocl": [True, False]})
    skl2onnx.update_registered_converter(
        MLPEnsembleRegressor, "SkmlpMLPEnsembleRegressor", _regressor_shapes,
        _convert_regressor)


def to_onnx(model, X, *, target_opset=None, options=None, **kwargs):
    """Convert a fitted skmlp model (or a ``Pipeline`` holding one) to an ONNX model.

    The converters are skmlp's own (registered when this module is imported): every
    activation, batch normalization folded into the weights, and the ensembles as the mean
    of their members' outputs.

    Parameters
    ----------
    model : estimator
        A fitted :class:`~skmlp.MLPClassifier`, :class:`~skmlp.MLPRegressor`,
        :class:`~skmlp.ensemble.MLPEnsembleClassifier` or
        :class:`~skmlp.ensemble.MLPEnsembleRegressor`, or a ``Pipeline`` ending in one.
    X : ndarray
        A sample of inputs: its dtype (float32 or float64) and number of columns set the
        graph's input type.
    target_opset : int, default=None
        The ONNX opset (skl2onnx's default when None; at least ``MIN_OPSET``).
    options : dict, default=None
        The skl2onnx options; classifiers default to ``{"zipmap": False}`` (probabilities as a
        plain tensor, as ``predict_proba`` returns them).
    **kwargs : dict
        Passed to ``skl2onnx.to_onnx``.

    Returns
    -------
    onnx_model : onnx.ModelProto
        Outputs ``label`` and ``probabilities`` for a classifier, ``variable`` of shape
        (n_samples, n_outputs) for a regressor.

    See Also
    --------
    skl2onnx.to_onnx : The conversion this function calls.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from sklearn.datasets import load_iris
    >>> from skmlp import MLPClassifier
    >>> from skmlp.onnx import to_onnx
    >>> X, y = load_iris(return_X_y=True)
    >>> X = X.astype(np.float32)
    >>> clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0).fit(X, y)
    >>> session = ort.InferenceSession(to_onnx(clf, X[:1]).SerializeToString())
    >>> labels, probabilities = session.run(None, {"X": X[:3]})
    >>> bool(np.allclose(probabilities, clf.predict_proba(X[:3]), atol=1e-5))
    True
    """
    check_is_fitted(model)
    if target_opset is not None and target_opset < MIN_OPSET:
        raise ValueError(f"skmlp's ONNX export needs target_opset >= {MIN_OPSET}, got "
                         f"{target_opset}.")
    if options is None:
        options = {MLPClassifier: {"zipmap": False}, MLPEnsembleClassifier: {"zipmap": False}}
    return skl2onnx.to_onnx(model, np.asarray(X), target_opset=target_opset, options=options,
                            **kwargs)


register()
