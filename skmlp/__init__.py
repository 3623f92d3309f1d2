"""skmlp: scikit-learn's multi-layer perceptrons, trained by compiled JAX/XLA programs."""

from ._estimators import MLPClassifier, MLPRegressor

__version__ = "0.1.0"

__all__ = ["MLPClassifier", "MLPRegressor", "__version__"]
