"""skmlp: scikit-learn's multi-layer perceptrons, trained by compiled JAX/XLA programs."""

from ._compile_cache import (clear_compile_cache, compile_cache_dir, compile_cache_enabled,
                             set_compile_cache)
from ._display import LossCurveDisplay, ModelSummary
from ._estimators import MLPClassifier, MLPRegressor
from ._version import __version__

__all__ = [
    "LossCurveDisplay",
    "MLPClassifier",
    "MLPRegressor",
    "ModelSummary",
    "__version__",
    "clear_compile_cache",
    "compile_cache_dir",
    "compile_cache_enabled",
    "set_compile_cache",
]
