"""
==========================================
Saving a model: pickle, skops and ONNX
==========================================

A fitted skmlp model holds NumPy arrays and plain Python values only, and predicts with NumPy,
so a process that loads it to predict imports neither JAX nor optax. Three ways to keep it:

* ``pickle`` (or ``joblib.dump``), as any scikit-learn model;
* ``skops.io``, which loads only the types you trust (skmlp's own classes here);
* ONNX, through ``skmlp.onnx.to_onnx`` (``pip install "skmlp[onnx]"``), to serve the model
  with onnxruntime, from any language, without Python.

Each copy is checked against the original's ``predict_proba``.
"""

# %%
import pickle

import numpy as np
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), max_iter=50,
                                                      batch_norm=True, random_state=0))
model.fit(X, y)
expected = model.predict_proba(X[:100])

# %%
# pickle: the same object back.
copy = pickle.loads(pickle.dumps(model))
print("pickle: largest difference", np.abs(copy.predict_proba(X[:100]) - expected).max())

# %%
# skops: list the types the file needs, trust them explicitly, load.
import skops.io as sio

data = sio.dumps(model)
untrusted = sio.get_untrusted_types(data=data)
print("types to trust:", untrusted)
copy = sio.loads(data, trusted=untrusted)
print("skops: largest difference", np.abs(copy.predict_proba(X[:100]) - expected).max())

# %%
# ONNX: the whole pipeline as one graph (batch norm folded into the weights), run by
# onnxruntime.
import onnxruntime as ort

from skmlp.onnx import to_onnx

onnx_model = to_onnx(model, X[:1])
session = ort.InferenceSession(onnx_model.SerializeToString())
labels, probabilities = session.run(None, {session.get_inputs()[0].name: X[:100]})
print("ONNX: largest difference", np.abs(probabilities - expected).max(),
      "; same labels:", bool((labels == model.predict(X[:100])).all()))
