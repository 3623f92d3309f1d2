"""
==========================================
Training on a GPU
==========================================

skmlp trains on the device JAX uses by default. On a machine with an NVIDIA GPU, install
JAX's CUDA build with skmlp's ``gpu`` extra and nothing in your code changes::

    pip install "skmlp[gpu]"
    python -c "import jax; print(jax.default_backend())"   # gpu

Use ``compute_dtype='float32'``: GPUs run float64 many times slower. A single small fit gains
little, since its steps are too small to fill a GPU; searches and ensembles, which train many
models as one stack, fill it. To choose a device explicitly, use JAX's
``jax.default_device``. Prediction stays on the CPU (a NumPy forward pass), so serving a model
needs no GPU.

This example is shown, not run: the documentation is built on machines without a GPU.
"""

import jax
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier
from skmlp.model_selection import GridSearchCV

X, y = load_digits(return_X_y=True)
print("JAX trains on:", jax.default_backend(), jax.devices())

# One fit, in float32 on the default device (the GPU when JAX sees one).
clf = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(256, 256),
                                                    compute_dtype="float32", random_state=0))
clf.fit(X, y)

# Many fits at once: 16 candidates x 5 folds as one stack of 80 models on the GPU.
search = GridSearchCV(clf, {"mlpclassifier__alpha": [1e-5, 1e-4, 1e-3, 1e-2],
                            "mlpclassifier__learning_rate_init": [3e-4, 1e-3, 3e-3, 1e-2]},
                      cv=5)
search.fit(X, y)
print(search.best_params_, search.best_score_)

# The CPU for comparison: the same code under jax.default_device.
with jax.default_device(jax.devices("cpu")[0]):
    clf.fit(X, y)
