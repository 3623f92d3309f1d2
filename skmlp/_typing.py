"""Type aliases of skmlp's public signatures."""

from collections.abc import Callable, Sequence
from typing import Any, Literal, Optional, Union

import numpy as np
import numpy.typing as npt

#: Training or prediction input: an array-like, a scipy sparse matrix or a pandas DataFrame.
MatrixLike = Union[npt.ArrayLike, Any]
#: Targets or sample weights.
ArrayLike = npt.ArrayLike
#: ``callback(estimator, figures) -> bool | None``, called after each epoch.
Callback = Callable[[Any, dict[str, Any]], Any]
RandomState = Union[int, np.random.RandomState, None]
Float = float
Solver = Union[Literal["lbfgs", "sgd", "adam", "adamw", "rmsprop", "adagrad"], Any]

WeightInit = Literal["auto", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                     "lecun_normal"]
OutputActivation = Optional[Literal["relu", "softplus", "logistic", "tanh"]]

__all__ = ["ArrayLike", "Callback", "Float", "MatrixLike", "OutputActivation", "RandomState",
           "Sequence", "Solver", "WeightInit"]
